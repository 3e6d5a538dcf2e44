package dev.pinhole.punch;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The known-peers file ({@link KnownPeers}) cannot be used: unreadable, unwritable, malformed (the message names
 * the line), too large, or writable by group or others (the message gives the {@code chmod}). A local problem to
 * fix, not a peer's doing; a connection whose peer could not be checked because of it is aborted.
 */
public final class KnownPeersFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public KnownPeersFileException(Path file, String message) {
        super(message);
        this.file = file;
    }

    public KnownPeersFileException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The known-peers file. */
    public Path file() {
        return file;
    }
}
