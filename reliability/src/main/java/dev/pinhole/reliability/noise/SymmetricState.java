package dev.pinhole.reliability.noise;

import dev.pinhole.reliability.crypto.Hkdf;

import java.nio.charset.StandardCharsets;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A Noise SymmetricState (Noise revision 34, §5.2) for SHA-256: the chaining key {@code ck}, the
 * handshake hash {@code h} and a {@link CipherState}.
 *
 * <p>Beyond §5.2 it can {@link #checkpoint()} and {@link #rollback()} its whole state, so that the
 * handshake can undo a message that failed to read (see {@link HandshakeState#readMessage}). The
 * MessageDigest, the HMAC and the Cipher are reused for the whole handshake. Not thread-safe.
 */
final class SymmetricState {
    static final int HASH_LENGTH = Hkdf.HASH_LENGTH;

    private final MessageDigest sha256;
    private final Hkdf hkdf = new Hkdf();
    private final CipherState cipher = new CipherState();
    private final byte[] ck = new byte[HASH_LENGTH];
    private final byte[] h = new byte[HASH_LENGTH];
    private final byte[] tempKey = new byte[HASH_LENGTH];

    private final byte[] savedCk = new byte[HASH_LENGTH];
    private final byte[] savedH = new byte[HASH_LENGTH];
    private final byte[] savedKey = new byte[CipherState.KEY_LENGTH];
    private boolean savedHasKey;
    private long savedNonce;

    /**
     * InitializeSymmetric(protocol_name): {@code h} is the name padded with zeros if it fits in
     * HASHLEN bytes, else its hash; {@code ck = h}; no key.
     */
    SymmetricState(String protocolName) {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        byte[] name = protocolName.getBytes(StandardCharsets.US_ASCII);
        if (name.length <= HASH_LENGTH) {
            System.arraycopy(name, 0, h, 0, name.length);
        } else {
            sha256.update(name);
            digestInto(h);
        }
        System.arraycopy(h, 0, ck, 0, HASH_LENGTH);
    }

    /** MixKey(input_key_material): {@code ck, temp_k = HKDF(ck, ikm, 2)}; InitializeKey(temp_k). */
    void mixKey(byte[] inputKeyMaterial) {
        hkdf.noise(ck, inputKeyMaterial, 0, inputKeyMaterial.length, ck, tempKey, null);
        // HASHLEN is 32 for SHA-256, so temp_k needs no truncation to the 32-byte key.
        cipher.initializeKey(tempKey);
        Arrays.fill(tempKey, (byte) 0);
    }

    /** MixHash(data): {@code h = HASH(h || data)}. */
    void mixHash(byte[] data, int offset, int length) {
        sha256.update(h);
        sha256.update(data, offset, length);
        digestInto(h);
    }

    boolean hasKey() {
        return cipher.hasKey();
    }

    /**
     * EncryptAndHash(plaintext): encrypts with {@code h} as associated data into {@code out} (which
     * must not overlap the input), then mixes the ciphertext into {@code h}.
     *
     * @return the bytes written
     */
    int encryptAndHash(byte[] in, int inOffset, int inLength, byte[] out, int outOffset)
            throws NoiseException {
        int written = cipher.encryptWithAd(h, 0, HASH_LENGTH, in, inOffset, inLength, out, outOffset);
        mixHash(out, outOffset, written);
        return written;
    }

    /**
     * DecryptAndHash(ciphertext): decrypts with {@code h} as associated data into {@code out} (which
     * must not overlap the input, whose ciphertext is hashed afterwards), then mixes the ciphertext
     * into {@code h}. On failure {@code h} is unchanged.
     *
     * @return the bytes written
     */
    int decryptAndHash(byte[] in, int inOffset, int inLength, byte[] out, int outOffset)
            throws NoiseException {
        int written = cipher.decryptWithAd(h, 0, HASH_LENGTH, in, inOffset, inLength, out, outOffset);
        mixHash(in, inOffset, inLength);
        return written;
    }

    /** GetHandshakeHash(): a copy of {@code h}. */
    byte[] handshakeHash() {
        return h.clone();
    }

    /**
     * Split(): {@code temp_k1, temp_k2 = HKDF(ck, empty, 2)}, each in a new CipherState, first the
     * initiator-to-responder one. The chaining key is wiped afterwards: nothing may derive from it
     * again (§5.2 says to delete the SymmetricState).
     */
    CipherState[] split() {
        byte[] k1 = new byte[HASH_LENGTH];
        byte[] k2 = new byte[HASH_LENGTH];
        hkdf.noise(ck, new byte[0], 0, 0, k1, k2, null);
        CipherState c1 = new CipherState();
        CipherState c2 = new CipherState();
        c1.initializeKey(k1);
        c2.initializeKey(k2);
        Arrays.fill(k1, (byte) 0);
        Arrays.fill(k2, (byte) 0);
        Arrays.fill(ck, (byte) 0);
        cipher.clearKey();
        return new CipherState[] {c1, c2};
    }

    /**
     * Split() as the two raw 32-byte keys, first the initiator-to-responder one, for a transport that
     * derives its own packet keys from them; the chaining key is wiped as in {@link #split()}.
     */
    byte[][] splitKeys() {
        byte[] k1 = new byte[HASH_LENGTH];
        byte[] k2 = new byte[HASH_LENGTH];
        hkdf.noise(ck, new byte[0], 0, 0, k1, k2, null);
        Arrays.fill(ck, (byte) 0);
        cipher.clearKey();
        return new byte[][] {k1, k2};
    }

    /** Appends ck, h and the CipherState (key flag, key, nonce) to {@code out}, for a snapshot. */
    void export(DataOutputStream out) throws IOException {
        out.write(ck);
        out.write(h);
        out.writeBoolean(cipher.hasKey());
        if (cipher.hasKey()) {
            byte[] key = new byte[CipherState.KEY_LENGTH];
            cipher.copyKey(key);
            out.write(key);
            Arrays.fill(key, (byte) 0);
            out.writeLong(cipher.nonce());
        }
    }

    /** Reads back what {@link #export} wrote. */
    void restore(DataInputStream in) throws IOException {
        in.readFully(ck);
        in.readFully(h);
        if (in.readBoolean()) {
            byte[] key = new byte[CipherState.KEY_LENGTH];
            in.readFully(key);
            cipher.initializeKey(key);
            Arrays.fill(key, (byte) 0);
            cipher.setNonce(in.readLong());
        } else {
            cipher.clearKey();
        }
    }

    /** Remembers the whole state, for {@link #rollback()}. */
    void checkpoint() {
        System.arraycopy(ck, 0, savedCk, 0, HASH_LENGTH);
        System.arraycopy(h, 0, savedH, 0, HASH_LENGTH);
        savedHasKey = cipher.hasKey();
        if (savedHasKey) {
            cipher.copyKey(savedKey);
        }
        savedNonce = cipher.nonce();
    }

    /** Returns to the state of the last {@link #checkpoint()}. */
    void rollback() {
        System.arraycopy(savedCk, 0, ck, 0, HASH_LENGTH);
        System.arraycopy(savedH, 0, h, 0, HASH_LENGTH);
        if (savedHasKey) {
            cipher.initializeKey(savedKey);
        } else {
            cipher.clearKey();
        }
        cipher.setNonce(savedNonce);
    }

    /** Wipes the secrets kept for a rollback. */
    void discardCheckpoint() {
        Arrays.fill(savedCk, (byte) 0);
        Arrays.fill(savedKey, (byte) 0);
    }

    private void digestInto(byte[] out) {
        try {
            sha256.digest(out, 0, HASH_LENGTH);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 digest into a 32-byte array failed", e);
        }
    }
}
