package dev.pinhole.punch.node;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.punch.relay.TurnAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The endpoint the node's transport sends through: a datagram to a peer's relayed address goes through
 * the TURN allocation that reaches it, anything else straight out of the socket. So a connection moves
 * between a relayed and a direct path by changing nothing but its remote address (RFC 9000 §9 migration),
 * and one transport, with one set of connection ids, serves both.
 *
 * <p>Receiving is not routed here: the node's demultiplexer hands socket datagrams to the transport, and
 * each allocation's receiver hands relayed ones to it with the peer's relayed address as their source.
 * Confined to the node's event loop.
 */
final class PathRouter implements DatagramEndpoint {
    private final DatagramEndpoint socket;
    /** A peer's relayed address -> the allocation that reaches it. */
    private final Map<InetSocketAddress, TurnAllocation> relayed = new HashMap<>();

    PathRouter(DatagramEndpoint socket) {
        this.socket = Objects.requireNonNull(socket, "socket");
    }

    /** Datagrams to {@code peerRelayed} go through {@code allocation} from now on. */
    void viaRelay(InetSocketAddress peerRelayed, TurnAllocation allocation) {
        relayed.put(peerRelayed, allocation);
    }

    /** Datagrams to {@code peerRelayed} no longer go through a relay. */
    void forget(InetSocketAddress peerRelayed) {
        relayed.remove(peerRelayed);
    }

    /** The allocation datagrams to {@code remote} go through, or null if they go out directly. */
    TurnAllocation relayFor(InetSocketAddress remote) {
        return relayed.get(remote);
    }

    /** Forgets every route through {@code allocation} (it is gone). */
    void forgetAll(TurnAllocation allocation) {
        relayed.values().removeIf(a -> a == allocation);
    }

    @Override
    public InetSocketAddress localAddress() {
        return socket.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        TurnAllocation allocation = relayed.get(destination);
        return allocation == null ? socket.send(datagram, destination) : allocation.sendTo(destination, datagram);
    }

    /** Ignored: the node routes received datagrams itself (see the class comment). */
    @Override
    public void receiver(DatagramReceiver receiver) {
    }

    @Override
    public Clock clock() {
        return socket.clock();
    }

    @Override
    public TimerService timers() {
        return socket.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return socket.allocator();
    }

    @Override
    public String toString() {
        return "PathRouter[" + socket + ", " + relayed.size() + " relayed peers]";
    }
}
