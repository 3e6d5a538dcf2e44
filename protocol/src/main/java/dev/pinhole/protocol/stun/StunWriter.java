package dev.pinhole.protocol.stun;

import static dev.pinhole.protocol.stun.StunHeader.ATTRIBUTE_HEADER_LENGTH;
import static dev.pinhole.protocol.stun.StunHeader.HEADER_LENGTH;
import static dev.pinhole.protocol.stun.StunHeader.MAGIC_COOKIE;
import static dev.pinhole.protocol.stun.StunHeader.MAGIC_COOKIE_OFFSET;
import static dev.pinhole.protocol.stun.StunHeader.MESSAGE_LENGTH_OFFSET;

import io.netty.buffer.ByteBuf;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A reusable flyweight that appends one STUN message to a {@link ByteBuf} (RFC 8489; layout in
 * {@link StunHeader}).
 *
 * <pre>{@code
 * writer.begin(buf, StunMessageType.BINDING_REQUEST, id)
 *       .addString(StunAttributeType.SOFTWARE, "pinhole")
 *       .addMessageIntegrity(key)
 *       .addFingerprint()
 *       .finish();
 * }</pre>
 *
 * The Message Length field is kept current after every attribute, so MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are computed over exactly the bytes and length RFC 8489
 * §14.5–§14.7 prescribe. After MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may
 * follow, and nothing after FINGERPRINT; breaking that order is a programming error and throws
 * {@link IllegalStateException}, as do values a STUN message cannot carry. Nothing is allocated
 * per message except the text of string attributes. Confined to one thread.
 */
public final class StunWriter {
    private static final int STATE_IDLE = 0;
    private static final int STATE_ATTRIBUTES = 1;
    private static final int STATE_AFTER_INTEGRITY = 2;
    private static final int STATE_AFTER_INTEGRITY_SHA256 = 3;
    private static final int STATE_AFTER_FINGERPRINT = 4;

    private final StunCrypto crypto = new StunCrypto();
    private ByteBuf out;
    private int start;
    private int state = STATE_IDLE;
    private byte paddingByte;

    /**
     * Sets the byte used to pad attribute values to 4 bytes (default 0). RFC 8489 §14 lets the
     * sender choose and the receiver ignore it; RFC 5769's vectors pad with 0x20, which is why
     * this is settable. Applies to every following message.
     */
    public StunWriter paddingByte(int value) {
        this.paddingByte = (byte) value;
        return this;
    }

    /** Starts a message at {@code out}'s writer index. */
    public StunWriter begin(ByteBuf out, int messageType, TransactionId transactionId) {
        return begin(out, messageType, transactionId.high(), transactionId.low());
    }

    /**
     * Starts a message at {@code out}'s writer index with the transaction id's first 64 bits
     * {@code idHigh} and last 32 bits {@code idLow}.
     */
    public StunWriter begin(ByteBuf out, int messageType, long idHigh, int idLow) {
        if ((messageType & ~0x3FFF) != 0) {
            throw new IllegalArgumentException("a STUN message type has 14 bits, got 0x" + Integer.toHexString(messageType));
        }
        this.out = out;
        this.start = out.writerIndex();
        out.ensureWritable(HEADER_LENGTH);
        out.writeShort(messageType);
        out.writeShort(0);
        out.writeInt(MAGIC_COOKIE);
        out.writeLong(idHigh);
        out.writeInt(idLow);
        state = STATE_ATTRIBUTES;
        return this;
    }

    /** Buffer index where the current message starts. */
    public int messageStart() {
        return start;
    }

    /**
     * Ends the message.
     *
     * @return the message's length in bytes, header included
     */
    public int finish() {
        requireStarted();
        state = STATE_IDLE;
        return out.writerIndex() - start;
    }

    // ---- generic attributes --------------------------------------------------------------------

    /** An attribute with raw {@code value[offset, offset + length)} (any type, e.g. Pinhole's own in 0x8000–0xFFFF). */
    public StunWriter addBytes(int type, byte[] value, int offset, int length) {
        beginAttribute(type, length);
        out.writeBytes(value, offset, length);
        return endAttribute(length);
    }

    public StunWriter addBytes(int type, byte[] value) {
        return addBytes(type, value, 0, value.length);
    }

    /** An attribute whose value is the readable bytes of {@code value} (not consumed, not released). */
    public StunWriter addBytes(int type, ByteBuf value) {
        int length = value.readableBytes();
        beginAttribute(type, length);
        out.writeBytes(value, value.readerIndex(), length);
        return endAttribute(length);
    }

