package dev.pinhole.protocol.stun;

import static dev.pinhole.protocol.stun.StunAttributeType.FAMILY_IPV4;
import static dev.pinhole.protocol.stun.StunAttributeType.FAMILY_IPV6;
import static dev.pinhole.protocol.stun.StunHeader.ATTRIBUTE_HEADER_LENGTH;
import static dev.pinhole.protocol.stun.StunHeader.HEADER_LENGTH;
import static dev.pinhole.protocol.stun.StunHeader.MAGIC_COOKIE;
import static dev.pinhole.protocol.stun.StunHeader.MAGIC_COOKIE_OFFSET;
import static dev.pinhole.protocol.stun.StunHeader.MESSAGE_LENGTH_OFFSET;
import static dev.pinhole.protocol.stun.StunHeader.MESSAGE_TYPE_OFFSET;
import static dev.pinhole.protocol.stun.StunHeader.TRANSACTION_ID_OFFSET;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.function.IntPredicate;

/**
 * A reusable flyweight that validates one STUN message in a {@link ByteBuf} and reads it in place
 * (RFC 8489; layout in {@link StunHeader}).
 *
 * <p>{@link #wrap(ByteBuf, int, int)} checks everything once and returns a
 * {@link StunParseResult}: header (top bits, magic cookie, length a multiple of 4 and equal to
 * the datagram), every attribute's bounds, the lengths and values of the attributes this codec
 * knows, the position and value of FINGERPRINT, and unknown comprehension-required attributes.
 * It never throws for any input and never reads outside {@code [index, index + length)}, so the
 * getters that follow need no checks of their own. Malformed input is a result, not an exception:
 * the event loop counts and drops it.
 *
 * <p>Attributes are addressed by a handle, the buffer index of their header:
 * <pre>{@code
 * for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
 *     switch (reader.attributeType(at)) { ... }
 * }
 * }</pre>
 * Following RFC 8489 §14.5 and §14.6, attributes after MESSAGE-INTEGRITY are not visited except
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT.
 * When an attribute type repeats, {@link #findAttribute} returns the first (RFC 8489 §14).
 *
 * <p>The reader holds no reference to the buffer's lifetime: it is valid while the buffer is (for
 * a received datagram, during the receive callback). Getters that return a {@link String} or
 * {@link InetSocketAddress} allocate; the rest do not. Confined to one thread.
 */
public final class StunReader {
    /** Returned by {@link #findAttribute} and {@link #nextAttribute} when there is no such attribute. */
    public static final int NO_ATTRIBUTE = -1;
    /** How many unknown comprehension-required types are remembered for a 420 response. */
    public static final int MAX_UNKNOWN_RECORDED = 16;

    private static final int IPV4_ADDRESS_VALUE_LENGTH = 8;
    private static final int IPV6_ADDRESS_VALUE_LENGTH = 20;
    private static final int ADDRESS_FAMILY_OFFSET = 1;
    private static final int ADDRESS_PORT_OFFSET = 2;
    private static final int ADDRESS_OFFSET = 4;
    private static final int ERROR_CLASS_OFFSET = 2;
    private static final int ERROR_NUMBER_OFFSET = 3;
    private static final int ERROR_REASON_OFFSET = 4;
    /** RFC 8489 §14.6: MESSAGE-INTEGRITY-SHA256 may be truncated, to no fewer than 16 bytes. */
    private static final int MIN_SHA256_LENGTH = 16;

    private final StunCrypto crypto = new StunCrypto();
    private final IntPredicate knownComprehensionRequired;
    private final int[] unknown = new int[MAX_UNKNOWN_RECORDED];
    private int unknownCount;

    private ByteBuf buffer;
    private int start;
    private int end;
    private int messageType;
    private int integrityAt;
    private int integritySha256At;
    private int fingerprintAt;
    private StunParseResult result = StunParseResult.TOO_SHORT;

    /** A reader that knows the attributes listed in {@link StunAttributeType}. */
    public StunReader() {
        this(StunAttributeType::isKnownComprehensionRequired);
    }

    /**
     * A reader that treats the comprehension-required types accepted by
     * {@code knownComprehensionRequired} as understood (extensions add theirs to the default set).
     */
    public StunReader(IntPredicate knownComprehensionRequired) {
        this.knownComprehensionRequired = knownComprehensionRequired;
    }

