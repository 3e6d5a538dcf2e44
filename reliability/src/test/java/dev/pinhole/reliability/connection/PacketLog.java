package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.wire.AckRanges;
import dev.pinhole.reliability.wire.FrameReader;
import dev.pinhole.reliability.wire.FrameVisitor;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/** A debugging aid for simulation tests: one line per packet with its decoded frames. */
final class PacketLog {
    private final List<String> lines = new ArrayList<>();
    private final FrameReader reader = new FrameReader();
    private final PacketHeader header = new PacketHeader();
    private final int limit;

    PacketLog(int limit) {
        this.limit = limit;
    }

    void record(long nowNs, String direction, ByteBuf datagram) {
        StringBuilder line = new StringBuilder();
        line.append(String.format("%10.3f ms %s %4dB ", nowNs / 1e6, direction, datagram.readableBytes()));
        if (!PacketHeader.isValid(datagram)) {
            line.append("invalid");
        } else {
            header.wrap(datagram, datagram.readerIndex());
            line.append("type=").append(header.type()).append(' ');
            if (header.type() == PacketHeader.TYPE_SHORT || header.type() == PacketHeader.TYPE_CONFIRM) {
                // Protected: the packet number is masked and the frames encrypted.
                lines.add(line.append("protected").toString());
                return;
            }
            ByteBuf payload = datagram.slice(datagram.readerIndex() + PacketHeader.HEADER_LENGTH,
                    datagram.readableBytes() - PacketHeader.HEADER_LENGTH);
            int result = reader.read(payload, new Describer(line));
            if (result != FrameReader.OK) {
                line.append(" MALFORMED ").append(FrameReader.describe(result));
            }
        }
        lines.add(line.toString());
        if (lines.size() > limit) {
            lines.remove(0);
        }
    }

    void print() {
        lines.forEach(System.out::println);
    }

    private static final class Describer implements FrameVisitor {
        private final StringBuilder out;

        Describer(StringBuilder out) {
            this.out = out;
        }

        @Override public void onPadding(int n) { out.append("PAD(").append(n).append(") "); }
        @Override public void onPing() { out.append("PING "); }
        @Override public void onAck(long largest, long ackDelayMicros, AckRanges ranges) {
            out.append("ACK").append(ranges).append(" delay=").append(ackDelayMicros).append("us ");
        }
        @Override public void onStream(long offset, ByteBuf data, boolean fin) {
            out.append("STREAM[").append(offset).append('+').append(data.readableBytes()).append(fin ? " FIN" : "")
                    .append("] ");
        }
        @Override public void onMaxData(long maxData) { out.append("MAX_DATA(").append(maxData).append(") "); }
        @Override public void onDataBlocked(long limit) { out.append("DATA_BLOCKED(").append(limit).append(") "); }
        @Override public void onReset(long errorCode) { out.append("RESET(").append(errorCode).append(") "); }
        @Override public void onConnectionClose(long errorCode, String reason) {
            out.append("CLOSE(").append(errorCode).append(", ").append(reason).append(") ");
        }
        @Override public void onPathChallenge(long data) { out.append("PATH_CHALLENGE "); }
        @Override public void onPathResponse(long data) { out.append("PATH_RESPONSE "); }
        @Override public void onHello(long clientCid, TransportParameters params, int pattern, ByteBuf noise) {
            out.append("HELLO ");
        }
        @Override public void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookie, ByteBuf noise) {
            out.append("HELLO_REPLY ");
        }
    }
}
