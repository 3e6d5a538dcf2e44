package dev.pinhole.reliability.crypto;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF on HMAC-SHA256, the one key-derivation function of the transport's cryptography: RFC 5869 extract
 * and expand, the fixed form the Noise handshake uses (Noise revision 34, §4.3), and the labelled expansion
 * packet protection derives its keys with (the TLS 1.3 HkdfLabel form RFC 9001 §5.1 uses).
 *
 * <p>Noise's {@code HKDF(chaining_key, input_key_material, num_outputs)} is RFC 5869 with the
 * chaining key as salt, an empty info and {@code num_outputs * HASHLEN} bytes of output; it has its
 * own method here only so that the handshake can write its two or three outputs straight into the
 * arrays it keeps, without an intermediate output buffer.
 *
 * <p>One {@link Mac} is reused for every call ({@code Mac.init} with a new key is unavoidable).
 * Not thread-safe.
 */
public final class Hkdf {
    /** HASHLEN of SHA-256. */
    public static final int HASH_LENGTH = 32;

    private static final String HMAC = "HmacSHA256";
    /** Prefix of every label {@link #expandLabel} uses (QUIC uses "tls13 "). */
    private static final byte[] LABEL_PREFIX = "pinhole ".getBytes(StandardCharsets.US_ASCII);

    private final Mac mac;
    private final byte[] tempKey = new byte[HASH_LENGTH];

    /** A new instance; it holds one reusable {@link Mac}. */
    public Hkdf() {
        try {
            mac = Mac.getInstance(HMAC);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no " + HMAC, e);
        }
    }

    /** RFC 5869 §2.2 HKDF-Extract; an empty salt stands for HashLen zeros, as the RFC says. */
    public byte[] extract(byte[] salt, byte[] inputKeyMaterial) {
        init(salt.length == 0 ? new byte[HASH_LENGTH] : salt);
        return mac.doFinal(inputKeyMaterial);
    }

    /** RFC 5869 §2.3 HKDF-Expand to {@code length} bytes (at most 255 blocks). */
    public byte[] expand(byte[] prk, byte[] info, int length) {
        if (length < 0 || length > 255 * HASH_LENGTH) {
            throw new IllegalArgumentException("HKDF-Expand length out of range: " + length);
        }
        init(prk);
        byte[] okm = new byte[length];
        byte[] block = new byte[0];
        for (int i = 1, done = 0; done < length; i++) {
            mac.update(block);
            mac.update(info);
            mac.update((byte) i);
            block = mac.doFinal();
            int n = Math.min(HASH_LENGTH, length - done);
            System.arraycopy(block, 0, okm, done, n);
            done += n;
        }
        return okm;
    }

    /**
     * Noise's HKDF with two or three outputs (§4.3). {@code output3} may be null for two outputs.
     * An output may be the same array as {@code chainingKey}: the chaining key is only read before
     * any output is written.
     */
    public void noise(byte[] chainingKey, byte[] ikm, int ikmOffset, int ikmLength,
               byte[] output1, byte[] output2, byte[] output3) {
        init(chainingKey);
        mac.update(ikm, ikmOffset, ikmLength);
        finish(tempKey);
        init(tempKey);
        mac.update((byte) 1);
        finish(output1);
        mac.update(output1, 0, HASH_LENGTH);
        mac.update((byte) 2);
        finish(output2);
        if (output3 != null) {
            mac.update(output2, 0, HASH_LENGTH);
            mac.update((byte) 3);
            finish(output3);
        }
        Arrays.fill(tempKey, (byte) 0);
    }

    /**
     * HKDF-Expand-Label(secret, label, "", length): the info is the TLS 1.3 HkdfLabel structure (uint16
     * length, the label with its one-byte length, an empty context), the label prefixed with "pinhole ".
     */
    public byte[] expandLabel(byte[] secret, String label, int length) {
        byte[] labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        int fullLabelLength = LABEL_PREFIX.length + labelBytes.length;
        byte[] info = new byte[2 + 1 + fullLabelLength + 1];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) fullLabelLength;
        System.arraycopy(LABEL_PREFIX, 0, info, 3, LABEL_PREFIX.length);
        System.arraycopy(labelBytes, 0, info, 3 + LABEL_PREFIX.length, labelBytes.length);
        info[info.length - 1] = 0;
        return expand(secret, info, length);
    }

    private void init(byte[] key) {
        try {
            mac.init(new SecretKeySpec(key, HMAC));
        } catch (InvalidKeyException e) {
            // HMAC takes keys of any non-zero length, and every key here is non-empty.
            throw new IllegalStateException("HMAC refused its key", e);
        }
    }

    private void finish(byte[] out) {
        try {
            mac.doFinal(out, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException("HKDF output array shorter than 32 bytes", e);
        }
    }
}
