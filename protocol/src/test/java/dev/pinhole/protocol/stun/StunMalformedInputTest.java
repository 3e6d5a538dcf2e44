package dev.pinhole.protocol.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input is normal input: truncations, byte flips, random attribute soups and hand-made
 * violations of every rule. The parser must answer with a {@link StunParseResult}, never throw
 * (the only exception allowed anywhere is {@link StunParseException} from a getter asked for a
 * number the value is too short to hold), and never read outside the message: every buffer here
 * is exactly as large as the message, so an out-of-bounds read would throw.
 */
class StunMalformedInputTest {
    private static final StunKey KEY = StunKey.shortTerm(Rfc5769VectorsTest.PASSWORD);
    private static final List<byte[]> VALID = new ArrayList<>();

    private final StunReader reader = new StunReader();
    private final byte[] scratch = new byte[0x10000];

    @BeforeAll
    static void buildValidMessages() throws Exception {
        VALID.add(Rfc5769VectorsTest.SAMPLE_REQUEST);
        VALID.add(Rfc5769VectorsTest.IPV4_RESPONSE);
        VALID.add(Rfc5769VectorsTest.IPV6_RESPONSE);
        VALID.add(Rfc5769VectorsTest.LONG_TERM_REQUEST);
        // Without FINGERPRINT, so flipped bytes reach the attribute validators instead of the CRC.
        StunWriter writer = new StunWriter();
        ByteBuf out = Unpooled.buffer();
        writer.begin(out, StunMessageType.BINDING_ERROR_RESPONSE, new TransactionId(7, 9))
            .addErrorCode(420, "Unknown Attribute")
            .addUnknownAttributes(new int[] {0x0042}, 1)
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS,
                new InetSocketAddress(InetAddress.getByName("2001:db8::5"), 5))
            .addAddress(StunAttributeType.OTHER_ADDRESS, new InetSocketAddress(InetAddress.getByName("192.0.2.9"), 9))
            .addChangeRequest(true, true)
            .addUInt32(StunAttributeType.PRIORITY, 1)
            .addUInt64(StunAttributeType.ICE_CONTROLLING, 2)
            .addEmpty(StunAttributeType.USE_CANDIDATE)
            .addString(StunAttributeType.REALM, "r")
            .addMessageIntegrity(KEY)
            .addMessageIntegritySha256(KEY)
            .finish();
        VALID.add(ByteBufUtil.getBytes(out));
    }

    @Test
    void everyTruncationIsRejected() {
        for (byte[] message : VALID) {
            for (int n = 0; n < message.length; n++) {
                StunParseResult result = parse(message, n, "truncation to " + n + " of " + Hex.of(message));
                assertNotEquals(StunParseResult.OK, result, "a message cut to " + n + " bytes: " + Hex.of(message));
            }
        }
    }

    @Test
    void everyTruncationWithItsLengthFieldPatchedParsesOrIsRejectedCleanly() {
        for (byte[] message : VALID) {
            for (int n = StunHeader.HEADER_LENGTH; n < message.length; n += 4) {
                byte[] cut = java.util.Arrays.copyOf(message, n);
                int body = n - StunHeader.HEADER_LENGTH;
                cut[StunHeader.MESSAGE_LENGTH_OFFSET] = (byte) (body >>> 8);
                cut[StunHeader.MESSAGE_LENGTH_OFFSET + 1] = (byte) body;
                parse(cut, cut.length, "patched truncation to " + n + " of " + Hex.of(message));
            }
        }
    }

    @Test
    void randomByteFlipsNeverEscapeAsExceptions() {
        long seed = Long.getLong("pinhole.seed", 0xF11BL);
        SplittableRandom random = new SplittableRandom(seed);
        int scenarios = 20 * Integer.getInteger("pinhole.scenarios", 1000);
        Map<StunParseResult, Integer> outcomes = new EnumMap<>(StunParseResult.class);
        for (int i = 0; i < scenarios; i++) {
            byte[] message = VALID.get(random.nextInt(VALID.size())).clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                // Half of the flips land in the attributes, where the interesting checks are.
                int position = random.nextBoolean() ? random.nextInt(message.length)
                    : StunHeader.HEADER_LENGTH + random.nextInt(message.length - StunHeader.HEADER_LENGTH);
                message[position] ^= (byte) (1 + random.nextInt(255));
            }
            StunParseResult result = parse(message, message.length, "seed " + seed + " scenario " + i);
            outcomes.merge(result, 1, Integer::sum);
        }
        // The battery is only worth something if it reaches the deep checks, not just the cookie.
        for (StunParseResult expected : new StunParseResult[] {StunParseResult.BAD_MAGIC_COOKIE,
            StunParseResult.ATTRIBUTE_OVERRUN, StunParseResult.BAD_ATTRIBUTE_VALUE, StunParseResult.BAD_FINGERPRINT,
            StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED, StunParseResult.OK}) {
            if (!outcomes.containsKey(expected)) {
                fail("seed " + seed + ": no flipped message ended in " + expected + "; outcomes " + outcomes);
            }
        }
    }

    @Test
    void randomAttributeSoupsNeverEscapeAsExceptions() {
        long seed = Long.getLong("pinhole.seed", 0x50FAL);
        SplittableRandom random = new SplittableRandom(seed);
        int[] types = {StunAttributeType.MAPPED_ADDRESS, StunAttributeType.XOR_MAPPED_ADDRESS, StunAttributeType.USERNAME,
            StunAttributeType.MESSAGE_INTEGRITY, StunAttributeType.MESSAGE_INTEGRITY_SHA256, StunAttributeType.FINGERPRINT,
            StunAttributeType.ERROR_CODE, StunAttributeType.UNKNOWN_ATTRIBUTES, StunAttributeType.CHANGE_REQUEST,
            StunAttributeType.OTHER_ADDRESS, StunAttributeType.PRIORITY, StunAttributeType.ICE_CONTROLLING,
            StunAttributeType.USE_CANDIDATE, StunAttributeType.EVEN_PORT, StunAttributeType.SOFTWARE, 0x7777, 0xC0DE};
        int scenarios = 20 * Integer.getInteger("pinhole.scenarios", 1000);
        for (int i = 0; i < scenarios; i++) {
            ByteBuf out = Unpooled.buffer();
            out.writeShort(random.nextInt(0x4000)).writeShort(0).writeInt(StunHeader.MAGIC_COOKIE)
                .writeLong(random.nextLong()).writeInt(random.nextInt());
            int count = random.nextInt(8);
            for (int a = 0; a < count; a++) {
                int type = types[random.nextInt(types.length)];
                int length = random.nextInt(4) == 0 ? random.nextInt(40) : fittingLength(type, random);
                out.writeShort(type).writeShort(length);
                byte[] value = new byte[StunHeader.padded(length)];
                random.nextBytes(value);
                if (StunAttributeType.isAddress(type) && value.length > 1) {
                    value[1] = (byte) (1 + random.nextInt(2));
                }
                out.writeBytes(value);
            }
            if (random.nextInt(8) == 0) {
                // Leave the length field wrong now and then.
                out.setShort(StunHeader.MESSAGE_LENGTH_OFFSET, random.nextInt(0x10000));
            } else {
                out.setShort(StunHeader.MESSAGE_LENGTH_OFFSET, out.readableBytes() - StunHeader.HEADER_LENGTH);
            }
            byte[] message = ByteBufUtil.getBytes(out);
            parse(message, message.length, "seed " + seed + " scenario " + i);
        }
    }

    private static int fittingLength(int type, SplittableRandom random) {
        return switch (type) {
            case StunAttributeType.MAPPED_ADDRESS, StunAttributeType.XOR_MAPPED_ADDRESS, StunAttributeType.OTHER_ADDRESS ->
                random.nextBoolean() ? 8 : 20;
            case StunAttributeType.MESSAGE_INTEGRITY -> 20;
            case StunAttributeType.MESSAGE_INTEGRITY_SHA256 -> 32;
            case StunAttributeType.FINGERPRINT, StunAttributeType.CHANGE_REQUEST, StunAttributeType.PRIORITY -> 4;
            case StunAttributeType.ICE_CONTROLLING -> 8;
            case StunAttributeType.USE_CANDIDATE -> 0;
            case StunAttributeType.EVEN_PORT -> 1;
            default -> random.nextInt(24);
        };
    }

    @Test
    void badMagicCookieIsRejected() {
        byte[] message = Rfc5769VectorsTest.SAMPLE_REQUEST.clone();
        message[StunHeader.MAGIC_COOKIE_OFFSET + 3] ^= 1;
        assertEquals(StunParseResult.BAD_MAGIC_COOKIE, parse(message, message.length, "bad cookie"), "cookie 0x2112A443");
    }

    @Test
    void topBitsSetIsNotStun() {
        byte[] message = Rfc5769VectorsTest.SAMPLE_REQUEST.clone();
        message[0] |= 0x40;
        assertEquals(StunParseResult.NOT_STUN, parse(message, message.length, "top bits"), "first byte 0x40");
    }

    @Test
    void lengthNotAMultipleOfFourIsRejected() {
        byte[] message = Rfc5769VectorsTest.SAMPLE_REQUEST.clone();
        message[StunHeader.MESSAGE_LENGTH_OFFSET + 1] = 0x57;
        assertEquals(StunParseResult.LENGTH_NOT_MULTIPLE_OF_4, parse(message, message.length, "length 0x57"),
            "length 0x57");
    }

    @Test
    void lengthBeyondTheDatagramAndTrailingBytesAreRejected() {
        byte[] longer = Rfc5769VectorsTest.SAMPLE_REQUEST.clone();
        longer[StunHeader.MESSAGE_LENGTH_OFFSET + 1] = 0x5C;
        assertEquals(StunParseResult.LENGTH_MISMATCH, parse(longer, longer.length, "length past end"),
            "Message Length 0x5C in a datagram with 0x58 bytes of attributes");
        byte[] trailing = java.util.Arrays.copyOf(Rfc5769VectorsTest.SAMPLE_REQUEST,
            Rfc5769VectorsTest.SAMPLE_REQUEST.length + 4);
        assertEquals(StunParseResult.LENGTH_MISMATCH, parse(trailing, trailing.length, "trailing bytes"),
            "four bytes after the message in the datagram");
    }

    @Test
    void attributeLengthBeyondTheMessageIsAnOverrun() {
        byte[] message = Rfc5769VectorsTest.LONG_TERM_REQUEST.clone();
        // USERNAME is the first attribute: claim 0x0100 bytes.
        message[StunHeader.HEADER_LENGTH + 2] = 0x01;
        assertEquals(StunParseResult.ATTRIBUTE_OVERRUN, parse(message, message.length, "overrun"), "USERNAME length 0x0112");
    }

    @Test
    void wrongFingerprintIsRejected() {
        byte[] message = Rfc5769VectorsTest.IPV4_RESPONSE.clone();
        message[message.length - 1] ^= 0x01;
        assertEquals(StunParseResult.BAD_FINGERPRINT, parse(message, message.length, "fingerprint"), "last CRC bit flipped");
        byte[] body = Rfc5769VectorsTest.IPV4_RESPONSE.clone();
        body[StunHeader.HEADER_LENGTH + 5] ^= 0x20;
        assertEquals(StunParseResult.BAD_FINGERPRINT, parse(body, body.length, "fingerprint body"),
            "SOFTWARE text changed under the CRC");
    }

    @Test
    void wrongIntegrityKeyAndAlteredMessageFailAuthentication() {
        ByteBuf buf = Unpooled.wrappedBuffer(Rfc5769VectorsTest.LONG_TERM_REQUEST.clone());
        assertEquals(StunParseResult.OK, reader.wrap(buf), "vector parses");
        assertEquals(StunParseResult.BAD_INTEGRITY, reader.verifyIntegrity(StunKey.longTerm(
            Rfc5769VectorsTest.LONG_TERM_USERNAME, "example.com", Rfc5769VectorsTest.LONG_TERM_PASSWORD)), "another realm");
        // Change one NONCE character: still well-formed (no FINGERPRINT), but no longer authentic.
        buf.setByte(StunHeader.HEADER_LENGTH + 24 + 4, 'g');
        assertEquals(StunParseResult.OK, reader.wrap(buf), "altered message still parses");
        assertEquals(StunParseResult.BAD_INTEGRITY, reader.verifyIntegrity(StunKey.longTerm(
            Rfc5769VectorsTest.LONG_TERM_USERNAME, Rfc5769VectorsTest.LONG_TERM_REALM,
            Rfc5769VectorsTest.LONG_TERM_PASSWORD)), "altered NONCE");
        ByteBuf plain = Unpooled.buffer();
        new StunWriter().begin(plain, StunMessageType.BINDING_REQUEST, new TransactionId(1, 2)).finish();
        assertEquals(StunParseResult.OK, reader.wrap(plain), "header-only message");
        assertEquals(StunParseResult.INTEGRITY_MISSING, reader.verifyIntegrity(KEY), "no MESSAGE-INTEGRITY");
    }

    @Test
    void fingerprintFollowedByAnotherAttributeIsRejected() {
        ByteBuf out = Unpooled.buffer();
        new StunWriter().begin(out, StunMessageType.BINDING_REQUEST, new TransactionId(1, 2)).addFingerprint().finish();
        out.writeShort(StunAttributeType.SOFTWARE).writeShort(0);
        out.setShort(StunHeader.MESSAGE_LENGTH_OFFSET, out.readableBytes() - StunHeader.HEADER_LENGTH);
        byte[] message = ByteBufUtil.getBytes(out);
        assertEquals(StunParseResult.FINGERPRINT_NOT_LAST, parse(message, message.length, "fp not last"),
            "SOFTWARE after FINGERPRINT");
    }

    @Test
    void impossibleValuesOfKnownAttributesAreRejected() {
        assertBadValue(StunAttributeType.XOR_MAPPED_ADDRESS, Hex.bytes("00 03 00 01 01 02 03 04"), "address family 3");
        assertBadValue(StunAttributeType.MAPPED_ADDRESS, Hex.bytes("00 02 00 01 01 02 03 04"), "IPv6 family, 4-byte address");
        assertBadValue(StunAttributeType.ERROR_CODE, Hex.bytes("00 00 07 00"), "error class 7");
        assertBadValue(StunAttributeType.ERROR_CODE, Hex.bytes("00 00 04 64"), "error number 100");
        assertBadValue(StunAttributeType.ERROR_CODE, Hex.bytes("00 00 04"), "ERROR-CODE shorter than 4");
        assertBadValue(StunAttributeType.MESSAGE_INTEGRITY, new byte[16], "MESSAGE-INTEGRITY of 16 bytes");
        assertBadValue(StunAttributeType.MESSAGE_INTEGRITY_SHA256, new byte[12], "MESSAGE-INTEGRITY-SHA256 of 12 bytes");
        assertBadValue(StunAttributeType.FINGERPRINT, new byte[8], "FINGERPRINT of 8 bytes");
        assertBadValue(StunAttributeType.PRIORITY, new byte[2], "PRIORITY of 2 bytes");
        assertBadValue(StunAttributeType.USE_CANDIDATE, new byte[4], "USE-CANDIDATE with a value");
        assertBadValue(StunAttributeType.USERNAME, new byte[513], "USERNAME of 513 bytes");
        assertBadValue(StunAttributeType.SOFTWARE, new byte[764], "SOFTWARE of 764 bytes");
        assertBadValue(StunAttributeType.UNKNOWN_ATTRIBUTES, new byte[3], "UNKNOWN-ATTRIBUTES of odd length");
    }

    private void assertBadValue(int type, byte[] value, String what) {
        ByteBuf out = Unpooled.buffer();
        new StunWriter().begin(out, StunMessageType.BINDING_REQUEST, new TransactionId(3, 4)).addBytes(type, value).finish();
        byte[] message = ByteBufUtil.getBytes(out);
        assertEquals(StunParseResult.BAD_ATTRIBUTE_VALUE, parse(message, message.length, what), what);
    }

    /**
     * Parses {@code message[0, length)} from a buffer of exactly that capacity and, when it parses,
     * reads every attribute every way the API allows. Fails the test with {@code context} if anything
     * but {@link StunParseException} is thrown.
     */
    private StunParseResult parse(byte[] message, int length, String context) {
        ByteBuf exact = Unpooled.wrappedBuffer(message, 0, length);
        try {
            StunParseResult result = reader.wrap(exact);
            if (result == StunParseResult.OK || result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
                readEverything();
            }
            return result;
        } catch (RuntimeException e) {
            throw new AssertionError(context + ": " + Hex.of(exact) + " threw " + e, e);
        }
    }

    private void readEverything() {
        reader.transactionId();
        reader.messageClass();
        reader.errorCode();
        reader.errorReason();
        reader.changeRequestFlags();
        reader.xorMappedAddress();
        reader.verifyIntegrity(KEY);
        reader.verifyMessageIntegrity(KEY);
        reader.toString();
        for (int i = 0; i < Math.min(reader.unknownComprehensionRequiredCount(), StunReader.MAX_UNKNOWN_RECORDED); i++) {
            reader.unknownComprehensionRequired(i);
        }
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            reader.attributeType(at);
            reader.copyAttributeValue(at, scratch, 0);
            reader.string(at);
            reader.xorAddress(at);
            reader.plainAddress(at);
            reader.attributeValue(at);
            try {
                reader.uint32(at);
                reader.uint64(at);
            } catch (StunParseException expected) {
                // The one typed error a getter may raise: value too short for the number asked for.
            }
        }
    }
}