    /** A zero-length attribute (USE-CANDIDATE, DONT-FRAGMENT). */
    public StunWriter addEmpty(int type) {
        beginAttribute(type, 0);
        return endAttribute(0);
    }

    /** A 32-bit value (PRIORITY, LIFETIME, ...). */
    public StunWriter addUInt32(int type, int value) {
        beginAttribute(type, 4);
        out.writeInt(value);
        return endAttribute(4);
    }

    /** A 64-bit value (ICE-CONTROLLING, ICE-CONTROLLED tie-breakers). */
    public StunWriter addUInt64(int type, long value) {
        beginAttribute(type, 8);
        out.writeLong(value);
        return endAttribute(8);
    }

    /**
     * A UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE).
     *
     * @throws IllegalArgumentException if the text exceeds the RFC 8489 limit for a known type
     */
    public StunWriter addString(int type, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int limit = switch (type) {
            case StunAttributeType.USERNAME -> StunAttributeType.MAX_USERNAME_BYTES;
            case StunAttributeType.REALM, StunAttributeType.NONCE, StunAttributeType.SOFTWARE,
                StunAttributeType.ALTERNATE_DOMAIN -> StunAttributeType.MAX_TEXT_BYTES;
            default -> StunHeader.MAX_MESSAGE_LENGTH_FIELD;
        };
        if (bytes.length > limit) {
            throw new IllegalArgumentException(StunAttributeType.name(type) + " is limited to " + limit
                + " bytes, got " + bytes.length);
        }
        return addBytes(type, bytes);
    }

    // ---- addresses -----------------------------------------------------------------------------

    /** A plain address attribute in MAPPED-ADDRESS format (RFC 8489 §14.1; OTHER-ADDRESS, RESPONSE-ORIGIN). */
    public StunWriter addAddress(int type, InetSocketAddress address) {
        return writeAddress(type, address, false);
    }

    /** An XOR-encoded address (RFC 8489 §14.2; XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS). */
    public StunWriter addXorAddress(int type, InetSocketAddress address) {
        return writeAddress(type, address, true);
    }

