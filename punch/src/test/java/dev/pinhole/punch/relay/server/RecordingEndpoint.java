package dev.pinhole.punch.relay.server;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Delegates to a real endpoint and remembers a copy of every datagram sent through it. */
final class RecordingEndpoint implements DatagramEndpoint {
    final DatagramEndpoint delegate;
    final List<byte[]> sent = new ArrayList<>();

    RecordingEndpoint(DatagramEndpoint delegate) {
        this.delegate = delegate;
    }

    @Override
    public InetSocketAddress localAddress() {
        return delegate.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        sent.add(RelaySimFixture.bytes(datagram));
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
