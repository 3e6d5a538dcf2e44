package dev.pinhole.reliability.noise;

import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A Noise CipherState (Noise revision 34, §5.1): a 32-byte key {@code k} (or none) and a 64-bit
 * nonce {@code n}, on AES-256-GCM as §12.4 defines it: the 96-bit GCM nonce is 32 bits of zeros
 * followed by {@code n} big-endian, the tag is 16 bytes.
 *
 * <ul>
 *   <li>Without a key, encryption and decryption return the input unchanged (§5.1), as the first
 *       handshake messages need.</li>
 *   <li>{@code n} counts as an unsigned 64-bit number; 2<sup>64</sup>-1 is reserved for
 *       {@link #rekey()} (§5.1, §11.3), so once {@code n} reaches it every further call fails with
 *       {@link NoiseException}.</li>
 *   <li>A failed decryption leaves {@code n} where it was and writes nothing to the output (the JDK's
 *       GCM checks the tag before releasing plaintext), so a caller can drop a forged or damaged
 *       packet and go on.</li>
 *   <li>{@link #setNonce(long)} (§5.1) serves transports that put the nonce on the wire because
 *       datagrams arrive out of order (§11.4).</li>
 * </ul>
 *
 * <p>One {@link Cipher} is reused; each call still allocates a {@link GCMParameterSpec} and whatever
 * {@code Cipher.init} allocates inside the JDK, which has no API to change only the nonce.
 * Not thread-safe: a connection owns one CipherState per direction.
 */
public final class CipherState {
    /** Bytes of a key. */
    public static final int KEY_LENGTH = 32;
    /** Bytes the GCM tag adds to every encryption under a key. */
    public static final int TAG_LENGTH = 16;

    /** 2^64-1 as an unsigned long: the nonce reserved for rekeying. */
    private static final long MAX_NONCE = -1L;
    private static final int IV_LENGTH = 12;
    private static final byte[] EMPTY = new byte[0];

    private final Cipher cipher;
    private final byte[] key = new byte[KEY_LENGTH];
    private final byte[] iv = new byte[IV_LENGTH];
    private SecretKeySpec keySpec;
    private long n;

    /** An empty CipherState: no key, nonce 0. */
    CipherState() {
        try {
            cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
            throw new IllegalStateException("the JDK has no AES/GCM/NoPadding", e);
        }
    }

    /** InitializeKey(key): sets the key (32 bytes, copied) and resets the nonce to 0. */
    void initializeKey(byte[] newKey) {
        System.arraycopy(newKey, 0, key, 0, KEY_LENGTH);
        keySpec = new SecretKeySpec(key, "AES");
        n = 0;
    }

    /** Forgets the key: the state of a CipherState before its first {@code MixKey}. */
    void clearKey() {
        Arrays.fill(key, (byte) 0);
        keySpec = null;
        n = 0;
    }

    /** Copies the key into {@code out} (32 bytes); for the handshake's rollback only. */
    void copyKey(byte[] out) {
        System.arraycopy(key, 0, out, 0, KEY_LENGTH);
    }

    /** HasKey(). */
    public boolean hasKey() {
        return keySpec != null;
    }

    /** SetNonce(nonce): the next encryption or decryption uses {@code nonce} (unsigned 64-bit). */
    public void setNonce(long nonce) {
        n = nonce;
    }

    /** The nonce the next call uses, as an unsigned 64-bit number. */
    public long nonce() {
        return n;
    }

    /**
     * EncryptWithAd(ad, plaintext) on array ranges: writes {@code inLength + TAG_LENGTH} bytes (just
     * {@code inLength} without a key) at {@code out[outOffset]}; {@code out} may be {@code in}, even
     * overlapping. Advances the nonce.
     *
     * @return the number of bytes written
     * @throws NoiseException if the nonce is exhausted
     * @throws IllegalArgumentException if {@code out} is too short
     * @throws IllegalStateException if the JDK refuses the key and nonce because they were the last
     *     ones used to encrypt (the caller set the nonce back: a bug that would break GCM's security;
     *     the JDK only catches an immediate repeat, so callers must never set it back at all)
     */
    public int encryptWithAd(byte[] ad, int adOffset, int adLength, byte[] in, int inOffset, int inLength,
                             byte[] out, int outOffset) throws NoiseException {
        if (keySpec == null) {
            System.arraycopy(in, inOffset, out, outOffset, inLength);
            return inLength;
        }
        if (n == MAX_NONCE) {
            throw new NoiseException("nonce exhausted: rekey or start a new session");
        }
        int written = encrypt(n, ad, adOffset, adLength, in, inOffset, inLength, out, outOffset);
        n++;
        return written;
    }

    /**
     * DecryptWithAd(ad, ciphertext) on array ranges: writes {@code inLength - TAG_LENGTH} bytes (just
     * {@code inLength} without a key) at {@code out[outOffset]}; {@code out} may be {@code in}.
     * Advances the nonce only on success.
     *
     * @return the number of bytes written
     * @throws NoiseException if the ciphertext is shorter than a tag, the tag does not verify, or the
     *     nonce is exhausted; nothing is written and the nonce is unchanged
     * @throws IllegalArgumentException if {@code out} is too short
     */
    public int decryptWithAd(byte[] ad, int adOffset, int adLength, byte[] in, int inOffset, int inLength,
                             byte[] out, int outOffset) throws NoiseException {
        if (keySpec == null) {
            System.arraycopy(in, inOffset, out, outOffset, inLength);
            return inLength;
        }
        if (n == MAX_NONCE) {
            throw new NoiseException("nonce exhausted: rekey or start a new session");
        }
        if (inLength < TAG_LENGTH) {
            throw new NoiseException("ciphertext of " + inLength + " bytes is shorter than the tag");
        }
        try {
            cipher.init(Cipher.DECRYPT_MODE, keySpec, parameters(n));
            if (adLength > 0) {
                cipher.updateAAD(ad, adOffset, adLength);
            }
            int written = cipher.doFinal(in, inOffset, inLength, out, outOffset);
            n++;
            return written;
        } catch (AEADBadTagException e) {
            throw new NoiseException("authentication tag mismatch", e);
        } catch (ShortBufferException e) {
            throw new IllegalArgumentException("output array too short for " + (inLength - TAG_LENGTH)
                    + " bytes", e);
        } catch (GeneralSecurityException e) {
            // A 32-byte AES key and a 12-byte nonce are always valid for decryption.
            throw new IllegalStateException("AES-GCM refused a valid key or nonce", e);
        }
    }

    /** EncryptWithAd(ad, plaintext) into a new array; {@code ad} may be null for none. */
    public byte[] encryptWithAd(byte[] ad, byte[] plaintext) throws NoiseException {
        byte[] a = ad == null ? EMPTY : ad;
        byte[] out = new byte[plaintext.length + (hasKey() ? TAG_LENGTH : 0)];
        encryptWithAd(a, 0, a.length, plaintext, 0, plaintext.length, out, 0);
        return out;
    }

    /** DecryptWithAd(ad, ciphertext) into a new array; {@code ad} may be null for none. */
    public byte[] decryptWithAd(byte[] ad, byte[] ciphertext) throws NoiseException {
        byte[] a = ad == null ? EMPTY : ad;
        if (hasKey() && ciphertext.length < TAG_LENGTH) {
            throw new NoiseException("ciphertext of " + ciphertext.length + " bytes is shorter than the tag");
        }
        byte[] out = new byte[ciphertext.length - (hasKey() ? TAG_LENGTH : 0)];
        decryptWithAd(a, 0, a.length, ciphertext, 0, ciphertext.length, out, 0);
        return out;
    }

    /**
     * Rekey() (§4.2, §11.3): the new key is the first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32
     * zero bytes). The nonce is left as it is, as §5.1 says. Without a key it does nothing.
     */
    public void rekey() {
        if (keySpec == null) {
            return;
        }
        byte[] block = new byte[KEY_LENGTH + TAG_LENGTH];
        encrypt(MAX_NONCE, EMPTY, 0, 0, new byte[KEY_LENGTH], 0, KEY_LENGTH, block, 0);
        System.arraycopy(block, 0, key, 0, KEY_LENGTH);
        Arrays.fill(block, (byte) 0);
        keySpec = new SecretKeySpec(key, "AES");
    }

    private int encrypt(long nonce, byte[] ad, int adOffset, int adLength, byte[] in, int inOffset,
                        int inLength, byte[] out, int outOffset) {
        try {
            cipher.init(Cipher.ENCRYPT_MODE, keySpec, parameters(nonce));
            if (adLength > 0) {
                cipher.updateAAD(ad, adOffset, adLength);
            }
            return cipher.doFinal(in, inOffset, inLength, out, outOffset);
        } catch (InvalidAlgorithmParameterException e) {
            // The JDK's guard against encrypting twice with the same key and nonce.
            throw new IllegalStateException("AES-GCM nonce reused for encryption", e);
        } catch (ShortBufferException e) {
            throw new IllegalArgumentException("output array too short for " + (inLength + TAG_LENGTH)
                    + " bytes", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    /** The §12.4 nonce: four zero bytes, then {@code nonce} big-endian. */
    private GCMParameterSpec parameters(long nonce) {
        for (int i = 0; i < 8; i++) {
            iv[IV_LENGTH - 1 - i] = (byte) (nonce >>> (8 * i));
        }
        return new GCMParameterSpec(TAG_LENGTH * 8, iv);
    }

    @Override
    public String toString() {
        return "CipherState[" + (hasKey() ? "key" : "no key") + ", n=" + Long.toUnsignedString(n) + "]";
    }
}
