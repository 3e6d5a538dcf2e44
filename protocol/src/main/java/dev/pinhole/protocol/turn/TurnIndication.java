package dev.pinhole.protocol.turn;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunMessageType;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Encodes the TURN indications that carry data, Send (client to server, RFC 8656 §11.1) and Data (server to
 * client, §11.4), in one pass, without the general {@link dev.pinhole.protocol.stun.StunWriter}: they are the
 * data path before a channel is bound, and the peer's address bytes are cached by the caller, so nothing but
 * the datagram buffer is allocated. Both have the same layout:
 *
 * <pre>
 *  STUN header (20 bytes): type 0x0016 (Send) or 0x0017 (Data indication), length, magic cookie, transaction id
 *  XOR-PEER-ADDRESS (4 + 8 bytes for IPv4, 4 + 20 for IPv6; RFC 8656 §18.3, RFC 8489 §14.2)
 *  DATA             (4 + length bytes, zero-padded to 4; RFC 8656 §18.4)
 * </pre>
 *
 * No MESSAGE-INTEGRITY: indications cannot be authenticated in TURN (RFC 8656 §11.1), and no
 * FINGERPRINT: the first byte already sets STUN apart from everything else on the socket.
 */
public final class TurnIndication {
    /** RFC 8656 §17: Send (0x006) in the indication class. */
    public static final int MESSAGE_TYPE = StunMessageType.of(StunMessageType.METHOD_SEND, StunClass.INDICATION);
    /** RFC 8656 §17: Data (0x007) in the indication class. */
    public static final int DATA_MESSAGE_TYPE = StunMessageType.of(StunMessageType.METHOD_DATA, StunClass.INDICATION);
    /** Header, XOR-PEER-ADDRESS with an IPv4 address, DATA attribute header: the bytes before the data. */
    public static final int IPV4_OVERHEAD = StunHeader.HEADER_LENGTH + StunHeader.ATTRIBUTE_HEADER_LENGTH + 8
        + StunHeader.ATTRIBUTE_HEADER_LENGTH;
    /** The same with an IPv6 peer. */
    static final int IPV6_OVERHEAD = IPV4_OVERHEAD + 12;

    private static final byte[] COOKIE = {0x21, 0x12, (byte) 0xA4, 0x42};

    private TurnIndication() {
    }

    /** Bytes of a Send indication for a peer address of {@code ipLength} bytes and {@code dataLength} bytes of data. */
    public static int encodedLength(int ipLength, int dataLength) {
        return (ipLength == 4 ? IPV4_OVERHEAD : IPV6_OVERHEAD) + StunHeader.padded(dataLength);
    }

    /** The largest data a Send indication to a peer address of {@code ipLength} bytes can carry. */
    public static int maxDataLength(int ipLength) {
        return StunHeader.MAX_MESSAGE_LENGTH_FIELD + StunHeader.HEADER_LENGTH - encodedLength(ipLength, 0) - 3;
    }

    /**
     * A new buffer holding a Send indication that carries the readable bytes of {@code data} (neither
     * consumed nor released) to {@code peerIp:peerPort}.
     */
    public static ByteBuf encode(ByteBufAllocator allocator, long idHigh, int idLow, byte[] peerIp, int peerPort, ByteBuf data) {
        return encode(allocator, MESSAGE_TYPE, idHigh, idLow, peerIp, peerPort, data, data.readerIndex(),
            data.readableBytes());
    }

    /**
     * A new buffer holding an indication of {@code messageType} ({@link #MESSAGE_TYPE} or
     * {@link #DATA_MESSAGE_TYPE}) that carries {@code length} bytes of {@code data} from {@code dataIndex}
     * (neither consumed nor released), with {@code peerIp:peerPort} in its XOR-PEER-ADDRESS.
     */
    public static ByteBuf encode(ByteBufAllocator allocator, int messageType, long idHigh, int idLow, byte[] peerIp,
            int peerPort, ByteBuf data, int dataIndex, int length) {
        int total = encodedLength(peerIp.length, length);
        ByteBuf out = allocator.buffer(total);
        out.writeShort(messageType);
        out.writeShort(total - StunHeader.HEADER_LENGTH);
        out.writeInt(StunHeader.MAGIC_COOKIE);
        out.writeLong(idHigh);
        out.writeInt(idLow);
        out.writeShort(StunAttributeType.XOR_PEER_ADDRESS);
        out.writeShort(4 + peerIp.length);
        out.writeByte(0);
        out.writeByte(peerIp.length == 4 ? StunAttributeType.FAMILY_IPV4 : StunAttributeType.FAMILY_IPV6);
        out.writeShort(peerPort ^ (StunHeader.MAGIC_COOKIE >>> 16));
        for (int i = 0; i < peerIp.length; i++) {
            // RFC 8489 §14.2: the address is XOR-ed with the cookie followed by the transaction id.
            out.writeByte(peerIp[i] ^ mask(i, idHigh, idLow));
        }
        out.writeShort(StunAttributeType.DATA);
        out.writeShort(length);
        out.writeBytes(data, dataIndex, length);
        out.writeZero(StunHeader.padded(length) - length);
        return out;
    }

    /** Byte {@code i} of magic cookie ‖ transaction id. */
    private static int mask(int i, long idHigh, int idLow) {
        if (i < 4) {
            return COOKIE[i];
        }
        if (i < 12) {
            return (int) (idHigh >>> (8 * (11 - i)));
        }
        return idLow >>> (8 * (15 - i));
    }
}
