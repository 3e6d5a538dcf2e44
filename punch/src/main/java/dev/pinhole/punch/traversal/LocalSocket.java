package dev.pinhole.punch.traversal;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
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

    /**
     * The node's main socket, with the priority of the best host candidate of each address family among
     * {@code localCandidates}; a family the socket sends but no candidate names gets a default host priority.
     */
    static LocalSocket main(DatagramEndpoint endpoint, List<Candidate> localCandidates) {
        long v4 = 0;
        long v6 = 0;
        for (Candidate c : localCandidates) {
            if (c.type() == CandidateType.HOST) {
                if (c.address().getAddress() instanceof Inet4Address) {
                    v4 = Math.max(v4, c.priority());
                } else {
                    v6 = Math.max(v6, c.priority());
                }
            }
        }
        InetAddress bound = endpoint.localAddress().getAddress();
        long defaultHost = Candidate.priority(CandidateType.HOST, Candidate.MAX_LOCAL_PREFERENCE, Candidate.COMPONENT_ID);
        if (v4 == 0 && (bound instanceof Inet4Address || bound.isAnyLocalAddress())) {
            v4 = defaultHost; // the caller listed no IPv4 host candidate, but the socket sends IPv4
        }
        if (v6 == 0 && !(bound instanceof Inet4Address)) {
            v6 = defaultHost;
        }
        return new LocalSocket(0, endpoint, endpoint.localAddress(), false, v4, v6);
    }

    /** The local candidate priority for a pair toward {@code remote}, or 0 if no local candidate has its family. */
    long priorityToward(InetSocketAddress remote) {
        return priorityToward(remote.getAddress());
    }

    private long priorityToward(InetAddress remote) {
        return remote instanceof Inet4Address ? ipv4Priority : ipv6Priority;
    }

    /**
     * RFC 8445 §7.1.1: a check's PRIORITY is the priority a peer-reflexive candidate of ours would have: type
     * preference 110 with the local preference and component of this socket's candidate toward {@code remote}.
     */
    long reflexivePriorityToward(InetAddress remote) {
        long base = priorityToward(remote);
        int localPreference = base == 0 ? Candidate.MAX_LOCAL_PREFERENCE : (int) ((base >>> 8) & 0xFFFF);
        return Candidate.priority(CandidateType.PEER_REFLEXIVE, localPreference, Candidate.COMPONENT_ID);
    }

    @Override
    public String toString() {
        return (probe ? "probe socket " : "socket ") + base;
    }
}
