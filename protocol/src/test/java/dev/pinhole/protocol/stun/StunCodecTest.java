package dev.pinhole.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Round trips and rule checks of {@link StunReader} and {@link StunWriter} beyond the RFC 5769 vectors. */
class StunCodecTest {
    private static final TransactionId ID = new TransactionId(0x0102030405060708L, 0x090A0B0C);

    private final StunReader reader = new StunReader();
    private final StunWriter writer = new StunWriter();

    @Test
    void messageTypeInterleavesMethodAndClassBitsAsRfc8489Section5Shows() {
        assertEquals(0x0001, StunMessageType.of(StunMessageType.METHOD_BINDING, StunClass.REQUEST), "Binding request");
        assertEquals(0x0011, StunMessageType.of(StunMessageType.METHOD_BINDING, StunClass.INDICATION), "Binding indication");
        assertEquals(0x0101, StunMessageType.of(StunMessageType.METHOD_BINDING, StunClass.SUCCESS_RESPONSE), "Binding success");
        assertEquals(0x0111, StunMessageType.of(StunMessageType.METHOD_BINDING, StunClass.ERROR_RESPONSE), "Binding error");
        assertEquals(0x0113, StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.ERROR_RESPONSE), "Allocate error");
        assertEquals(0x3EEF, StunMessageType.of(0xFFF, StunClass.REQUEST), "all method bits, class bits clear");
        for (int method = 0; method <= StunMessageType.MAX_METHOD; method++) {
            for (StunClass c : StunClass.values()) {
                int type = StunMessageType.of(method, c);
                assertEquals(method, StunMessageType.method(type), "method of 0x" + Integer.toHexString(type));
                assertEquals(c, StunClass.ofMessageType(type), "class of 0x" + Integer.toHexString(type));
                assertEquals(0, type & 0xC000, "top two bits stay zero");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> StunMessageType.of(0x1000, StunClass.REQUEST));
    }

