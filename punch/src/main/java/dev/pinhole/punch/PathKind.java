package dev.pinhole.punch;

/** How a {@link PeerConnection}'s datagrams travel between the two peers. */
public enum PathKind {
    /** Straight between the two peers' sockets, through their NATs' mappings (a punched hole). */
    DIRECT,
    /** Through a relay (TURN, RFC 8656, or Pinhole's relay), because no direct pair worked. */
    RELAYED
}
