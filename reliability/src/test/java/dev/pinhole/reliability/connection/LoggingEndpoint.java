package dev.pinhole.reliability.connection;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/** A debugging aid: a {@link DatagramEndpoint} that records what is sent through it in a {@link PacketLog}. */
final class LoggingEndpoint implements DatagramEndpoint {
    private final DatagramEndpoint inner;
    private final PacketLog log;
    private final String direction;

    LoggingEndpoint(DatagramEndpoint inner, PacketLog log, String direction) {
        this.inner = inner;
        this.log = log;
        this.direction = direction;
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        log.record(inner.clock().nanoTime(), direction, datagram);
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
        return inner.allocator();
    }
}
