package dev.pinhole.server.relay;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;

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

    /**
     * Relay sockets on ephemeral ports of {@code relayIp}, added to {@code loop} (the loop of the
     * server's listening socket) with {@link UdpEventLoop#openSocket}.
     *
     * @throws IllegalArgumentException if {@code relayIp} is the wildcard address: peers must be told a real one
     */
    static RelaySockets onLoop(UdpEventLoop loop, InetAddress relayIp) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(relayIp, "relayIp");
        if (relayIp.isAnyLocalAddress()) {
            throw new IllegalArgumentException("relay sockets need a specific IP, not " + relayIp.getHostAddress()
                + ": it is the address peers send to (behind a 1:1 NAT, also set TurnServerConfig.externalIp)");
        }
        return () -> loop.openSocket(new InetSocketAddress(relayIp, 0));
    }
}
