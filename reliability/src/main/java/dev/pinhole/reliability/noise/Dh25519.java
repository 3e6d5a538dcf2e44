package dev.pinhole.reliability.noise;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import javax.crypto.KeyAgreement;

/**
 * The Noise DH functions for Curve25519 (Noise revision 34, §4.1 and §12.1), on the JDK's
 * {@code X25519} {@link KeyAgreement} (RFC 7748).
 *
 * <p>Noise passes keys as raw 32-byte strings: a public key is the RFC 7748 encoding of the
 * u-coordinate, little-endian, and a private key is the 32-byte scalar, which the JDK clamps itself.
 * The JDK takes the u-coordinate as a {@link BigInteger}, so this class converts, masking the most
 * significant bit as RFC 7748 §5 requires of X25519 implementations.
 *
 * <p>§12.1 lets an implementation signal an error for public keys that make the result all zeros
 * (small-order points); we do, because the JDK already refuses them and because a zero DH output
 * would otherwise be mixed into the chaining key as if it were a secret.
 *
 * <p>Instances hold a {@link KeyAgreement} and a {@link KeyFactory} and are not thread-safe; each
 * handshake owns one.
 */
final class Dh25519 {
    /** DHLEN: bytes of a public key, a private key and a shared secret. */
    static final int KEY_LENGTH = 32;

    /** The u-coordinate of the Curve25519 base point: X25519(k, 9) is the public key of k. */
    private static final BigInteger BASE_POINT_U = BigInteger.valueOf(9);

    private final KeyAgreement agreement;
    private final KeyFactory keyFactory;

    Dh25519() {
        try {
            agreement = KeyAgreement.getInstance("X25519");
            keyFactory = KeyFactory.getInstance("X25519");
        } catch (NoSuchAlgorithmException e) {
            // Every Java 11+ runtime ships X25519 (JEP 324); without it nothing here can work.
            throw new IllegalStateException("the JDK has no X25519", e);
        }
    }

    /** The JDK private key for a raw 32-byte scalar. */
    PrivateKey privateKey(byte[] scalar) {
        checkLength(scalar, "private key");
        try {
            return keyFactory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
        } catch (GeneralSecurityException e) {
            // A 32-byte scalar is always valid for X25519 (it is clamped, not checked).
            throw new IllegalStateException("the JDK refused an X25519 scalar", e);
        }
    }

    /** The raw public key of {@code privateKey}: X25519(k, 9). */
    byte[] publicKey(PrivateKey privateKey) {
        byte[] out = new byte[KEY_LENGTH];
        try {
            agree(privateKey, keyFactory.generatePublic(
                    new XECPublicKeySpec(NamedParameterSpec.X25519, BASE_POINT_U)), out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 with the base point failed", e);
        }
        return out;
    }

    /**
     * DH(key pair, public key): writes the 32-byte shared secret to {@code out}.
     *
     * @throws NoiseException if {@code publicKey} is not 32 bytes or the result is all zeros
     */
    void dh(PrivateKey privateKey, byte[] publicKey, byte[] out) throws NoiseException {
        if (publicKey.length != KEY_LENGTH) {
            throw new NoiseException("X25519 public key must be 32 bytes, was " + publicKey.length);
        }
        try {
            agree(privateKey, keyFactory.generatePublic(
                    new XECPublicKeySpec(NamedParameterSpec.X25519, toU(publicKey))), out);
        } catch (InvalidKeyException e) {
            // The JDK reports the all-zero result of a small-order point this way.
            throw new NoiseException("X25519 rejected the peer's public key", e);
        } catch (GeneralSecurityException e) {
            throw new NoiseException("X25519 failed", e);
        }
        int acc = 0;
        for (byte b : out) {
            acc |= b;
        }
        if (acc == 0) {
            throw new NoiseException("X25519 result is all zeros (small-order public key)");
        }
    }

    private void agree(PrivateKey privateKey, PublicKey publicKey, byte[] out)
            throws GeneralSecurityException {
        agreement.init(privateKey);
        agreement.doPhase(publicKey, true);
        int n = agreement.generateSecret(out, 0);
        if (n != KEY_LENGTH) {
            throw new IllegalStateException("X25519 secret of " + n + " bytes");
        }
    }

    /** RFC 7748 §5 decodeUCoordinate: little-endian, most significant bit masked. */
    static BigInteger toU(byte[] publicKey) {
        byte[] bigEndian = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            bigEndian[i] = publicKey[KEY_LENGTH - 1 - i];
        }
        bigEndian[0] &= 0x7f;
        return new BigInteger(1, bigEndian);
    }

    static void checkLength(byte[] key, String what) {
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException(what + " must be 32 bytes, was " + key.length);
        }
    }
}