    /** Wraps the readable bytes of {@code datagram}. */
    public StunParseResult wrap(ByteBuf datagram) {
        return wrap(datagram, datagram.readerIndex(), datagram.readableBytes());
    }

    /**
     * Wraps and validates the message in {@code [index, index + length)} of {@code buffer}.
     *
     * @return {@link StunParseResult#OK}, or why the message is rejected. Getters may be used after
     *     OK and, for the header and {@link #unknownComprehensionRequired}, after
     *     {@link StunParseResult#UNKNOWN_COMPREHENSION_REQUIRED}.
     * @throws IndexOutOfBoundsException if the range is not inside the buffer's written bytes
     *     (a caller's bug, not bad input)
     */
    public StunParseResult wrap(ByteBuf buffer, int index, int length) {
        if (index < 0 || length < 0 || index > buffer.writerIndex() - length) {
            throw new IndexOutOfBoundsException(
                "range " + index + "+" + length + " is outside the written bytes of " + buffer);
        }
        this.buffer = buffer;
        this.start = index;
        this.end = index + length;
        this.messageType = 0;
        this.integrityAt = NO_ATTRIBUTE;
        this.integritySha256At = NO_ATTRIBUTE;
        this.fingerprintAt = NO_ATTRIBUTE;
        this.unknownCount = 0;
        this.result = validate();
        return result;
    }

    private StunParseResult validate() {
        if (end - start < HEADER_LENGTH) {
            return StunParseResult.TOO_SHORT;
        }
        if ((buffer.getUnsignedByte(start + MESSAGE_TYPE_OFFSET) & 0xC0) != 0) {
            return StunParseResult.NOT_STUN;
        }
        if (buffer.getInt(start + MAGIC_COOKIE_OFFSET) != MAGIC_COOKIE) {
            return StunParseResult.BAD_MAGIC_COOKIE;
        }
        int messageLength = buffer.getUnsignedShort(start + MESSAGE_LENGTH_OFFSET);
        if ((messageLength & 3) != 0) {
            return StunParseResult.LENGTH_NOT_MULTIPLE_OF_4;
        }
        if (messageLength != end - start - HEADER_LENGTH) {
            return StunParseResult.LENGTH_MISMATCH;
        }
        messageType = buffer.getUnsignedShort(start + MESSAGE_TYPE_OFFSET);
        int at = start + HEADER_LENGTH;
        while (at < end) {
            if (end - at < ATTRIBUTE_HEADER_LENGTH) {
                return StunParseResult.ATTRIBUTE_OVERRUN;
            }
            int type = buffer.getUnsignedShort(at);
            int valueLength = buffer.getUnsignedShort(at + StunHeader.ATTRIBUTE_LENGTH_OFFSET);
            int next = at + ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(valueLength);
            if (next > end) {
                return StunParseResult.ATTRIBUTE_OVERRUN;
            }
            if (fingerprintAt != NO_ATTRIBUTE) {
                return StunParseResult.FINGERPRINT_NOT_LAST;
            }
            if (type == StunAttributeType.FINGERPRINT) {
                if (valueLength != 4) {
                    return StunParseResult.BAD_ATTRIBUTE_VALUE;
                }
                fingerprintAt = at;
            } else if (integritySha256At != NO_ATTRIBUTE) {
                // RFC 8489 §14.6: ignored, except FINGERPRINT.
                at = next;
                continue;
            } else if (type == StunAttributeType.MESSAGE_INTEGRITY_SHA256) {
                if (valueLength < MIN_SHA256_LENGTH || valueLength > StunCrypto.HMAC_SHA256_LENGTH
                    || (valueLength & 3) != 0) {
                    return StunParseResult.BAD_ATTRIBUTE_VALUE;
                }
                integritySha256At = at;
            } else if (integrityAt != NO_ATTRIBUTE) {
                // RFC 8489 §14.5: ignored, except MESSAGE-INTEGRITY-SHA256 and FINGERPRINT.
                at = next;
                continue;
            } else if (type == StunAttributeType.MESSAGE_INTEGRITY) {
                if (valueLength != StunCrypto.HMAC_SHA1_LENGTH) {
                    return StunParseResult.BAD_ATTRIBUTE_VALUE;
                }
                integrityAt = at;
            } else {
                if (!validValue(type, at + ATTRIBUTE_HEADER_LENGTH, valueLength)) {
                    return StunParseResult.BAD_ATTRIBUTE_VALUE;
                }
                if (StunAttributeType.isComprehensionRequired(type) && !knownComprehensionRequired.test(type)) {
                    if (unknownCount < MAX_UNKNOWN_RECORDED) {
                        unknown[unknownCount] = type;
                    }
                    unknownCount++;
                }
            }
            at = next;
        }
        if (fingerprintAt != NO_ATTRIBUTE) {
            int carried = buffer.getInt(fingerprintAt + ATTRIBUTE_HEADER_LENGTH);
            if (carried != crypto.fingerprint(buffer, start, fingerprintAt)) {
                return StunParseResult.BAD_FINGERPRINT;
            }
        }
        return unknownCount > 0 ? StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED : StunParseResult.OK;
    }

