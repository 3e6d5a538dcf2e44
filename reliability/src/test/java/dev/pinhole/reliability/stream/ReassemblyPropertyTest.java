package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Whatever the segmentation, reordering, duplication and overlap of a byte stream, a ReceiveBuffer
 * delivers exactly the original bytes, once, in order, within its window.
 */
class ReassemblyPropertyTest {
    private static final int MAX_STEPS = 1_000_000;

    private record Segment(long offset, int length, boolean fin) {
    }

    @Test
    void anySegmentationReorderingAndDuplicationReassemblesTheOriginalBytes() {
        Scenarios.run("reassembly", ReassemblyPropertyTest::scenario);
    }

    private static void scenario(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] data = new byte[random.nextInt(4) == 0 ? random.nextInt(16) : random.nextInt(20_000)];
        random.nextBytes(data);
        int window = 1 + random.nextInt(random.nextBoolean() ? 64 : 8192);
        int chunkSize = 1 + random.nextInt(random.nextBoolean() ? 16 : 4096);
        int maxSegment = 1 + random.nextInt(1 + random.nextInt(1500));
        TrackingAllocator allocator = new TrackingAllocator();
        ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        List<Segment> network = new ArrayList<>();
        long newBytes = 0;
        try (ReceiveBuffer receiver = new ReceiveBuffer(allocator, window, chunkSize)) {
            long limit = window;
            long sent = 0;
            boolean finSent = false;
            int steps = 0;
            while (!receiver.finished()) {
                assertTrue(++steps < MAX_STEPS, "no progress after " + MAX_STEPS + " steps");
                switch (random.nextInt(6)) {
                    case 0, 1 -> {
                        // The sender sends new data within the receiver's limit, sometimes twice.
                        int length = (int) Math.min(Math.min(data.length - sent, limit - sent),
                                1 + random.nextInt(maxSegment));
                        boolean fin = sent + length == data.length;
                        if (length > 0 || (fin && !finSent)) {
                            Segment segment = new Segment(sent, length, fin);
                            network.add(segment);
                            if (random.nextInt(10) == 0) {
                                network.add(segment);
                            }
                            sent += length;
                            finSent |= fin;
                        }
                    }
                    case 2 -> {
                        // A resend of an arbitrary range of what was sent: overlaps and duplicates.
                        if (sent > 0) {
                            long start = random.nextLong(sent);
                            int length = (int) Math.min(sent - start, 1 + random.nextInt(maxSegment));
                            network.add(new Segment(start, length, finSent && start + length == data.length));
                        }
                    }
                    case 3, 4 -> {
                        // The network delivers any segment in flight: reordering.
                        if (!network.isEmpty()) {
                            Segment segment = network.remove(random.nextInt(network.size()));
                            ByteBuf bytes = Unpooled.wrappedBuffer(data, (int) segment.offset, segment.length);
                            int result = receiver.onData(segment.offset, bytes, segment.fin);
                            assertTrue(result >= 0, "segment " + segment + " within the limit was refused: " + result);
                            newBytes += result;
                        }
                    }
                    default -> {
                        // The application reads some bytes, and the receiver updates the limit.
                        byte[] into = new byte[1 + random.nextInt(2 * window)];
                        int n = random.nextBoolean()
                                ? receiver.read(into, 0, into.length)
                                : readThroughByteBuf(receiver, into);
                        if (n > 0) {
                            delivered.write(into, 0, n);
                        }
                        if (receiver.shouldSendMaxData()) {
                            limit = receiver.maxDataToAdvertise();
                            receiver.onMaxDataSent(limit);
                        }
                        assertTrue(receiver.allocatedBytes() < window + 2L * Math.min(chunkSize, window),
                                "storage " + receiver.allocatedBytes() + " beyond window " + window);
                    }
                }
            }
            assertEquals(-1, receiver.read(new byte[1], 0, 1), "end of stream after the last byte");
        }
        assertArrayEquals(data, delivered.toByteArray(), "delivered bytes (window " + window + ", chunk "
                + chunkSize + ", max segment " + maxSegment + ")");
        assertEquals(data.length, newBytes, "every byte counted as new exactly once");
        allocator.assertAllReleased();
    }

    private static int readThroughByteBuf(ReceiveBuffer receiver, byte[] into) {
        ByteBuf dst = Unpooled.wrappedBuffer(into).clear();
        int n = receiver.read(dst);
        return n;
    }
}
