package dev.pinhole.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The test vectors of RFC 5769 ("Test Vectors for STUN", April 2010), typed in from the RFC's
 * text. Each is parsed, authenticated, its addresses decoded, and rebuilt byte for byte by
 * {@link StunWriter} (the vectors of §2.1–§2.3 pad with 0x20, which the writer can be told to do).
 */
class Rfc5769VectorsTest {
    /** §2.1–§2.3: the short-term password. */
    static final String PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";
    static final TransactionId VECTOR_ID = TransactionId.fromBytes(Hex.bytes("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"), 0);

    /** §2.1 Sample Request: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT. */
    static final byte[] SAMPLE_REQUEST = Hex.bytes("""
        00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
        00 24 00 04 6e 00 01 ff
        80 29 00 08 93 2f f9 b1 51 26 3b 36
        00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
        00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
        80 28 00 04 e5 7a 3b cf
        """);

    /** §2.2 Sample IPv4 Response: XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
    static final byte[] IPV4_RESPONSE = Hex.bytes("""
        01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 08 00 01 a1 47 e1 12 a6 43
        00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
        80 28 00 04 c0 7d 4c 96
        """);

    /** §2.3 Sample IPv6 Response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
    static final byte[] IPV6_RESPONSE = Hex.bytes("""
        01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
        80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
        00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
        00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
        80 28 00 04 c8 fb 0b 4c
        """);

    /** §2.4 Sample Request with Long-Term Authentication: USERNAME, NONCE, REALM, MESSAGE-INTEGRITY. */
    static final byte[] LONG_TERM_REQUEST = Hex.bytes("""
        00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
        00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
        00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
        00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
        00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66
        """);
    /** §2.4: the username is six katakana characters, U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9. */
    static final String LONG_TERM_USERNAME = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
    /** §2.4: "TheMatrIX" is the SASLprep'd form of the password the RFC lists. */
    static final String LONG_TERM_PASSWORD = "TheMatrIX";
    static final String LONG_TERM_REALM = "example.org";
    static final String LONG_TERM_NONCE = "f//499k954d6OL34oL9FSTvy64sA";

    private final StunReader reader = new StunReader();
    private final StunWriter writer = new StunWriter();

    @Test
    void sampleRequestParsesAndAuthenticatesWithTheShortTermPassword() {
        ByteBuf buf = Unpooled.wrappedBuffer(SAMPLE_REQUEST);
        assertEquals(StunParseResult.OK, reader.wrap(buf), "RFC 5769 §2.1 must parse, FINGERPRINT included");
        assertEquals(StunMessageType.BINDING_REQUEST, reader.messageType(), "message type");
        assertEquals(StunClass.REQUEST, reader.messageClass(), "class");
        assertEquals(VECTOR_ID, reader.transactionId(), "transaction id");
        assertEquals("STUN test client", reader.findString(StunAttributeType.SOFTWARE), "SOFTWARE");
        assertEquals("evtj:h6vY", reader.findString(StunAttributeType.USERNAME), "USERNAME");
        assertEquals(0x6e0001ffL, reader.uint32(reader.findAttribute(StunAttributeType.PRIORITY)), "PRIORITY");
        assertEquals(0x932ff9b151263b36L, reader.uint64(reader.findAttribute(StunAttributeType.ICE_CONTROLLED)),
            "ICE-CONTROLLED tie-breaker");
        assertTrue(reader.hasFingerprint(), "FINGERPRINT present and checked by wrap()");
        assertEquals(StunParseResult.OK, reader.verifyIntegrity(StunKey.shortTerm(PASSWORD)), "MESSAGE-INTEGRITY");
        assertEquals(StunParseResult.BAD_INTEGRITY, reader.verifyIntegrity(StunKey.shortTerm("VOkJxbRl1RmTxUk/WvJxBu")),
            "a password differing in its last character must not authenticate");
    }

