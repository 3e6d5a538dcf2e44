package dev.pinhole.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class LossyEndpointTest {
    private static final InetSocketAddress PEER = new InetSocketAddress("127.0.0.1", 9);
    private static final int SENDS = 100_000;

    @Test
    void dropsTheConfiguredFractionAndReleasesEveryDroppedBuffer() {
        CountingEndpoint network = new CountingEndpoint();
        LossyEndpoint lossy = new LossyEndpoint(network, 0.05, 42);
        int released = 0;
        for (int i = 0; i < SENDS; i++) {
            ByteBuf datagram = UnpooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(i);
            assertTrue(lossy.send(datagram, PEER), "a lost datagram must still look sent, as on a real network");
            if (datagram.refCnt() == 0) {
                released++;
            }
        }
        assertEquals(SENDS, network.forwarded + lossy.dropped(),
                "every datagram is either forwarded or dropped: forwarded " + network.forwarded + ", dropped "
                        + lossy.dropped());
        assertEquals(SENDS, released, "every buffer must be released, dropped or forwarded");
        double rate = (double) lossy.dropped() / SENDS;
        assertTrue(rate > 0.045 && rate < 0.055, "expected about 5 % dropped with seed 42, got " + rate);
    }

    @Test
    void sameSeedDropsTheSameDatagrams() {
        CountingEndpoint first = new CountingEndpoint();
        CountingEndpoint second = new CountingEndpoint();
        LossyEndpoint a = new LossyEndpoint(first, 0.3, 7);
        LossyEndpoint b = new LossyEndpoint(second, 0.3, 7);
        for (int i = 0; i < 1000; i++) {
            a.send(UnpooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(i), PEER);
            b.send(UnpooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(i), PEER);
        }
        assertEquals(first.sumOfForwarded, second.sumOfForwarded,
                "the same seed must forward the same datagrams");
    }

    @Test
    void zeroLossForwardsEverything() {
        CountingEndpoint network = new CountingEndpoint();
        LossyEndpoint lossy = new LossyEndpoint(network, 0, 1);
        for (int i = 0; i < 1000; i++) {
            lossy.send(UnpooledByteBufAllocator.DEFAULT.heapBuffer(8).writeLong(i), PEER);
        }
        assertEquals(1000, network.forwarded, "no datagram may be lost at loss 0");
    }

    @Test
    void rejectsProbabilitiesOutsideZeroToOne() {
        CountingEndpoint network = new CountingEndpoint();
        assertThrows(IllegalArgumentException.class, () -> new LossyEndpoint(network, -0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> new LossyEndpoint(network, 1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new LossyEndpoint(network, Double.NaN, 1));
    }

    /** Stands for the network: counts what reaches it and releases it, as a real endpoint does. */
    private static final class CountingEndpoint implements DatagramEndpoint {
        long forwarded;
        long sumOfForwarded;

        @Override
        public boolean send(ByteBuf datagram, InetSocketAddress destination) {
            forwarded++;
            sumOfForwarded += datagram.getLong(0);
            datagram.release();
            return true;
        }

        @Override
        public InetSocketAddress localAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public void receiver(DatagramReceiver receiver) {
            throw new UnsupportedOperationException("not needed by these tests");
        }

        @Override
        public Clock clock() {
            throw new UnsupportedOperationException("not needed by these tests");
        }

        @Override
        public TimerService timers() {
            throw new UnsupportedOperationException("not needed by these tests");
        }

        @Override
        public ByteBufAllocator allocator() {
            return UnpooledByteBufAllocator.DEFAULT;
        }
    }
}
