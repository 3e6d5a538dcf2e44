package dev.pinhole.benchmarks;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;

/**
 * A {@link DatagramEndpoint} that loses a seeded random fraction of the datagrams sent through it,
 * as a lossy network would: a dropped datagram is released and reported as handed to the network
 * ({@code true}), because UDP gives the sender no word of losses further along the path.
 *
 * <p>Everything else goes straight to the wrapped endpoint. Like every endpoint it is used on its
 * event loop only, so the random generator and the counter need no synchronisation.
 */
final class LossyEndpoint implements DatagramEndpoint {
    private final DatagramEndpoint delegate;
    private final double lossProbability;
    private final SplittableRandom random;
    private long dropped;

    /**
     * @param lossProbability the chance in [0, 1] that one datagram is dropped, independently of the others
     * @param seed            seed of the drop decisions, so a run can be repeated
     */
    LossyEndpoint(DatagramEndpoint delegate, double lossProbability, long seed) {
        if (!(lossProbability >= 0 && lossProbability <= 1)) {
            throw new IllegalArgumentException("lossProbability must be in [0, 1], got " + lossProbability);
        }
        this.delegate = delegate;
        this.lossProbability = lossProbability;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        if (lossProbability > 0 && random.nextDouble() < lossProbability) {
            dropped++;
            datagram.release();
            return true;
        }
        return delegate.send(datagram, destination);
    }

    /** Datagrams dropped so far; read it on the event loop, or after the loop has stopped. */
    long dropped() {
        return dropped;
    }

    @Override
    public InetSocketAddress localAddress() {
        return delegate.localAddress();
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        delegate.receiver(receiver);
    }

    @Override
    public Clock clock() {
        return delegate.clock();
    }

    @Override
    public TimerService timers() {
        return delegate.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return delegate.allocator();
    }
}
