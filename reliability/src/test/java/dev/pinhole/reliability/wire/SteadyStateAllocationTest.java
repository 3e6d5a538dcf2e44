package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Writing and reading the per-packet frames (PING, ACK, STREAM, MAX_DATA) allocates nothing. */
class SteadyStateAllocationTest {
    /** A few bytes per run of slack would still show a per-packet allocation (at least 16 bytes each). */
    private static final int RUNS = 20_000;
    private static final long SLACK_BYTES = 1024;

    private static final class Sink extends RecordingVisitor {
        long sum;

        @Override
        public void onPing() {
            sum++;
        }

        @Override
        public void onAck(long largest, long ackDelayMicros, AckRanges ranges) {
            sum += largest + ranges.size();
        }

        @Override
        public void onStream(long offset, ByteBuf data, boolean fin) {
            sum += offset + data.readableBytes();
        }

        @Override
        public void onMaxData(long maxData) {
            sum += maxData;
        }

        @Override
        public void onPadding(int n) {
            sum += n;
        }
    }

    @Test
    void writingAndReadingDataPacketsAllocatesNothing() {
        ByteBuf packet = Unpooled.buffer(1200, 1200);
        byte[] data = new byte[1000];
        AckRanges ranges = new AckRanges();
        FrameReader reader = new FrameReader();
        Sink sink = new Sink();
        long[] counter = {0};
        long allocated = AllocationMeter.bytesAllocated(20_000, RUNS, () -> {
            long n = counter[0]++;
            packet.clear();
            ranges.clear();
            ranges.add(n + 100, n + 200);
            ranges.add(n + 10, n + 50);
            Frames.writeAck(packet, ranges, 25_000);
            Frames.writeMaxData(packet, n << 20);
            Frames.writeStreamHeader(packet, n * 1000, data.length, false);
            packet.writeBytes(data);
            Frames.writePing(packet);
            Frames.writePadding(packet, packet.writableBytes());
            int result = reader.read(packet, sink);
            if (result != FrameReader.OK) {
                throw new AssertionError(FrameReader.describe(result));
            }
        });
        assertTrue(sink.sum > 0, "the visitor saw the frames");
        assertTrue(allocated < SLACK_BYTES, "expected no allocation per packet, but " + RUNS
                + " packets allocated " + allocated + " bytes");
        assertEquals(0, sink.frames.size(), "all frames went to the overridden methods");
    }
}
