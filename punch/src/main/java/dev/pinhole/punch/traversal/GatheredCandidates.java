package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The outcome of {@link CandidateGatherer#gather}: the candidates to tell the peer, and what the STUN
 * answers revealed about this side's NAT.
 *
 * @param candidates      host candidates, then the server-reflexive one if any server answered
 * @param nat             mapping behaviour and port allocation measured from the mapped addresses; filtering
 *                        stays unknown (RFC 5780 discovery measures it)
 * @param mappedAddresses the mapped address each server reported, in query order, null where it did not answer
 */
public record GatheredCandidates(List<Candidate> candidates, NatProfile nat, List<InetSocketAddress> mappedAddresses) {
    public GatheredCandidates {
        candidates = List.copyOf(candidates);
        mappedAddresses = Collections.unmodifiableList(new ArrayList<>(mappedAddresses));
    }

    /** The server-reflexive candidate, or null when no STUN server answered. */
    public Candidate serverReflexive() {
        for (Candidate c : candidates) {
            if (c.type() == CandidateType.SERVER_REFLEXIVE) {
                return c;
            }
        }
        return null;
    }
}
