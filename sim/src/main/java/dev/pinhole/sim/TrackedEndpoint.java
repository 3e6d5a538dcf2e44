package dev.pinhole.sim;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * A real endpoint (simulated or UDP) whose allocator is a {@link CountingAllocator}, so a test can
 * prove that the protocol code above it released every buffer it allocated. Everything else is
 * passed through unchanged.
 */
public final class TrackedEndpoint implements DatagramEndpoint {
    private final DatagramEndpoint delegate;
    private final CountingAllocator allocator;

    public TrackedEndpoint(DatagramEndpoint delegate, CountingAllocator allocator) {
        this.delegate = delegate;
        this.allocator = allocator;
    }

    @Override
    public InetSocketAddress localAddress() {
        return delegate.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        return delegate.send(datagram, destination);
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
        return allocator;
    }

    @Override
    public String toString() {
        return "Tracked" + delegate;
    }
}
