package dev.pinhole.punch.node;

import java.io.IOException;

/**
 * The rendezvous server introduced the peer with another key than the one the caller expected (pinned, or
 * recorded in its known-peers file): {@link NodeCore#connect(String, byte[])} stops before any handshake, so
 * the node never even sends its own static key toward a key it does not trust. {@code PinholeNode} turns it
 * into the API's {@code PeerKeyChangedException}.
 */
public final class IntroducedKeyException extends IOException {
    private static final long serialVersionUID = 1L;
    private final byte[] introducedKey;

    IntroducedKeyException(String peerName, byte[] introducedKey) {
        super("the rendezvous server introduced '" + peerName + "' with another key than the one expected");
        this.introducedKey = introducedKey.clone();
    }

    /** The 32-byte X25519 key the introduction named. */
    public byte[] introducedKey() {
        return introducedKey.clone();
    }
}
