package dev.pinhole.protocol.stun;

/**
 * The class of a STUN message, two bits interleaved with the method in the message type
 * (RFC 8489 §5): request 0b00, indication 0b01, success response 0b10, error response 0b11.
 */
public enum StunClass {
    REQUEST(0b00),
    INDICATION(0b01),
    SUCCESS_RESPONSE(0b10),
    ERROR_RESPONSE(0b11);

    private static final StunClass[] BY_BITS = {REQUEST, INDICATION, SUCCESS_RESPONSE, ERROR_RESPONSE};

    private final int bits;

    StunClass(int bits) {
        this.bits = bits;
    }

    /** The two class bits, C1 C0. */
    public int bits() {
        return bits;
    }

    public boolean isResponse() {
        return this == SUCCESS_RESPONSE || this == ERROR_RESPONSE;
    }

    /** The class of a 14-bit message type. */
    public static StunClass ofMessageType(int messageType) {
        return BY_BITS[StunMessageType.classBits(messageType)];
    }
}
