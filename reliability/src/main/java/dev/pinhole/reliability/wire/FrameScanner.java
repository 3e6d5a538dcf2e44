package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * A {@link FrameVisitor} that ignores every frame: extend it to look at a few frames of a packet and skip the
 * rest, as the handshake scans of unprotected packets do. A visitor that must handle every frame implements
 * {@link FrameVisitor} itself, so that a new frame type cannot be ignored by accident.
 */
public abstract class FrameScanner implements FrameVisitor {
    @Override public void onPadding(int n) { }
    @Override public void onPing() { }
    @Override public void onAck(long largest, long ackDelayMicros, AckRanges ranges) { }
    @Override public void onStream(long offset, ByteBuf data, boolean fin) { }
    @Override public void onMaxData(long maxData) { }
    @Override public void onDataBlocked(long limit) { }
    @Override public void onReset(long errorCode) { }
    @Override public void onConnectionClose(long errorCode, String reason) { }
    @Override public void onPathChallenge(long data) { }
    @Override public void onPathResponse(long data) { }
    @Override public void onHello(long clientCid, TransportParameters params, int pattern, ByteBuf noiseMessage) { }
    @Override public void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookie, ByteBuf noise) { }
}
