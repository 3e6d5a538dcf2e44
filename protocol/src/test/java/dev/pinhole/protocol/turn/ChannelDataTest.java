package dev.pinhole.protocol.turn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.PacketKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The ChannelData codec (RFC 8656 §12.4) and its agreement with the node's demultiplexer. */
class ChannelDataTest {
    private static final long SEED = 0xC4A77E1L;

    private static ByteBuf wrap(int... bytes) {
        ByteBuf buf = Unpooled.buffer(bytes.length);
        for (int b : bytes) {
            buf.writeByte(b);
        }
        return buf;
    }

    @Test
    void encodesTheHeaderThenTheDataUnpadded() {
        ByteBuf data = wrap('a', 'b', 'c');
        ByteBuf message = ChannelData.encode(UnpooledByteBufAllocator.DEFAULT, 0x4001, data, false);

        assertArrayEquals(new byte[] {0x40, 0x01, 0x00, 0x03, 'a', 'b', 'c'}, ByteBufUtil.getBytes(message),
            "channel 0x4001, length 3, data");
        assertEquals(3, data.readableBytes(), "the data is not consumed");
        message.release();
    }

    @Test
    void padsToFourBytesWithZerosWhenAsked() {
        for (int length = 0; length <= 8; length++) {
            ByteBuf data = Unpooled.buffer().writeZero(length);
            ByteBuf message = ChannelData.encode(UnpooledByteBufAllocator.DEFAULT, 0x4FFF, data, true);

            assertEquals((4 + length + 3) & ~3, message.readableBytes(), "padded size for " + length + " bytes");
            assertEquals(length, ChannelData.dataLength(message, 0), "the length field excludes the padding");
            assertEquals(ChannelData.encodedLength(length, true), message.readableBytes(), "encodedLength agrees");
            assertEquals(ChannelData.Result.OK, ChannelData.check(message), "a padded message checks OK");
            message.release();
        }
    }

    @Test
    void checkNamesWhatIsWrong() {
        assertEquals(ChannelData.Result.TOO_SHORT, ChannelData.check(wrap(0x40, 0x00, 0x00)), "3 bytes");
        assertEquals(ChannelData.Result.OK, ChannelData.check(wrap(0x40, 0x00, 0x00, 0x00)), "empty data is allowed");
        assertEquals(ChannelData.Result.RESERVED_CHANNEL, ChannelData.check(wrap(0x50, 0x00, 0x00, 0x00)),
            "0x5000 is reserved (RFC 8656 §12)");
        assertEquals(ChannelData.Result.RESERVED_CHANNEL, ChannelData.check(wrap(0x3F, 0xFF, 0x00, 0x00)),
            "0x3FFF is below the channel range");
        assertEquals(ChannelData.Result.LENGTH_OVERRUN, ChannelData.check(wrap(0x40, 0x00, 0x00, 0x02, 'x')),
            "a length longer than the datagram");
        assertEquals(ChannelData.Result.OK, ChannelData.check(wrap(0x40, 0x00, 0x00, 0x01, 'x', 0, 0, 0)),
            "trailing padding is allowed over UDP (RFC 8656 §12.5)");
    }

    @Test
    void checkReadsOnlyItsRange() {
        // A message in the middle of a larger buffer: the bytes around it must not matter.
        ByteBuf buf = wrap(0xFF, 0x40, 0x02, 0x00, 0x01, 'x', 0xFF);
        assertEquals(ChannelData.Result.OK, ChannelData.check(buf, 1, 5), "inside the range");
        assertEquals(0x4002, ChannelData.channel(buf, 1), "channel");
        assertEquals(ChannelData.Result.LENGTH_OVERRUN, ChannelData.check(buf, 1, 4), "the range ends before the data");
    }

    @Test
    void writeHeaderRefusesWhatCannotBeSent() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class, () -> ChannelData.writeHeader(out, 0x3FFF, 1), "below 0x4000");
        assertThrows(IllegalArgumentException.class, () -> ChannelData.writeHeader(out, 0x5000, 1), "reserved");
        assertThrows(IllegalArgumentException.class, () -> ChannelData.writeHeader(out, 0x4000, 65_536), "too long");
        assertEquals(0, out.writerIndex(), "nothing written");
    }

    @Test
    void agreesWithTheDemultiplexerOnEveryDatagramStartingWith64To79() {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 20_000; i++) {
            int length = random.nextInt(12);
            byte[] bytes = new byte[length];
            random.nextBytes(bytes);
            if (length > 0) {
                bytes[0] = (byte) (64 + random.nextInt(16));
            }
            if (length > 3 && random.nextBoolean()) {
                bytes[2] = 0;
                bytes[3] = (byte) random.nextInt(length);
            }
            ByteBuf datagram = Unpooled.wrappedBuffer(bytes);
            PacketKind kind = DatagramDemultiplexer.classify(datagram);
            ChannelData.Result result = ChannelData.check(datagram);
            if (length > 0) {
                assertEquals(kind == PacketKind.CHANNEL_DATA, result == ChannelData.Result.OK,
                    "demultiplexer said " + kind + ", codec said " + result + " for " + ByteBufUtil.hexDump(datagram)
                        + " (seed " + SEED + ", case " + i + ")");
            }
        }
    }
}
