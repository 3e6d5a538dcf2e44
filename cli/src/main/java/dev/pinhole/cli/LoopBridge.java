package dev.pinhole.cli;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * The socket of one event loop presented as an endpoint of another ({@code owner}), so that a protocol
 * confined to one thread (an RFC 5780 server answering from four sockets) can use several sockets:
 * received datagrams are copied onto the owner's thread; sends go back to the socket's thread.
 */
final class LoopBridge implements DatagramEndpoint {
    private final UdpEventLoop owner;
    private final UdpEventLoop socket;
    private volatile DatagramReceiver receiver;

    /** Must be called before {@code socket} starts. */
    LoopBridge(UdpEventLoop owner, UdpEventLoop socket) {
        this.owner = owner;
        this.socket = socket;
        socket.receiver((datagram, sender) -> {
            // The datagram is lent for this call only (Buffers): keep a copy for the owner's thread.
            ByteBuf copy = datagram.copy();
            owner.execute(() -> {
                try {
                    DatagramReceiver r = receiver;
                    if (r != null) {
                        r.onDatagram(copy, sender);
                    }
                } finally {
                    copy.release();
                }
            });
        });
    }

    @Override
    public InetSocketAddress localAddress() {
        return socket.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        if (socket.inEventLoop()) {
            return socket.send(datagram, destination);
        }
        socket.execute(() -> socket.send(datagram, destination));
        return true;
    }

    @Override
    public void receiver(DatagramReceiver r) {
        this.receiver = r;
    }

    @Override
    public Clock clock() {
        return owner.clock();
    }

    @Override
    public TimerService timers() {
        return owner.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return owner.allocator();
    }
}
