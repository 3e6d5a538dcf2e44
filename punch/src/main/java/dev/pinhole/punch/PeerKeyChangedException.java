package dev.pinhole.punch;

import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The peer proved a key other than the one expected for its name: the one {@link KnownPeers} recorded when this
 * machine first met it, or the id the caller pinned ({@link PinholeNode#connect(String, String)}). The connection
 * was aborted before a byte of application data was exchanged. Someone may be impersonating the peer (a
 * malicious rendezvous server or an attacker who took the name over), or the peer reinstalled and has a new
 * key; the message says both, gives the two fingerprints to compare with the peer over another channel, and
 * how to accept the new key.
 */
public final class PeerKeyChangedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * The application error code of the aborted connection: the peer's reads and writes fail with a
     * {@link dev.pinhole.reliability.ConnectionResetException} whose {@code code()} is this ("KEY" in ASCII).
     */
    public static final long ABORT_CODE = 0x4b4559;

    private final String peerName;
    private final String expectedId;
    private final String presentedId;
    private final boolean pinned;
    private final transient Path knownPeersFile;

    /**
     * @param pinned true if {@code expectedId} was pinned by the caller, false if it came from the file
     * @param knownPeersFile the known-peers file the expected id came from, or null
     */
    public PeerKeyChangedException(String peerName, String expectedId, String presentedId, boolean pinned,
                                   Path knownPeersFile) {
        super(message(peerName, expectedId, presentedId, pinned, knownPeersFile));
        this.peerName = peerName;
        this.expectedId = expectedId;
        this.presentedId = presentedId;
        this.pinned = pinned;
        this.knownPeersFile = knownPeersFile;
    }

    private static String message(String name, String expected, String presented, boolean pinned, Path file) {
        String fingerprints = "expected fingerprint " + fingerprint(expected) + ", but the peer presented "
                + fingerprint(presented) + " (id " + presented + ")";
        if (pinned) {
            return "peer '" + name + "' is not the pinned id: " + fingerprints + ". Someone may be impersonating '"
                    + name + "', or the pinned id is wrong or old: compare it with what `pinhole id` prints on "
                    + name + "'s machine";
        }
        return "the key of peer '" + name + "' has changed: " + fingerprints + ". Someone may be impersonating '"
                + name + "', or " + name + " reinstalled or moved to another machine: compare the fingerprint with"
                + " what `pinhole id` prints there. To accept the new key, pass --accept-new-key (command line)"
                + (file == null ? ", or forget the old one (KnownPeers.forget)"
                    : ", or remove the line '" + name + " ...' from " + file);
    }

    /** The fingerprint of a node id, or the text itself if it is not a valid id. */
    static String fingerprint(String id) {
        try {
            return Identity.fingerprintOf(Identity.parseId(id));
        } catch (IllegalArgumentException e) {
            return id;
        }
    }

    /** The name the peer registered under. */
    public String peerName() {
        return peerName;
    }

    /** The id that was expected: the known or pinned one. */
    public String expectedId() {
        return expectedId;
    }

    /** The id the peer's handshake proved. */
    public String presentedId() {
        return presentedId;
    }

    /** Whether the expected id was pinned by the caller rather than recorded in the known-peers file. */
    public boolean pinned() {
        return pinned;
    }

    /** The known-peers file the expected id came from, or null. */
    public Path knownPeersFile() {
        return knownPeersFile;
    }
}
