package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VarIntTest {

    private static ByteBuf hex(String hex) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
    }

    @Test
    void decodesTheSampleEncodingsOfRfc9000AppendixA1() {
        assertEquals(151_288_809_941_952_652L, VarInt.read(hex("c2197c5eff14e88c")), "8-byte sample");
        assertEquals(494_878_333L, VarInt.read(hex("9d7f3e7d")), "4-byte sample");
        assertEquals(15_293L, VarInt.read(hex("7bbd")), "2-byte sample");
        assertEquals(37L, VarInt.read(hex("25")), "1-byte sample");
        assertEquals(37L, VarInt.read(hex("4025")), "non-minimal 2-byte encoding of 37");
    }

    @Test
    void encodesTheSampleValuesOfRfc9000AppendixA1InTheirShortestForm() {
        long[] values = {151_288_809_941_952_652L, 494_878_333L, 15_293L, 37L};
        String[] expected = {"c2197c5eff14e88c", "9d7f3e7d", "7bbd", "25"};
        for (int i = 0; i < values.length; i++) {
            ByteBuf out = Unpooled.buffer();
            VarInt.write(out, values[i]);
            assertEquals(expected[i], ByteBufUtil.hexDump(out), "encoding of " + values[i]);
            assertEquals(expected[i].length() / 2, VarInt.length(values[i]), "length of " + values[i]);
        }
    }

    @Test
    void lengthChangesExactlyAtTheEncodingBoundaries() {
        assertEquals(1, VarInt.length(0));
        assertEquals(1, VarInt.length(63));
        assertEquals(2, VarInt.length(64));
        assertEquals(2, VarInt.length(16_383));
        assertEquals(4, VarInt.length(16_384));
        assertEquals(4, VarInt.length((1L << 30) - 1));
        assertEquals(8, VarInt.length(1L << 30));
        assertEquals(8, VarInt.length(VarInt.MAX_VALUE));
    }

    @Test
    void rejectsValuesOutsideTheEncodableRangeWhenWriting() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class, () -> VarInt.write(out, -1));
        assertThrows(IllegalArgumentException.class, () -> VarInt.write(out, VarInt.MAX_VALUE + 1));
        assertEquals(0, out.writerIndex(), "nothing written for a rejected value");
    }

    @Test
    void roundTripsRandomValuesOfEveryLength() {
        long seed = 0x5EEDL;
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuf out = Unpooled.buffer();
        for (int i = 0; i < 10_000; i++) {
            int bits = random.nextInt(63);
            long value = bits == 0 ? 0 : random.nextLong(1L << bits);
            out.clear();
            VarInt.write(out, value);
            assertEquals(VarInt.length(value), out.readableBytes(), "length of " + value + " seed " + seed);
            assertEquals(value, VarInt.get(out, 0), "get of " + value + " seed " + seed);
            assertEquals(value, VarInt.read(out), "read of " + value + " seed " + seed);
            assertEquals(0, out.readableBytes(), "read consumes the whole encoding");
        }
    }

    @Test
    void returnsMinusOneAndKeepsTheReaderIndexWhenTruncated() {
        for (String full : new String[] {"c2197c5eff14e88c", "9d7f3e7d", "7bbd"}) {
            for (int cut = 0; cut < full.length() / 2; cut++) {
                ByteBuf in = hex(full.substring(0, cut * 2));
                assertEquals(VarInt.TRUNCATED, VarInt.read(in), full + " cut to " + cut + " bytes");
                assertEquals(0, in.readerIndex(), "reader index unchanged after truncation");
                assertEquals(VarInt.TRUNCATED, VarInt.get(in, 0), "get of " + full + " cut to " + cut);
            }
        }
        assertEquals(VarInt.TRUNCATED, VarInt.get(hex("25"), 1), "get past the end");
        assertEquals(VarInt.TRUNCATED, VarInt.get(hex("25"), -1), "get at a negative index");
    }

    @Test
    void readsOnlyUpToTheWriterIndexEvenIfCapacityIsLarger() {
        ByteBuf in = Unpooled.buffer(16);
        in.writeByte(0x80);
        in.setByte(1, 1);
        in.setByte(2, 2);
        in.setByte(3, 3);
        assertEquals(VarInt.TRUNCATED, VarInt.read(in), "bytes beyond the writer index are not data");
    }
}
