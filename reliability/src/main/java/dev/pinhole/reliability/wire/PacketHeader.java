package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over the fixed 13-byte header that starts every Pinhole transport packet.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |1|0|K|Type |Ver|                                               |
 * +-+-+-+-+-+-+-+-+                                               +
 * |              Destination Connection ID (64)                   |
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |        Packet Number, low 32 bits (32)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |  Payload: frames ...
 * +-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <ul>
 *   <li>Byte 0: the two top bits are always {@code 10}, so every Pinhole packet starts with a byte in
 *       128..191, the range the node's first-byte demultiplexer reserves for the transport (RFC 7983
 *       style: STUN uses 0..3, TURN ChannelData 64..79). Then the key phase bit {@code K}
 *       ({@link #KEY_PHASE_BIT}, RFC 9001 §6: protected packets only, hidden by header protection;
 *       0 in INITIAL and HANDSHAKE), three bits of packet type and two bits of version (always
 *       {@link #VERSION_1}).</li>
 *   <li>Bytes 1..8: the destination connection id, chosen by the receiver of the packet.</li>
 *   <li>Bytes 9..12: the low 32 bits of the packet number; {@link PacketNumbers#decode} reconstructs
 *       the full number (RFC 9000 §17.1, Appendix A.3).</li>
 * </ul>
 * Network byte order throughout. SHORT and CONFIRM packets are protected (docs/protocol.md, "Packet
 * protection"): the header is the AEAD's associated data, and header protection masks {@code K} and the
 * packet number on the wire; the getters here read the unmasked values once the protection is removed.
 *
 * <p>Create one instance, then {@link #wrap} it over each packet (no allocation per packet). Getters
 * read at the field offsets relative to the wrapped offset; setters write and return {@code this}.
 * Neither checks bounds beyond Netty's capacity check: call {@link #isValid} before reading a
 * received datagram.
 */
public final class PacketHeader {
    /** Offset of the byte holding the fixed bits, the type and the version. */
    public static final int FIRST_BYTE_OFFSET = 0;
    /** Offset of the 64-bit destination connection id. */
    public static final int DESTINATION_CID_OFFSET = 1;
    /** Offset of the low 32 bits of the packet number. */
    public static final int PACKET_NUMBER_OFFSET = 9;
    /** Header length in bytes; the payload (frames) starts here. */
    public static final int HEADER_LENGTH = 13;

    /** Client to server: opens a connection; its payload carries a HELLO frame with the first Noise message. */
    public static final int TYPE_INITIAL = 0x0;
    /** Server to client: the stateless reply to an INITIAL, carrying a HELLO_REPLY frame. */
    public static final int TYPE_HANDSHAKE = 0x1;
    /** Every protected packet except the client's first ones. */
    public static final int TYPE_SHORT = 0x2;
    /**
     * Client to server until the server acknowledges one: a protected packet whose header is followed by a
     * clear prefix with the server's cookie and the client's last Noise message, from which the stateless
     * server creates its connection ({@link dev.pinhole.reliability.wire.ConfirmPrefix}).
     */
    public static final int TYPE_CONFIRM = 0x3;

    /**
     * The protocol version: 1 is the encrypted protocol (Noise handshake, protected packets). Version 0, the
     * unencrypted one of earlier releases, is no longer accepted.
     */
    public static final int VERSION_1 = 1;
    /** The key phase bit of the first byte (RFC 9001 §6), masked by header protection on the wire. */
    public static final int KEY_PHASE_BIT = 0x20;

    /** The fixed top bits {@code 10} of the first byte. */
    public static final int FIXED_BITS = 0x80;
    /** Mask of the fixed top bits. */
    public static final int FIXED_BITS_MASK = 0xC0;
    /** Mask of the type bits in the first byte, before shifting. */
    public static final int TYPE_MASK = 0x1C;
    /** Right shift that turns the masked type bits into the type. */
    public static final int TYPE_SHIFT = 2;
    /** Mask of the version bits in the first byte. */
    public static final int VERSION_MASK = 0x03;

    private ByteBuf buffer;
    private int offset;

    /** Points this flyweight at the header that starts at {@code offset} of {@code buffer}. */
    public PacketHeader wrap(ByteBuf buffer, int offset) {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /** The wrapped buffer. */
    public ByteBuf buffer() {
        return buffer;
    }

    /** The offset of the header in the wrapped buffer. */
    public int offset() {
        return offset;
    }

    /**
     * True if {@code first} is in 128..191, the first-byte range of Pinhole transport packets on a socket
     * shared with STUN (0..3) and TURN ChannelData (64..79), as RFC 7983 splits them (docs/architecture.md,
     * principle 2). Says nothing about the version or type.
     */
    public static boolean isPinholePacket(byte first) {
        return (first & FIXED_BITS_MASK) == FIXED_BITS;
    }

    /**
     * True if the readable bytes of {@code datagram} start with a complete header of a supported
     * version and a known type. Received datagrams that fail this are counted and dropped.
     */
    public static boolean isValid(ByteBuf datagram) {
        if (datagram.readableBytes() < HEADER_LENGTH) {
            return false;
        }
        final byte first = datagram.getByte(datagram.readerIndex() + FIRST_BYTE_OFFSET);
        if (!isPinholePacket(first) || (first & VERSION_MASK) != VERSION_1) {
            return false;
        }
        final int type = (first & TYPE_MASK) >>> TYPE_SHIFT;
        if (type == TYPE_INITIAL || type == TYPE_HANDSHAKE) {
            // Never protected: a set key phase bit is not ours.
            return (first & KEY_PHASE_BIT) == 0;
        }
        return type == TYPE_SHORT || type == TYPE_CONFIRM;
    }

    /** The first byte for a packet of {@code type}, key phase 0, the current version. */
    public static int firstByte(int type) {
        if ((type & ~(TYPE_MASK >>> TYPE_SHIFT)) != 0) {
            throw new IllegalArgumentException("packet type must fit 3 bits, was " + type);
        }
        return FIXED_BITS | (type << TYPE_SHIFT) | VERSION_1;
    }

    /**
     * Appends a complete header at the writer index of {@code out}.
     *
     * @param packetNumber the full packet number; its low 32 bits are written
     */
    public static void write(ByteBuf out, int type, long destinationCid, long packetNumber) {
        out.writeByte(firstByte(type));
        out.writeLong(destinationCid);
        out.writeInt((int) PacketNumbers.truncate(packetNumber));
    }

    /** The packet type, one of the {@code TYPE_} constants for a valid header. */
    public int type() {
        return (buffer.getByte(offset + FIRST_BYTE_OFFSET) & TYPE_MASK) >>> TYPE_SHIFT;
    }

    /** Sets the fixed bits, {@code type}, key phase 0 and the current version. */
    public PacketHeader type(int type) {
        buffer.setByte(offset + FIRST_BYTE_OFFSET, firstByte(type));
        return this;
    }

    /** The version bits. */
    public int version() {
        return buffer.getByte(offset + FIRST_BYTE_OFFSET) & VERSION_MASK;
    }

    public long destinationCid() {
        return buffer.getLong(offset + DESTINATION_CID_OFFSET);
    }

    public PacketHeader destinationCid(long cid) {
        buffer.setLong(offset + DESTINATION_CID_OFFSET, cid);
        return this;
    }

    /** The low 32 bits of the packet number as an unsigned value in [0, 2^32). */
    public long truncatedPacketNumber() {
        return buffer.getUnsignedInt(offset + PACKET_NUMBER_OFFSET);
    }

    /** Writes the low 32 bits of {@code packetNumber}. */
    public PacketHeader packetNumber(long packetNumber) {
        buffer.setInt(offset + PACKET_NUMBER_OFFSET, (int) PacketNumbers.truncate(packetNumber));
        return this;
    }

    @Override
    public String toString() {
        if (buffer == null) {
            return "PacketHeader{unwrapped}";
        }
        return "PacketHeader{type=" + type() + ", version=" + version() + ", dcid="
                + Long.toHexString(destinationCid()) + ", pn=" + truncatedPacketNumber() + '}';
    }
}
