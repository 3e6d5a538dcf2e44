package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.crypto.ProtectionFixture.Shape;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.PacketNumbers;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Seal and open: round trips, and every kind of damage a packet can suffer failing cleanly. */
class PacketProtectionTest {
    private static final long[] PACKET_NUMBERS = {0, 1, 1L << 32, PacketNumbers.MAX_PACKET_NUMBER};

    @ParameterizedTest
    @EnumSource(Shape.class)
    void roundTripsEveryPayloadSizeUpTo1400(Shape shape) {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(7));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(7));
        final int step = shape == Shape.HEAP ? 1 : 7;
        for (int size = 0; size <= 1400; size += step) {
            roundTrip(sealer, opener, shape, 1000L + size, size);
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void roundTripsAtTheEdgesOfThePacketNumberSpace(Shape shape) {
        for (long pn : PACKET_NUMBERS) {
            final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(8));
            for (int size : new int[] {0, 1, 16, 1200}) {
                // A fresh sealer per packet: a sealer's numbers only increase.
                roundTrip(PacketProtection.sealer(ProtectionFixture.secret(8)), opener, shape, pn, size);
            }
        }
    }

    private static void roundTrip(PacketSealer sealer, PacketOpener opener, Shape shape, long pn, int size) {
        final byte[] payload = ProtectionFixture.payload(size, pn ^ size);
        final ByteBuf packet = ProtectionFixture.packet(shape, pn, payload);
        try {
            final byte[] header = ProtectionFixture.bytes(packet, 0, HEADER);
            assertEquals(HEADER + size + PacketProtection.TAG_LENGTH, sealer.seal(packet, HEADER, pn));
            assertEquals(HEADER + size + PacketProtection.TAG_LENGTH, packet.readableBytes());
            final int opened = opener.open(packet, HEADER, pn - 1);
            assertEquals(size, opened, () -> "pn " + pn + " size " + size + ": " + PacketProtection.resultName(opened));
            assertEquals(pn, opener.openedPacketNumber());
            assertEquals(HEADER + size, packet.readableBytes(), "the tag is cut off");
            assertArrayEquals(header, ProtectionFixture.bytes(packet, 0, HEADER), "header restored");
            assertArrayEquals(payload, ProtectionFixture.bytes(packet, HEADER, size), "payload restored");
        } finally {
            packet.release();
        }
    }

    @Test
    void theCiphertextHidesThePayload() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(9));
        final byte[] payload = new byte[64];
        final ByteBuf packet = ProtectionFixture.packet(Shape.HEAP, 5, payload);
        try {
            sealer.seal(packet, HEADER, 5);
            int zeros = 0;
            for (byte b : ProtectionFixture.bytes(packet, HEADER, payload.length)) {
                zeros += b == 0 ? 1 : 0;
            }
            assertTrue(zeros < 8, "64 zero bytes encrypt to noise, " + zeros + " zeros left");
        } finally {
            packet.release();
        }
    }

    @Test
    void everySingleBitFlipMakesOpenFail() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(10));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(10));
        final long pn = 77;
        final ByteBuf sealed = ProtectionFixture.packet(Shape.HEAP, pn, ProtectionFixture.payload(40, 1));
        try {
            sealer.seal(sealed, HEADER, pn);
            final int bits = sealed.readableBytes() * 8;
            for (int bit = 0; bit < bits; bit++) {
                final ByteBuf damaged = ProtectionFixture.copy(sealed);
                try {
                    final int index = bit / 8;
                    damaged.setByte(index, damaged.getByte(index) ^ (0x80 >>> (bit % 8)));
                    final int result = opener.open(damaged, HEADER, pn - 1);
                    final int flipped = bit;
                    assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, result,
                            () -> "bit " + flipped + " (" + region(flipped / 8) + ") flipped: "
                                    + PacketProtection.resultName(result));
                    assertEquals(HEADER + 40 + PacketProtection.TAG_LENGTH, damaged.readableBytes(), "indices unchanged");
                } finally {
                    damaged.release();
                }
            }
            assertEquals(0, opener.generation(), "no flipped key phase bit moved the keys");
            assertEquals(bits, opener.failedOpens());
            assertEquals(40, opener.open(sealed, HEADER, pn - 1), "the undamaged packet still opens");
        } finally {
            sealed.release();
        }
    }

    private static String region(int index) {
        if (index < PacketHeader.DESTINATION_CID_OFFSET) {
            return "first byte";
        }
        if (index < PacketHeader.PACKET_NUMBER_OFFSET) {
            return "connection id";
        }
        if (index < HEADER) {
            return "packet number";
        }
        return index < HEADER + 40 ? "ciphertext" : "tag";
    }

    @Test
    void aWrongPacketNumberFails() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(11));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(11));
        final long pn = (1L << 32) + 5;
        final ByteBuf sealed = ProtectionFixture.packet(Shape.HEAP, pn, ProtectionFixture.payload(100, 2));
        try {
            sealer.seal(sealed, HEADER, pn);
            // Same low 32 bits, other epochs; and neighbours.
            for (long wrong : new long[] {5, (2L << 32) + 5, pn - 1, pn + 1}) {
                final ByteBuf damaged = ProtectionFixture.copy(sealed);
                try {
                    opener.removeHeaderProtection(damaged, HEADER);
                    assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, opener.openUnprotected(damaged, HEADER, wrong),
                            "packet number " + wrong);
                } finally {
                    damaged.release();
                }
            }
            // A largest-received far away decodes the truncated number into another epoch.
            final ByteBuf misdecoded = ProtectionFixture.copy(sealed);
            try {
                assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, opener.open(misdecoded, HEADER, 5L << 32));
            } finally {
                misdecoded.release();
            }
            assertEquals(100, opener.open(sealed, HEADER, pn - 1));
        } finally {
            sealed.release();
        }
    }

    @Test
    void truncatedPacketsFail() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(12));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(12));
        final ByteBuf sealed = ProtectionFixture.packet(Shape.HEAP, 3, ProtectionFixture.payload(30, 3));
        try {
            final int full = sealer.seal(sealed, HEADER, 3);
            for (int length = 0; length < full; length++) {
                final ByteBuf cut = ProtectionFixture.copy(sealed.slice(sealed.readerIndex(), length));
                try {
                    final int result = opener.open(cut, HEADER, 2);
                    final int expected = length < HEADER + PacketProtection.TAG_LENGTH
                            ? PacketProtection.OPEN_TOO_SHORT : PacketProtection.OPEN_AUTHENTICATION_FAILED;
                    assertEquals(expected, result, "length " + length);
                    assertEquals(length, cut.readableBytes(), "indices unchanged");
                } finally {
                    cut.release();
                }
            }
            // The second half alone refuses a datagram shorter than a header and a tag too.
            final ByteBuf tiny = ProtectionFixture.copy(sealed.slice(sealed.readerIndex(), HEADER + 3));
            try {
                assertEquals(PacketProtection.OPEN_TOO_SHORT, opener.openUnprotected(tiny, HEADER, 3));
            } finally {
                tiny.release();
            }
        } finally {
            sealed.release();
        }
    }

    @Test
    void packetsOfAnotherDirectionOrConnectionFail() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(13));
        final PacketOpener other = PacketProtection.opener(ProtectionFixture.secret(14));
        final ByteBuf sealed = ProtectionFixture.packet(Shape.HEAP, 0, ProtectionFixture.payload(50, 4));
        try {
            sealer.seal(sealed, HEADER, 0);
            assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, other.open(sealed, HEADER, -1));
        } finally {
            sealed.release();
        }
    }

    @Test
    void theSealerRefusesToReuseAPacketNumber() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(15));
        final ByteBuf first = ProtectionFixture.packet(Shape.HEAP, 10, new byte[5]);
        final ByteBuf again = ProtectionFixture.packet(Shape.HEAP, 10, new byte[5]);
        final ByteBuf lower = ProtectionFixture.packet(Shape.HEAP, 9, new byte[5]);
        final ByteBuf mismatch = ProtectionFixture.packet(Shape.HEAP, 11, new byte[5]);
        final ByteBuf beyond = ProtectionFixture.packet(Shape.HEAP, 1L << 62, new byte[5]);
        try {
            sealer.seal(first, HEADER, 10);
            assertThrows(IllegalArgumentException.class, () -> sealer.seal(again, HEADER, 10));
            assertThrows(IllegalArgumentException.class, () -> sealer.seal(lower, HEADER, 9));
            assertThrows(IllegalArgumentException.class, () -> sealer.seal(mismatch, HEADER, 12), "header says 11");
            assertThrows(IllegalArgumentException.class, () -> sealer.seal(beyond, HEADER, 1L << 62));
            assertThrows(IllegalArgumentException.class, () -> sealer.seal(mismatch, HEADER - 1, 11));
        } finally {
            first.release();
            again.release();
            lower.release();
            mismatch.release();
            beyond.release();
        }
    }
}
