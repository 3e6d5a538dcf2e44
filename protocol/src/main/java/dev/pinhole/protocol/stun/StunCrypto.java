package dev.pinhole.protocol.stun;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMACs and CRC of one reader or writer, created once and reused (a {@link Mac} is costly to
 * obtain). Computes over a header whose Message Length field is replaced, as MESSAGE-INTEGRITY
 * (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6) and FINGERPRINT (§14.7) require, without
 * copying or modifying the message. Confined to one thread.
 */
public final class StunCrypto {
    /** RFC 8489 §14.7: the CRC-32 is XOR-ed with this so FINGERPRINT differs from other protocols' CRCs. */
    static final int FINGERPRINT_XOR = 0x5354554E;
    static final int HMAC_SHA1_LENGTH = 20;
    static final int HMAC_SHA256_LENGTH = 32;

    private final Mac hmacSha1;
    private final Mac hmacSha256;
    private final CRC32 crc = new CRC32();
    private final byte[] header = new byte[StunHeader.HEADER_LENGTH];
    private final byte[] digest = new byte[HMAC_SHA256_LENGTH];
    private byte[] copy = new byte[256];
    private StunKey sha1Key;
    private StunKey sha256Key;

    public StunCrypto() {
        try {
            hmacSha1 = Mac.getInstance("HmacSHA1");
            hmacSha256 = Mac.getInstance("HmacSHA256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA1 and HmacSHA256", e);
        }
    }

    /**
     * HMAC-SHA1 (sha256 false) or HMAC-SHA256 over {@code [messageStart, end)} with the Message
     * Length field read as {@code lengthField}. The result is in {@link #digest()}.
     */
    void hmac(boolean sha256, StunKey key, ByteBuf buf, int messageStart, int end, int lengthField) {
        Mac mac = sha256 ? hmacSha256 : hmacSha1;
        // doFinal leaves a Mac initialised with its key, so a run of messages under one key skips init.
        if ((sha256 ? sha256Key : sha1Key) != key) {
            SecretKeySpec spec = sha256 ? key.hmacSha256() : key.hmacSha1();
            try {
                mac.init(spec);
            } catch (InvalidKeyException e) {
                throw new IllegalStateException("an HMAC accepts any non-empty key", e);
            }
            if (sha256) {
                sha256Key = key;
            } else {
                sha1Key = key;
            }
        }
        buf.getBytes(messageStart, header, 0, StunHeader.HEADER_LENGTH);
        header[StunHeader.MESSAGE_LENGTH_OFFSET] = (byte) (lengthField >>> 8);
        header[StunHeader.MESSAGE_LENGTH_OFFSET + 1] = (byte) lengthField;
        mac.update(header, 0, StunHeader.HEADER_LENGTH);
        int from = messageStart + StunHeader.HEADER_LENGTH;
        int length = end - from;
        if (buf.hasArray()) {
            mac.update(buf.array(), buf.arrayOffset() + from, length);
        } else {
            // Mac.update(ByteBuffer) allocates a temporary array for direct buffers; copy into ours instead.
            byte[] bytes = copyOf(buf, from, length);
            mac.update(bytes, 0, length);
        }
        try {
            mac.doFinal(digest, 0);
        } catch (javax.crypto.ShortBufferException e) {
            throw new IllegalStateException("digest buffer holds the longest HMAC", e);
        }
    }

    /** The last HMAC result (20 or 32 significant bytes). */
    byte[] digest() {
        return digest;
    }

    /** RFC 8489 §14.7: CRC-32 of {@code [start, end)} XOR 0x5354554E. */
    public int fingerprint(ByteBuf buf, int start, int end) {
        crc.reset();
        int length = end - start;
        if (buf.hasArray()) {
            crc.update(buf.array(), buf.arrayOffset() + start, length);
        } else if (buf.nioBufferCount() == 1) {
            ByteBuffer nio = buf.internalNioBuffer(start, length);
            crc.update(nio);
        } else {
            byte[] bytes = copyOf(buf, start, length);
            crc.update(bytes, 0, length);
        }
        return (int) crc.getValue() ^ FINGERPRINT_XOR;
    }

    private byte[] copyOf(ByteBuf buf, int from, int length) {
        if (copy.length < length) {
            copy = new byte[Math.max(length, copy.length * 2)];
        }
        buf.getBytes(from, copy, 0, length);
        return copy;
    }
}
