package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Writers that append one frame at the writer index of a packet buffer. Each frame is a one-byte type
 * ({@link FrameType}) followed by its fields, varints of RFC 9000 §16 unless noted. The layouts, as
 * bit diagrams, are in docs/protocol.md; {@link FrameReader} parses them.
 *
 * <p>None of the writers used per packet (PADDING, PING, ACK, STREAM, MAX_DATA, DATA_BLOCKED,
 * PATH_CHALLENGE/RESPONSE) allocates. Writers throw {@link IllegalArgumentException} for values the
 * wire cannot carry: that is a bug of the caller, never input.
 */
public final class Frames {
    /** Handshake pattern byte of HELLO: Noise IK (the client knows the server's static key). */
    public static final int PATTERN_IK = 1;
    /** Handshake pattern byte of HELLO: Noise XX (it does not). */
    public static final int PATTERN_XX = 2;
    /** The longest cookie a reader accepts (the server's is about 250 bytes). */
    public static final int MAX_COOKIE_LENGTH = 512;
    /** The longest Noise handshake message a reader accepts (ours are at most about 150 bytes). */
    public static final int MAX_NOISE_MESSAGE_LENGTH = 512;
    /** Longest CONNECTION_CLOSE reason in UTF-8 bytes; longer reasons are cut when written. */
    public static final int MAX_REASON_LENGTH = 256;
    /** Length of the PATH_CHALLENGE / PATH_RESPONSE data (RFC 9000 §19.17). */
    public static final int PATH_DATA_LENGTH = 8;
    /** Length of a connection id in the handshake frames. */
    public static final int CID_LENGTH = 8;
    /** The longest STREAM frame header: type, 8-byte offset, 8-byte length. */
    public static final int MAX_STREAM_HEADER_LENGTH = 1 + 8 + 8;
    /** RFC 9000 §19.8: offset + length of stream data can never exceed 2^62 - 1. */
    public static final long MAX_STREAM_OFFSET = VarInt.MAX_VALUE;

    private Frames() {
    }

    /** Appends {@code n} PADDING frames (zero bytes), e.g. to bring an INITIAL to 1200 bytes. */
    public static void writePadding(ByteBuf out, int n) {
        if (n < 0) {
            throw new IllegalArgumentException("padding length must not be negative, was " + n);
        }
        out.writeZero(n);
    }

    public static void writePing(ByteBuf out) {
        out.writeByte(FrameType.PING);
    }

    /**
     * Appends an ACK frame carrying all of {@code ranges} (RFC 9000 §19.3).
     *
     * @param ackDelayMicros how long the largest acknowledged packet was held before this ACK, in
     *                       microseconds (Pinhole applies no ack_delay_exponent scaling)
     */
    public static void writeAck(ByteBuf out, AckRanges ranges, long ackDelayMicros) {
        writeAck(out, ranges, ranges.size(), ackDelayMicros);
    }

    /**
     * Appends an ACK frame carrying the highest {@code rangeCount} of {@code ranges}; use
     * {@link #ackRangesThatFit} to pick the count for the space left in a packet.
     *
     * <pre>
     * ACK { Type (0x02), Largest Acknowledged (i), ACK Delay (i), ACK Range Count (i),
     *       First ACK Range (i), ACK Range { Gap (i), ACK Range Length (i) } ... }
     * </pre>
     */
    public static void writeAck(ByteBuf out, AckRanges ranges, int rangeCount, long ackDelayMicros) {
        if (rangeCount < 1 || rangeCount > ranges.size()) {
            throw new IllegalArgumentException("range count must be in [1, " + ranges.size() + "], was "
                    + rangeCount);
        }
        out.writeByte(FrameType.ACK);
        VarInt.write(out, ranges.high(0));
        VarInt.write(out, ackDelayMicros);
        VarInt.write(out, rangeCount - 1);
        VarInt.write(out, ranges.high(0) - ranges.low(0));
        for (int i = 1; i < rangeCount; i++) {
            // RFC 9000 §19.3.1: gap = previous smallest - this largest - 2; length = largest - smallest.
            VarInt.write(out, ranges.low(i - 1) - ranges.high(i) - 2);
            VarInt.write(out, ranges.high(i) - ranges.low(i));
        }
    }