    /** Length and value checks of the attributes whose format this codec knows. */
    private boolean validValue(int type, int value, int length) {
        if (StunAttributeType.isAddress(type)) {
            if (length != IPV4_ADDRESS_VALUE_LENGTH && length != IPV6_ADDRESS_VALUE_LENGTH) {
                return false;
            }
            int family = buffer.getUnsignedByte(value + ADDRESS_FAMILY_OFFSET);
            return (length == IPV4_ADDRESS_VALUE_LENGTH && family == FAMILY_IPV4)
                || (length == IPV6_ADDRESS_VALUE_LENGTH && family == FAMILY_IPV6);
        }
        return switch (type) {
            case StunAttributeType.ERROR_CODE -> {
                if (length < ERROR_REASON_OFFSET || length > ERROR_REASON_OFFSET + StunAttributeType.MAX_TEXT_BYTES) {
                    yield false;
                }
                // RFC 8489 §14.8: class 3 to 6, number 0 to 99.
                int errorClass = buffer.getUnsignedByte(value + ERROR_CLASS_OFFSET) & 0x07;
                int number = buffer.getUnsignedByte(value + ERROR_NUMBER_OFFSET);
                yield errorClass >= 3 && errorClass <= 6 && number <= 99;
            }
            case StunAttributeType.USERNAME -> length <= StunAttributeType.MAX_USERNAME_BYTES;
            case StunAttributeType.REALM, StunAttributeType.NONCE, StunAttributeType.SOFTWARE,
                StunAttributeType.ALTERNATE_DOMAIN -> length <= StunAttributeType.MAX_TEXT_BYTES;
            case StunAttributeType.UNKNOWN_ATTRIBUTES -> (length & 1) == 0;
            case StunAttributeType.PRIORITY, StunAttributeType.CHANGE_REQUEST, StunAttributeType.RESPONSE_PORT,
                StunAttributeType.LIFETIME, StunAttributeType.CHANNEL_NUMBER, StunAttributeType.REQUESTED_TRANSPORT,
                StunAttributeType.REQUESTED_ADDRESS_FAMILY, StunAttributeType.ADDITIONAL_ADDRESS_FAMILY -> length == 4;
            case StunAttributeType.ICE_CONTROLLED, StunAttributeType.ICE_CONTROLLING,
                StunAttributeType.RESERVATION_TOKEN -> length == 8;
            case StunAttributeType.USE_CANDIDATE, StunAttributeType.DONT_FRAGMENT -> length == 0;
            case StunAttributeType.EVEN_PORT -> length == 1;
            case StunAttributeType.USERHASH -> length == StunCrypto.HMAC_SHA256_LENGTH;
            case StunAttributeType.PASSWORD_ALGORITHM -> length >= 4;
            default -> true;
        };
    }

    /** The result of the last {@link #wrap}. */
    public StunParseResult result() {
        return result;
    }

    /** The buffer the reader wraps. */
    public ByteBuf buffer() {
        return buffer;
    }

    /** Buffer index of the first header byte. */
    public int messageStart() {
        return start;
    }

    /** Bytes of the whole message, header included. */
    public int messageLength() {
        return end - start;
    }

    /** The 14-bit message type (method and class). */
    public int messageType() {
        return messageType;
    }

    public int method() {
        return StunMessageType.method(messageType);
    }

