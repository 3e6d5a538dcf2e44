package dev.pinhole.punch.traversal;

import dev.pinhole.core.net.DatagramEndpoint;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The nominated candidate pair (RFC 8445 §8.1.1) traversal hands to the caller: send to {@code remote}
 * through {@code endpoint} and the peer receives it. The reliable transport runs on the same socket.
 *
 * @param endpoint  the socket of the path; the node's main socket except when birthday probing found the
 *                  path on one of the hard side's extra sockets, which then stays open for the caller
 * @param localBase the socket's bound address
 * @param mapped    this side's address as the peer sees it (XOR-MAPPED-ADDRESS of the last successful
 *                  check), or null if no response carried one yet
 * @param remote    where to send
 * @param origin    how the remote address was learnt
 * @param role      this side's role when the pair was nominated
 * @param elapsedNs from the session's start to nomination
 * @param checksSent connectivity checks this side sent before nomination, on all pairs
 */
public record TraversalPath(
        DatagramEndpoint endpoint,
        InetSocketAddress localBase,
        InetSocketAddress mapped,
        InetSocketAddress remote,
        PathOrigin origin,
        IceRole role,
        long elapsedNs,
        int checksSent) {

    public TraversalPath {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(localBase, "localBase");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(role, "role");
    }
}