    /** The length in bytes of an ACK frame carrying the highest {@code rangeCount} of {@code ranges}. */
    public static int ackLength(AckRanges ranges, int rangeCount, long ackDelayMicros) {
        int length = 1 + VarInt.length(ranges.high(0)) + VarInt.length(ackDelayMicros)
                + VarInt.length(rangeCount - 1) + VarInt.length(ranges.high(0) - ranges.low(0));
        for (int i = 1; i < rangeCount; i++) {
            length += VarInt.length(ranges.low(i - 1) - ranges.high(i) - 2)
                    + VarInt.length(ranges.high(i) - ranges.low(i));
        }
        return length;
    }

    /**
     * The largest number of ranges (highest first) whose ACK frame fits in {@code maxBytes}; 0 if not
     * even a frame with one range fits.
     */
    public static int ackRangesThatFit(AckRanges ranges, long ackDelayMicros, int maxBytes) {
        int fitting = 0;
        for (int count = 1; count <= ranges.size(); count++) {
            if (ackLength(ranges, count, ackDelayMicros) > maxBytes) {
                break;
            }
            fitting = count;
        }
        return fitting;
    }

    /**
     * Appends the header of a STREAM frame carrying {@code length} bytes at stream {@code offset}; the
     * caller appends exactly {@code length} data bytes next (straight from its send buffer, no copy in
     * between). The length field is always present (type 0x0a or 0x0b).
     *
     * <pre>
     * STREAM { Type (0x08..0x0b: bit 0 FIN, bit 1 LEN), Offset (i), [Length (i)], Stream Data (..) }
     * </pre>
     */
    public static void writeStreamHeader(ByteBuf out, long offset, int length, boolean fin) {
        checkStreamRange(offset, length);
        out.writeByte(FrameType.STREAM | FrameType.STREAM_LENGTH_BIT | (fin ? FrameType.STREAM_FIN_BIT : 0));
        VarInt.write(out, offset);
        VarInt.write(out, length);
    }

    /** The length of the header {@link #writeStreamHeader} writes (without the data). */
    public static int streamHeaderLength(long offset, int length) {
        checkStreamRange(offset, length);
        return 1 + VarInt.length(offset) + VarInt.length(length);
    }

    private static void checkStreamRange(long offset, int length) {
        if (offset < 0 || length < 0 || offset > MAX_STREAM_OFFSET - length) {
            throw new IllegalArgumentException("stream range offset " + offset + " length " + length
                    + " is outside [0, 2^62)");
        }
    }

    /** Appends MAX_DATA: the absolute stream offset up to which the sender of the frame accepts data. */
    public static void writeMaxData(ByteBuf out, long maxData) {
        out.writeByte(FrameType.MAX_DATA);
        VarInt.write(out, maxData);
    }

    /** Appends DATA_BLOCKED: the stream offset (the peer's limit) at which the sender is blocked. */
    public static void writeDataBlocked(ByteBuf out, long limit) {
        out.writeByte(FrameType.DATA_BLOCKED);
        VarInt.write(out, limit);
    }

    /** Appends RESET: the stream is aborted with an application error code. */
    public static void writeReset(ByteBuf out, long errorCode) {
        out.writeByte(FrameType.RESET);
        VarInt.write(out, errorCode);
    }

    /**
     * Appends CONNECTION_CLOSE with {@code reason} in UTF-8, cut at a character boundary to at most
     * {@link #MAX_REASON_LENGTH} bytes. Allocates (the reason's bytes): a close happens once.
     *
     * <pre>
     * CONNECTION_CLOSE { Type (0x1c), Error Code (i), Reason Phrase Length (i), Reason Phrase (..) }
     * </pre>
     */
    public static void writeConnectionClose(ByteBuf out, long errorCode, String reason) {
        final byte[] utf8 = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        final int length = reasonLength(utf8);
        out.writeByte(FrameType.CONNECTION_CLOSE);
        VarInt.write(out, errorCode);
        VarInt.write(out, length);
        out.writeBytes(utf8, 0, length);
    }