    @Test
    void everyAttributeKindRoundTrips() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 1);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 65535);
        InetSocketAddress other = new InetSocketAddress(InetAddress.getByName("198.51.100.2"), 3479);
        byte[] custom = {1, 2, 3, 4, 5};
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_SUCCESS_RESPONSE, ID)
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, v4)
            .addAddress(StunAttributeType.MAPPED_ADDRESS, v6)
            .addAddress(StunAttributeType.OTHER_ADDRESS, other)
            .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, v6)
            .addAddress(StunAttributeType.RESPONSE_ORIGIN, v4)
            .addString(StunAttributeType.USERNAME, "user:name")
            .addString(StunAttributeType.REALM, "realm")
            .addString(StunAttributeType.NONCE, "nonce-123")
            .addString(StunAttributeType.SOFTWARE, "pinhole test")
            .addErrorCode(420, "Unknown Attribute")
            .addUnknownAttributes(new int[] {0x7777, 0x0042, 0x1234}, 3)
            .addChangeRequest(true, false)
            .addUInt32(StunAttributeType.PRIORITY, 0xFFFFFFFE)
            .addEmpty(StunAttributeType.USE_CANDIDATE)
            .addUInt64(StunAttributeType.ICE_CONTROLLING, -2L)
            .addUInt64(StunAttributeType.ICE_CONTROLLED, 42L)
            .addBytes(0xC001, custom)
            .addMessageIntegrity(StunKey.shortTerm("pw"))
            .addMessageIntegritySha256(StunKey.shortTerm("pw"))
            .addFingerprint();
        int length = writer.finish();
        assertEquals(out.readableBytes(), length, "finish() reports the written length");
        assertEquals(0, length % 4, "messages are padded to 4 bytes");

        assertEquals(StunParseResult.OK, reader.wrap(out), "writer output parses");
        assertEquals(ID, reader.transactionId(), "transaction id");
        assertEquals(v4, reader.xorMappedAddress(), "XOR-MAPPED-ADDRESS IPv4");
        assertEquals(v6, reader.findAddress(StunAttributeType.MAPPED_ADDRESS), "MAPPED-ADDRESS IPv6");
        assertEquals(other, reader.findAddress(StunAttributeType.OTHER_ADDRESS), "OTHER-ADDRESS");
        assertEquals(v6, reader.findAddress(StunAttributeType.XOR_PEER_ADDRESS), "XOR-PEER-ADDRESS IPv6");
        assertEquals(v4, reader.findAddress(StunAttributeType.RESPONSE_ORIGIN), "RESPONSE-ORIGIN");
        assertEquals("user:name", reader.findString(StunAttributeType.USERNAME), "USERNAME");
        assertEquals("realm", reader.findString(StunAttributeType.REALM), "REALM");
        assertEquals("nonce-123", reader.findString(StunAttributeType.NONCE), "NONCE");
        assertEquals("pinhole test", reader.findString(StunAttributeType.SOFTWARE), "SOFTWARE");
        assertNull(reader.xorAddress(reader.findAttribute(StunAttributeType.SOFTWARE)),
            "a 12-byte text value decoded as an address gives null, not an exception");
        assertEquals(420, reader.errorCode(), "ERROR-CODE");
        assertEquals("Unknown Attribute", reader.errorReason(), "reason phrase");
        int unknownAt = reader.findAttribute(StunAttributeType.UNKNOWN_ATTRIBUTES);
        assertEquals(6, reader.attributeLength(unknownAt), "three 16-bit types");
        assertEquals(StunAttributeType.CHANGE_IP_FLAG, reader.changeRequestFlags(), "CHANGE-REQUEST change IP only");
        assertEquals(0xFFFFFFFEL, reader.uint32(reader.findAttribute(StunAttributeType.PRIORITY)), "PRIORITY unsigned");
        assertEquals(0, reader.attributeLength(reader.findAttribute(StunAttributeType.USE_CANDIDATE)), "USE-CANDIDATE");
        assertEquals(-2L, reader.uint64(reader.findAttribute(StunAttributeType.ICE_CONTROLLING)), "ICE-CONTROLLING");
        assertEquals(42L, reader.uint64(reader.findAttribute(StunAttributeType.ICE_CONTROLLED)), "ICE-CONTROLLED");
        assertTrue(reader.attributeValueEquals(reader.findAttribute(0xC001), custom), "custom optional attribute value");
        assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm("pw")), "MESSAGE-INTEGRITY");
        assertEquals(StunParseResult.OK, reader.verifyMessageIntegritySha256(StunKey.shortTerm("pw")),
            "MESSAGE-INTEGRITY-SHA256");
        assertEquals(StunParseResult.BAD_INTEGRITY, reader.verifyMessageIntegritySha256(StunKey.shortTerm("pW")),
            "MESSAGE-INTEGRITY-SHA256 under another key");
    }

    @Test
    void xorAddressValueDiffersFromPlainValueButDecodesToTheSameAddress() throws Exception {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 4000);
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_SUCCESS_RESPONSE, ID)
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address)
            .addAddress(StunAttributeType.MAPPED_ADDRESS, address)
            .finish();
        assertEquals(StunParseResult.OK, reader.wrap(out), "parses");
        int xorAt = reader.findAttribute(StunAttributeType.XOR_MAPPED_ADDRESS);
        int plainAt = reader.findAttribute(StunAttributeType.MAPPED_ADDRESS);
        // Port 4000 = 0x0FA0, XOR 0x2112 = 0x2EB2; 10.1.2.3 XOR 0x2112A442 = 0x2B13A641.
        assertArrayEquals(Hex.bytes("00 01 2e b2 2b 13 a6 41"), ByteBufUtil.getBytes(reader.attributeValue(xorAt)),
            "XOR-MAPPED-ADDRESS value");
        assertArrayEquals(Hex.bytes("00 01 0f a0 0a 01 02 03"), ByteBufUtil.getBytes(reader.attributeValue(plainAt)),
            "MAPPED-ADDRESS value");
        assertEquals(address, reader.xorAddress(xorAt), "XOR decoding");
        assertEquals(address, reader.plainAddress(plainAt), "plain decoding");
    }

    @Test
    void attributesAfterMessageIntegrityAreIgnoredExceptSha256AndFingerprint() {
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_REQUEST, ID)
            .addString(StunAttributeType.SOFTWARE, "before")
            .addMessageIntegrity(StunKey.shortTerm("k"))
            .finish();
        // Append, by hand, a SOFTWARE and an unknown comprehension-required attribute after
        // MESSAGE-INTEGRITY, then FINGERPRINT: RFC 8489 §14.5 says a receiver ignores the first two.
        out.writeShort(StunAttributeType.SOFTWARE).writeShort(5).writeBytes("after".getBytes()).writeZero(3);
        out.writeShort(0x7ABC).writeShort(0);
        out.setShort(StunHeader.MESSAGE_LENGTH_OFFSET, out.readableBytes() + 8 - StunHeader.HEADER_LENGTH);
        StunCrypto crypto = new StunCrypto();
        int crc = crypto.fingerprint(out, 0, out.writerIndex());
        out.writeShort(StunAttributeType.FINGERPRINT).writeShort(4).writeInt(crc);

        assertEquals(StunParseResult.OK, reader.wrap(out),
            "an unknown comprehension-required attribute after MESSAGE-INTEGRITY is ignored, not reported");
        assertEquals("before", reader.findString(StunAttributeType.SOFTWARE), "the first SOFTWARE is seen");
        List<Integer> seen = new ArrayList<>();
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            seen.add(reader.attributeType(at));
        }
        assertEquals(List.of(StunAttributeType.SOFTWARE, StunAttributeType.MESSAGE_INTEGRITY, StunAttributeType.FINGERPRINT),
            seen, "visible attributes");
        assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm("k")),
            "MESSAGE-INTEGRITY covers only what precedes it");
    }

    @Test
    void unknownComprehensionRequiredAttributesAreReportedAndOptionalOnesIgnored() {
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_REQUEST, ID)
            .addBytes(0x7F01, new byte[] {1})
            .addBytes(0xFF01, new byte[] {2})
            .addBytes(0x0042, new byte[0])
            .addFingerprint()
            .finish();
        assertEquals(StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED, reader.wrap(out), "unknown 0x7F01 and 0x0042");
        assertEquals(2, reader.unknownComprehensionRequiredCount(), "0xFF01 is comprehension-optional");
        assertEquals(0x7F01, reader.unknownComprehensionRequired(0), "first unknown");
        assertEquals(0x0042, reader.unknownComprehensionRequired(1), "second unknown");
        assertEquals(ID, reader.transactionId(), "the header stays readable for the 420 answer");

        StunReader extended = new StunReader(t -> StunAttributeType.isKnownComprehensionRequired(t) || t == 0x7F01 || t == 0x0042);
        assertEquals(StunParseResult.OK, extended.wrap(out), "a reader told about the types accepts them");
    }

    @Test
    void duplicateAttributesResolveToTheFirst() {
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_REQUEST, ID)
            .addString(StunAttributeType.SOFTWARE, "first")
            .addString(StunAttributeType.SOFTWARE, "second")
            .finish();
        assertEquals(StunParseResult.OK, reader.wrap(out), "parses");
        assertEquals("first", reader.findString(StunAttributeType.SOFTWARE), "RFC 8489 §14: first occurrence counts");
    }

    @Test
    void writerRefusesAttributesAfterFingerprintAndIntegrityOutOfOrder() {
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_REQUEST, ID).addFingerprint();
        assertThrows(IllegalStateException.class, () -> writer.addString(StunAttributeType.SOFTWARE, "x"),
            "nothing after FINGERPRINT");
        assertThrows(IllegalStateException.class, () -> writer.addMessageIntegrity(StunKey.shortTerm("k")),
            "MESSAGE-INTEGRITY after FINGERPRINT");
        writer.begin(out.clear(), StunMessageType.BINDING_REQUEST, ID).addMessageIntegrity(StunKey.shortTerm("k"));
        assertThrows(IllegalStateException.class, () -> writer.addUInt32(StunAttributeType.PRIORITY, 1),
            "plain attribute after MESSAGE-INTEGRITY");
        assertThrows(IllegalArgumentException.class, () -> writer.begin(out.clear(), StunMessageType.BINDING_REQUEST, ID)
            .addString(StunAttributeType.USERNAME, "u".repeat(513)), "USERNAME over 512 bytes");
        assertThrows(IllegalArgumentException.class, () -> writer.addErrorCode(200, "OK"), "error codes start at 300");
    }

    @Test
    void looksLikeStunAcceptsStunAndRejectsOtherFirstBytes() {
        ByteBuf stun = Unpooled.wrappedBuffer(Rfc5769VectorsTest.SAMPLE_REQUEST);
        assertTrue(StunHeader.looksLikeStun(stun), "RFC 5769 request");
        byte[] transport = Rfc5769VectorsTest.SAMPLE_REQUEST.clone();
        transport[0] = (byte) 0x80;
        assertFalse(StunHeader.looksLikeStun(Unpooled.wrappedBuffer(transport)), "first byte 128 is a transport packet");
        assertFalse(StunHeader.looksLikeStun(Unpooled.wrappedBuffer(new byte[3])), "three bytes");
        assertFalse(StunHeader.looksLikeStun(stun.slice(0, 40)), "length field disagrees with datagram");
    }

    @Test
    void shortTermKeyOfAsciiIsThePasswordBytesAndNonAsciiSpacesMapToSpace() {
        assertArrayEquals("VOkJxbRl1RmTxUk/WvJxBt".getBytes(), StunKey.shortTerm("VOkJxbRl1RmTxUk/WvJxBt").bytes(),
            "printable ASCII is used unchanged");
        assertEquals("a b", StunKey.prepare("a\u00A0b"), "NO-BREAK SPACE maps to U+0020 (RFC 8265 §4.2)");
        assertEquals("\u00E9", StunKey.prepare("e\u0301"), "NFC composes e + combining acute");
        assertThrows(IllegalArgumentException.class, () -> StunKey.prepare("a\u0007b"), "control characters are rejected");
        assertThrows(IllegalArgumentException.class, () -> StunKey.prepare(""), "empty credentials are rejected");
        assertEquals("StunKey[2 bytes]", StunKey.shortTerm("pw").toString(), "toString never shows key material");
    }

    @Test
    void seededRandomMessagesRoundTrip() throws Exception {
        long seed = Long.getLong("pinhole.seed", 0x57A4L);
        SplittableRandom random = new SplittableRandom(seed);
        int scenarios = Integer.getInteger("pinhole.scenarios", 1000);
        ByteBuf out = Unpooled.buffer();
        for (int i = 0; i < scenarios; i++) {
            out.clear();
            TransactionId id = TransactionId.random(random);
            int method = random.nextInt(StunMessageType.MAX_METHOD + 1);
            StunClass messageClass = StunClass.values()[random.nextInt(4)];
            byte[] ip = new byte[random.nextBoolean() ? 4 : 16];
            random.nextBytes(ip);
            InetSocketAddress address = new InetSocketAddress(InetAddress.getByAddress(ip), random.nextInt(65536));
            byte[] custom = new byte[random.nextInt(40)];
            random.nextBytes(custom);
            StunKey key = StunKey.ofBytes(new byte[] {(byte) random.nextInt(), 1});
            writer.paddingByte(random.nextInt(256))
                .begin(out, StunMessageType.of(method, messageClass), id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address)
                .addBytes(0x8000 | random.nextInt(0x8000) | 0x4000, custom)
                .addMessageIntegrity(key)
                .addFingerprint()
                .finish();
            String context = "seed " + seed + " scenario " + i + ": " + Hex.of(out);
            assertEquals(StunParseResult.OK, reader.wrap(out), context);
            assertEquals(id, reader.transactionId(), context);
            assertEquals(method, reader.method(), context);
            assertEquals(messageClass, reader.messageClass(), context);
            assertEquals(address, reader.xorMappedAddress(), context);
            assertEquals(StunParseResult.OK, reader.verifyIntegrity(key), context);
        }
    }
}
