package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Property;
import dev.pinhole.testkit.Shrinker;
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

    /**
     * @param length     stream length in bytes
     * @param window     receive window
     * @param chunkSize  storage chunk size (small ones wrap the ring often)
     * @param maxSegment largest segment the sender sends
     * @param seed       stream content and the order of sends, resends, deliveries and reads
     */
    record Scenario(int length, int window, int chunkSize, int maxSegment, long seed) {
    }

    static final Gen<Scenario> SCENARIOS = r -> new Scenario(
            r.nextInt(4) == 0 ? r.nextInt(16) : r.nextInt(20_000),
            1 + r.nextInt(r.nextBoolean() ? 64 : 8192),
            1 + r.nextInt(r.nextBoolean() ? 16 : 4096),
            1 + r.nextInt(1 + r.nextInt(1500)),
            r.nextLong());

    static final Shrinker<Scenario> SHRINKER = Shrinker.byFields(Scenario.class)
            .field(Scenario::length, Shrinker.intsToward(0),
                    (s, v) -> new Scenario(v, s.window(), s.chunkSize(), s.maxSegment(), s.seed()))
            .field(Scenario::window, Shrinker.intsToward(1),
                    (s, v) -> new Scenario(s.length(), v, s.chunkSize(), s.maxSegment(), s.seed()))
            .field(Scenario::chunkSize, Shrinker.intsToward(1),
                    (s, v) -> new Scenario(s.length(), s.window(), v, s.maxSegment(), s.seed()))
            .field(Scenario::maxSegment, Shrinker.intsToward(1),
                    (s, v) -> new Scenario(s.length(), s.window(), s.chunkSize(), v, s.seed()));

    private record Segment(long offset, int length, boolean fin) {
    }

    @Test
    void anySegmentationReorderingAndDuplicationReassemblesTheOriginalBytes() {
        Property.forAll(SCENARIOS).shrinkWith(SHRINKER).check(ReassemblyPropertyTest::reassemble);
    }

    private static void reassemble(Scenario scenario) {
        SplittableRandom random = new SplittableRandom(scenario.seed());
        byte[] data = new byte[scenario.length()];
        random.nextBytes(data);
        int window = scenario.window();
        CountingAllocator allocator = new CountingAllocator();
        ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        List<Segment> network = new ArrayList<>();
        long newBytes = 0;
        try (ReceiveBuffer receiver = new ReceiveBuffer(allocator, window, scenario.chunkSize())) {
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
                                1 + random.nextInt(scenario.maxSegment()));
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
                            int length = (int) Math.min(sent - start, 1 + random.nextInt(scenario.maxSegment()));
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
                                : receiver.read(Unpooled.wrappedBuffer(into).clear());
                        if (n > 0) {
                            delivered.write(into, 0, n);
                        }
                        if (receiver.shouldSendMaxData()) {
                            limit = receiver.maxDataToAdvertise();
                            receiver.onMaxDataSent(limit);
                        }
                        assertTrue(receiver.allocatedBytes() < window + 2L * Math.min(scenario.chunkSize(), window),
                                "storage " + receiver.allocatedBytes() + " beyond the window and two chunks");
                    }
                }
            }
            assertEquals(-1, receiver.read(new byte[1], 0, 1), "end of stream after the last byte");
        }
        assertArrayEquals(data, delivered.toByteArray(), "delivered bytes");
        assertEquals(data.length, newBytes, "every byte counted as new exactly once");
        allocator.assertAllReleased();
    }
}
