package dev.pinhole.punch.traversal;

import dev.pinhole.core.net.DatagramEndpoint;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/** One socket a session checks from: the node's main socket, or a birthday-probing socket of the hard side. */
final class LocalSocket {
    final int index;
    final DatagramEndpoint endpoint;
    final InetSocketAddress base;
    final boolean probe;
    /** Priority of the local candidate pairs from this socket use (RFC 8445 §6.1.2.3), per address family. */
    final long ipv4Priority;
    final long ipv6Priority;
    /** Pairs by remote address: at most one pair per (socket, remote address), as §6.1.2.4 prunes to. */
    final Map<InetSocketAddress, CandidatePair> pairs = new HashMap<>();
    boolean closed;

    LocalSocket(int index, DatagramEndpoint endpoint, InetSocketAddress base, boolean probe, long ipv4Priority,
            long ipv6Priority) {
        this.index = index;
        this.endpoint = endpoint;
        this.base = base;
        this.probe = probe;
        this.ipv4Priority = ipv4Priority;
        this.ipv6Priority = ipv6Priority;
    }

    /** The local candidate priority for a pair toward {@code remote}, or 0 if no local candidate has its family. */
    long priorityToward(InetSocketAddress remote) {
        return remote.getAddress() instanceof java.net.Inet4Address ? ipv4Priority : ipv6Priority;
    }

    @Override
    public String toString() {
        return (probe ? "probe socket " : "socket ") + base;
    }
}
