package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Parses the payload of a packet into frames and hands them to a {@link FrameVisitor}.
 *
 * <p>The payload is checked completely before the first frame is delivered: a packet with an unknown
 * frame type, a truncated field or an impossible value is malformed as a whole (to be counted and
 * dropped by the caller) and the visitor sees none of it. The result is {@link #OK} or one of the
 * negative {@code ERR_} codes; nothing throws on any input.
 *
 * <p>One instance per connection or endpoint, used on its event loop only. It reuses one
 * {@link AckRanges} and lends STREAM data and cookies as the payload buffer itself with moved
 * indices, so reading PADDING, PING, ACK, STREAM, MAX_DATA, DATA_BLOCKED, RESET and PATH frames
 * allocates nothing. CONNECTION_CLOSE allocates its reason string, handshake frames their
 * {@link TransportParameters}.
 */
public final class FrameReader {
    /** The payload was well-formed and every frame was delivered. */
    public static final int OK = 0;
    /** The payload holds no frame at all (RFC 9000 §12.4: a packet must contain at least one). */
    public static final int ERR_EMPTY = -1;
    /** A frame type this version does not know. */
    public static final int ERR_UNKNOWN_FRAME_TYPE = -2;
    /** The payload ends inside a frame. */
    public static final int ERR_TRUNCATED = -3;
    /** An ACK frame's ranges extend below packet number 0. */
    public static final int ERR_ACK_RANGE_BELOW_ZERO = -4;
    /** An ACK frame has more ranges than the reader accepts. */
    public static final int ERR_TOO_MANY_ACK_RANGES = -5;
    /** A STREAM frame's offset + length exceeds 2^62 - 1 (RFC 9000 §19.8). */
    public static final int ERR_STREAM_OFFSET_TOO_LARGE = -6;
    /** A CONNECTION_CLOSE reason is longer than {@link Frames#MAX_REASON_LENGTH}. */
    public static final int ERR_REASON_TOO_LONG = -7;
    /** A transport parameter block is truncated, repeats a parameter or has a value out of range. */
    public static final int ERR_BAD_TRANSPORT_PARAMETERS = -8;
    /** A handshake frame with an unknown pattern or an over-long cookie or Noise message. */
    public static final int ERR_BAD_HANDSHAKE = -9;

    private final AckRanges ackRanges;
    private boolean ackEliciting;
    private int errorFrameType = -1;

    /** A reader accepting ACK frames of up to {@link AckRanges#DEFAULT_CAPACITY} ranges. */
    public FrameReader() {
        this(AckRanges.DEFAULT_CAPACITY);
    }

    public FrameReader(int maxAckRanges) {
        ackRanges = new AckRanges(maxAckRanges);
    }

    /**
     * Reads all frames in the readable bytes of {@code payload}. The payload's reader and writer
     * indices are the same on return as on entry.
     *
     * @return {@link #OK}, or a negative {@code ERR_} code if the payload is malformed (then no frame
     *     was delivered)
     */
    public int read(ByteBuf payload, FrameVisitor visitor) {
        final int readerIndex = payload.readerIndex();
        final int writerIndex = payload.writerIndex();
        try {
            final int checked = parse(payload, null);
            if (checked != OK) {
                return checked;
            }
            payload.readerIndex(readerIndex);
            return parse(payload, visitor);
        } finally {
            payload.setIndex(readerIndex, writerIndex);
        }
    }

    /** True if the last payload read successfully had a frame other than ACK, PADDING, CONNECTION_CLOSE. */
    public boolean ackEliciting() {
        return ackEliciting;
    }

    /** The type byte of the frame at which the last read failed, or -1 if it failed before any type. */
    public int errorFrameType() {
        return errorFrameType;
    }

    /** A readable name of a result code, for logs and counters. */
    public static String describe(int result) {
        return switch (result) {
            case OK -> "ok";
            case ERR_EMPTY -> "empty payload";
            case ERR_UNKNOWN_FRAME_TYPE -> "unknown frame type";
            case ERR_TRUNCATED -> "truncated frame";
            case ERR_ACK_RANGE_BELOW_ZERO -> "ACK range below packet number 0";
            case ERR_TOO_MANY_ACK_RANGES -> "too many ACK ranges";
            case ERR_STREAM_OFFSET_TOO_LARGE -> "STREAM offset + length beyond 2^62 - 1";
            case ERR_REASON_TOO_LONG -> "CONNECTION_CLOSE reason too long";
            case ERR_BAD_TRANSPORT_PARAMETERS -> "malformed transport parameters";
            default -> "unknown result " + result;
        };
    }

    /** Checks (visitor == null) or delivers (visitor != null) the frames from the reader index on. */
    private int parse(ByteBuf in, FrameVisitor visitor) {
        final int end = in.writerIndex();
        errorFrameType = -1;
        if (in.readerIndex() >= end) {
            return ERR_EMPTY;
        }
        boolean eliciting = false;
        while (in.readerIndex() < end) {
            final int type = in.readUnsignedByte();
            final int result = frame(type, in, end, visitor);
            if (result != OK) {
                errorFrameType = type;
                return result;
            }
            eliciting |= FrameType.isAckEliciting(type);
        }
        ackEliciting = eliciting;
        return OK;
    }

    private int frame(int type, ByteBuf in, int end, FrameVisitor visitor) {
        if (FrameType.isStream(type)) {
            return stream(type, in, end, visitor);
        }
        switch (type) {
            case FrameType.PADDING -> {
                int n = 1;
                while (in.readerIndex() < end && in.getByte(in.readerIndex()) == FrameType.PADDING) {
                    in.skipBytes(1);
                    n++;
                }
                if (visitor != null) {
                    visitor.onPadding(n);
                }
                return OK;
            }
            case FrameType.PING -> {
                if (visitor != null) {
                    visitor.onPing();
                }
                return OK;
            }
            case FrameType.ACK -> {
                return ack(in, visitor);
            }
            case FrameType.MAX_DATA, FrameType.DATA_BLOCKED, FrameType.RESET -> {
                final long value = VarInt.read(in);
                if (value < 0) {
                    return ERR_TRUNCATED;
                }
                if (visitor != null) {
                    if (type == FrameType.MAX_DATA) {
                        visitor.onMaxData(value);
                    } else if (type == FrameType.DATA_BLOCKED) {
                        visitor.onDataBlocked(value);
                    } else {
                        visitor.onReset(value);
                    }
                }
                return OK;
            }
            case FrameType.PATH_CHALLENGE, FrameType.PATH_RESPONSE -> {
                if (end - in.readerIndex() < Frames.PATH_DATA_LENGTH) {
                    return ERR_TRUNCATED;
                }
                final long data = in.readLong();
                if (visitor != null) {
                    if (type == FrameType.PATH_CHALLENGE) {
                        visitor.onPathChallenge(data);
                    } else {
                        visitor.onPathResponse(data);
                    }
                }
                return OK;
            }
            case FrameType.CONNECTION_CLOSE -> {
                return connectionClose(in, end, visitor);
            }
            case FrameType.HELLO, FrameType.HELLO_REPLY -> {
                return handshake(type, in, end, visitor);
            }
            default -> {
                return ERR_UNKNOWN_FRAME_TYPE;
            }
        }
    }

    private int ack(ByteBuf in, FrameVisitor visitor) {
        final long largest = VarInt.read(in);
        final long ackDelayMicros = VarInt.read(in);
        final long extraRanges = VarInt.read(in);
        final long firstRange = VarInt.read(in);
        if (firstRange < 0 || extraRanges < 0 || ackDelayMicros < 0 || largest < 0) {
            return ERR_TRUNCATED;
        }
        if (extraRanges >= ackRanges.capacity()) {
            return ERR_TOO_MANY_ACK_RANGES;
        }
        if (firstRange > largest) {
            return ERR_ACK_RANGE_BELOW_ZERO;
        }
        ackRanges.clear();
        long low = largest - firstRange;
        ackRanges.add(low, largest);
        for (long i = 0; i < extraRanges; i++) {
            final long gap = VarInt.read(in);
            final long length = VarInt.read(in);
            if (gap < 0 || length < 0) {
                return ERR_TRUNCATED;
            }
            // RFC 9000 §19.3.1: largest = previous smallest - gap - 2; smallest = largest - length.
            final long high = low - gap - 2;
            if (high < 0 || length > high) {
                return ERR_ACK_RANGE_BELOW_ZERO;
            }
            low = high - length;
            ackRanges.add(low, high);
        }
        if (visitor != null) {
            visitor.onAck(largest, ackDelayMicros, ackRanges);
        }
        return OK;
    }

    private int stream(int type, ByteBuf in, int end, FrameVisitor visitor) {
        final long offset = VarInt.read(in);
        if (offset < 0) {
            return ERR_TRUNCATED;
        }
        final long length;
        if ((type & FrameType.STREAM_LENGTH_BIT) != 0) {
            length = VarInt.read(in);
            if (length < 0 || length > end - in.readerIndex()) {
                return ERR_TRUNCATED;
            }
        } else {
            length = end - in.readerIndex();
        }
        if (offset > Frames.MAX_STREAM_OFFSET - length) {
            return ERR_STREAM_OFFSET_TOO_LARGE;
        }
        final int dataStart = in.readerIndex();
        final int dataEnd = dataStart + (int) length;
        if (visitor != null) {
            in.setIndex(dataStart, dataEnd);
            try {
                visitor.onStream(offset, in, (type & FrameType.STREAM_FIN_BIT) != 0);
            } finally {
                in.setIndex(dataEnd, end);
            }
        } else {
            in.readerIndex(dataEnd);
        }
        return OK;
    }

    private int connectionClose(ByteBuf in, int end, FrameVisitor visitor) {
        final long errorCode = VarInt.read(in);
        final long reasonLength = VarInt.read(in);
        if (errorCode < 0 || reasonLength < 0) {
            return ERR_TRUNCATED;
        }
        if (reasonLength > Frames.MAX_REASON_LENGTH) {
            return ERR_REASON_TOO_LONG;
        }
        if (reasonLength > end - in.readerIndex()) {
            return ERR_TRUNCATED;
        }
        if (visitor != null) {
            // Malformed UTF-8 becomes U+FFFD: the reason is for humans, never interpreted.
            final String reason = in.toString(in.readerIndex(), (int) reasonLength, StandardCharsets.UTF_8);
            in.skipBytes((int) reasonLength);
            visitor.onConnectionClose(errorCode, reason);
        } else {
            in.skipBytes((int) reasonLength);
        }
        return OK;
    }

    private int handshake(int type, ByteBuf in, int end, FrameVisitor visitor) {
        if (end - in.readerIndex() < Frames.CID_LENGTH) {
            return ERR_TRUNCATED;
        }
        final long cid = in.readLong();
        final int paramsStart = in.readerIndex();
        final TransportParameters params = TransportParameters.read(in);
        if (params == null) {
            // A block that runs past the payload is truncation; anything else a bad parameter.
            in.readerIndex(paramsStart);
            final long blockLength = VarInt.read(in);
            return blockLength < 0 || blockLength > end - in.readerIndex()
                    ? ERR_TRUNCATED : ERR_BAD_TRANSPORT_PARAMETERS;
        }
        if (type == FrameType.HELLO) {
            if (in.readerIndex() >= end) {
                return ERR_TRUNCATED;
            }
            final int pattern = in.readUnsignedByte();
            if (pattern != Frames.PATTERN_IK && pattern != Frames.PATTERN_XX) {
                return ERR_BAD_HANDSHAKE;
            }
            final int messageStart = lengthPrefixed(in, end, Frames.MAX_NOISE_MESSAGE_LENGTH);
            if (messageStart < 0) {
                return messageStart;
            }
            if (visitor != null) {
                visitor.onHello(cid, params, pattern, in.slice(messageStart, in.readerIndex() - messageStart));
            }
            return OK;
        }
        final int cookieStart = lengthPrefixed(in, end, Frames.MAX_COOKIE_LENGTH);
        if (cookieStart < 0) {
            return cookieStart;
        }
        final int cookieEnd = in.readerIndex();
        final int messageStart = lengthPrefixed(in, end, Frames.MAX_NOISE_MESSAGE_LENGTH);
        if (messageStart < 0) {
            return messageStart;
        }
        if (visitor != null) {
            visitor.onHelloReply(cid, params, in.slice(cookieStart, cookieEnd - cookieStart),
                    in.slice(messageStart, in.readerIndex() - messageStart));
        }
        return OK;
    }

    /**
     * Reads a varint length and skips that many bytes, which must lie before {@code end} and number at most
     * {@code max}; returns where they start, or a negative error.
     */
    static int lengthPrefixed(ByteBuf in, int end, int max) {
        final long length = VarInt.read(in);
        if (length < 0 || length > end - in.readerIndex()) {
            return ERR_TRUNCATED;
        }
        if (length > max) {
            return ERR_BAD_HANDSHAKE;
        }
        final int start = in.readerIndex();
        in.readerIndex(start + (int) length);
        return start;
    }
}