    public StunClass messageClass() {
        return StunClass.ofMessageType(messageType);
    }

    /** First 64 bits of the transaction id. */
    public long transactionIdHigh() {
        return buffer.getLong(start + TRANSACTION_ID_OFFSET);
    }

    /** Last 32 bits of the transaction id. */
    public int transactionIdLow() {
        return buffer.getInt(start + TRANSACTION_ID_OFFSET + 8);
    }

    public TransactionId transactionId() {
        return new TransactionId(transactionIdHigh(), transactionIdLow());
    }

    public boolean hasTransactionId(TransactionId id) {
        return transactionIdHigh() == id.high() && transactionIdLow() == id.low();
    }

    /** How many unknown comprehension-required attribute types the message carries. */
    public int unknownComprehensionRequiredCount() {
        return unknownCount;
    }

    /** The {@code i}th unknown comprehension-required type, for {@code i < min(count, MAX_UNKNOWN_RECORDED)}. */
    public int unknownComprehensionRequired(int i) {
        if (i < 0 || i >= Math.min(unknownCount, MAX_UNKNOWN_RECORDED)) {
            throw new IndexOutOfBoundsException(i);
        }
        return unknown[i];
    }

    // ---- attribute iteration ------------------------------------------------------------------

    /** Handle of the first attribute, or {@link #NO_ATTRIBUTE}. */
    public int firstAttribute() {
        int first = start + HEADER_LENGTH;
        return first < end ? first : NO_ATTRIBUTE;
    }

    /** Handle of the attribute after {@code at} that RFC 8489 lets a receiver see, or {@link #NO_ATTRIBUTE}. */
    public int nextAttribute(int at) {
        int next = at + ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(attributeLength(at));
        if (next >= end) {
            return NO_ATTRIBUTE;
        }
        int firstProtection = integrityAt != NO_ATTRIBUTE ? integrityAt : integritySha256At;
        if (firstProtection != NO_ATTRIBUTE && next > firstProtection) {
            // Past the first integrity attribute: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count.
            if (integritySha256At > at) {
                return integritySha256At;
            }
            return fingerprintAt > at ? fingerprintAt : NO_ATTRIBUTE;
        }
        return next;
    }

    /** Handle of the first visible attribute of {@code type}, or {@link #NO_ATTRIBUTE}. */
    public int findAttribute(int type) {
        switch (type) {
            case StunAttributeType.MESSAGE_INTEGRITY:
                return integrityAt;
            case StunAttributeType.MESSAGE_INTEGRITY_SHA256:
                return integritySha256At;
            case StunAttributeType.FINGERPRINT:
                return fingerprintAt;
            default:
                break;
        }
        for (int at = firstAttribute(); at != NO_ATTRIBUTE; at = nextAttribute(at)) {
            if (attributeType(at) == type) {
                return at;
            }
        }
        return NO_ATTRIBUTE;
    }

    public boolean hasAttribute(int type) {
        return findAttribute(type) != NO_ATTRIBUTE;
    }

    public int attributeType(int at) {
        return buffer.getUnsignedShort(at + StunHeader.ATTRIBUTE_TYPE_OFFSET);
    }

    /** Value length before padding. */
    public int attributeLength(int at) {
        return buffer.getUnsignedShort(at + StunHeader.ATTRIBUTE_LENGTH_OFFSET);
    }

    /** Buffer index of the attribute's value. */
    public int attributeValueIndex(int at) {
        return at + ATTRIBUTE_HEADER_LENGTH;
    }

    /** The value as a slice of the wrapped buffer (not retained; valid while the buffer is). */
    public ByteBuf attributeValue(int at) {
        return buffer.slice(attributeValueIndex(at), attributeLength(at));
    }

    /** Copies the value into {@code destination} from {@code offset}; returns the value length. */
    public int copyAttributeValue(int at, byte[] destination, int offset) {
        int length = attributeLength(at);
        buffer.getBytes(attributeValueIndex(at), destination, offset, length);
        return length;
    }

