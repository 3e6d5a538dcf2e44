package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.crypto.ProtectionFixture.Shape;
import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Header protection (RFC 9001 §5.4) on the Pinhole header: what it hides, what it leaves readable. */
class HeaderProtectionTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void theMaskIsAes256OfTheSample() {
        // FIPS-197 Appendix C.3: AES-256 of 00112233..eeff under key 00010203..1f is 8ea2b7ca516745bfeafc49904b496089.
        final HeaderProtection hp = new HeaderProtection(HEX.parseHex(
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
        final ByteBuf packet = Unpooled.buffer();
        try {
            PacketHeader.write(packet, PacketHeader.TYPE_SHORT, 0, 0);
            packet.writeBytes(HEX.parseHex("00112233445566778899aabbccddeeff"));
            hp.apply(packet, 0, HEADER);
            // mask[0] = 0x8e has the key phase bit (0x20) clear: the first byte stays; mask[1..4] cover the number.
            assertEquals("89" + "0000000000000000" + "a2b7ca51", HEX.formatHex(ProtectionFixture.bytes(packet, 0, HEADER)));
        } finally {
            packet.release();
        }
    }

    @Test
    void applyingTwiceRestoresTheHeader() {
        final HeaderProtection hp = new HeaderProtection(ProtectionFixture.secret(20));
        final ByteBuf packet = ProtectionFixture.packet(Shape.HEAP, 123_456_789L, ProtectionFixture.payload(40, 5));
        try {
            final byte[] before = ProtectionFixture.bytes(packet, 0, packet.readableBytes());
            hp.apply(packet, packet.readerIndex(), HEADER);
            assertNotEquals(HEX.formatHex(before), HEX.formatHex(ProtectionFixture.bytes(packet, 0, packet.readableBytes())));
            hp.apply(packet, packet.readerIndex(), HEADER);
            assertArrayEquals(before, ProtectionFixture.bytes(packet, 0, packet.readableBytes()));
        } finally {
            packet.release();
        }
    }

    @Test
    void hidesThePacketNumberAndKeyPhaseButNotTypeVersionOrConnectionId() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(21));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(21));
        final int packets = 400;
        int phaseBitSet = 0;
        final Set<Long> wireNumbers = new HashSet<>();
        for (long pn = 0; pn < packets; pn++) {
            final ByteBuf packet = ProtectionFixture.packet(Shape.HEAP, pn, ProtectionFixture.payload(20, pn));
            try {
                final byte[] plainHeader = ProtectionFixture.bytes(packet, 0, HEADER);
                sealer.seal(packet, HEADER, pn);
                final byte[] wire = ProtectionFixture.bytes(packet, 0, HEADER);
                assertEquals(plainHeader[0], (byte) (wire[0] & ~PacketProtection.KEY_PHASE_BIT),
                        "fixed bits, type and version stay readable");
                assertTrue(PacketHeader.isPinholePacket(wire[0]), "the first-byte demultiplexer still sees Pinhole");
                assertArrayEquals(ProtectionFixture.bytes(packet, 1, 8), Arrays.copyOfRange(plainHeader, 1, 9),
                        "the connection id stays readable");
                final long wirePn = packet.getUnsignedInt(packet.readerIndex() + PacketHeader.PACKET_NUMBER_OFFSET);
                assertNotEquals(pn, wirePn, "packet number masked");
                wireNumbers.add(wirePn);
                phaseBitSet += (wire[0] & PacketProtection.KEY_PHASE_BIT) != 0 ? 1 : 0;
                assertEquals(20, opener.open(packet, HEADER, pn - 1));
                assertArrayEquals(plainHeader, ProtectionFixture.bytes(packet, 0, HEADER), "opening unmasks the header");
            } finally {
                packet.release();
            }
        }
        assertEquals(packets, wireNumbers.size(), "consecutive numbers look unrelated on the wire");
        // Phase 0 throughout, yet the wire bit is a coin flip per packet (400 flips: 4 sigma is 160..240).
        assertTrue(phaseBitSet > 160 && phaseBitSet < 240, "key phase bit set on the wire in " + phaseBitSet + " of " + packets);
    }
}
