package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.time.TimerHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** A run is a pure function of its seed: same seed, same trace and counters; another seed, another run. */
class DeterminismTest {

    /** What one run produced. */
    record Outcome(List<String> trace, SimCounters global, SimCounters natA, SimCounters natB, long endNs) {
    }

    /**
     * Two clients behind different NATs and a server, on impaired links; each client talks to the
     * server and, once it knows the other's mapping, to the other; timers drive everything.
     */
    static Outcome run(long seed) {
        try (SimFixture f = new SimFixture(seed)) {
            Simulator sim = f.sim;
            List<String> trace = new ArrayList<>();
            sim.tracer(new SimTracer() {
                @Override
                public void delivered(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
                    trace.add(nowNs + " D " + from + ">" + to + " " + datagram.readableBytes()
                            + " #" + ByteBufUtil.hashCode(datagram));
                }

                @Override
                public void dropped(long nowNs, DropCause cause, InetSocketAddress from, InetSocketAddress to,
                        ByteBuf datagram) {
                    trace.add(nowNs + " X " + cause + " " + from + ">" + to + " " + datagram.readableBytes());
                }
            });
            LinkConfig lossy = LinkConfig.builder().delay(20 * MS).jitter(15 * MS).loss(0.05)
                    .gilbertElliott(0.02, 0.3, 1.0, 0.0).duplication(0.02).reordering(0.05, 10 * MS)
                    .bandwidth(5_000_000, 20_000).build();
            SimEndpoint server = sim.internet().addHost("198.51.100.1", lossy).bind(3478);
            Nat natA = sim.internet().addNat("203.0.113.5", NatConfig.PORT_RESTRICTED_CONE);
            Nat natB = sim.internet().addNat("203.0.113.6", NatConfig.SYMMETRIC);
            SimEndpoint a = natA.inside().addHost("10.0.0.2", lossy).bind(4000);
            SimEndpoint b = natB.inside().addHost("10.0.0.2", lossy).bind(4000);
            List<InetSocketAddress> known = new ArrayList<>();
            server.receiver((datagram, sender) -> {
                if (!known.contains(sender)) {
                    known.add(sender);
                }
                for (InetSocketAddress peer : known) {
                    ByteBuf reply = server.allocator().buffer();
                    reply.writeInt(peer.getPort());
                    reply.writeBytes(peer.getAddress().getAddress());
                    server.send(reply, sender);
                }
            });
            for (SimEndpoint client : List.of(a, b)) {
                RandomGenerator random = sim.random("scenario/" + client.host().network().name());
                List<InetSocketAddress> peers = new ArrayList<>();
                client.receiver((datagram, sender) -> {
                    if (sender.getPort() == 3478 && datagram.readableBytes() == 8) {
                        int port = datagram.readInt();
                        byte[] ip = new byte[4];
                        datagram.readBytes(ip);
                        InetSocketAddress peer = new InetSocketAddress(Ipv4.toInetAddress(
                                ((ip[0] & 0xff) << 24) | ((ip[1] & 0xff) << 16) | ((ip[2] & 0xff) << 8) | (ip[3] & 0xff)),
                                port);
                        if (!peers.contains(peer)) {
                            peers.add(peer);
                        }
                    }
                });
                client.timers().schedule(random.nextLong(100 * MS), new TimerHandler() {
                    @Override
                    public void onTimer(long nowNs, long timerId) {
                        SimFixture.sendSeq(client, server.localAddress(), nowNs, 8 + random.nextInt(1000));
                        for (InetSocketAddress peer : peers) {
                            SimFixture.sendSeq(client, peer, nowNs, 8 + random.nextInt(1400));
                        }
                        client.timers().schedule(nowNs + 5 * MS + random.nextLong(50 * MS), this);
                    }
                });
            }
            sim.schedule(3 * SECOND, natA::clearMappings);
            sim.runFor(10 * SECOND);
            return new Outcome(trace, sim.counters(), natA.counters(), natB.counters(), sim.nowNs());
        }
    }

    @Test
    void sameSeedGivesAnIdenticalTraceAndCounters() {
        Outcome first = run(7);
        Outcome second = run(7);
        assertTrue(first.trace().size() > 1000, "a substantial trace: " + first.trace().size() + " events");
        assertTrue(first.global().droppedTotal() > 0 && first.global().duplicated() > 0
                && first.global().reordered() > 0 && first.natA().dropped(DropCause.MAPPING_EXPIRED)
                        + first.natA().dropped(DropCause.FILTERED) > 0,
                "the scenario exercises loss, duplication, reordering and NAT drops: " + first.global());
        assertEquals(first.global(), second.global(), "global counters");
        assertEquals(first.natA(), second.natA(), "NAT A counters");
        assertEquals(first.natB(), second.natB(), "NAT B counters");
        for (int i = 0; i < Math.min(first.trace().size(), second.trace().size()); i++) {
            assertEquals(first.trace().get(i), second.trace().get(i), "trace line " + i + " (seed 7)");
        }
        assertEquals(first.trace().size(), second.trace().size(), "trace length");
    }

    @Test
    void anotherSeedGivesAnotherRun() {
        Outcome seven = run(7);
        Outcome eight = run(8);
        assertNotEquals(seven.trace(), eight.trace(), "traces differ");
        assertNotEquals(seven.global(), eight.global(), "counters differ");
    }
}
