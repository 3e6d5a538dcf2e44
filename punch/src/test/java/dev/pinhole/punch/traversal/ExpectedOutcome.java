package dev.pinhole.punch.traversal;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.NatConfig.FilteringBehavior;
import dev.pinhole.sim.NatConfig.MappingBehavior;
import dev.pinhole.sim.NatConfig.PortAllocation;

/**
 * What traversal is designed to achieve between two NATs, stated from RFC 4787 behaviour alone, before any
 * run: the matrix test holds the implementation to it pair by pair. docs/nat-traversal.md explains each rule.
 *
 * @param direct    a direct path must be found; otherwise traversal must fail with "relay needed"
 * @param technique the one technique that can find it, when only one can ({@code null} when several may)
 * @param rule      which rule decided, for the table and failure messages
 */
public record ExpectedOutcome(boolean direct, Technique technique, String rule) {

    /** How a path was found, as the table reports it. */
    public enum Technique {
        /** Both peers in one LAN: host candidates. */
        HOST,
        /** One peer has a public address: the NATed side's check opens the way (connection reversal). */
        REVERSAL,
        /** Simultaneous checks to reflexive (server- or peer-reflexive) addresses. */
        PUNCH,
        /** Checks to predicted ports of a sequentially allocating NAT. */
        PREDICTION,
        /** Birthday probing against a NAT with random ports. */
        BIRTHDAY;

        static Technique of(PathOrigin a, PathOrigin b, boolean onePublic) {
            if (a == PathOrigin.BIRTHDAY || b == PathOrigin.BIRTHDAY) {
                return BIRTHDAY;
            }
            if (a == PathOrigin.PREDICTED || b == PathOrigin.PREDICTED) {
                return PREDICTION;
            }
            if (a == PathOrigin.HOST && b == PathOrigin.HOST) {
                return HOST;
            }
            return onePublic ? REVERSAL : PUNCH;
        }
    }

    /** Two peers behind different NATs ({@code null}: a public address). */
    public static ExpectedOutcome differentNats(NatConfig a, NatConfig b) {
        if (a == null && b == null) {
            return new ExpectedOutcome(true, Technique.HOST, "both public");
        }
        if (a == null || b == null) {
            return new ExpectedOutcome(true, Technique.REVERSAL,
                    "R1 one side public: the NATed side's check opens its own NAT, the answer comes back through it");
        }
        boolean aEim = a.mapping() == MappingBehavior.ENDPOINT_INDEPENDENT;
        boolean bEim = b.mapping() == MappingBehavior.ENDPOINT_INDEPENDENT;
        if (aEim && bEim) {
            return new ExpectedOutcome(true, Technique.PUNCH,
                    "R2 both endpoint-independent mapping: each side's reflexive address is where the other sends");
        }
        if (aEim || bEim) {
            NatConfig easy = aEim ? a : b;
            NatConfig hard = aEim ? b : a;
            if (easy.filtering() != FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT) {
                return new ExpectedOutcome(true, null, "R3 easy side filters by address at most: the hard side's "
                        + "check from its new port passes, and the answer learns that port (peer-reflexive)");
            }
            if (sequential(hard)) {
                return new ExpectedOutcome(true, Technique.PREDICTION,
                        "R4 easy side filters by port, hard side allocates in sequence: port prediction");
            }
            return new ExpectedOutcome(true, Technique.BIRTHDAY,
                    "R5 easy side filters by port, hard side allocates at random: birthday probing");
        }
        boolean aSeq = sequential(a);
        boolean bSeq = sequential(b);
        if (aSeq && bSeq) {
            return new ExpectedOutcome(true, Technique.PREDICTION,
                    "R6 both map per destination in sequence: each side's k-th predicted check is its k-th new "
                            + "mapping and meets the other's");
        }
        boolean anyAddressDependent = a.mapping() == MappingBehavior.ADDRESS_DEPENDENT
                || b.mapping() == MappingBehavior.ADDRESS_DEPENDENT;
        if (aSeq || bSeq) {
            NatConfig predictable = aSeq ? a : b;
            boolean direct = predictable.filtering() != FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT
                    && anyAddressDependent;
            return new ExpectedOutcome(direct, null, direct
                    ? "R7 sequential side filters by address at most, and one side maps per address: the random "
                            + "side's check reaches a predicted port, and the answer reuses a mapping"
                    : "R7' sequential vs random: the random side's first check is filtered by port, or every "
                            + "answer opens yet another mapping");
        }
        boolean anyOpen = a.filtering() == FilteringBehavior.ENDPOINT_INDEPENDENT
                || b.filtering() == FilteringBehavior.ENDPOINT_INDEPENDENT;
        boolean noneByPort = a.filtering() != FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT
                && b.filtering() != FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT;
        boolean direct = anyOpen && noneByPort && anyAddressDependent;
        return new ExpectedOutcome(direct, null, direct
                ? "R8 both random, but one side filters nothing, neither by port, and one maps per address: "
                        + "peer-reflexive learning converges on a pair of mappings that point at each other"
                : "R8' both random: no side can learn where the other's mapping toward it is");
    }

    /** Both peers in one LAN behind one NAT: the host pair works whatever the NAT does. */
    static ExpectedOutcome sameLan() {
        return new ExpectedOutcome(true, Technique.HOST, "R9 same LAN: host candidates reach each other");
    }

    /**
     * Both peers behind their own endpoint-independent home NATs, behind one carrier NAT: only the carrier's
     * hairpinning joins them, and only when it maps independently of the destination (the same carrier
     * address is then where the STUN server and the peer see each side).
     */
    static ExpectedOutcome sameCarrier(NatConfig carrier) {
        boolean direct = carrier.hairpinning() && carrier.mapping() == MappingBehavior.ENDPOINT_INDEPENDENT;
        return new ExpectedOutcome(direct, direct ? Technique.PUNCH : null, direct
                ? "R10 same carrier NAT with hairpinning and endpoint-independent mapping: reflexive pairs hairpin"
                : carrier.hairpinning()
                        ? "R10' same carrier NAT maps per destination: the hairpinned check arrives from a new port "
                                + "the home NAT filters"
                        : "R10'' same carrier NAT without hairpinning: host candidates unreachable, reflexive "
                                + "ones dropped");
    }

    /**
     * Whether a NAT that maps per destination hands out new ports in sequence. The simulator's port-preserving
     * NAT gives the first mapping the internal port and each further one the next free port above it: step 1.
     */
    static boolean sequential(NatConfig nat) {
        return nat.portAllocation() != PortAllocation.RANDOM;
    }
}
