package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.ArrayList;
import java.util.List;

/** Records every frame as a readable line, copying lent buffers, so tests can compare whole packets. */
class RecordingVisitor implements FrameVisitor {
    final List<String> frames = new ArrayList<>();

    @Override
    public void onPadding(int n) {
        frames.add("PADDING " + n);
    }

    @Override
    public void onPing() {
        frames.add("PING");
    }

    @Override
    public void onAck(long largest, long ackDelayMicros, AckRanges ranges) {
        frames.add("ACK largest=" + largest + " delay=" + ackDelayMicros + " " + ranges);
    }

    @Override
    public void onStream(long offset, ByteBuf data, boolean fin) {
        frames.add("STREAM offset=" + offset + " data=" + ByteBufUtil.hexDump(data) + " fin=" + fin);
    }

    @Override
    public void onMaxData(long maxData) {
        frames.add("MAX_DATA " + maxData);
    }

    @Override
    public void onDataBlocked(long limit) {
        frames.add("DATA_BLOCKED " + limit);
    }

    @Override
    public void onReset(long errorCode) {
        frames.add("RESET " + errorCode);
    }

    @Override
    public void onConnectionClose(long errorCode, String reason) {
        frames.add("CONNECTION_CLOSE " + errorCode + " '" + reason + "'");
    }

    @Override
    public void onPathChallenge(long data) {
        frames.add("PATH_CHALLENGE " + Long.toHexString(data));
    }

    @Override
    public void onPathResponse(long data) {
        frames.add("PATH_RESPONSE " + Long.toHexString(data));
    }

    @Override
    public void onHello(long clientCid, TransportParameters params, int pattern, ByteBuf noiseMessage) {
        frames.add("HELLO " + Long.toHexString(clientCid) + " " + params + " pattern=" + pattern + " noise="
                + ByteBufUtil.hexDump(noiseMessage));
    }

    @Override
    public void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookie, ByteBuf noiseMessage) {
        frames.add("HELLO_REPLY " + Long.toHexString(serverCid) + " " + params + " cookie="
                + ByteBufUtil.hexDump(cookie) + " noise=" + ByteBufUtil.hexDump(noiseMessage));
    }
}
