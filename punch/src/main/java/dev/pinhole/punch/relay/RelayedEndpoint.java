package dev.pinhole.punch.relay;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * A {@link TurnAllocation} seen as a {@link DatagramEndpoint}, so that code written for a socket
 * (the reliable transport, a connectivity check) runs over a relayed path unchanged:
 * {@link #send} goes to the peer through the relay, and the {@link #receiver} hears peers'
 * datagrams with the peer's address as the sender.
 *
 * <ul>
 *   <li>{@link #localAddress()} is the <em>relayed</em> address: the one peers send to and see as the
 *       source. Unlike a socket's, it is an address on the TURN server, not on this host.</li>
 *   <li>{@link #send} takes ownership of the datagram, as on any endpoint. It returns true also when
 *       the datagram waits for its peer's permission (see {@link TurnAllocation#sendTo}).</li>
 *   <li>The receiver's datagram is lent for the call and is a view into the datagram the socket
 *       received: retain it (or copy) to keep it.</li>
 *   <li>Clock, timers and allocator are the underlying socket's; so is the event loop every method
 *       must be called on.</li>
 *   <li>The largest datagram is the socket's limit minus the relay's header: 4 bytes (plus up to 3 of
 *       padding) on a channel, 36 (IPv4 peer) or 48 (IPv6 peer) as a Send indication, and the server's
 *       Data indications add as much again on the way in (more with FINGERPRINT).</li>
 * </ul>
 *
 * Installing a receiver here installs it on the allocation (replacing any other).
 */
public final class RelayedEndpoint implements DatagramEndpoint {
    private final TurnAllocation allocation;

    public RelayedEndpoint(TurnAllocation allocation) {
        this.allocation = allocation;
    }

    public TurnAllocation allocation() {
        return allocation;
    }

    /** The relayed transport address on the TURN server; null while the allocation is being made. */
    @Override
    public InetSocketAddress localAddress() {
        return allocation.relayedAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        return allocation.sendTo(destination, datagram);
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        allocation.receiver(receiver);
    }

    @Override
    public Clock clock() {
        return allocation.endpoint().clock();
    }

    @Override
    public TimerService timers() {
        return allocation.endpoint().timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return allocation.endpoint().allocator();
    }

    @Override
    public String toString() {
        return "RelayedEndpoint[" + allocation + "]";
    }
}
