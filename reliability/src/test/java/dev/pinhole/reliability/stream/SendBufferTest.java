package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.sim.CountingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SendBufferTest {
    private static final int ROOM = 1000;

    private final CountingAllocator allocator = new CountingAllocator();

    @AfterEach
    void everyChunkWasReleased() {
        allocator.assertAllReleased();
    }

    private static byte[] bytes(int n) {
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        return data;
    }

    /**
     * Takes the next chunk with room for {@code dataBytes} plus a 3-byte header (type, and offset and
     * length below 64 as one-byte varints, which all offsets in these tests are) and describes it.
     */
    private static String next(SendBuffer buffer, int dataBytes) {
        if (!buffer.nextChunk(dataBytes + 3)) {
            return "nothing";
        }
        return chunk(buffer);
    }

    private static String chunk(SendBuffer buffer) {
        return buffer.chunkOffset() + "+" + buffer.chunkLength() + (buffer.chunkFin() ? " fin" : "")
                + (buffer.chunkIsRetransmission() ? " again" : "");
    }

    @Test
    void acceptsWritesUpToCapacityAndFreesSpaceAsThePrefixIsAcked() {
        try (SendBuffer buffer = new SendBuffer(allocator, 100, Long.MAX_VALUE >>> 2, 16)) {
            assertEquals(100, buffer.write(bytes(150), 0, 150), "only the capacity is accepted");
            assertEquals(0, buffer.writableBytes());
            assertEquals(0, buffer.write(bytes(1), 0, 1), "full: back-pressure");
            assertEquals("0+40", next(buffer, 40));
            assertEquals("40+60", next(buffer, 100));
            buffer.onAcked(40, 60, false);
            assertEquals(0, buffer.writableBytes(), "a hole at 0..40 keeps everything buffered");
            buffer.onAcked(0, 40, false);
            assertEquals(100, buffer.ackedOffset());
            assertEquals(100, buffer.writableBytes(), "the whole prefix was acked");
            assertEquals(16 + ChunkRing.SPARE_CHUNKS * 16, buffer.allocatedBytes(),
                    "only the chunk 96..112 that reaches past the acked prefix and the spares are held");
        }
    }

    @Test
    void chunksFillTheRoomGivenIncludingTheHeader() {
        try (SendBuffer buffer = new SendBuffer(allocator, 10_000, 1 << 20)) {
            buffer.write(bytes(5000), 0, 5000);
            assertTrue(buffer.nextChunk(1200));
            int header = Frames.streamHeaderLength(buffer.chunkOffset(), buffer.chunkLength());
            assertTrue(header + buffer.chunkLength() <= 1200, "frame fits");
            assertTrue(header + buffer.chunkLength() >= 1199, "frame wastes at most one byte");
            assertFalse(buffer.nextChunk(Frames.streamHeaderLength(1200, 1)), "no room for a data byte");
        }
    }

    @Test
    void resendsLostRangesBeforeNewData() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(100), 0, 100);
            assertEquals("0+30", next(buffer, 30));
            assertEquals("30+30", next(buffer, 30));
            buffer.onLost(0, 30, false);
            assertTrue(buffer.hasDataToSend());
            assertEquals("0+20 again", next(buffer, 20), "lost data first, split to the room");
            assertEquals("20+10 again", next(buffer, 30));
            assertEquals("60+30", next(buffer, 30), "then new data");
            assertEquals(30, buffer.retransmittedBytes());
        }
    }

    @Test
    void resendsOnlyThePartsOfALostRangeNotAckedMeanwhile() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(30), 0, 30);
            next(buffer, 10);
            next(buffer, 10);
            next(buffer, 10);
            buffer.onAcked(10, 10, false);
            buffer.onLost(0, 30, false);
            assertEquals("0+10 again", next(buffer, 100));
            assertEquals("20+10 again", next(buffer, 100));
            assertEquals("nothing", next(buffer, 100));
        }
    }

    @Test
    void aRangeAckedAfterBeingDeclaredLostIsNotResent() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(20), 0, 20);
            next(buffer, 20);
            buffer.onLost(0, 20, false);
            buffer.onAcked(0, 20, false);
            assertFalse(buffer.hasDataToSend(), "the late ack makes the retransmission unnecessary");
            assertEquals("nothing", next(buffer, 100));
            assertEquals(20, buffer.ackedOffset());
        }
    }

    @Test
    void duplicateAndOverlappingAcksAreHarmless() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(50), 0, 50);
            next(buffer, 50);
            buffer.onAcked(10, 20, false);
            buffer.onAcked(10, 20, false);
            buffer.onAcked(0, 15, false);
            assertEquals(30, buffer.ackedOffset());
            buffer.onAcked(0, 50, false);
            buffer.onAcked(0, 50, false);
            assertEquals(50, buffer.ackedOffset());
            assertEquals(1000, buffer.writableBytes());
            buffer.onAcked(40, 500, false);
            assertEquals(50, buffer.ackedOffset(), "an ack beyond what was sent is ignored");
        }
    }

    @Test
    void neverOffersNewDataBeyondThePeersLimit() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 25)) {
            buffer.write(bytes(100), 0, 100);
            assertEquals("0+25", next(buffer, 100));
            assertEquals("nothing", next(buffer, 100));
            assertTrue(buffer.isBlockedByFlowControl(), "data waits at the limit");
            assertFalse(buffer.hasDataToSend());
            buffer.flowControlLimit(10);
            assertEquals(25, buffer.flowControlLimit(), "a smaller MAX_DATA is ignored");
            buffer.onLost(0, 25, false);
            assertEquals("0+25 again", next(buffer, 100), "retransmissions are within the limit already");
            buffer.flowControlLimit(60);
            assertFalse(buffer.isBlockedByFlowControl());
            assertEquals("25+35", next(buffer, 100));
            assertTrue(buffer.isBlockedByFlowControl());
        }
    }

    @Test
    void finRidesOnTheLastChunk() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(20), 0, 20);
            buffer.finish();
            assertThrows(IllegalStateException.class, () -> buffer.write(bytes(1), 0, 1));
            assertEquals("0+10", next(buffer, 10));
            assertEquals("10+10 fin", next(buffer, 10));
            assertEquals("nothing", next(buffer, 10));
            buffer.onAcked(0, 10, false);
            assertFalse(buffer.isAllAcked());
            buffer.onAcked(10, 10, true);
            assertTrue(buffer.isAllAcked());
        }
    }

    @Test
    void aFinAfterEverythingWasSentGoesAloneAndIsResentWhenLost() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(20), 0, 20);
            assertEquals("0+20", next(buffer, 100));
            buffer.finish();
            assertTrue(buffer.hasDataToSend());
            assertEquals("20+0 fin", next(buffer, 100));
            assertFalse(buffer.hasDataToSend());
            buffer.onAcked(0, 20, false);
            buffer.onLost(20, 0, true);
            assertEquals("20+0 fin again", next(buffer, 100));
            buffer.onAcked(20, 0, true);
            assertTrue(buffer.isAllAcked());
            assertFalse(buffer.hasDataToSend());
        }
    }

    @Test
    void aLostFinalChunkIsResentWithItsFin() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 1000)) {
            buffer.write(bytes(20), 0, 20);
            buffer.finish();
            assertEquals("0+20 fin", next(buffer, 100));
            buffer.onLost(0, 20, true);
            assertEquals("0+20 fin again", next(buffer, 100));
        }
    }

    @Test
    void aFinOnAnEmptyStreamIsAllowedAtALimitOfZero() {
        try (SendBuffer buffer = new SendBuffer(allocator, 1000, 0)) {
            buffer.finish();
            assertEquals("0+0 fin", next(buffer, 0));
        }
    }

    @Test
    void copiesExactlyTheRequestedBytesAcrossChunkBoundaries() {
        byte[] data = bytes(100);
        try (SendBuffer buffer = new SendBuffer(allocator, 50, 1000, 7)) {
            int written = 0;
            int ackedUpTo = 0;
            while (written < data.length) {
                written += buffer.write(data, written, data.length - written);
                while (buffer.nextChunk(13 + 3)) {
                    ByteBuf out = Unpooled.buffer();
                    buffer.copyTo(out, buffer.chunkOffset(), buffer.chunkLength());
                    byte[] expected = new byte[buffer.chunkLength()];
                    System.arraycopy(data, (int) buffer.chunkOffset(), expected, 0, expected.length);
                    assertArrayEquals(expected, ByteBufUtilBytes.of(out), "chunk at " + buffer.chunkOffset());
                }
                buffer.onAcked(ackedUpTo, (int) buffer.sentOffset() - ackedUpTo, false);
                ackedUpTo = (int) buffer.sentOffset();
            }
            assertThrows(IllegalArgumentException.class, () -> buffer.copyTo(Unpooled.buffer(), 0, 1),
                    "acked bytes are gone");
        }
        assertTrue(allocator.allocatedBuffers() > 10, "chunks were taken and given back as the stream moved");
    }

    @Test
    void closeReleasesEverythingAndStopsSending() {
        SendBuffer buffer = new SendBuffer(allocator, 1000, 1000, 64);
        buffer.write(bytes(500), 0, 500);
        assertTrue(allocator.liveBuffers() > 0);
        buffer.close();
        buffer.close();
        assertEquals(0, allocator.liveBuffers(), "close released every chunk");
        assertFalse(buffer.nextChunk(100));
        assertThrows(IllegalStateException.class, () -> buffer.write(bytes(1), 0, 1));
    }

    @Test
    void writeFromAByteBufAdvancesItsReaderIndexByTheAcceptedBytes() {
        try (SendBuffer buffer = new SendBuffer(allocator, 10, 1000)) {
            ByteBuf src = Unpooled.wrappedBuffer(bytes(25));
            assertEquals(10, buffer.write(src));
            assertEquals(10, src.readerIndex());
            assertEquals(0, buffer.write(src, src.readerIndex(), 5), "full");
        }
    }

    /** Reads the readable bytes of a buffer into an array. */
    static final class ByteBufUtilBytes {
        static byte[] of(ByteBuf buf) {
            byte[] out = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), out);
            return out;
        }
    }
}
