package dev.pinhole.server.stun;

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

/**
 * An endpoint at any address (IPv6 too, which the simulator lacks) that records what is sent on
 * it, for unit tests of code that only answers datagrams. It has no timers: code that needs them
 * belongs on the simulator.
 */
final class RecordingEndpoint implements DatagramEndpoint {
    record Sent(byte[] bytes, InetSocketAddress destination) {
    }

    private final InetSocketAddress local;
    private final TrackingAllocator allocator;
    final List<Sent> sent = new ArrayList<>();

    RecordingEndpoint(InetSocketAddress local, TrackingAllocator allocator) {
        this.local = local;
        this.allocator = allocator;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        try {
            sent.add(new Sent(ByteBufUtil.getBytes(datagram), destination));
            return true;
        } finally {
            datagram.release();
        }
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        throw new UnsupportedOperationException("a recording endpoint receives nothing");
    }

    @Override
    public Clock clock() {
        return () -> 0L;
    }

    @Override
    public TimerService timers() {
        throw new UnsupportedOperationException("a recording endpoint has no timers");
    }

    @Override
    public ByteBufAllocator allocator() {
        return allocator;
    }
}
