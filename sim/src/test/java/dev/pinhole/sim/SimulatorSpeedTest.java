package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.time.TimerHandler;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Measures the simulator's speed and prints it; asserts only functional outcomes (never timing).
 * The simulator's own speed is measured on a {@link CountingAllocator}; one test shows the cost of
 * the pooled allocator under the paranoid leak detection the build runs tests with.
 */
class SimulatorSpeedTest {

    private static void report(String what, long events, long simulatedNs, long wallNs) {
        System.out.printf(Locale.ROOT, "[sim speed] %s: %,d events in %.3f s wall = %,.0f events/s; "
                        + "%,.0f simulated s per wall s%n",
                what, events, wallNs / 1e9, events / (wallNs / 1e9), (simulatedNs / 1e9) / (wallNs / 1e9));
    }

    /** A 100-byte ping every 50 ms answered by a pong, over 20 ms links, for 10,000 simulated seconds. */
    @Test
    void smallPingPongScenarioRunsThousandsOfSimulatedSecondsPerSecond() {
        CountingAllocator allocator = new CountingAllocator();
        try (Simulator sim = new Simulator(11, allocator)) {
            LinkConfig link = LinkConfig.builder().delay(20 * MS).jitter(2 * MS).loss(0.01).build();
            SimEndpoint server = sim.internet().addHost("198.51.100.1", link).bind(3478);
            Nat nat = sim.internet().addNat("203.0.113.5", NatConfig.PORT_RESTRICTED_CONE);
            SimEndpoint client = nat.inside().addHost("10.0.0.2", link).bind(4000);
            long[] pongs = {0};
            server.receiver((datagram, sender) -> server.send(datagram.retain(), sender));
            client.receiver((datagram, sender) -> pongs[0]++);
            InetSocketAddress to = server.localAddress();
            client.timers().schedule(0, new TimerHandler() {
                @Override
                public void onTimer(long nowNs, long timerId) {
                    ByteBuf ping = client.allocator().buffer(100);
                    ping.writeZero(100);
                    client.send(ping, to);
                    client.timers().schedule(nowNs + 50 * MS, this);
                }
            });
            long simulated = 10_000 * SECOND;
            long start = System.nanoTime();
            sim.runFor(simulated);
            long wall = System.nanoTime() - start;
            report("ping-pong via NAT, 10,000 s", sim.eventsProcessed(), simulated, wall);
            long pings = simulated / (50 * MS);
            assertTrue(pongs[0] > pings * 0.95 && pongs[0] < pings * 0.97,
                    "about 96 % of pings answered (1 % loss on each of four links): " + pongs[0] + " of " + pings);
            assertEquals(1, nat.counters().mappingsCreated(), "one mapping, refreshed throughout");
        }
        assertEquals(0, allocator.liveBuffers(), "no buffer leaked");
    }

    /**
     * Bulk transfers of 4 MB each, through a NAT on a lossy 20 Mbit/s path, paced at 16 Mbit/s,
     * every datagram acknowledged: the load of the reliability module's scenario tests. Run on the
     * pooled allocator (leak-tracked under paranoid detection) and on a {@link CountingAllocator}.
     */
    @Test
    void bulkTransfersOnThePooledAllocator() {
        bulkTransfers(3, false);
    }

    @Test
    void bulkTransfersOnACountingAllocatorLeakNothing() {
        bulkTransfers(40, true);
    }

    private static void bulkTransfers(int scenarios, boolean countingAllocator) {
        String label = countingAllocator ? "counting allocator" : "pooled allocator";
        int bytesPerScenario = 4 * 1024 * 1024;
        int payload = 1200;
        long totalEvents = 0;
        long totalSimulated = 0;
        long start = System.nanoTime();
        for (int s = 0; s < scenarios; s++) {
            CountingAllocator counting = new CountingAllocator();
            try (Simulator sim = countingAllocator ? new Simulator(1000 + s, counting) : new Simulator(1000 + s)) {
                LinkConfig wan = LinkConfig.builder().delay(15 * MS).jitter(5 * MS).loss(0.01)
                        .bandwidth(20_000_000, 64 * 1024).build();
                SimEndpoint receiver = sim.internet().addHost("198.51.100.1", wan).bind(3478);
                Nat nat = sim.internet().addNat("203.0.113.5", NatConfig.LINUX_MASQUERADE);
                SimEndpoint sender = nat.inside().addHost("10.0.0.2", wan).bind(4000);
                long[] acks = {0};
                receiver.receiver((datagram, from) -> {
                    ByteBuf ack = receiver.allocator().buffer(16);
                    ack.writeLong(datagram.getLong(datagram.readerIndex()));
                    ack.writeLong(0);
                    receiver.send(ack, from);
                });
                sender.receiver((datagram, from) -> acks[0]++);
                int packets = bytesPerScenario / payload;
                long intervalNs = payload * 8L * SECOND / 16_000_000;
                InetSocketAddress to = receiver.localAddress();
                sender.timers().schedule(0, new TimerHandler() {
                    private long seq;

                    @Override
                    public void onTimer(long nowNs, long timerId) {
                        ByteBuf data = sender.allocator().buffer(payload);
                        data.writeLong(seq++);
                        data.writeZero(payload - 8);
                        sender.send(data, to);
                        if (seq < packets) {
                            sender.timers().schedule(nowNs + intervalNs, this);
                        }
                    }
                });
                sim.runUntil(() -> sim.pendingEvents() == 0, 60 * SECOND);
                assertTrue(acks[0] > packets * 0.95,
                        "about 96 % acknowledged (1 % loss on each of four links): " + acks[0] + " of " + packets);
                totalEvents += sim.eventsProcessed();
                totalSimulated += sim.nowNs();
            }
            assertEquals(0, counting.liveBuffers(), "no buffer leaked (seed " + (1000 + s) + ")");
        }
        long wall = System.nanoTime() - start;
        report(scenarios + " bulk transfers of 4 MB, " + label, totalEvents, totalSimulated, wall);
        System.out.printf(Locale.ROOT, "[sim speed] projected for 1000 such scenarios (%s): %.0f s on one core%n",
                label, wall / 1e9 * 1000 / scenarios);
    }
}
