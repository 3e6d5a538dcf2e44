package dev.pinhole.sim;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A UDP socket on a {@link SimHost}: the simulator's {@link DatagramEndpoint}. Its clock is the
 * virtual clock, its timers are events on the simulator's queue, its allocator is
 * {@link Buffers#ALLOCATOR}, the one the simulator copies datagrams into.
 *
 * <p>{@link #send} returns false only when the datagram is refused locally: the endpoint or the
 * simulator is closed, the destination is not a resolved IPv4 address, or the payload exceeds the
 * 65507 bytes of a UDP datagram. Everything that happens in the network (MTU, queue, loss, NAT) is
 * silent to the sender, as with a real socket.
 */
public final class SimEndpoint implements DatagramEndpoint, AutoCloseable {
    private final SimHost host;
    private final int port;
    private final InetSocketAddress localAddress;
    private DatagramReceiver receiver;
    private boolean closed;

    SimEndpoint(SimHost host, int port, InetSocketAddress localAddress) {
        this.host = host;
        this.port = port;
        this.localAddress = localAddress;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        Objects.requireNonNull(datagram, "datagram");
        try {
            Objects.requireNonNull(destination, "destination");
            Simulator sim = host.sim;
            int bytes = datagram.readableBytes();
            sim.countSent(host.counters, bytes);
            long key = closed || sim.isClosed() || bytes > Ipv4.MAX_UDP_PAYLOAD_BYTES ? -1 : sim.resolve(destination);
            if (key < 0) {
                sim.reject(host.counters, localAddress, destination, datagram);
                return false;
            }
            int dstIp = Ipv4.keyIp(key);
            int dstPort = Ipv4.keyPort(key);
            sim.traceSent(host.ip, port, dstIp, dstPort, datagram);
            Event packet = sim.newPacket(datagram, host.ip, port, dstIp, dstPort);
            host.uplink.enter(packet);
            return true;
        } finally {
            datagram.release();
        }
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        this.receiver = receiver;
    }

    @Override
    public Clock clock() {
        return host.sim.clock();
    }

    @Override
    public TimerService timers() {
        return host.sim.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return host.sim.allocator();
    }

    /** The host this endpoint is bound on. */
    public SimHost host() {
        return host;
    }

    /** The bound port. */
    public int port() {
        return port;
    }

    /** Unbinds the port: datagrams arriving for it are dropped ({@link DropCause#NO_LISTENER}), sends are rejected. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            receiver = null;
            host.unbind(this);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "SimEndpoint{" + localAddress + "}";
    }

    DatagramReceiver receiverOrNull() {
        return receiver;
    }
}
