package dev.pinhole.cli.transfer;

import java.io.IOException;

/** A transfer that did not complete, with what went wrong in words a user can act on. */
public final class TransferException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure, so the command can choose its exit code. */
    public enum Kind {
        /** The stream ended or broke before the transfer completed. */
        INTERRUPTED,
        /** The other side sent something this protocol does not allow. */
        PROTOCOL,
        /** The receiver refused an entry (bad path, existing file). */
        REFUSED,
        /** The receiver's SHA-256 differed from the sender's. */
        HASH_MISMATCH,
        /** A local file could not be read or written. */
        LOCAL_IO,
        /** The receiver did not accept the sender (unknown, not the one --from names, or its key changed). */
        NOT_TRUSTED
    }

    private final Kind kind;

    public TransferException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public TransferException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
