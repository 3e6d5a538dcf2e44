package dev.pinhole.protocol.stun;

/**
 * A STUN message was rejected. For callers off the hot path that prefer an exception to
 * checking a {@link StunParseResult}; the event loop counts results instead and never throws.
 */
public final class StunParseException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final StunParseResult reason;

    public StunParseException(StunParseResult reason) {
        super("malformed STUN message: " + reason.description());
        if (reason.isOk()) {
            throw new IllegalArgumentException("OK is not a reason to reject a message");
        }
        this.reason = reason;
    }

    public StunParseResult reason() {
        return reason;
    }
}
