package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * Variable-length integers of RFC 9000 §16: the two most significant bits of the first byte give
 * the length (00 = 1, 01 = 2, 10 = 4, 11 = 8 bytes), the remaining bits hold the value in network
 * byte order, so values range from 0 to 2^62 - 1.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|  6-bit  |  (1 byte, 0..63)
 * |0 1|  14-bit value                 |  (2 bytes, 0..16383)
 * |1 0|  30-bit value ...                                         |  (4 bytes)
 * |1 1|  62-bit value ...                                              (8 bytes)
 * </pre>
 *
 * Writers always choose the shortest encoding; readers accept any (RFC 9000 §16 allows non-minimal
 * encodings except for frame types, which Pinhole encodes as a single plain byte).
 */
final class VarInt {
    /** The largest encodable value, 2^62 - 1 (RFC 9000 §16). */
    public static final long MAX_VALUE = (1L << 62) - 1;
    /** The longest encoding in bytes. */
    public static final int MAX_LENGTH = 8;
    /** What {@link #read} and {@link #get} return when the buffer ends inside the integer. */
    public static final long TRUNCATED = -1L;

    private static final long MAX_1_BYTE = 63L;
    private static final long MAX_2_BYTES = 16_383L;
    private static final long MAX_4_BYTES = 1_073_741_823L;

    private VarInt() {
    }

    /**
     * The number of bytes {@link #write} uses for {@code value}.
     *
     * @throws IllegalArgumentException if {@code value} is negative or above {@link #MAX_VALUE}
     */
    public static int length(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("varint value must be in [0, 2^62), was " + value);
        }
        if (value <= MAX_1_BYTE) {
            return 1;
        }
        if (value <= MAX_2_BYTES) {
            return 2;
        }
        if (value <= MAX_4_BYTES) {
            return 4;
        }
        if (value <= MAX_VALUE) {
            return 8;
        }
        throw new IllegalArgumentException("varint value must be in [0, 2^62), was " + value);
    }

    /** The length of an encoding as announced by its first byte (1, 2, 4 or 8). */
    public static int lengthOfEncoding(byte firstByte) {
        return 1 << ((firstByte & 0xC0) >>> 6);
    }

    /**
     * Appends {@code value} at the writer index in its shortest encoding.
     *
     * @throws IllegalArgumentException if {@code value} is outside [0, 2^62); a caller bug, never input
     */
    public static void write(ByteBuf out, long value) {
        switch (length(value)) {
            case 1 -> out.writeByte((int) value);
            case 2 -> out.writeShort((int) value | 0x4000);
            case 4 -> out.writeInt((int) value | 0x8000_0000);
            default -> out.writeLong(value | 0xC000_0000_0000_0000L);
        }
    }

    /**
     * Reads a varint at the reader index and advances past it.
     *
     * @return the value, or {@link #TRUNCATED} (-1) if fewer bytes are readable than the encoding
     *     needs; then the reader index is left unchanged. Never throws on any input.
     */
    public static long read(ByteBuf in) {
        final int index = in.readerIndex();
        if (index >= in.writerIndex()) {
            return TRUNCATED;
        }
        final int length = lengthOfEncoding(in.getByte(index));
        if (in.writerIndex() - index < length) {
            return TRUNCATED;
        }
        in.readerIndex(index + length);
        return decode(in, index, length);
    }

    /**
     * Reads a varint at absolute {@code index} without moving any index; bytes up to the writer
     * index count as available.
     *
     * @return the value, or {@link #TRUNCATED} (-1) if the encoding does not fit before the writer index
     */
    public static long get(ByteBuf in, int index) {
        if (index < 0 || index >= in.writerIndex()) {
            return TRUNCATED;
        }
        final int length = lengthOfEncoding(in.getByte(index));
        if (in.writerIndex() - index < length) {
            return TRUNCATED;
        }
        return decode(in, index, length);
    }

    private static long decode(ByteBuf in, int index, int length) {
        return switch (length) {
            case 1 -> in.getByte(index) & 0x3FL;
            case 2 -> in.getShort(index) & 0x3FFFL;
            case 4 -> in.getInt(index) & 0x3FFF_FFFFL;
            default -> in.getLong(index) & MAX_VALUE;
        };
    }
}
