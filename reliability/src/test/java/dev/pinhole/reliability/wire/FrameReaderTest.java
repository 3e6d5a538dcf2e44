package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
    private static final byte[] COOKIE = ByteBufUtil.decodeHexDump("00112233445566778899aabbccddeeff");
    private static final byte[] NOISE = ByteBufUtil.decodeHexDump("a0a1a2");
    private static final TransportParameters PARAMS = new TransportParameters(1400, 2_000_000, 30_000, 25);

    private final FrameReader reader = new FrameReader();
    private final RecordingVisitor visitor = new RecordingVisitor();

    private static ByteBuf packet(Consumer<ByteBuf> writer) {
        ByteBuf out = Unpooled.buffer();
        writer.accept(out);
        return out;
    }

    private static AckRanges ranges(long... lowHighPairs) {
        AckRanges ranges = new AckRanges();
        for (int i = 0; i < lowHighPairs.length; i += 2) {
            ranges.add(lowHighPairs[i], lowHighPairs[i + 1]);
        }
        return ranges;
    }

    private void assertReads(ByteBuf payload, String... expected) {
        int result = reader.read(payload, visitor);
        assertEquals(FrameReader.OK, result, "result: " + FrameReader.describe(result));
        assertEquals(List.of(expected), visitor.frames);
    }

    private void assertMalformed(ByteBuf payload, int expectedError) {
        int readerIndex = payload.readerIndex();
        int writerIndex = payload.writerIndex();
        int result = reader.read(payload, visitor);
        assertEquals(FrameReader.describe(expectedError), FrameReader.describe(result),
                "payload " + ByteBufUtil.hexDump(payload));
        assertEquals(List.of(), visitor.frames, "a malformed packet delivers no frame");
        assertEquals(readerIndex, payload.readerIndex(), "reader index restored");
        assertEquals(writerIndex, payload.writerIndex(), "writer index restored");
    }

    @Test
    void readsEveryFrameTypeBackAsWritten() {
        ByteBuf payload = packet(out -> {
            Frames.writePing(out);
            Frames.writeAck(out, ranges(90, 100, 50, 80, 0, 10), 1234);
            Frames.writeStreamHeader(out, 70_000, 3, false);
            out.writeBytes(new byte[] {1, 2, 3});
            Frames.writeStreamHeader(out, 70_003, 0, true);
            Frames.writeMaxData(out, 1L << 40);
            Frames.writeDataBlocked(out, 65_536);
            Frames.writeReset(out, 7);
            Frames.writePathChallenge(out, 0xCAFEBABE_12345678L);
            Frames.writePathResponse(out, 0x0123456789ABCDEFL);
            Frames.writeHello(out, 0xC11E47L, PARAMS, Frames.PATTERN_IK, NOISE);
            Frames.writeHelloReply(out, 0x5E4BE4L, PARAMS, COOKIE, NOISE);
            Frames.writeConnectionClose(out, 3, "bye: ünïcode");
            Frames.writePadding(out, 5);
        });
        assertReads(payload,
                "PING",
                "ACK largest=100 delay=1234 AckRanges[90..100, 50..80, 0..10]",
                "STREAM offset=70000 data=010203 fin=false",
                "STREAM offset=70003 data= fin=true",
                "MAX_DATA " + (1L << 40),
                "DATA_BLOCKED 65536",
                "RESET 7",
                "PATH_CHALLENGE cafebabe12345678",
                "PATH_RESPONSE 123456789abcdef",
                "HELLO c11e47 " + PARAMS + " pattern=1 noise=a0a1a2",
                "HELLO_REPLY 5e4be4 " + PARAMS + " cookie=00112233445566778899aabbccddeeff noise=a0a1a2",
                "CONNECTION_CLOSE 3 'bye: ünïcode'",
                "PADDING 5");
        assertTrue(reader.ackEliciting(), "PING makes the packet ack-eliciting");
    }

    @Test
    void encodesAckGapsAndLengthsAsRfc9000Section19_3_1() {
        ByteBuf payload = packet(out -> Frames.writeAck(out, ranges(90, 100, 50, 80, 0, 10), 0));
        // type 02, largest 100 (0x4064), delay 0, 2 more ranges, first range 10,
        // gap 90-80-2 = 8, length 30, gap 50-10-2 = 38, length 10.
        assertEquals("02" + "4064" + "00" + "02" + "0a" + "08" + "1e" + "26" + "0a", ByteBufUtil.hexDump(payload));
        assertEquals(payload.readableBytes(), Frames.ackLength(ranges(90, 100, 50, 80, 0, 10), 3, 0));
    }

    @Test
    void writesOnlyTheRangesThatFit() {
        AckRanges ranges = ranges(90, 100, 50, 80, 0, 10);
        int twoRanges = Frames.ackLength(ranges, 2, 0);
        assertEquals(2, Frames.ackRangesThatFit(ranges, 0, twoRanges));
        assertEquals(0, Frames.ackRangesThatFit(ranges, 0, 3));
        assertReads(packet(out -> Frames.writeAck(out, ranges, 2, 0)),
                "ACK largest=100 delay=0 AckRanges[90..100, 50..80]");
    }

    @Test
    void streamHeaderLengthMatchesWhatIsWritten() {
        long[] offsets = {0, 63, 64, 16_383, 16_384, 1L << 30, Frames.MAX_STREAM_OFFSET - 16_384};
        int[] lengths = {0, 1, 63, 64, 1200, 16_384};
        for (long offset : offsets) {
            for (int length : lengths) {
                ByteBuf out = Unpooled.buffer();
                Frames.writeStreamHeader(out, offset, length, true);
                assertEquals(out.readableBytes(), Frames.streamHeaderLength(offset, length),
                        "header of offset " + offset + " length " + length);
                assertTrue(out.readableBytes() <= Frames.MAX_STREAM_HEADER_LENGTH);
            }
        }
    }

    @Test
    void streamDataIsLentAsExactlyTheFrameBytesAndIndicesAreRestored() {
        ByteBuf payload = packet(out -> {
            Frames.writeStreamHeader(out, 5, 4, false);
            out.writeBytes(new byte[] {9, 8, 7, 6});
            Frames.writePing(out);
        });
        int writerIndex = payload.writerIndex();
        int[] seen = new int[1];
        FrameVisitor consuming = new RecordingVisitor() {
            @Override
            public void onStream(long offset, ByteBuf data, boolean fin) {
                seen[0] = data.readableBytes();
                data.skipBytes(data.readableBytes());
            }
        };
        assertEquals(FrameReader.OK, reader.read(payload, consuming));
        assertEquals(4, seen[0], "data bytes lent");
        assertEquals(0, payload.readerIndex(), "reader index restored after a consuming visitor");
        assertEquals(writerIndex, payload.writerIndex(), "writer index restored");
    }

    @Test
    void streamWithoutLengthRunsToTheEndOfThePacket() {
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[] {(byte) (FrameType.STREAM | FrameType.STREAM_FIN_BIT),
                0x05, 'a', 'b', 'c'});
        assertReads(payload, "STREAM offset=5 data=616263 fin=true");
    }

    @Test
    void closeReasonIsCutAt256BytesOnACharacterBoundary() {
        String reason = "x" + "é".repeat(200);
        ByteBuf payload = packet(out -> Frames.writeConnectionClose(out, 1, reason));
        assertEquals(payload.readableBytes(), Frames.connectionCloseLength(1, reason));
        assertReads(payload, "CONNECTION_CLOSE 1 '" + reason.substring(0, 128) + "'");
        assertEquals(255, reason.substring(0, 128).getBytes(StandardCharsets.UTF_8).length,
                "'x' plus 127 two-byte characters; the next would make 257");
    }

    @Test
    void ackElicitingIsFalseForOnlyAckPaddingAndClose() {
        assertEquals(FrameReader.OK, reader.read(packet(out -> {
            Frames.writeAck(out, ranges(0, 3), 0);
            Frames.writeConnectionClose(out, 0, "");
            Frames.writePadding(out, 3);
        }), visitor));
        assertFalse(reader.ackEliciting());
        assertEquals(FrameReader.OK, reader.read(packet(out -> Frames.writeMaxData(out, 1)), visitor));
        assertTrue(reader.ackEliciting());
    }

    @Test
    void rejectsAnEmptyPayload() {
        assertMalformed(Unpooled.EMPTY_BUFFER, FrameReader.ERR_EMPTY);
    }

    @Test
    void rejectsUnknownFrameTypesAndDeliversNothingOfThePacket() {
        assertMalformed(packet(out -> {
            Frames.writePing(out);
            Frames.writeStreamHeader(out, 0, 1, false);
            out.writeByte('z');
            out.writeByte(0x1d);
        }), FrameReader.ERR_UNKNOWN_FRAME_TYPE);
        assertEquals(0x1d, reader.errorFrameType());
        assertMalformed(Unpooled.wrappedBuffer(new byte[] {0x40, 0x01}), FrameReader.ERR_UNKNOWN_FRAME_TYPE);
    }

    @Test
    void everyStrictPrefixOfAFrameIsRejected() {
        List<Consumer<ByteBuf>> writers = List.of(
                out -> Frames.writeAck(out, ranges(90, 100, 50, 80, 0, 10), 100_000),
                out -> {
                    Frames.writeStreamHeader(out, 1L << 35, 3, false);
                    out.writeBytes(new byte[] {1, 2, 3});
                },
                out -> Frames.writeMaxData(out, 1L << 40),
                out -> Frames.writeDataBlocked(out, 300),
                out -> Frames.writeReset(out, 1L << 20),
                out -> Frames.writeConnectionClose(out, 9, "reason"),
                out -> Frames.writePathChallenge(out, 1),
                out -> Frames.writePathResponse(out, 1),
                out -> Frames.writeHello(out, 1, PARAMS, Frames.PATTERN_XX, NOISE),
                out -> Frames.writeHelloReply(out, 1, PARAMS, COOKIE, NOISE));
        for (Consumer<ByteBuf> writer : writers) {
            ByteBuf full = packet(writer);
            for (int cut = 1; cut < full.readableBytes(); cut++) {
                ByteBuf prefix = full.slice(0, cut);
                int result = reader.read(prefix, visitor);
                assertEquals(FrameReader.describe(FrameReader.ERR_TRUNCATED), FrameReader.describe(result),
                        "prefix of " + cut + " bytes of " + ByteBufUtil.hexDump(full));
                assertEquals(List.of(), visitor.frames);
            }
        }
    }

    @Test
    void rejectsAckRangesBelowZero() {
        ByteBuf firstRangeTooLong = Unpooled.buffer();
        firstRangeTooLong.writeByte(FrameType.ACK);
        VarInt.write(firstRangeTooLong, 5);
        VarInt.write(firstRangeTooLong, 0);
        VarInt.write(firstRangeTooLong, 0);
        VarInt.write(firstRangeTooLong, 6);
        assertMalformed(firstRangeTooLong, FrameReader.ERR_ACK_RANGE_BELOW_ZERO);

        ByteBuf gapTooLarge = Unpooled.buffer();
        gapTooLarge.writeByte(FrameType.ACK);
        VarInt.write(gapTooLarge, 10);
        VarInt.write(gapTooLarge, 0);
        VarInt.write(gapTooLarge, 1);
        VarInt.write(gapTooLarge, 2);
        VarInt.write(gapTooLarge, 7); // next largest = 8 - 7 - 2 = -1
        VarInt.write(gapTooLarge, 0);
        assertMalformed(gapTooLarge, FrameReader.ERR_ACK_RANGE_BELOW_ZERO);

        ByteBuf lengthTooLarge = Unpooled.buffer();
        lengthTooLarge.writeByte(FrameType.ACK);
        VarInt.write(lengthTooLarge, 10);
        VarInt.write(lengthTooLarge, 0);
        VarInt.write(lengthTooLarge, 1);
        VarInt.write(lengthTooLarge, 2);
        VarInt.write(lengthTooLarge, 0); // next largest = 6
        VarInt.write(lengthTooLarge, 7); // smallest = -1
        assertMalformed(lengthTooLarge, FrameReader.ERR_ACK_RANGE_BELOW_ZERO);
    }

    @Test
    void rejectsMoreAckRangesThanTheReaderHolds() {
        AckRanges many = new AckRanges(40);
        for (int i = 0; i < 33; i++) {
            many.add(1000 - 3L * i, 1000 - 3L * i);
        }
        assertMalformed(packet(out -> Frames.writeAck(out, many, 0)), FrameReader.ERR_TOO_MANY_ACK_RANGES);
        many.clear();
        for (int i = 0; i < 32; i++) {
            many.add(1000 - 3L * i, 1000 - 3L * i);
        }
        assertEquals(FrameReader.OK, reader.read(packet(out -> Frames.writeAck(out, many, 0)), visitor),
                "32 ranges are accepted");
    }

    @Test
    void rejectsAHugeRangeCountWithoutLooping() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(FrameType.ACK);
        VarInt.write(payload, 10);
        VarInt.write(payload, 0);
        VarInt.write(payload, VarInt.MAX_VALUE);
        VarInt.write(payload, 0);
        assertMalformed(payload, FrameReader.ERR_TOO_MANY_ACK_RANGES);
    }

    @Test
    void rejectsStreamDataEndingBeyond2To62() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(FrameType.STREAM | FrameType.STREAM_LENGTH_BIT);
        VarInt.write(payload, Frames.MAX_STREAM_OFFSET);
        VarInt.write(payload, 1);
        payload.writeByte(0);
        assertMalformed(payload, FrameReader.ERR_STREAM_OFFSET_TOO_LARGE);
    }

    @Test
    void rejectsACloseReasonLongerThan256Bytes() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(FrameType.CONNECTION_CLOSE);
        VarInt.write(payload, 0);
        VarInt.write(payload, 257);
        payload.writeZero(257);
        assertMalformed(payload, FrameReader.ERR_REASON_TOO_LONG);
    }

    @Test
    void rejectsHandshakeFramesWithBadParameters() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(FrameType.HELLO);
        payload.writeLong(1);
        VarInt.write(payload, 2);
        VarInt.write(payload, TransportParameters.MAX_DATAGRAM_SIZE_ID);
        VarInt.write(payload, 10);
        assertMalformed(payload, FrameReader.ERR_BAD_TRANSPORT_PARAMETERS);
    }

    @Test
    void randomBytesNeverThrowAndNeverMoveIndices() {
        long seed = 0xF022L;
        SplittableRandom random = new SplittableRandom(seed);
        byte[] types = {0x00, 0x01, 0x02, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x14, 0x15, 0x1a, 0x1b, 0x1c, 0x30, 0x31, 0x32};
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = new byte[random.nextInt(1, 64)];
            random.nextBytes(bytes);
            bytes[0] = types[random.nextInt(types.length)];
            ByteBuf payload = Unpooled.wrappedBuffer(bytes);
            visitor.frames.clear();
            int result = reader.read(payload, visitor);
            assertTrue(result <= FrameReader.OK, "seed " + seed + " iteration " + i);
            assertEquals(0, payload.readerIndex(), "reader index, seed " + seed + " iteration " + i);
            assertEquals(bytes.length, payload.writerIndex(), "writer index, seed " + seed + " iteration " + i);
            if (result != FrameReader.OK) {
                assertEquals(List.of(), visitor.frames, "seed " + seed + " iteration " + i);
            }
        }
    }
}