    private StunWriter writeAddress(int type, InetSocketAddress address, boolean xor) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address cannot be sent in STUN: " + address);
        }
        byte[] bytes = ip.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        int length = 4 + bytes.length;
        beginAttribute(type, length);
        out.writeByte(0);
        out.writeByte(v4 ? StunAttributeType.FAMILY_IPV4 : StunAttributeType.FAMILY_IPV6);
        int port = address.getPort();
        out.writeShort(xor ? port ^ (MAGIC_COOKIE >>> 16) : port);
        for (int i = 0; i < bytes.length; i++) {
            // The cookie and the transaction id follow each other in the header (RFC 8489 §14.2).
            int mask = xor ? out.getByte(start + MAGIC_COOKIE_OFFSET + i) : 0;
            out.writeByte(bytes[i] ^ mask);
        }
        return endAttribute(length);
    }

    // ---- specific attributes -------------------------------------------------------------------

    /**
     * ERROR-CODE (RFC 8489 §14.8).
     *
     * @param code 300 to 699
     */
    public StunWriter addErrorCode(int code, String reason) {
        if (code < 300 || code > 699) {
            throw new IllegalArgumentException("STUN error codes are 300 to 699, got " + code);
        }
        byte[] phrase = reason.getBytes(StandardCharsets.UTF_8);
        if (phrase.length > StunAttributeType.MAX_TEXT_BYTES) {
            throw new IllegalArgumentException("reason phrase is limited to 763 bytes, got " + phrase.length);
        }
        int length = 4 + phrase.length;
        beginAttribute(StunAttributeType.ERROR_CODE, length);
        out.writeShort(0);
        out.writeByte(code / 100);
        out.writeByte(code % 100);
        out.writeBytes(phrase);
        return endAttribute(length);
    }

    /** UNKNOWN-ATTRIBUTES (RFC 8489 §14.9): the first {@code count} entries of {@code types}. */
    public StunWriter addUnknownAttributes(int[] types, int count) {
        int length = 2 * count;
        beginAttribute(StunAttributeType.UNKNOWN_ATTRIBUTES, length);
        for (int i = 0; i < count; i++) {
            out.writeShort(types[i]);
        }
        return endAttribute(length);
    }

    /** CHANGE-REQUEST (RFC 5780 §7.2). */
    public StunWriter addChangeRequest(boolean changeIp, boolean changePort) {
        return addUInt32(StunAttributeType.CHANGE_REQUEST,
            (changeIp ? StunAttributeType.CHANGE_IP_FLAG : 0) | (changePort ? StunAttributeType.CHANGE_PORT_FLAG : 0));
    }

    /**
     * MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message so far, with the Message
     * Length counting this attribute.
     */
    public StunWriter addMessageIntegrity(StunKey key) {
        if (state != STATE_ATTRIBUTES) {
            throw new IllegalStateException("MESSAGE-INTEGRITY must come before MESSAGE-INTEGRITY-SHA256 and FINGERPRINT");
        }
        writeHmac(StunAttributeType.MESSAGE_INTEGRITY, false, key, StunCrypto.HMAC_SHA1_LENGTH);
        state = STATE_AFTER_INTEGRITY;
        return this;
    }

    /** MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full 32 bytes. */
    public StunWriter addMessageIntegritySha256(StunKey key) {
        if (state != STATE_ATTRIBUTES && state != STATE_AFTER_INTEGRITY) {
            throw new IllegalStateException("MESSAGE-INTEGRITY-SHA256 must come before FINGERPRINT");
        }
        writeHmac(StunAttributeType.MESSAGE_INTEGRITY_SHA256, true, key, StunCrypto.HMAC_SHA256_LENGTH);
        state = STATE_AFTER_INTEGRITY_SHA256;
        return this;
    }

    private void writeHmac(int type, boolean sha256, StunKey key, int length) {
        requireRoom(length);
        int at = out.writerIndex();
        // The Message Length covers this attribute while the HMAC is computed and afterwards.
        int lengthField = at + ATTRIBUTE_HEADER_LENGTH + length - start - HEADER_LENGTH;
        setMessageLength(lengthField);
        crypto.hmac(sha256, key, out, start, at, lengthField);
        out.ensureWritable(ATTRIBUTE_HEADER_LENGTH + length);
        out.writeShort(type);
        out.writeShort(length);
        out.writeBytes(crypto.digest(), 0, length);
    }

    /** FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message so far XOR 0x5354554E; the last attribute. */
    public StunWriter addFingerprint() {
        requireStarted();
        if (state == STATE_AFTER_FINGERPRINT) {
            throw new IllegalStateException("FINGERPRINT was already added");
        }
        requireRoom(4);
        int at = out.writerIndex();
        setMessageLength(at + ATTRIBUTE_HEADER_LENGTH + 4 - start - HEADER_LENGTH);
        int crc = crypto.fingerprint(out, start, at);
        out.ensureWritable(ATTRIBUTE_HEADER_LENGTH + 4);
        out.writeShort(StunAttributeType.FINGERPRINT);
        out.writeShort(4);
        out.writeInt(crc);
        state = STATE_AFTER_FINGERPRINT;
        return this;
    }

    // ---- plumbing ------------------------------------------------------------------------------

    private void beginAttribute(int type, int length) {
        if (state != STATE_ATTRIBUTES) {
            if (state == STATE_IDLE) {
                throw new IllegalStateException("begin() a message first");
            }
            throw new IllegalStateException(StunAttributeType.name(type)
                + " cannot follow MESSAGE-INTEGRITY or FINGERPRINT (RFC 8489 §14.5)");
        }
        if ((type & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("attribute types have 16 bits, got 0x" + Integer.toHexString(type));
        }
        requireRoom(length);
        out.ensureWritable(ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(length));
        out.writeShort(type);
        out.writeShort(length);
    }

    private StunWriter endAttribute(int length) {
        for (int pad = StunHeader.padded(length) - length; pad > 0; pad--) {
            out.writeByte(paddingByte);
        }
        setMessageLength(out.writerIndex() - start - HEADER_LENGTH);
        return this;
    }

    private void requireRoom(int valueLength) {
        int after = out.writerIndex() - start - HEADER_LENGTH + ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(valueLength);
        if (valueLength > StunHeader.MAX_MESSAGE_LENGTH_FIELD || after > StunHeader.MAX_MESSAGE_LENGTH_FIELD) {
            throw new IllegalArgumentException("a STUN message is at most 65535 bytes after the header");
        }
    }

    private void requireStarted() {
        if (state == STATE_IDLE) {
            throw new IllegalStateException("begin() a message first");
        }
    }

    private void setMessageLength(int length) {
        out.setShort(start + MESSAGE_LENGTH_OFFSET, length);
    }
}
