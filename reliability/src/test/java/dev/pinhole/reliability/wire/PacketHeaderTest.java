package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class PacketHeaderTest {

    @Test
    void writesTheDocumentedLayoutInNetworkByteOrder() {
        ByteBuf out = Unpooled.buffer();
        PacketHeader.write(out, PacketHeader.TYPE_SHORT, 0x0102030405060708L, 0x1_AABBCCDDL);
        assertEquals(PacketHeader.HEADER_LENGTH, out.readableBytes(), "header length");
        // 0x89 = 10 0 010 01: fixed bits, key phase 0, type 2 (SHORT), version 1; only the low 32 bits of the number.
        assertEquals("89" + "0102030405060708" + "aabbccdd", ByteBufUtil.hexDump(out));
    }

    @Test
    void flyweightReadsWhatWasWrittenAtAnOffset() {
        ByteBuf buf = Unpooled.buffer();
        buf.writeZero(5);
        PacketHeader.write(buf, PacketHeader.TYPE_HANDSHAKE, -2L, 0xFFFF_FFFFL);
        PacketHeader header = new PacketHeader().wrap(buf, 5);
        assertEquals(PacketHeader.TYPE_HANDSHAKE, header.type());
        assertEquals(PacketHeader.VERSION_1, header.version());
        assertEquals(-2L, header.destinationCid());
        assertEquals(0xFFFF_FFFFL, header.truncatedPacketNumber(), "unsigned 32-bit packet number");
    }

    @Test
    void settersWriteEachFieldAndChain() {
        ByteBuf buf = Unpooled.buffer(PacketHeader.HEADER_LENGTH);
        buf.writeZero(PacketHeader.HEADER_LENGTH);
        PacketHeader header = new PacketHeader().wrap(buf, 0)
                .type(PacketHeader.TYPE_INITIAL).destinationCid(42L).packetNumber(7L);
        assertEquals(PacketHeader.TYPE_INITIAL, header.type());
        assertEquals(42L, header.destinationCid());
        assertEquals(7L, header.truncatedPacketNumber());
        assertTrue(PacketHeader.isValid(buf), "a header built by the setters is valid");
    }

    @Test
    void everyTypeEncodesToAFirstByteInThePinholeDemuxRange() {
        for (int type : new int[] {PacketHeader.TYPE_INITIAL, PacketHeader.TYPE_HANDSHAKE, PacketHeader.TYPE_SHORT}) {
            int first = PacketHeader.firstByte(type);
            assertTrue(first >= 128 && first <= 191, "first byte " + first + " of type " + type);
            assertTrue(PacketHeader.isPinholePacket((byte) first));
        }
    }

    @Test
    void recognisesExactlyTheFirstBytes128To191() {
        for (int b = 0; b < 256; b++) {
            assertEquals(b >= 128 && b <= 191, PacketHeader.isPinholePacket((byte) b), "first byte " + b);
        }
    }

    @Test
    void rejectsShortDatagramsOtherVersionsAndUnknownTypes() {
        ByteBuf ok = Unpooled.buffer();
        PacketHeader.write(ok, PacketHeader.TYPE_SHORT, 1, 1);
        assertTrue(PacketHeader.isValid(ok));
        assertFalse(PacketHeader.isValid(ok.slice(0, PacketHeader.HEADER_LENGTH - 1)), "12 bytes");
        assertFalse(PacketHeader.isValid(Unpooled.EMPTY_BUFFER), "empty datagram");

        ByteBuf otherVersion = ok.copy();
        otherVersion.setByte(0, ok.getByte(0) & ~PacketHeader.VERSION_MASK);
        assertFalse(PacketHeader.isValid(otherVersion), "version 0, the unencrypted protocol");

        ByteBuf unknownType = ok.copy();
        unknownType.setByte(0, 0x80 | (0x7 << PacketHeader.TYPE_SHIFT) | PacketHeader.VERSION_1);
        assertFalse(PacketHeader.isValid(unknownType), "type 7");

        ByteBuf phasedInitial = ok.copy();
        phasedInitial.setByte(0, PacketHeader.firstByte(PacketHeader.TYPE_INITIAL) | PacketHeader.KEY_PHASE_BIT);
        assertFalse(PacketHeader.isValid(phasedInitial), "INITIAL with the key phase bit: never protected");

        ByteBuf phasedShort = ok.copy();
        phasedShort.setByte(0, ok.getByte(0) | PacketHeader.KEY_PHASE_BIT);
        assertTrue(PacketHeader.isValid(phasedShort), "SHORT of key phase 1");

        ByteBuf stun = ok.copy();
        stun.setByte(0, 0x00);
        assertFalse(PacketHeader.isValid(stun), "STUN first byte");
    }
}
