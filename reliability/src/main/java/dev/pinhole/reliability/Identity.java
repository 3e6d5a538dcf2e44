package dev.pinhole.reliability;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import javax.crypto.KeyAgreement;

/**
 * A node's long-term identity: two key pairs on Curve25519, and the printable id that names the node.
 *
 * <ul>
 *   <li>An X25519 key pair (RFC 7748) for key agreement: the static key {@code s} of the transport's Noise
 *       handshake. Its public key <em>is</em> the node's id, so a peer that knows the id can check the static
 *       key the handshake proves, with nothing else to trust.</li>
 *   <li>An Ed25519 key pair (RFC 8032) for signatures, for statements made outside a handshake (proving the
 *       name at the rendezvous server, for instance). X25519 keys cannot sign, and using one secret for both
 *       curves' operations would need a conversion with no standard security analysis; two independent key
 *       pairs cost 32 bytes more.</li>
 * </ul>
 *
 * <h2>The id and the fingerprint</h2>
 * {@link #id()} is the 32-byte X25519 public key in lowercase RFC 4648 base32 without padding: 52 characters of
 * {@code a-z} and {@code 2-7}, which survive copy-paste, double-click selection and case folding;
 * {@link #parseId} reads it back in either case. {@link #fingerprint()} is for people comparing two screens or
 * reading aloud: the first 10 bytes of SHA-256 over the raw X25519 public key, base32, in four groups of four
 * ({@code abcd-efgh-ijkl-mnop}, 80 bits). Software compares full ids, never fingerprints.
 *
 * <h2>The key file</h2>
 * {@link #loadOrCreate(Path)} keeps both private keys in a small text file (the format is in
 * docs/decisions/0010-identity-and-key-file.md), created with mode 0600 in a directory created with mode 0700,
 * and refuses to load a file that group or others may access. Library users who never call it get an
 * ephemeral identity from {@link #generate(SecureRandom)}: a new id on every run.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows the id, never a private key.
 */
public final class Identity {
    /** Length of every raw key: X25519 public and private, Ed25519 public and seed. */
    public static final int KEY_BYTES = 32;
    /** Length of an Ed25519 signature (RFC 8032 §5.1.6). */
    public static final int SIGNATURE_BYTES = 64;
    /** Length of {@link #id()}: 256 bits in 5-bit characters. */
    public static final int ID_CHARS = 52;
    /** Bytes of SHA-256 in the fingerprint: 80 bits, four groups of four base32 characters. */
    private static final int FINGERPRINT_BYTES = 10;

    /** DER prefixes of the X.509 SubjectPublicKeyInfo of a raw 32-byte key (RFC 8410 §4). */
    private static final byte[] X25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b656e032100");
    private static final byte[] ED25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    /** The X25519 base point u = 9 (RFC 7748 §4.1); a public key is X25519(private, 9) (§6.1). */
    private static final XECPublicKeySpec BASE_POINT = new XECPublicKeySpec(NamedParameterSpec.X25519,
            BigInteger.valueOf(9));

    private final byte[] x25519Private;
    private final byte[] ed25519Seed;
    private final PrivateKey x25519PrivateKey;
    private final PrivateKey ed25519PrivateKey;
    private final byte[] x25519Public;
    private final byte[] ed25519Public;
    private final String id;

