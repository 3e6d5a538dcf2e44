package dev.pinhole.punch.traversal;

/**
 * The ICE role of a side (RFC 8445 §6.1.1). The rendezvous server assigns the roles when it
 * introduces two peers (the peer that asked for the introduction controls), so no role conflict
 * arises in the normal case; the tie-breaker of §7.3.1.1 still resolves one if it does.
 */
public enum IceRole {
    /** Picks the pair to use and nominates it with USE-CANDIDATE (RFC 8445 §8.1.1). */
    CONTROLLING,
    /** Accepts the controlling side's nomination. */
    CONTROLLED;

    public IceRole opposite() {
        return this == CONTROLLING ? CONTROLLED : CONTROLLING;
    }
}
