package dev.pinhole.reliability.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA256 (RFC 5869) and an Expand-Label in the shape of TLS 1.3's HKDF-Expand-Label
 * (RFC 8446 §7.1), which QUIC uses to derive its packet protection keys (RFC 9001 §5.1).
 *
 * <p>Local to this package on purpose: the Noise handshake has its own HKDF, and the two can merge once
 * both have settled. Runs only at connection setup and at a key update, never per packet, so it
 * allocates freely.
 */
final class Hkdf {
    /** Output length of HMAC-SHA256, and the length of every traffic secret. */
    static final int HASH_LENGTH = 32;
    /**
     * Prefix of every label. QUIC puts "tls13 " here; a Pinhole-specific prefix keeps our keys apart from
     * any key derived from the same secret by another protocol.
     */
    private static final byte[] LABEL_PREFIX = "pinhole ".getBytes(StandardCharsets.US_ASCII);
    private static final String HMAC = "HmacSHA256";

    private Hkdf() {
    }

    /** HKDF-Extract(salt, ikm) of RFC 5869 §2.2; an empty salt stands for 32 zero bytes. */
    static byte[] extract(byte[] salt, byte[] ikm) {
        final byte[] effectiveSalt = salt.length == 0 ? new byte[HASH_LENGTH] : salt;
        return hmac(effectiveSalt).doFinal(ikm);
    }

    /** HKDF-Expand(prk, info, length) of RFC 5869 §2.3. */
    static byte[] expand(byte[] prk, byte[] info, int length) {
        if (length < 0 || length > 255 * HASH_LENGTH) {
            throw new IllegalArgumentException(
                    "HKDF-Expand length must be in 0.." + 255 * HASH_LENGTH + ", was " + length);
        }
        final Mac mac = hmac(prk);
        final byte[] out = new byte[length];
        byte[] block = new byte[0];
        int written = 0;
        for (int counter = 1; written < length; counter++) {
            mac.update(block);
            mac.update(info);
            mac.update((byte) counter);
            block = mac.doFinal();
            final int n = Math.min(block.length, length - written);
            System.arraycopy(block, 0, out, written, n);
            written += n;
        }
        Arrays.fill(block, (byte) 0);
        return out;
    }

    /**
     * HKDF-Expand-Label(secret, label, "", length): the info is the TLS 1.3 HkdfLabel structure
     * (uint16 length, the label with its one-byte length, an empty context), the label prefixed with
     * "pinhole ".
     */
    static byte[] expandLabel(byte[] secret, String label, int length) {
        final byte[] labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        final int fullLabelLength = LABEL_PREFIX.length + labelBytes.length;
        final byte[] info = new byte[2 + 1 + fullLabelLength + 1];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) fullLabelLength;
        System.arraycopy(LABEL_PREFIX, 0, info, 3, LABEL_PREFIX.length);
        System.arraycopy(labelBytes, 0, info, 3 + LABEL_PREFIX.length, labelBytes.length);
        info[info.length - 1] = 0;
        return expand(secret, info, length);
    }

    private static Mac hmac(byte[] key) {
        try {
            final Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            // Every Java SE runtime must provide HmacSHA256; its absence is a broken JDK, not an input error.
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
