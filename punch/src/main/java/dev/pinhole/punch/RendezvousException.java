package dev.pinhole.punch;

import java.io.IOException;

/**
 * A rendezvous request failed. The message says what happened and, where there is one, what to do.
 * Subclasses name the failures a program reacts to; others carry the server's STUN error code.
 */
public class RendezvousException extends IOException {
    private static final long serialVersionUID = 1L;

    /** {@link #errorCode()} of failures that did not come from the server as an error response. */
    public static final int NO_ERROR_CODE = -1;

    private final int errorCode;

    public RendezvousException(String message) {
        this(message, NO_ERROR_CODE);
    }

    public RendezvousException(String message, int errorCode) {
        super(message);
        this.errorCode = errorCode;
    }

    /** The ERROR-CODE of the server's answer (RFC 8489 §14.8, e.g. 508), or {@link #NO_ERROR_CODE}. */
    public int errorCode() {
        return errorCode;
    }
}
