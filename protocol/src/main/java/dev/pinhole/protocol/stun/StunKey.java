package dev.pinhole.protocol.stun;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC key of MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 (RFC 8489 §9.1.1, §9.2.2).
 *
 * <ul>
 *   <li>Short-term credentials (ICE checks): the key is the password.</li>
 *   <li>Long-term credentials (TURN): the key is {@code MD5(username ":" realm ":" password)},
 *       or SHA-256 of the same string when PASSWORD-ALGORITHM says SHA-256.</li>
 * </ul>
 *
 * <p><b>String preparation.</b> RFC 8489 §9.2.2 runs realm and password through the PRECIS
 * OpaqueString profile (RFC 8265 §4.2); RFC 5389 used SASLprep (RFC 4013). For printable ASCII
 * both are the identity, so such strings are used as they are, which covers every credential
 * Pinhole and coturn generate. Other strings get OpaqueString's mapping (non-ASCII spaces become
 * U+0020) and NFC normalisation; control characters are rejected. The full PRECIS
 * disallowed-code-point tables are not applied: a peer using exotic code points in a password
 * may derive a different key, which shows up as a failed integrity check, never as a crash.
 * The username is used as the USERNAME attribute carries it (it is already prepared).
 *
 * <p>Immutable; the {@link SecretKeySpec}s are created once, so verifying many messages under one
 * key does not copy it each time.
 */
public final class StunKey {
    private final byte[] key;
    private final SecretKeySpec hmacSha1;
    private final SecretKeySpec hmacSha256;

    private StunKey(byte[] key) {
        if (key.length == 0) {
            throw new IllegalArgumentException("a STUN key must not be empty");
        }
        this.key = key;
        this.hmacSha1 = new SecretKeySpec(key, "HmacSHA1");
        this.hmacSha256 = new SecretKeySpec(key, "HmacSHA256");
    }

    /** A key given as raw bytes (copied). */
    public static StunKey ofBytes(byte[] key) {
        return new StunKey(key.clone());
    }

    /** Short-term credential key (RFC 8489 §9.1.1): the prepared password. */
    public static StunKey shortTerm(String password) {
        return new StunKey(prepare(password).getBytes(StandardCharsets.UTF_8));
    }

    /** Long-term credential key with MD5, the default algorithm (RFC 8489 §9.2.2). */
    public static StunKey longTerm(String username, String realm, String password) {
        return new StunKey(digest("MD5", username, realm, password));
    }

    /** Long-term credential key with SHA-256 (RFC 8489 §18.5.1.2, PASSWORD-ALGORITHM 0x0002). */
    public static StunKey longTermSha256(String username, String realm, String password) {
        return new StunKey(digest("SHA-256", username, realm, password));
    }

    /** Key length in bytes. */
    public int length() {
        return key.length;
    }

    /** A copy of the key bytes. */
    public byte[] bytes() {
        return key.clone();
    }

    SecretKeySpec hmacSha1() {
        return hmacSha1;
    }

    SecretKeySpec hmacSha256() {
        return hmacSha256;
    }

    /**
     * Prepares a realm or password as described in the class comment: printable ASCII unchanged;
     * otherwise non-ASCII spaces mapped to U+0020 and NFC normalisation (RFC 8265 §4.2).
     *
     * @throws IllegalArgumentException if the string is empty or contains a control character
     */
    public static String prepare(String s) {
        if (s.isEmpty()) {
            throw new IllegalArgumentException("STUN credentials must not be empty");
        }
        boolean printableAscii = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                printableAscii = false;
                break;
            }
        }
        if (printableAscii) {
            return s;
        }
        StringBuilder mapped = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (Character.getType(cp) == Character.CONTROL) {
                throw new IllegalArgumentException(
                    "STUN credentials must not contain control characters, found U+" + Integer.toHexString(cp));
            }
            mapped.appendCodePoint(Character.getType(cp) == Character.SPACE_SEPARATOR ? ' ' : cp);
        });
        return Normalizer.normalize(mapped, Normalizer.Form.NFC);
    }

    private static byte[] digest(String algorithm, String username, String realm, String password) {
        String input = username + ":" + prepare(realm) + ":" + prepare(password);
        try {
            return MessageDigest.getInstance(algorithm).digest(input.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides " + algorithm, e);
        }
    }

    @Override
    public String toString() {
        // Never print key material.
        return "StunKey[" + key.length + " bytes]";
    }
}
