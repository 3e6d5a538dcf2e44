package dev.pinhole.punch.traversal;

/** How traversal learnt the remote address of a candidate pair: which technique found the path. */
public enum PathOrigin {
    /** The peer's host candidate: same LAN, or no NAT in between. */
    HOST,
    /** The peer's server-reflexive candidate: its NAT mapping as the STUN server saw it. */
    SERVER_REFLEXIVE,
    /** The source of a check the peer sent (RFC 8445 §7.3.1.3), e.g. connection reversal. */
    PEER_REFLEXIVE,
    /** A port predicted from the peer's sequential port allocation. */
    PREDICTED,
    /** A random port of the peer's NAT hit by birthday probing. */
    BIRTHDAY,
    /** A relayed candidate. */
    RELAYED
}
