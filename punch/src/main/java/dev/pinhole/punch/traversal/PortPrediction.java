package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;
import java.net.InetSocketAddress;

/**
 * Port prediction for a peer NAT that maps each destination to a new port (RFC 4787 §4.1,
 * endpoint-dependent mapping) but allocates those ports in sequence with a measured step δ (§4.2): its
 * next mappings will be at {@code mapped port + k·δ}. Those ports become candidate pairs checked before all
 * others, in order of k = 1..W. When both NATs are like that, both sides send their k-th predicted check as
 * their k-th new destination, so each NAT's k-th new mapping points at the other's k-th.
 */
final class PortPrediction {
    /**
     * Copies of the first check to a predicted port when our own NAT maps per destination. Prediction works
     * only if each side's k-th new mapping is the one toward the other's k-th predicted port; a first check
     * lost before it reaches our NAT would shift every later mapping by one. Three copies in a row keep the
     * order unless all three are lost (p^3: 0.1 % at 10 % loss).
     */
    static final int PREDICTED_FIRST_SEND_COPIES = 3;

    private PortPrediction() {
    }

    /**
     * Adds the predicted pairs from the main socket, if the peer's NAT is predictable. They are needed only
     * when our own side would not accept the peer's checks from its new port anyway: a public address, or a
     * NAT known to filter by address at most, lets them in and peer-reflexive learning does the rest.
     */
    static void addPairs(CheckList checks, Introduction introduction, ReflexiveAddresses reflexive, int window) {
        NatProfile peer = introduction.peerNat();
        NatProfile local = introduction.localNat();
        InetSocketAddress peerReflexive = reflexive.peer();
        if (!peer.predictable() || peerReflexive == null || reflexive.sameNat()) {
            return;
        }
        boolean weAdmitNewPorts = local.mapping() == NatProfile.Mapping.NO_NAT
                || (!local.endpointDependentMapping() && (local.filtering() == NatProfile.Filtering.ENDPOINT_INDEPENDENT
                        || local.filtering() == NatProfile.Filtering.ADDRESS_DEPENDENT));
        if (weAdmitNewPorts) {
            return;
        }
        LocalSocket main = checks.main();
        int step = peer.portStep();
        for (int k = 1; k <= window; k++) {
            int port = peerReflexive.getPort() + k * step;
            if (port < 1 || port > 65_535) {
                break;
            }
            InetSocketAddress predicted = new InetSocketAddress(peerReflexive.getAddress(), port);
            if (!main.pairs.containsKey(predicted)) {
                long priority = Candidate.priority(CandidateType.SERVER_REFLEXIVE,
                        Math.max(0, Candidate.MAX_LOCAL_PREFERENCE - k), Candidate.COMPONENT_ID);
                checks.add(main, predicted, PathOrigin.PREDICTED, k, false, priority);
            }
        }
    }

    /** How many copies of the next check on {@code pair} to send in a row. */
    static int copiesOfCheck(CandidatePair pair, NatProfile localNat) {
        return pair.predictionIndex > 0 && pair.checksSent == 0 && localNat.endpointDependentMapping()
                ? PREDICTED_FIRST_SEND_COPIES : 1;
    }
}
