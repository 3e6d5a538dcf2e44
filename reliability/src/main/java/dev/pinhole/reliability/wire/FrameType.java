package dev.pinhole.reliability.wire;

/**
 * Frame type codes. On the wire a frame type is one plain byte (all codes are below 0x40, so it is
 * also the one-byte varint of RFC 9000 §12.4). The codes follow RFC 9000 §19 where Pinhole has the
 * same frame; the handshake frames 0x30..0x32 are Pinhole's own.
 */
final class FrameType {
    /** RFC 9000 §19.1: one zero byte, no content; not ack-eliciting. */
    public static final int PADDING = 0x00;
    /** RFC 9000 §19.2: no content; ack-eliciting, used for keep-alive and probes. */
    public static final int PING = 0x01;
    /** RFC 9000 §19.3 (without ECN counts); not ack-eliciting. */
    public static final int ACK = 0x02;
    /** RFC 9000 §19.8: first of the STREAM types 0x08..0x0b; the low bits are flags. */
    public static final int STREAM = 0x08;
    /** Flag bit of a STREAM type: this frame ends the stream. */
    public static final int STREAM_FIN_BIT = 0x01;
    /** Flag bit of a STREAM type: a length field follows the offset (else data runs to the packet end). */
    public static final int STREAM_LENGTH_BIT = 0x02;
    /** The last STREAM type (both flags set). */
    public static final int STREAM_MAX = STREAM | STREAM_FIN_BIT | STREAM_LENGTH_BIT;
    /** RFC 9000 §19.9: the absolute stream offset up to which the receiver accepts data. */
    public static final int MAX_DATA = 0x10;
    /** RFC 9000 §19.12: the sender is blocked by flow control at this offset. */
    public static final int DATA_BLOCKED = 0x14;
    /** Like RFC 9000 §19.4 RESET_STREAM for the one stream: abort with an application error code. */
    public static final int RESET = 0x15;
    /** RFC 9000 §19.17: 8 bytes of unpredictable data to echo. */
    public static final int PATH_CHALLENGE = 0x1a;
    /** RFC 9000 §19.18: the echo of a PATH_CHALLENGE. */
    public static final int PATH_RESPONSE = 0x1b;
    /** RFC 9000 §19.19 (without the frame type field): error code and reason; not ack-eliciting. */
    public static final int CONNECTION_CLOSE = 0x1c;
    /** Client's connection id, transport parameters and first Noise message, in an INITIAL packet. */
    public static final int HELLO = 0x30;
    /** Server's connection id, transport parameters, stateless cookie and Noise reply, in a HANDSHAKE packet. */
    public static final int HELLO_REPLY = 0x31;

    private FrameType() {
    }

    /** True for the STREAM types 0x08..0x0b. */
    public static boolean isStream(int type) {
        return (type & ~(STREAM_FIN_BIT | STREAM_LENGTH_BIT)) == STREAM;
    }

    /**
     * True if a frame of this type makes its packet ack-eliciting: every frame except ACK, PADDING
     * and CONNECTION_CLOSE (RFC 9002 §2, RFC 9000 §13.2.1).
     */
    public static boolean isAckEliciting(int type) {
        return type != ACK && type != PADDING && type != CONNECTION_CLOSE;
    }

    /** A readable name for logs and error messages. */
    public static String name(int type) {
        if (isStream(type)) {
            return "STREAM";
        }
        return switch (type) {
            case PADDING -> "PADDING";
            case PING -> "PING";
            case ACK -> "ACK";
            case MAX_DATA -> "MAX_DATA";
            case DATA_BLOCKED -> "DATA_BLOCKED";
            case RESET -> "RESET";
            case PATH_CHALLENGE -> "PATH_CHALLENGE";
            case PATH_RESPONSE -> "PATH_RESPONSE";
            case CONNECTION_CLOSE -> "CONNECTION_CLOSE";
            case HELLO -> "HELLO";
            case HELLO_REPLY -> "HELLO_REPLY";
            default -> "UNKNOWN(0x" + Integer.toHexString(type) + ")";
        };
    }
}
