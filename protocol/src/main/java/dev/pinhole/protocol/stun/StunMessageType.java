package dev.pinhole.protocol.stun;

/**
 * The 14-bit STUN message type: a 12-bit method with the 2-bit class interleaved (RFC 8489 §5).
 *
 * <pre>
 *  0                 1
 *  2  3  4 5 6 7 8 9 0 1 2 3 4 5
 * +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 * |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 * |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 * +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * So a Binding request is 0x0001, a Binding success response 0x0101 and a Binding error
 * response 0x0111. The two most significant bits of the 16-bit field are always zero.
 */
public final class StunMessageType {
    /** Binding (RFC 8489 §18.2). */
    public static final int METHOD_BINDING = 0x001;
    /** TURN methods (RFC 8656 §17), listed so the TURN client shares this codec. */
    public static final int METHOD_ALLOCATE = 0x003;
    public static final int METHOD_REFRESH = 0x004;
    public static final int METHOD_SEND = 0x006;
    public static final int METHOD_DATA = 0x007;
    public static final int METHOD_CREATE_PERMISSION = 0x008;
    public static final int METHOD_CHANNEL_BIND = 0x009;

    /** Largest method number: 12 bits. */
    public static final int MAX_METHOD = 0xFFF;

    public static final int BINDING_REQUEST = of(METHOD_BINDING, StunClass.REQUEST);
    public static final int BINDING_INDICATION = of(METHOD_BINDING, StunClass.INDICATION);
    public static final int BINDING_SUCCESS_RESPONSE = of(METHOD_BINDING, StunClass.SUCCESS_RESPONSE);
    public static final int BINDING_ERROR_RESPONSE = of(METHOD_BINDING, StunClass.ERROR_RESPONSE);

    private StunMessageType() {
    }

    /** Composes the message type of {@code method} and {@code messageClass}. */
    public static int of(int method, StunClass messageClass) {
        if (method < 0 || method > MAX_METHOD) {
            throw new IllegalArgumentException("STUN method must fit 12 bits, got 0x" + Integer.toHexString(method));
        }
        int c = messageClass.bits();
        return (method & 0x000F)
            | ((c & 0b01) << 4)
            | ((method & 0x0070) << 1)
            | ((c & 0b10) << 7)
            | ((method & 0x0F80) << 2);
    }

    /** The 12-bit method of a message type. */
    public static int method(int messageType) {
        return (messageType & 0x000F) | ((messageType & 0x00E0) >> 1) | ((messageType & 0x3E00) >> 2);
    }

    /** The two class bits (C1 C0) of a message type. */
    public static int classBits(int messageType) {
        return ((messageType >> 4) & 0b01) | ((messageType >> 7) & 0b10);
    }
}
