package dev.pinhole.punch.relay.server;

import dev.pinhole.core.net.DatagramEndpoint;
import java.io.IOException;

/**
 * Opens the UDP sockets that become relayed transport addresses (RFC 8656 §2.2: each allocation has
 * its own relayed address, so its own port). The sockets must belong to the event loop of the
 * {@link TurnServer}'s listening endpoint.
 *
 * <p>On the real driver: {@code () -> loop.openSocket(new InetSocketAddress(relayIp, 0))}; in the
 * simulator: {@code () -> host.bind(0)}. The server never closes what it opened (the real event loop
 * cannot close an added socket before the loop closes): it keeps at most
 * {@link TurnServerConfig#maxAllocations()} of them in a pool and gives a socket freed by a deleted
 * allocation to the next one.
 */
@FunctionalInterface
public interface RelaySockets {
    /**
     * Opens one more relay socket bound to a specific (not wildcard) address, since its address is
     * what peers are told to send to.
     *
     * @throws IOException if no socket can be opened (the Allocate is answered 508 Insufficient Capacity)
     */
    DatagramEndpoint open() throws IOException;
}
