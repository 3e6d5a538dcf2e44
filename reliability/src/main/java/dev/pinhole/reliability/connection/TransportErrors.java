package dev.pinhole.reliability.connection;

/**
 * Error codes of the CONNECTION_CLOSE frame, with RFC 9000 §20.1's values where the meaning is the
 * same. An application's abort code travels in the RESET frame; the CONNECTION_CLOSE that follows it
 * carries {@link #APPLICATION_ABORT}.
 */
final class TransportErrors {
    /** RFC 9000 §20.1 NO_ERROR: graceful close. */
    public static final long NO_ERROR = 0x0;
    /** RFC 9000 §20.1 INTERNAL_ERROR. */
    public static final long INTERNAL_ERROR = 0x1;
    /** RFC 9000 §20.1 CONNECTION_REFUSED: the server will not take the connection (backlog full). */
    public static final long CONNECTION_REFUSED = 0x2;
    /** RFC 9000 §20.1 FLOW_CONTROL_ERROR: data beyond the advertised MAX_DATA. */
    public static final long FLOW_CONTROL_ERROR = 0x3;
    /** RFC 9000 §20.1 FINAL_SIZE_ERROR: data beyond, or a second different, end of stream. */
    public static final long FINAL_SIZE_ERROR = 0x6;
    /** RFC 9000 §20.1 PROTOCOL_VIOLATION. */
    public static final long PROTOCOL_VIOLATION = 0xa;
    /** RFC 9000 §20.1 APPLICATION_ERROR: the application aborted; its code is in the RESET frame. */
    public static final long APPLICATION_ABORT = 0xc;
    /** RFC 9000 §20.1 AEAD_LIMIT_REACHED: too many packets failed authentication (RFC 9001 §6.6). */
    public static final long AEAD_LIMIT_REACHED = 0xf;

    private TransportErrors() {
    }
}
