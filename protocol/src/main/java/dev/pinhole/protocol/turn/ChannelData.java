package dev.pinhole.protocol.turn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The TURN ChannelData message (RFC 8656 §12.4): application data to or from the peer bound to a
 * channel, behind a 4-byte header instead of a 36-byte Send or Data indication.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Channel Number        |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * /                       Application Data                        /
 * /                                                               /
 * |                                                               |
 * |                               +-------------------------------+
 * |                               |     (padding over TCP only;   |
 * +-------------------------------+      optional over UDP)
 * </pre>
 *
 * Channel numbers are 0x4000–0x4FFF (RFC 8656 §12; 0x5000–0xFFFF are reserved), so the first byte is
 * 64–79, which is how a node's demultiplexer recognises ChannelData (RFC 7983 §7). Length counts the
 * application data only, not the header or padding. Over UDP a datagram may be longer than
 * {@code 4 + Length} (padding); it must not be shorter (RFC 8656 §12.6). The static methods read and
 * write in place and never read outside the range they are given.
 */
public final class ChannelData {
    public static final int CHANNEL_NUMBER_OFFSET = 0;
    public static final int LENGTH_OFFSET = 2;
    public static final int HEADER_LENGTH = 4;
    /** RFC 8656 §12: the first channel number a client may bind. */
    public static final int MIN_CHANNEL = 0x4000;
    /** RFC 8656 §12: the last channel number a client may bind; 0x5000–0xFFFF are reserved. */
    public static final int MAX_CHANNEL = 0x4FFF;
    /** How many channel numbers exist. */
    public static final int CHANNEL_COUNT = MAX_CHANNEL - MIN_CHANNEL + 1;
    /** The 16-bit Length field's largest value. */
    public static final int MAX_DATA_LENGTH = 0xFFFF;

    /** The verdict of {@link #check}. */
    public enum Result {
        OK,
        /** Fewer than the 4 header bytes. */
        TOO_SHORT,
        /** A channel number outside 0x4000–0x4FFF (RFC 8656 §12.6: silently discarded). */
        RESERVED_CHANNEL,
        /** The Length field claims more bytes than the datagram holds (RFC 8656 §12.6: discarded). */
        LENGTH_OVERRUN
    }

    private ChannelData() {
    }

    /** Whether {@code channel} is a channel number a client may bind. */
    public static boolean isValidChannel(int channel) {
        return channel >= MIN_CHANNEL && channel <= MAX_CHANNEL;
    }

    /** Checks the ChannelData message in {@code [index, index + length)}; never throws for any content. */
    public static Result check(ByteBuf buffer, int index, int length) {
        if (length < HEADER_LENGTH) {
            return Result.TOO_SHORT;
        }
        if (!isValidChannel(buffer.getUnsignedShort(index + CHANNEL_NUMBER_OFFSET))) {
            return Result.RESERVED_CHANNEL;
        }
        return buffer.getUnsignedShort(index + LENGTH_OFFSET) <= length - HEADER_LENGTH ? Result.OK : Result.LENGTH_OVERRUN;
    }

    /** {@link #check(ByteBuf, int, int)} over the readable bytes of {@code datagram}. */
    public static Result check(ByteBuf datagram) {
        return check(datagram, datagram.readerIndex(), datagram.readableBytes());
    }

    /** The channel number of the message at {@code index}; check it first. */
    public static int channel(ByteBuf buffer, int index) {
        return buffer.getUnsignedShort(index + CHANNEL_NUMBER_OFFSET);
    }

    /** The application data length of the message at {@code index}; check it first. */
    public static int dataLength(ByteBuf buffer, int index) {
        return buffer.getUnsignedShort(index + LENGTH_OFFSET);
    }

    /** Bytes of a message carrying {@code dataLength} bytes, padded to 4 bytes or not. */
    public static int encodedLength(int dataLength, boolean pad) {
        return HEADER_LENGTH + (pad ? (dataLength + 3) & ~3 : dataLength);
    }

    /** Appends the 4-byte header at {@code out}'s writer index. */
    public static void writeHeader(ByteBuf out, int channel, int dataLength) {
        if (!isValidChannel(channel)) {
            throw new IllegalArgumentException(String.format("channel numbers are 0x4000 to 0x4FFF, got 0x%04X", channel));
        }
        if (dataLength < 0 || dataLength > MAX_DATA_LENGTH) {
            throw new IllegalArgumentException("ChannelData carries 0 to 65535 bytes, got " + dataLength);
        }
        out.writeShort(channel);
        out.writeShort(dataLength);
    }

    /**
     * A new buffer from {@code allocator} holding a ChannelData message with the readable bytes of
     * {@code data} (which is neither consumed nor released), zero-padded to 4 bytes if {@code pad}.
     */
    public static ByteBuf encode(ByteBufAllocator allocator, int channel, ByteBuf data, boolean pad) {
        int dataLength = data.readableBytes();
        int total = encodedLength(dataLength, pad);
        ByteBuf out = allocator.buffer(total);
        try {
            writeHeader(out, channel, dataLength);
            out.writeBytes(data, data.readerIndex(), dataLength);
            out.writeZero(total - HEADER_LENGTH - dataLength);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }
}
