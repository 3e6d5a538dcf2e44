package dev.pinhole.protocol.stun;

import io.netty.buffer.ByteBuf;

/**
 * Layout of the 20-byte STUN message header and of the attribute TLV (RFC 8489 §5 and §14).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Magic Cookie (0x2112A442)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * |                     Transaction ID (96 bits)                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The Message Length counts the bytes after the header; every attribute is padded to a multiple
 * of four bytes, so the length is one too. Attributes follow the header as type-length-value:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Type                  |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Value (variable)                ....
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The attribute Length is the value's length before padding (RFC 8489 §14).
 */
public final class StunHeader {
    public static final int MESSAGE_TYPE_OFFSET = 0;
    public static final int MESSAGE_LENGTH_OFFSET = 2;
    public static final int MAGIC_COOKIE_OFFSET = 4;
    public static final int TRANSACTION_ID_OFFSET = 8;
    /** Bytes of the transaction id: 96 bits (RFC 8489 §5). */
    public static final int TRANSACTION_ID_LENGTH = 12;
    public static final int HEADER_LENGTH = 20;

    /** RFC 8489 §5: the fixed value that tells STUN apart from other protocols on the same port. */
    public static final int MAGIC_COOKIE = 0x2112A442;

    public static final int ATTRIBUTE_TYPE_OFFSET = 0;
    public static final int ATTRIBUTE_LENGTH_OFFSET = 2;
    public static final int ATTRIBUTE_HEADER_LENGTH = 4;

    /** Largest value of the 16-bit Message Length field. */
    public static final int MAX_MESSAGE_LENGTH_FIELD = 0xFFFF;

    private StunHeader() {
    }

    /** Rounds an attribute value length up to the 4-byte boundary the next attribute starts on. */
    public static int padded(int valueLength) {
        return (valueLength + 3) & ~3;
    }

    /**
     * A cheap test a demultiplexer can run before handing a datagram to the STUN parser
     * (RFC 7983 §7 and RFC 8489 §5): the two top bits are zero, the magic cookie is present and
     * the Message Length fills the rest of the datagram exactly. It reads only inside
     * {@code [index, index + length)} and never throws for any input.
     */
    public static boolean looksLikeStun(ByteBuf buffer, int index, int length) {
        if (length < HEADER_LENGTH || index < 0 || index + length > buffer.writerIndex()) {
            return false;
        }
        return (buffer.getUnsignedByte(index + MESSAGE_TYPE_OFFSET) & 0xC0) == 0
            && buffer.getInt(index + MAGIC_COOKIE_OFFSET) == MAGIC_COOKIE
            && buffer.getUnsignedShort(index + MESSAGE_LENGTH_OFFSET) + HEADER_LENGTH == length;
    }

    /** {@link #looksLikeStun(ByteBuf, int, int)} over the readable bytes of {@code datagram}. */
    public static boolean looksLikeStun(ByteBuf datagram) {
        return looksLikeStun(datagram, datagram.readerIndex(), datagram.readableBytes());
    }
}