    private Identity(byte[] x25519Private, byte[] ed25519Seed) {
        this.x25519Private = x25519Private.clone();
        this.ed25519Seed = ed25519Seed.clone();
        try {
            this.x25519PrivateKey = KeyFactory.getInstance("X25519")
                    .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, this.x25519Private));
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(x25519PrivateKey);
            agreement.doPhase(KeyFactory.getInstance("X25519").generatePublic(BASE_POINT), true);
            this.x25519Public = agreement.generateSecret();
            KeyPair ed25519 = ed25519KeyPair(this.ed25519Seed);
            this.ed25519PrivateKey = ed25519.getPrivate();
            this.ed25519Public = rawPublicKey(ed25519.getPublic(), ED25519_SPKI_PREFIX);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks X25519 or Ed25519 (both are in every JDK 15+): " + e, e);
        }
        this.id = Base32.encode(x25519Public);
    }

    /** A new identity from {@code random}: ephemeral unless the caller stores it. */
    public static Identity generate(SecureRandom random) {
        byte[] x25519Private = new byte[KEY_BYTES];
        byte[] ed25519Seed = new byte[KEY_BYTES];
        random.nextBytes(x25519Private);
        random.nextBytes(ed25519Seed);
        return new Identity(x25519Private, ed25519Seed);
    }

    /**
     * The identity of two raw private keys: an X25519 scalar (RFC 7748 §5, clamped when used, so any 32 bytes
     * will do) and an Ed25519 seed (RFC 8032 §5.1.5's 32-byte private key). For the key file and tests.
     */
    static Identity fromPrivateKeys(byte[] x25519Private, byte[] ed25519Seed) {
        if (x25519Private.length != KEY_BYTES || ed25519Seed.length != KEY_BYTES) {
            throw new IllegalArgumentException("private keys are " + KEY_BYTES + " bytes, got "
                    + x25519Private.length + " and " + ed25519Seed.length);
        }
        return new Identity(x25519Private, ed25519Seed);
    }

    // ------------------------------------------------------------------ the key file

    /**
     * The identity in {@code file}, which must exist.
     *
     * @throws NoSuchFileException if it does not
     * @throws IOException if it cannot be read, is accessible by group or others (the message gives the
     *     {@code chmod}), or is malformed (the message names the line)
     */
    public static Identity load(Path file) throws IOException {
        return IdentityFile.read(file);
    }

    /**
     * A new identity from {@code random}, written to {@code file}, which must not exist: created with mode
     * 0600 (on POSIX file systems) under a temporary name in the same directory and linked into place only
     * when complete, so no reader ever sees a partial file. Missing parent directories are created with mode
     * 0700.
     *
     * @throws FileAlreadyExistsException if {@code file} exists (another process may have just created it)
     * @throws IOException if it cannot be written
     */
    public static Identity create(Path file, SecureRandom random) throws IOException {
        Identity identity = generate(random);
        IdentityFile.write(file, identity.x25519Private, identity.ed25519Seed);
        return identity;
    }

    /**
     * The identity in {@code file}, created (as by {@link #create}) if the file does not exist. Two processes
     * starting at once agree on one identity: the one that loses the race to create the file loads the
     * winner's.
     *
     * @throws IOException as {@link #load} and {@link #create} do
     */
    public static Identity loadOrCreate(Path file) throws IOException {
        try {
            return load(file);
        } catch (NoSuchFileException missing) {
            try {
                return create(file, new SecureRandom());
            } catch (FileAlreadyExistsException raced) {
                return load(file);
            }
        }
    }

    /** {@link #defaultPath(Map)} of this process's environment. */
    public static Path defaultPath() {
        return defaultPath(System.getenv());
    }

    /**
     * Where a node keeps its identity by default (XDG Base Directory Specification):
     * {@code $XDG_CONFIG_HOME/pinhole/identity} when that variable is an absolute path (the specification
     * says to ignore a relative one), else {@code $HOME/.config/pinhole/identity}, else the same under the
     * JVM's {@code user.home}.
     */
    public static Path defaultPath(Map<String, String> environment) {
        String config = environment.get("XDG_CONFIG_HOME");
        if (config != null && !config.isEmpty() && Path.of(config).isAbsolute()) {
            return Path.of(config, "pinhole", "identity");
        }
        String home = environment.get("HOME");
        if (home == null || home.isEmpty()) {
            home = System.getProperty("user.home");
        }
        return Path.of(home, ".config", "pinhole", "identity");
    }

    // ------------------------------------------------------------------ the id

    /** The node id: the X25519 public key, lowercase base32 without padding, {@value #ID_CHARS} characters. */
    public String id() {
        return id;
    }

    /**
     * The short form for people: the first 10 bytes of SHA-256 over the raw X25519 public key, base32, as
     * {@code xxxx-xxxx-xxxx-xxxx}.
     */
    public String fingerprint() {
        return fingerprintOf(x25519Public);
    }

    /** {@link #id()} of the identity whose X25519 public key is {@code x25519PublicKey}. */
    public static String idOf(byte[] x25519PublicKey) {
        checkLength(x25519PublicKey, KEY_BYTES, "an X25519 public key");
        return Base32.encode(x25519PublicKey);
    }

    /** {@link #fingerprint()} of the identity whose X25519 public key is {@code x25519PublicKey}. */
    public static String fingerprintOf(byte[] x25519PublicKey) {
        checkLength(x25519PublicKey, KEY_BYTES, "an X25519 public key");
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(x25519PublicKey);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        String chars = Base32.encode(Arrays.copyOf(digest, FINGERPRINT_BYTES));
        return chars.substring(0, 4) + "-" + chars.substring(4, 8) + "-" + chars.substring(8, 12) + "-"
                + chars.substring(12, 16);
    }

    /**
     * The raw X25519 public key a node id names, in upper or lower case.
     *
     * @throws IllegalArgumentException if {@code id} is not {@value #ID_CHARS} characters of {@code a-z} and
     *     {@code 2-7} that encode 32 bytes; the message says what a valid id looks like
     */
    public static byte[] parseId(String id) {
        Objects.requireNonNull(id, "id");
        try {
            return Base32.decode(id, KEY_BYTES);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a node id: '" + id + "' " + e.getMessage() + "; a node id is "
                    + ID_CHARS + " characters of a-z and 2-7, as `pinhole id` prints it", e);
        }
    }

    // ------------------------------------------------------------------ keys and operations

    /** A copy of the raw 32-byte X25519 public key (RFC 7748 §5: the little-endian u-coordinate). */
    public byte[] x25519PublicKey() {
        return x25519Public.clone();
    }

    /** A copy of the raw 32-byte Ed25519 public key (RFC 8032 §5.1.5). */
    public byte[] ed25519PublicKey() {
        return ed25519Public.clone();
    }

    /** The 64-byte Ed25519 signature of {@code message} (RFC 8032 §5.1.6; deterministic). */
    public byte[] sign(byte[] message) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(ed25519PrivateKey);
            signature.update(message);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed with a key this class made: " + e, e);
        }
    }

    /**
     * Whether {@code signature} is a valid Ed25519 signature of {@code message} by the holder of
     * {@code ed25519PublicKey} (RFC 8032 §5.1.7). False, never an exception, for keys and signatures of the
     * wrong length or that do not decode.
     */
    public static boolean verify(byte[] ed25519PublicKey, byte[] message, byte[] signature) {
        Objects.requireNonNull(message, "message");
        if (ed25519PublicKey == null || ed25519PublicKey.length != KEY_BYTES || signature == null
                || signature.length != SIGNATURE_BYTES) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(publicKey("Ed25519", ED25519_SPKI_PREFIX, ed25519PublicKey));
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            // A key that is not a curve point, or a signature whose S is out of range, proves nothing.
            return false;
        }
    }

    /**
     * For the transport's handshake: the X25519 shared secret of this identity's private key and a peer's
     * raw public key (RFC 7748 §6.1; Noise's {@code DH(s, rs)} and {@code DH(s, re)}). The private key never
     * leaves this object this way.
     *
     * @throws InvalidKeyException if the peer's key is of small order (the result would be all zeros,
     *     which RFC 7748 §6.1 lets a protocol refuse); a handshake must then fail
     */
    public byte[] dh(byte[] peerX25519PublicKey) throws InvalidKeyException {
        checkLength(peerX25519PublicKey, KEY_BYTES, "an X25519 public key");
        try {
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(x25519PrivateKey);
            agreement.doPhase(publicKey("X25519", X25519_SPKI_PREFIX, peerX25519PublicKey), true);
            byte[] shared = agreement.generateSecret();
            int any = 0;
            for (byte b : shared) {
                any |= b;
            }
            if (any == 0) {
                throw new InvalidKeyException("the peer's X25519 public key is of small order");
            }
            return shared;
        } catch (InvalidKeyException e) {
            throw e;
        } catch (GeneralSecurityException | IllegalStateException e) {
            throw new InvalidKeyException("X25519 with the peer's public key failed: " + e.getMessage(), e);
        }
    }

    /**
     * For the transport's handshake only: the X25519 private key as a JDK key (an
     * {@link java.security.interfaces.XECPrivateKey}; {@code getScalar()} gives the raw 32 bytes), for a Noise
     * implementation that runs its own {@link KeyAgreement}. Prefer {@link #dh}. Never log or store it: the
     * key file is the one place it is kept.
     */
    public PrivateKey x25519PrivateKey() {
        return x25519PrivateKey;
    }

    /** Equal identities have the same public keys, hence (the derivations being functions) the same private keys. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Identity other && Arrays.equals(x25519Public, other.x25519Public)
                && Arrays.equals(ed25519Public, other.ed25519Public);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(x25519Public);
    }

    @Override
    public String toString() {
        return "Identity{" + id + "}";
    }

    // ------------------------------------------------------------------ internals

    /**
     * The Ed25519 key pair of a 32-byte seed. JDK 17 has no public API that derives an Ed25519 public key from
     * a private one, but its key pair generator draws the private key as exactly 32 bytes from the
     * {@link SecureRandom} it is given and derives the public key from them (RFC 8032 §5.1.5); a random that
     * hands out the seed therefore yields the seed's key pair. The private key of the pair is compared with
     * the seed, so a JDK that drew its bytes any other way fails here loudly instead of making a wrong key.
     */
    private static KeyPair ed25519KeyPair(byte[] seed) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
        KeyPair pair = generator.generateKeyPair();
        if (!(pair.getPrivate() instanceof EdECPrivateKey edec)
                || !Arrays.equals(edec.getBytes().orElse(new byte[0]), seed)) {
            throw new IllegalStateException("this JDK's Ed25519 key pair generator did not use the seed it was"
                    + " given; cannot derive the public key of a stored Ed25519 key");
        }
        return pair;
    }

    private static byte[] rawPublicKey(PublicKey key, byte[] spkiPrefix) {
        byte[] encoded = key.getEncoded();
        if (encoded.length != spkiPrefix.length + KEY_BYTES
                || !Arrays.equals(encoded, 0, spkiPrefix.length, spkiPrefix, 0, spkiPrefix.length)) {
            throw new IllegalStateException("unexpected " + key.getAlgorithm() + " public key encoding");
        }
        return Arrays.copyOfRange(encoded, spkiPrefix.length, encoded.length);
    }

    private static PublicKey publicKey(String algorithm, byte[] spkiPrefix, byte[] raw)
            throws GeneralSecurityException {
        byte[] encoded = Arrays.copyOf(spkiPrefix, spkiPrefix.length + KEY_BYTES);
        System.arraycopy(raw, 0, encoded, spkiPrefix.length, KEY_BYTES);
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(encoded));
    }

    private static void checkLength(byte[] key, int length, String what) {
        Objects.requireNonNull(key, what);
        if (key.length != length) {
            throw new IllegalArgumentException(what + " is " + length + " bytes, got " + key.length);
        }
    }

    /** A {@link SecureRandom} that hands out one seed, once (see {@link #ed25519KeyPair}). */
    private static final class SeedRandom extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final byte[] seed;
        private boolean used;

        SeedRandom(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public synchronized void nextBytes(byte[] bytes) {
            if (used || bytes.length != seed.length) {
                throw new IllegalStateException("this JDK's Ed25519 key pair generator asked for "
                        + bytes.length + " random bytes" + (used ? " a second time" : "")
                        + "; cannot derive the public key of a stored Ed25519 key");
            }
            used = true;
            System.arraycopy(seed, 0, bytes, 0, bytes.length);
        }
    }
}