    /** Whether the value equals {@code expected} byte for byte. */
    public boolean attributeValueEquals(int at, byte[] expected) {
        int length = attributeLength(at);
        if (length != expected.length) {
            return false;
        }
        int value = attributeValueIndex(at);
        for (int i = 0; i < length; i++) {
            if (buffer.getByte(value + i) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** A 32-bit value (PRIORITY, LIFETIME, CHANGE-REQUEST, ...) as an unsigned number. */
    public long uint32(int at) {
        requireLength(at, 4);
        return buffer.getUnsignedInt(attributeValueIndex(at));
    }

    /** A 64-bit value (ICE-CONTROLLING and ICE-CONTROLLED tie-breakers). */
    public long uint64(int at) {
        requireLength(at, 8);
        return buffer.getLong(attributeValueIndex(at));
    }

    /** A text value (USERNAME, REALM, NONCE, SOFTWARE) decoded as UTF-8. */
    public String string(int at) {
        return buffer.toString(attributeValueIndex(at), attributeLength(at), StandardCharsets.UTF_8);
    }

    /** The value of the first attribute of {@code type} as UTF-8 text, or null if absent. */
    public String findString(int type) {
        int at = findAttribute(type);
        return at == NO_ATTRIBUTE ? null : string(at);
    }

    private void requireLength(int at, int minimum) {
        if (attributeLength(at) < minimum) {
            throw new StunParseException(StunParseResult.BAD_ATTRIBUTE_VALUE);
        }
    }

    // ---- addresses -----------------------------------------------------------------------------

    /**
     * The transport address of the first attribute of {@code type}, XOR-decoded when the type is
     * an XOR address (RFC 8489 §14.2), or null if absent.
     */
    public InetSocketAddress findAddress(int type) {
        int at = findAttribute(type);
        if (at == NO_ATTRIBUTE) {
            return null;
        }
        return StunAttributeType.isXorAddress(type) ? xorAddress(at) : plainAddress(at);
    }

    /** XOR-MAPPED-ADDRESS, or null if absent. */
    public InetSocketAddress xorMappedAddress() {
        return findAddress(StunAttributeType.XOR_MAPPED_ADDRESS);
    }

    /**
     * Decodes the value at {@code at} as an XOR-encoded address (RFC 8489 §14.2): port XOR the
     * cookie's top 16 bits, IPv4 XOR the cookie, IPv6 XOR cookie and transaction id.
     *
     * @return the address, or null if the value is not a well-formed address
     */
    public InetSocketAddress xorAddress(int at) {
        return address(at, true);
    }

    /** Decodes the value at {@code at} as a plain address (MAPPED-ADDRESS format, RFC 8489 §14.1), or null. */
    public InetSocketAddress plainAddress(int at) {
        return address(at, false);
    }

    private InetSocketAddress address(int at, boolean xor) {
        int length = attributeLength(at);
        int value = attributeValueIndex(at);
        if (length < ADDRESS_OFFSET) {
            return null;
        }
        int family = buffer.getUnsignedByte(value + ADDRESS_FAMILY_OFFSET);
        int port = buffer.getUnsignedShort(value + ADDRESS_PORT_OFFSET);
        byte[] ip;
        if (family == FAMILY_IPV4 && length == IPV4_ADDRESS_VALUE_LENGTH) {
            ip = new byte[4];
        } else if (family == FAMILY_IPV6 && length == IPV6_ADDRESS_VALUE_LENGTH) {
            ip = new byte[16];
        } else {
            return null;
        }
        buffer.getBytes(value + ADDRESS_OFFSET, ip);
        if (xor) {
            port ^= MAGIC_COOKIE >>> 16;
            // The cookie and the transaction id follow each other in the header: XOR with those bytes.
            for (int i = 0; i < ip.length; i++) {
                ip[i] ^= buffer.getByte(start + MAGIC_COOKIE_OFFSET + i);
            }
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 bytes are always an IP address", e);
        }
    }

    // ---- ERROR-CODE and CHANGE-REQUEST --------------------------------------------------------

    /** The ERROR-CODE as class × 100 + number (e.g. 420), or -1 if absent (RFC 8489 §14.8). */
    public int errorCode() {
        int at = findAttribute(StunAttributeType.ERROR_CODE);
        if (at == NO_ATTRIBUTE) {
            return -1;
        }
        int value = attributeValueIndex(at);
        return (buffer.getUnsignedByte(value + ERROR_CLASS_OFFSET) & 0x07) * 100
            + buffer.getUnsignedByte(value + ERROR_NUMBER_OFFSET);
    }

    /** The ERROR-CODE reason phrase, or null if absent. */
    public String errorReason() {
        int at = findAttribute(StunAttributeType.ERROR_CODE);
        if (at == NO_ATTRIBUTE) {
            return null;
        }
        return buffer.toString(attributeValueIndex(at) + ERROR_REASON_OFFSET,
            attributeLength(at) - ERROR_REASON_OFFSET, StandardCharsets.UTF_8);
    }

    /**
     * The CHANGE-REQUEST flags ({@link StunAttributeType#CHANGE_IP_FLAG},
     * {@link StunAttributeType#CHANGE_PORT_FLAG}), 0 if absent (RFC 5780 §7.2).
     */
    public int changeRequestFlags() {
        int at = findAttribute(StunAttributeType.CHANGE_REQUEST);
        return at == NO_ATTRIBUTE ? 0 : buffer.getInt(attributeValueIndex(at))
            & (StunAttributeType.CHANGE_IP_FLAG | StunAttributeType.CHANGE_PORT_FLAG);
    }

    // ---- integrity -----------------------------------------------------------------------------

    public boolean hasFingerprint() {
        return fingerprintAt != NO_ATTRIBUTE;
    }

    public boolean hasMessageIntegrity() {
        return integrityAt != NO_ATTRIBUTE;
    }

    public boolean hasMessageIntegritySha256() {
        return integritySha256At != NO_ATTRIBUTE;
    }

    /**
     * Authenticates the message with {@code key}: by MESSAGE-INTEGRITY-SHA256 when present (RFC
     * 8489 §14.6 prefers it), else by MESSAGE-INTEGRITY.
     *
     * @return OK, {@link StunParseResult#INTEGRITY_MISSING} or {@link StunParseResult#BAD_INTEGRITY}
     */
    public StunParseResult verifyIntegrity(StunKey key) {
        return integritySha256At != NO_ATTRIBUTE ? verifyMessageIntegritySha256(key) : verifyMessageIntegrity(key);
    }

    /**
     * Checks MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute,
     * with the Message Length field counting up to the end of MESSAGE-INTEGRITY.
     */
    public StunParseResult verifyMessageIntegrity(StunKey key) {
        if (integrityAt == NO_ATTRIBUTE) {
            return StunParseResult.INTEGRITY_MISSING;
        }
        int lengthField = integrityAt + ATTRIBUTE_HEADER_LENGTH + StunCrypto.HMAC_SHA1_LENGTH - start - HEADER_LENGTH;
        crypto.hmac(false, key, buffer, start, integrityAt, lengthField);
        return digestMatches(integrityAt, StunCrypto.HMAC_SHA1_LENGTH);
    }

    /** Checks MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), possibly truncated to its carried length. */
    public StunParseResult verifyMessageIntegritySha256(StunKey key) {
        if (integritySha256At == NO_ATTRIBUTE) {
            return StunParseResult.INTEGRITY_MISSING;
        }
        int length = attributeLength(integritySha256At);
        int lengthField = integritySha256At + ATTRIBUTE_HEADER_LENGTH + length - start - HEADER_LENGTH;
        crypto.hmac(true, key, buffer, start, integritySha256At, lengthField);
        return digestMatches(integritySha256At, length);
    }

    private StunParseResult digestMatches(int at, int length) {
        byte[] digest = crypto.digest();
        int value = attributeValueIndex(at);
        int difference = 0;
        // Constant time, so a forger learns nothing from how long a rejection takes.
        for (int i = 0; i < length; i++) {
            difference |= digest[i] ^ buffer.getByte(value + i);
        }
        return difference == 0 ? StunParseResult.OK : StunParseResult.BAD_INTEGRITY;
    }

    @Override
    public String toString() {
        if (result != StunParseResult.OK && result != StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            return "StunReader[" + result + "]";
        }
        StringBuilder s = new StringBuilder("StunReader[method 0x").append(Integer.toHexString(method()))
            .append(' ').append(messageClass()).append(" tx ").append(transactionId());
        for (int at = firstAttribute(); at != NO_ATTRIBUTE; at = nextAttribute(at)) {
            s.append(' ').append(StunAttributeType.name(attributeType(at))).append('(').append(attributeLength(at)).append(')');
        }
        return s.append(']').toString();
    }
}
