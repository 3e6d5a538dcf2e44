package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import java.net.InetSocketAddress;
import java.util.Comparator;
import java.util.List;

/**
 * The server-reflexive addresses of both sides (RFC 8445 §5.1.1.2), each null when that side has none:
 * where the NATs map the two main sockets. Port prediction and birthday probing aim at the peer's, and the
 * failure report shows both.
 *
 * @param local this side's first server-reflexive candidate
 * @param peer  the peer's highest-priority server-reflexive candidate
 */
record ReflexiveAddresses(InetSocketAddress local, InetSocketAddress peer) {

    static ReflexiveAddresses of(List<Candidate> localCandidates, List<Candidate> peerCandidates) {
        InetSocketAddress local = localCandidates.stream()
                .filter(c -> c.type() == CandidateType.SERVER_REFLEXIVE)
                .findFirst()
                .map(Candidate::address)
                .orElse(null);
        InetSocketAddress peer = peerCandidates.stream()
                .filter(c -> c.type() == CandidateType.SERVER_REFLEXIVE)
                .max(Comparator.comparingLong(Candidate::priority))
                .map(Candidate::address)
                .orElse(null);
        return new ReflexiveAddresses(local, peer);
    }

    /**
     * Both sides are mapped to the same public IP: behind one NAT (or one carrier NAT), where prediction and
     * birthday probing aimed at that IP would only reach hairpinning, which the ordinary checks already try.
     */
    boolean sameNat() {
        return local != null && peer != null && local.getAddress().equals(peer.getAddress());
    }
}