    /** The length of the CONNECTION_CLOSE frame {@link #writeConnectionClose} writes. */
    public static int connectionCloseLength(long errorCode, String reason) {
        final int length = reason == null ? 0 : reasonLength(reason.getBytes(StandardCharsets.UTF_8));
        return 1 + VarInt.length(errorCode) + VarInt.length(length) + length;
    }

    private static int reasonLength(byte[] utf8) {
        if (utf8.length <= MAX_REASON_LENGTH) {
            return utf8.length;
        }
        int cut = MAX_REASON_LENGTH;
        // Do not split a multi-byte character: back up over continuation bytes (10xxxxxx).
        while (cut > 0 && (utf8[cut] & 0xC0) == 0x80) {
            cut--;
        }
        return cut;
    }

    /** Appends PATH_CHALLENGE with 8 bytes of unpredictable {@code data} (RFC 9000 §8.2.1). */
    public static void writePathChallenge(ByteBuf out, long data) {
        out.writeByte(FrameType.PATH_CHALLENGE);
        out.writeLong(data);
    }

    /** Appends PATH_RESPONSE echoing the data of a PATH_CHALLENGE (RFC 9000 §8.2.2). */
    public static void writePathResponse(ByteBuf out, long data) {
        out.writeByte(FrameType.PATH_RESPONSE);
        out.writeLong(data);
    }

    /**
     * Appends HELLO: the client's own connection id (8 bytes, the id the server puts in packets to the
     * client), its transport parameters, the Noise pattern and the initiator's first Noise message.
     *
     * <pre>
     * HELLO { Type (0x30), Client Connection ID (64), Transport Parameters (..), Pattern (8),
     *         Noise Message Length (i), Noise Message (..) }
     * </pre>
     */
    public static void writeHello(ByteBuf out, long clientCid, TransportParameters params, int pattern,
                                  byte[] noiseMessage) {
        checkPattern(pattern);
        checkLength(noiseMessage.length, MAX_NOISE_MESSAGE_LENGTH, "Noise message");
        out.writeByte(FrameType.HELLO);
        out.writeLong(clientCid);
        params.write(out);
        out.writeByte(pattern);
        VarInt.write(out, noiseMessage.length);
        out.writeBytes(noiseMessage);
    }

    /**
     * Appends HELLO_REPLY: the server's connection id and transport parameters (both repeated in the
     * Noise message's encrypted payload, which is what the client trusts), the stateless cookie and the
     * responder's Noise message.
     *
     * <pre>
     * HELLO_REPLY { Type (0x31), Server Connection ID (64), Transport Parameters (..),
     *               Cookie Length (i), Cookie (..), Noise Message Length (i), Noise Message (..) }
     * </pre>
     */
    public static void writeHelloReply(ByteBuf out, long serverCid, TransportParameters params, byte[] cookie,
                                       byte[] noiseMessage) {
        checkLength(cookie.length, MAX_COOKIE_LENGTH, "cookie");
        checkLength(noiseMessage.length, MAX_NOISE_MESSAGE_LENGTH, "Noise message");
        out.writeByte(FrameType.HELLO_REPLY);
        out.writeLong(serverCid);
        params.write(out);
        VarInt.write(out, cookie.length);
        out.writeBytes(cookie);
        VarInt.write(out, noiseMessage.length);
        out.writeBytes(noiseMessage);
    }

    static void checkPattern(int pattern) {
        if (pattern != PATTERN_IK && pattern != PATTERN_XX) {
            throw new IllegalArgumentException("unknown handshake pattern " + pattern);
        }
    }

    static void checkLength(int length, int max, String what) {
        if (length > max) {
            throw new IllegalArgumentException(what + " of " + length + " bytes exceeds " + max);
        }
    }
}
