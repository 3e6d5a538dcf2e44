package dev.pinhole.protocol.ice;

/**
 * The kinds of candidate RFC 8445 §5.1.1 defines, with the type preferences §5.1.2.2 recommends.
 */
public enum CandidateType {
    /** An address of a local interface; the socket's own bound address. */
    HOST(126),
    /** A peer's source address learnt from an incoming connectivity check (RFC 8445 §7.3.1.3). */
    PEER_REFLEXIVE(110),
    /** The NAT's mapping of the host candidate, as a STUN server reported it (RFC 8445 §5.1.1.2). */
    SERVER_REFLEXIVE(100),
    /** An address on a relay (TURN, RFC 8656, or Pinhole's own). */
    RELAYED(0);

    private final int typePreference;

    CandidateType(int typePreference) {
        this.typePreference = typePreference;
    }

    /**
     * RFC 8445 §5.1.2.2: "The RECOMMENDED values for type preferences are 126 for host candidates,
     * 110 for peer-reflexive candidates, 100 for server-reflexive candidates, and 0 for relayed
     * candidates."
     */
    public int typePreference() {
        return typePreference;
    }
}
