package dev.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.core.net.DatagramReceiver;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulator on a {@link CountingAllocator}, with the helpers the simulator's tests share. Closing
 * it closes the simulator and fails if any buffer is still alive, or if datagrams are unaccounted for.
 */
final class SimFixture implements AutoCloseable {
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000_000_000L;

    final long seed;
    final CountingAllocator allocator = new CountingAllocator();
    final Simulator sim;

    SimFixture(long seed) {
        this.seed = seed;
        this.sim = new Simulator(seed, allocator);
    }

    @Override
    public void close() {
        SimCounters c = sim.counters();
        assertEquals(c.sent() + c.duplicated(), c.delivered() + c.droppedTotal() + sim.inFlight(),
                "every datagram is delivered, dropped or in flight (seed " + seed + "): " + c);
        sim.close();
        assertEquals(0, sim.inFlight(), "nothing in flight after close (seed " + seed + ")");
        assertEquals(0, allocator.liveBuffers(), "buffers alive after close, of " + allocator.allocatedBuffers()
                + " allocated (seed " + seed + ")");
    }

    static InetSocketAddress address(String ip, int port) {
        return new InetSocketAddress(Ipv4.toInetAddress(Ipv4.parse(ip)), port);
    }

    /** Sends {@code size} bytes (at least 8) starting with {@code seq}. */
    static boolean sendSeq(SimEndpoint from, InetSocketAddress to, long seq, int size) {
        ByteBuf b = from.allocator().buffer(size);
        b.writeLong(seq);
        b.writeZero(size - Long.BYTES);
        return from.send(b, to);
    }

    static boolean sendText(SimEndpoint from, InetSocketAddress to, String text) {
        ByteBuf b = from.allocator().buffer();
        b.writeCharSequence(text, StandardCharsets.UTF_8);
        return from.send(b, to);
    }

    /** Records every datagram an endpoint receives. */
    static final class Inbox implements DatagramReceiver {
        final Simulator sim;
        final List<Arrival> arrivals = new ArrayList<>();

        Inbox(Simulator sim) {
            this.sim = sim;
        }

        static Inbox on(SimEndpoint endpoint) {
            Inbox inbox = new Inbox(endpoint.host().simulator());
            endpoint.receiver(inbox);
            return inbox;
        }

        @Override
        public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
            int size = datagram.readableBytes();
            long seq = size >= Long.BYTES ? datagram.getLong(datagram.readerIndex()) : -1;
            String text = size <= 64 ? datagram.toString(StandardCharsets.UTF_8) : null;
            arrivals.add(new Arrival(sim.nowNs(), sender, seq, size, text));
        }

        int size() {
            return arrivals.size();
        }

        Arrival last() {
            return arrivals.get(arrivals.size() - 1);
        }

        List<InetSocketAddress> senders() {
            List<InetSocketAddress> senders = new ArrayList<>();
            for (Arrival a : arrivals) {
                senders.add(a.from());
            }
            return senders;
        }
    }

    record Arrival(long atNs, InetSocketAddress from, long seq, int size, String text) {
    }
}
