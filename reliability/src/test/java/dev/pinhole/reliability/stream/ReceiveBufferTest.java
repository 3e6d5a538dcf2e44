package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.CountingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReceiveBufferTest {
    private final CountingAllocator allocator = new CountingAllocator();

    @AfterEach
    void everyChunkWasReleased() {
        allocator.assertAllReleased();
    }

    private static ByteBuf text(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static String readAll(ReceiveBuffer buffer) {
        byte[] out = new byte[1000];
        int n = buffer.read(out, 0, out.length);
        return n <= 0 ? "<" + n + ">" : new String(out, 0, n, StandardCharsets.US_ASCII);
    }

    @Test
    void deliversInOrderDataAsItArrives() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            assertEquals(5, buffer.onData(0, text("hello"), false));
            assertEquals(5, buffer.available());
            assertEquals("hello", readAll(buffer));
            assertEquals("<0>", readAll(buffer), "nothing more yet");
            assertEquals(6, buffer.onData(5, text(" world"), false));
            assertEquals(" world", readAll(buffer));
        }
    }

    @Test
    void holdsOutOfOrderDataUntilTheGapIsFilled() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            assertEquals(3, buffer.onData(6, text("ghi"), false));
            assertEquals(3, buffer.onData(3, text("def"), false));
            assertEquals(0, buffer.available(), "bytes 0..3 are missing");
            assertEquals("<0>", readAll(buffer));
            assertEquals(3, buffer.onData(0, text("abc"), false));
            assertEquals("abcdefghi", readAll(buffer));
        }
    }

    @Test
    void storesOnlyTheNewPartsOfOverlapsAndCountsDuplicates() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            buffer.onData(2, text("cd"), false);
            buffer.onData(6, text("gh"), false);
            assertEquals(6, buffer.onData(0, text("abXXefYYij"), false), "only a, b, e, f, i, j are new");
            assertEquals("abcdefghij", readAll(buffer), "earlier bytes are kept, the overlap is dropped");
            assertEquals(0, buffer.onData(3, text("def"), false), "already read");
            assertEquals(7, buffer.duplicateBytes(), "4 overlapping plus 3 already read");
            assertEquals(1, buffer.duplicateSegments(), "one segment carried nothing new");
        }
    }

    @Test
    void rejectsDataBeyondTheAdvertisedLimitAndStoresNothing() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 10, 4)) {
            assertEquals(ReceiveBuffer.FLOW_CONTROL_VIOLATION, buffer.onData(5, text("abcdef"), false),
                    "bytes 5..11 end beyond MAX_DATA 10");
            assertEquals(ReceiveBuffer.FLOW_CONTROL_VIOLATION, buffer.onData(10, text("x"), false));
            assertEquals(10, buffer.onData(0, text("0123456789"), false), "exactly up to the limit is fine");
            assertEquals(0, buffer.duplicateBytes(), "rejected data is not counted as duplicate");
        }
    }

    @Test
    void advertisesMoreCreditAfterHalfAWindowWasRead() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 10, 4)) {
            assertEquals(10, buffer.advertisedMaxData());
            buffer.onData(0, text("0123456789"), false);
            assertFalse(buffer.shouldSendMaxData(), "nothing read yet");
            byte[] four = new byte[4];
            buffer.read(four, 0, 4);
            assertFalse(buffer.shouldSendMaxData(), "4 of 10 read: less than half a window");
            buffer.read(four, 0, 1);
            assertTrue(buffer.shouldSendMaxData(), "5 read: half a window");
            assertEquals(15, buffer.maxDataToAdvertise());
            buffer.onMaxDataSent(buffer.maxDataToAdvertise());
            assertFalse(buffer.shouldSendMaxData());
            assertEquals(15, buffer.advertisedMaxData());
            assertEquals(5, buffer.onData(10, text("abcde"), false), "the new credit is usable");
            assertEquals(ReceiveBuffer.FLOW_CONTROL_VIOLATION, buffer.onData(15, text("f"), false));
        }
    }

    @Test
    void finishesOnceEveryByteUpToTheFinWasRead() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            buffer.onData(3, text("def"), true);
            assertTrue(buffer.finReceived());
            assertFalse(buffer.finished(), "bytes 0..3 are missing");
            assertFalse(buffer.shouldSendMaxData(), "no more credit needed once the end is known");
            buffer.onData(0, text("abc"), false);
            assertEquals("abcdef", readAll(buffer));
            assertTrue(buffer.finished());
            assertEquals("<-1>", readAll(buffer), "end of stream");
            assertEquals(-1, buffer.read(Unpooled.buffer(10)), "end of stream through a ByteBuf too");
        }
    }

    @Test
    void anEmptyFinEndsAnEmptyStream() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            assertEquals(0, buffer.onData(0, Unpooled.EMPTY_BUFFER, true));
            assertTrue(buffer.finished());
            assertEquals(0, buffer.finalSize());
        }
    }

    @Test
    void rejectsDataThatContradictsTheFinalSize() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            buffer.onData(0, text("abcdef"), false);
            assertEquals(ReceiveBuffer.FINAL_SIZE_VIOLATION, buffer.onData(0, text("abc"), true),
                    "a FIN at 3 when 6 bytes were received");
            assertEquals(3, buffer.onData(6, text("ghi"), true));
            assertEquals(ReceiveBuffer.FINAL_SIZE_VIOLATION, buffer.onData(9, text("j"), false),
                    "data beyond the final size 9");
            assertEquals(ReceiveBuffer.FINAL_SIZE_VIOLATION, buffer.onData(0, text("abcdefgh"), true),
                    "a second FIN with another final size");
            assertEquals(0, buffer.onData(6, text("ghi"), true), "the same FIN again is a duplicate");
            assertEquals("abcdefghi", readAll(buffer));
        }
    }

    @Test
    void readsIntoAByteBufUpToItsRoom() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            buffer.onData(0, text("abcdefghijklmnop"), false);
            ByteBuf small = Unpooled.buffer(5, 5);
            assertEquals(5, buffer.read(small));
            assertEquals(0, buffer.read(small), "destination full");
            assertEquals("abcde", small.toString(StandardCharsets.US_ASCII));
            assertEquals(5, buffer.readOffset());
        }
    }

    @Test
    void leavesTheIndicesOfTheIncomingDataAlone() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8)) {
            ByteBuf data = Unpooled.buffer();
            data.writeBytes("xxabc".getBytes(StandardCharsets.US_ASCII));
            data.readerIndex(2);
            buffer.onData(0, data, false);
            assertEquals(2, data.readerIndex());
            assertEquals(5, data.writerIndex());
            assertEquals("abc", readAll(buffer), "only the readable bytes are stream data");
        }
    }

    @Test
    void memoryStaysBelowTheWindowPlusTwoChunks() {
        try (ReceiveBuffer buffer = new ReceiveBuffer(allocator, 64, 16)) {
            byte[] chunk = new byte[32];
            for (int i = 0; i < 100; i++) {
                assertEquals(32, buffer.onData(i * 32L, Unpooled.wrappedBuffer(chunk), false));
                assertTrue(buffer.allocatedBytes() < 64 + 2 * 16, "held " + buffer.allocatedBytes() + " bytes");
                assertEquals(32, buffer.read(new byte[32], 0, 32));
                buffer.onMaxDataSent(buffer.maxDataToAdvertise());
            }
            assertTrue(allocator.liveBuffers() <= 5, "live chunks " + allocator.liveBuffers());
        }
    }

    @Test
    void closeReleasesStorageAndIgnoresLaterData() {
        ReceiveBuffer buffer = new ReceiveBuffer(allocator, 100, 8);
        buffer.onData(10, text("later"), false);
        buffer.close();
        assertEquals(0, allocator.liveBuffers());
        assertEquals(0, buffer.onData(0, text("abc"), false));
    }
}
