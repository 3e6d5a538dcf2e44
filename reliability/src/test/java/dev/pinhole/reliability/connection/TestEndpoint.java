package dev.pinhole.reliability.connection;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * A simulated endpoint as the transport under test sees it: it hands out buffers from an allocator
 * the test counts exactly (so that a leak is an assertion failure, not a GC-time report), and can
 * record every datagram sent in a {@link PacketLog}.
 */
final class TestEndpoint implements DatagramEndpoint {
    private final DatagramEndpoint inner;
    private final ByteBufAllocator allocator;
    private final PacketLog log;
    private final String direction;

    TestEndpoint(DatagramEndpoint inner, ByteBufAllocator allocator, PacketLog log, String direction) {
        this.inner = inner;
        this.allocator = allocator;
        this.log = log;
        this.direction = direction;
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    /** Bytes sent so far to each destination. */
    final java.util.Map<InetSocketAddress, Long> bytesSentTo = new java.util.HashMap<>();

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        bytesSentTo.merge(destination, (long) datagram.readableBytes(), Long::sum);
        if (log != null) {
            log.record(inner.clock().nanoTime(), direction, datagram);
        }
        return inner.send(datagram, destination);
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        inner.receiver(receiver);
    }

    @Override
    public Clock clock() {
        return inner.clock();
    }

    @Override
    public TimerService timers() {
        return inner.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return allocator;
    }
}