    @Test
    void ipv4ResponseCarriesXorMappedAddress192_0_2_1Port32853() throws Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(IPV4_RESPONSE);
        assertEquals(StunParseResult.OK, reader.wrap(buf), "RFC 5769 §2.2 must parse");
        assertEquals(StunMessageType.BINDING_SUCCESS_RESPONSE, reader.messageType(), "message type");
        assertEquals("test vector", reader.findString(StunAttributeType.SOFTWARE), "SOFTWARE");
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853), reader.xorMappedAddress(),
            "XOR-MAPPED-ADDRESS");
        assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm(PASSWORD)), "MESSAGE-INTEGRITY");
    }

    @Test
    void ipv6ResponseCarriesXorMappedAddressInDocumentationPrefix() throws Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(IPV6_RESPONSE);
        assertEquals(StunParseResult.OK, reader.wrap(buf), "RFC 5769 §2.3 must parse");
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853),
            reader.xorMappedAddress(), "XOR-MAPPED-ADDRESS");
        assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm(PASSWORD)), "MESSAGE-INTEGRITY");
    }

    @Test
    void longTermRequestAuthenticatesWithMd5OfUsernameRealmPassword() {
        ByteBuf buf = Unpooled.wrappedBuffer(LONG_TERM_REQUEST);
        assertEquals(StunParseResult.OK, reader.wrap(buf), "RFC 5769 §2.4 must parse");
        assertFalse(reader.hasFingerprint(), "§2.4 has no FINGERPRINT");
        assertEquals(LONG_TERM_USERNAME, reader.findString(StunAttributeType.USERNAME), "USERNAME");
        assertEquals(LONG_TERM_NONCE, reader.findString(StunAttributeType.NONCE), "NONCE");
        assertEquals(LONG_TERM_REALM, reader.findString(StunAttributeType.REALM), "REALM");
        StunKey key = StunKey.longTerm(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
        assertEquals(16, key.length(), "an MD5 key has 16 bytes");
        assertEquals(StunParseResult.OK, reader.verifyIntegrity(key), "MESSAGE-INTEGRITY under the long-term key");
        assertEquals(StunParseResult.BAD_INTEGRITY,
            reader.verifyIntegrity(StunKey.longTerm(LONG_TERM_USERNAME, LONG_TERM_REALM, "thematrix")),
            "the password is case-sensitive");
        assertEquals(StunParseResult.BAD_INTEGRITY, reader.verifyIntegrity(StunKey.shortTerm(LONG_TERM_PASSWORD)),
            "the bare password is the short-term key, not the long-term one");
    }

    @Test
    void sampleRequestIsRebuiltByteForByte() {
        assertRebuilt(SAMPLE_REQUEST, 0x20, out -> writer.begin(out, StunMessageType.BINDING_REQUEST, VECTOR_ID)
            .addString(StunAttributeType.SOFTWARE, "STUN test client")
            .addUInt32(StunAttributeType.PRIORITY, 0x6e0001ff)
            .addUInt64(StunAttributeType.ICE_CONTROLLED, 0x932ff9b151263b36L)
            .addString(StunAttributeType.USERNAME, "evtj:h6vY")
            .addMessageIntegrity(StunKey.shortTerm(PASSWORD))
            .addFingerprint()
            .finish());
    }

    @Test
    void ipv4ResponseIsRebuiltByteForByte() throws Exception {
        InetSocketAddress mapped = new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853);
        assertRebuilt(IPV4_RESPONSE, 0x20, out -> writer.begin(out, StunMessageType.BINDING_SUCCESS_RESPONSE, VECTOR_ID)
            .addString(StunAttributeType.SOFTWARE, "test vector")
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, mapped)
            .addMessageIntegrity(StunKey.shortTerm(PASSWORD))
            .addFingerprint()
            .finish());
    }

    @Test
    void ipv6ResponseIsRebuiltByteForByte() throws Exception {
        InetSocketAddress mapped = new InetSocketAddress(InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853);
        assertRebuilt(IPV6_RESPONSE, 0x20, out -> writer.begin(out, StunMessageType.BINDING_SUCCESS_RESPONSE, VECTOR_ID)
            .addString(StunAttributeType.SOFTWARE, "test vector")
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, mapped)
            .addMessageIntegrity(StunKey.shortTerm(PASSWORD))
            .addFingerprint()
            .finish());
    }

    @Test
    void longTermRequestIsRebuiltByteForByte() {
        TransactionId id = TransactionId.fromBytes(Hex.bytes("78 ad 34 33 c6 ad 72 c0 29 da 41 2e"), 0);
        StunKey key = StunKey.longTerm(LONG_TERM_USERNAME, LONG_TERM_REALM, LONG_TERM_PASSWORD);
        assertRebuilt(LONG_TERM_REQUEST, 0x00, out -> writer.begin(out, StunMessageType.BINDING_REQUEST, id)
            .addString(StunAttributeType.USERNAME, LONG_TERM_USERNAME)
            .addString(StunAttributeType.NONCE, LONG_TERM_NONCE)
            .addString(StunAttributeType.REALM, LONG_TERM_REALM)
            .addMessageIntegrity(key)
            .finish());
    }

    @Test
    void vectorsVerifyInDirectAndCompositeBuffers() {
        // Direct buffers take the NIO path of the HMAC and CRC, composite ones the copying path.
        for (byte[] vector : new byte[][] {SAMPLE_REQUEST, IPV4_RESPONSE, IPV6_RESPONSE}) {
            ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(vector.length + 8);
            CompositeByteBuf composite = Unpooled.compositeBuffer();
            try {
                direct.writeZero(8).writeBytes(vector);
                assertEquals(StunParseResult.OK, reader.wrap(direct, 8, vector.length), "direct buffer at offset 8");
                assertEquals(StunParseResult.OK, reader.verifyIntegrity(StunKey.shortTerm(PASSWORD)), "direct buffer HMAC");
                int half = vector.length / 2;
                composite.addComponents(true, Unpooled.wrappedBuffer(vector, 0, half),
                    Unpooled.wrappedBuffer(vector, half, vector.length - half));
                assertEquals(StunParseResult.OK, reader.wrap(composite), "composite buffer");
                assertEquals(StunParseResult.OK, reader.verifyIntegrity(StunKey.shortTerm(PASSWORD)), "composite buffer HMAC");
            } finally {
                direct.release();
                composite.release();
            }
        }
    }

    private void assertRebuilt(byte[] expected, int paddingByte, Function<ByteBuf, Integer> build) {
        ByteBuf out = PooledByteBufAllocator.DEFAULT.buffer(128);
        try {
            writer.paddingByte(paddingByte);
            int length = build.apply(out);
            assertEquals(expected.length, length, "rebuilt length");
            assertArrayEquals(expected, ByteBufUtil.getBytes(out),
                () -> "expected " + Hex.of(expected) + "\n but got " + Hex.of(out));
        } finally {
            out.release();
        }
    }
}
