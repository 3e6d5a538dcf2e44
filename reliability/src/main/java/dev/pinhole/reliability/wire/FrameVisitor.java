package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * Receives the frames of one packet from {@link FrameReader#read}, in packet order, after the whole
 * payload was checked to be well-formed (a malformed packet delivers no frame at all).
 *
 * <p>Buffers and {@link AckRanges} passed in are lent for the duration of the call only: copy what
 * must outlive it, never release them.
 */
public interface FrameVisitor {
    /** {@code n} consecutive PADDING bytes. */
    void onPadding(int n);

    void onPing();

    /**
     * An ACK frame.
     *
     * @param largest        the largest acknowledged packet number ({@code ranges.largest()})
     * @param ackDelayMicros the delay the peer reports, in microseconds
     * @param ranges         the acknowledged ranges, descending; reused by the reader for the next ACK
     */
    void onAck(long largest, long ackDelayMicros, AckRanges ranges);

    /**
     * A STREAM frame.
     *
     * @param data the frame's data as the readable bytes of a buffer, possibly the packet buffer itself
     *             with moved indices: read it (advancing its reader index is fine), do not keep or
     *             release it; {@code retain()} a {@code retainedSlice()} to keep the bytes without a copy
     */
    void onStream(long offset, ByteBuf data, boolean fin);

    /** The peer accepts stream data up to (excluding) offset {@code maxData}. */
    void onMaxData(long maxData);

    /** The peer is blocked by flow control at stream offset {@code limit}. */
    void onDataBlocked(long limit);

    /** The peer aborted the stream with application error code {@code errorCode}. */
    void onReset(long errorCode);

    void onConnectionClose(long errorCode, String reason);

    void onPathChallenge(long data);

    void onPathResponse(long data);

    /**
     * @param pattern the Noise pattern of the handshake ({@link Frames#PATTERN_IK} or {@link Frames#PATTERN_XX})
     * @param noiseMessage the initiator's first handshake message, valid during the call
     */
    void onHello(long clientCid, TransportParameters params, int pattern, ByteBuf noiseMessage);

    /**
     * @param cookie the server's opaque cookie (at most {@link Frames#MAX_COOKIE_LENGTH} bytes), valid during the call
     * @param noiseMessage the responder's handshake message, valid during the call
     */
    void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookie, ByteBuf noiseMessage);
}
