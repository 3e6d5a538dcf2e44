package dev.pinhole.punch;

import dev.pinhole.protocol.nat.NatProfile;

import java.io.IOException;
import java.util.List;

/**
 * No candidate pair worked before the deadline: the two NATs cannot be traversed directly and the peers
 * need a relay (TURN, RFC 8656, or Pinhole's relay). The message names both sides' NAT behaviour and every
 * pair tried with the reason it failed; {@link #pairs()} gives the same as values.
 */
public final class TraversalFailedException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient NatProfile localNat;
    private final transient NatProfile peerNat;
    private final transient List<PairReport> pairs;

    public TraversalFailedException(String message, NatProfile localNat, NatProfile peerNat, List<PairReport> pairs) {
        super(message);
        this.localNat = localNat;
        this.peerNat = peerNat;
        this.pairs = List.copyOf(pairs);
    }

    public NatProfile localNat() {
        return localNat;
    }

    public NatProfile peerNat() {
        return peerNat;
    }

    /** Every pair checked, birthday-probing sockets summarised in the message rather than listed. */
    public List<PairReport> pairs() {
        return pairs;
    }
}
