package dev.pinhole.punch.rendezvous;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * An endpoint that records a copy of every datagram sent through it and drops those a test chooses, to
 * lose exactly one message instead of a random fraction.
 */
final class InterceptingEndpoint implements DatagramEndpoint {
    final List<byte[]> sent = new ArrayList<>();
    private final DatagramEndpoint delegate;
    private final BiPredicate<byte[], InetSocketAddress> drop;
    int dropped;

    InterceptingEndpoint(DatagramEndpoint delegate, BiPredicate<byte[], InetSocketAddress> drop) {
        this.delegate = delegate;
        this.drop = drop;
    }

    @Override
    public InetSocketAddress localAddress() {
        return delegate.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        byte[] bytes = ByteBufUtil.getBytes(datagram);
        sent.add(bytes);
        if (drop.test(bytes, destination)) {
            dropped++;
            datagram.release();
            return true;
        }
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
        return delegate.allocator();
    }
}
