package dev.pinhole.reliability.noise;

import java.security.PrivateKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A Curve25519 key pair in Noise's raw form (Noise revision 34, §4.1 GENERATE_KEYPAIR, §12.1): a
 * 32-byte private scalar and the 32-byte little-endian u-coordinate of its public key (RFC 7748).
 *
 * <p>Used for static identities and for handshake ephemerals. The raw bytes are what key files and
 * handshake messages carry; the JDK {@link PrivateKey} is built once here so that each DH does not
 * parse the scalar again.
 *
 * <p>Immutable. {@link #toString()} shows the public key only.
 */
public final class NoiseKeyPair {
    private final byte[] privateKey;
    private final byte[] publicKey;
    private final PrivateKey jdkPrivateKey;

    private NoiseKeyPair(byte[] privateKey, Dh25519 dh) {
        this.privateKey = privateKey;
        this.jdkPrivateKey = dh.privateKey(privateKey);
        this.publicKey = dh.publicKey(jdkPrivateKey);
    }

    /** A fresh key pair: 32 random bytes from {@code random} as the scalar. */
    public static NoiseKeyPair generate(SecureRandom random) {
        byte[] scalar = new byte[Dh25519.KEY_LENGTH];
        random.nextBytes(scalar);
        return new NoiseKeyPair(scalar, new Dh25519());
    }

    /**
     * The key pair of a known 32-byte private key, as read from a key file or a test vector.
     *
     * @throws IllegalArgumentException if {@code privateKey} is not 32 bytes
     */
    public static NoiseKeyPair fromPrivateKey(byte[] privateKey) {
        Dh25519.checkLength(privateKey, "private key");
        return new NoiseKeyPair(privateKey.clone(), new Dh25519());
    }

    static NoiseKeyPair generate(SecureRandom random, Dh25519 dh) {
        byte[] scalar = new byte[Dh25519.KEY_LENGTH];
        random.nextBytes(scalar);
        return new NoiseKeyPair(scalar, dh);
    }

    /**
     * The key pair of a JDK X25519 private key whose raw scalar stays where it is (an identity's key): the
     * handshake needs only the JDK key and the public key, and {@link #privateKey()} is refused.
     */
    public static NoiseKeyPair ofJdkKey(PrivateKey jdkPrivateKey, byte[] publicKey) {
        Dh25519.checkLength(publicKey, "public key");
        return new NoiseKeyPair(jdkPrivateKey, publicKey.clone());
    }

    private NoiseKeyPair(PrivateKey jdkPrivateKey, byte[] publicKey) {
        this.privateKey = null;
        this.jdkPrivateKey = Objects.requireNonNull(jdkPrivateKey, "jdkPrivateKey");
        this.publicKey = publicKey;
    }

    /** A copy of the 32-byte public key. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** A copy of the 32-byte private key; only for writing key files. */
    public byte[] privateKey() {
        if (privateKey == null) {
            throw new IllegalStateException("this key pair holds no raw private key (made by ofJdkKey)");
        }
        return privateKey.clone();
    }

    /** The public key without a copy, for the handshake, which only reads it. */
    byte[] publicKeyBytes() {
        return publicKey;
    }

    PrivateKey jdkPrivateKey() {
        return jdkPrivateKey;
    }

    /** True if {@code other} is a key pair with the same public key. */
    @Override
    public boolean equals(Object other) {
        return other instanceof NoiseKeyPair && Arrays.equals(publicKey, ((NoiseKeyPair) other).publicKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(publicKey);
    }

    @Override
    public String toString() {
        return "NoiseKeyPair[public=" + HexFormat.of().formatHex(publicKey) + "]";
    }
}
