package dev.pinhole.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DatagramDemultiplexerTest {
    private static final InetSocketAddress SENDER = new InetSocketAddress("127.0.0.1", 3478);

    /** A STUN header with the given first byte and message length, followed by {@code bodyLength} zero bytes. */
    private static byte[] stun(int firstByte, int messageLengthField, int bodyLength, int cookie) {
        ByteBuf buf = Unpooled.buffer();
        buf.writeByte(firstByte).writeByte(0x01).writeShort(messageLengthField).writeInt(cookie)
            .writeZero(12).writeZero(bodyLength);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    private static byte[] stun(int firstByte, int bodyLength) {
        return stun(firstByte, bodyLength, bodyLength, DatagramDemultiplexer.STUN_MAGIC_COOKIE);
    }

    /** A datagram of {@code length} bytes whose first byte is {@code firstByte} and the rest zero. */
    private static byte[] firstByte(int firstByte, int length) {
        byte[] bytes = new byte[length];
        bytes[0] = (byte) firstByte;
        return bytes;
    }

    private static byte[] channelData(int firstByte, int lengthField, int dataBytes) {
        byte[] bytes = new byte[4 + dataBytes];
        bytes[0] = (byte) firstByte;
        bytes[1] = 0x01;
        bytes[2] = (byte) (lengthField >>> 8);
        bytes[3] = (byte) lengthField;
        return bytes;
    }

    static Stream<Arguments> table() {
        return Stream.of(
            Arguments.of("empty datagram", new byte[0], PacketKind.EMPTY),
            Arguments.of("0x00 binding request, no attributes", stun(0x00, 0), PacketKind.STUN),
            Arguments.of("0x03 with 8 bytes of attributes", stun(0x03, 8), PacketKind.STUN),
            Arguments.of("0x01, one byte short of a STUN header", firstByte(0x01, 19), PacketKind.STUN_TOO_SHORT),
            Arguments.of("0x00, 1 byte", firstByte(0x00, 1), PacketKind.STUN_TOO_SHORT),
            Arguments.of("0x00 with wrong cookie", stun(0x00, 4, 4, 0x2112A443), PacketKind.STUN_BAD_COOKIE),
            Arguments.of("0x00 with RFC 3489 style zero cookie", stun(0x00, 0, 0, 0), PacketKind.STUN_BAD_COOKIE),
            Arguments.of("0x00 length not a multiple of 4", stun(0x00, 6, 6, DatagramDemultiplexer.STUN_MAGIC_COOKIE),
                PacketKind.STUN_BAD_LENGTH),
            Arguments.of("0x00 length claims more than the datagram", stun(0x00, 12, 8,
                DatagramDemultiplexer.STUN_MAGIC_COOKIE), PacketKind.STUN_BAD_LENGTH),
            Arguments.of("0x00 length claims less than the datagram", stun(0x00, 4, 8,
                DatagramDemultiplexer.STUN_MAGIC_COOKIE), PacketKind.STUN_BAD_LENGTH),
            Arguments.of("0x04 just above STUN", stun(0x04, 0), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("63 just below ChannelData", firstByte(63, 40), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("64 ChannelData, empty data", channelData(64, 0, 0), PacketKind.CHANNEL_DATA),
            Arguments.of("79 ChannelData with 5 data bytes", channelData(79, 5, 5), PacketKind.CHANNEL_DATA),
            Arguments.of("64 ChannelData padded to 4 over UDP", channelData(64, 5, 8), PacketKind.CHANNEL_DATA),
            Arguments.of("64 ChannelData, 3 bytes", firstByte(64, 3), PacketKind.CHANNEL_DATA_TOO_SHORT),
            Arguments.of("79 ChannelData length beyond the datagram", channelData(79, 9, 8),
                PacketKind.CHANNEL_DATA_BAD_LENGTH),
            Arguments.of("80 just above ChannelData", firstByte(80, 40), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("127 just below transport", firstByte(127, 40), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("128 transport, 1 byte", firstByte(128, 1), PacketKind.TRANSPORT),
            Arguments.of("191 transport", firstByte(191, 1200), PacketKind.TRANSPORT),
            Arguments.of("192 just above transport", firstByte(192, 40), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("255", firstByte(255, 40), PacketKind.UNKNOWN_FIRST_BYTE),
            Arguments.of("20 (DTLS range in RFC 7983)", firstByte(20, 40), PacketKind.UNKNOWN_FIRST_BYTE));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("table")
    void classifiesByFirstByteAndHeaderChecks(String description, byte[] datagram, PacketKind expected) {
        ByteBuf buf = Unpooled.wrappedBuffer(datagram);
        assertEquals(expected, DatagramDemultiplexer.classify(buf), description);
        assertEquals(0, buf.readerIndex(), "classify must not move the reader index");
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("table")
    void classifiesTheReadableBytesNotTheWholeBuffer(String description, byte[] datagram, PacketKind expected) {
        ByteBuf buf = Unpooled.buffer().writeBytes(new byte[] {(byte) 0xEE, 0x00, 0x00}).writeBytes(datagram)
            .writeBytes(new byte[] {0x55});
        buf.readerIndex(3).writerIndex(3 + datagram.length);
        assertEquals(expected, DatagramDemultiplexer.classify(buf), description + " behind a 3-byte prefix");
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("table")
    void routesEachKindToItsReceiverAndCountsEveryDatagram(String description, byte[] datagram, PacketKind expected) {
        DatagramDemultiplexer demux = new DatagramDemultiplexer();
        List<PacketKind> routedTo = new ArrayList<>();
        for (PacketKind kind : PacketKind.values()) {
            if (kind.routed()) {
                demux.route(kind, (buf, sender) -> {
                    assertSame(SENDER, sender);
                    routedTo.add(kind);
                });
            }
        }

        demux.onDatagram(Unpooled.wrappedBuffer(datagram), SENDER);

        assertEquals(expected.routed() ? List.of(expected) : List.of(), routedTo, description);
        assertEquals(1, demux.count(expected), "count of " + expected);
        assertEquals(expected.routed() ? 0 : 1, demux.dropped(), "dropped");
    }

    @Test
    void kindWithoutReceiverIsCountedAsUnroutedAndDropped() {
        DatagramDemultiplexer demux = new DatagramDemultiplexer();
        List<String> seen = new ArrayList<>();
        demux.route(PacketKind.TRANSPORT, (buf, sender) -> seen.add("transport"));

        demux.onDatagram(Unpooled.wrappedBuffer(stun(0x00, 0)), SENDER);
        demux.onDatagram(Unpooled.wrappedBuffer(firstByte(130, 10)), SENDER);
        demux.route(PacketKind.TRANSPORT, null);
        demux.onDatagram(Unpooled.wrappedBuffer(firstByte(130, 10)), SENDER);

        assertEquals(List.of("transport"), seen);
        assertEquals(1, demux.unrouted(PacketKind.STUN));
        assertEquals(1, demux.unrouted(PacketKind.TRANSPORT));
        assertEquals(2, demux.count(PacketKind.TRANSPORT));
        assertEquals(2, demux.dropped());
    }

    @Test
    void dropReasonsCannotBeRouted() {
        DatagramDemultiplexer demux = new DatagramDemultiplexer();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> demux.route(PacketKind.STUN_BAD_COOKIE, (buf, sender) -> { }));
        assertEquals("STUN_BAD_COOKIE is a reason to drop a datagram, not a kind to route", e.getMessage());
    }

    @Test
    void everyFirstByteHasExactlyTheDocumentedKind() {
        for (int b = 0; b < 256; b++) {
            PacketKind kind = DatagramDemultiplexer.classify(Unpooled.wrappedBuffer(firstByte(b, 1)));
            PacketKind expected = b <= 3 ? PacketKind.STUN_TOO_SHORT
                : b >= 64 && b <= 79 ? PacketKind.CHANNEL_DATA_TOO_SHORT
                : b >= 128 && b <= 191 ? PacketKind.TRANSPORT
                : PacketKind.UNKNOWN_FIRST_BYTE;
            assertEquals(expected, kind, "first byte " + b);
        }
    }
}
