package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** CipherState (§5.1) on AES-256-GCM with the §12.4 nonce. */
class NoiseCipherStateTest {
    private static final byte[] KEY = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static final byte[] AD = "header".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TEXT = "the quick brown fox".getBytes(StandardCharsets.US_ASCII);

    @Test
    void withoutAKeyDataPassesThroughUnchanged() throws Exception {
        CipherState c = new CipherState();
        assertFalse(c.hasKey());
        assertArrayEquals(TEXT, c.encryptWithAd(AD, TEXT));
        assertArrayEquals(TEXT, c.decryptWithAd(AD, TEXT));
        assertEquals(0, c.nonce());
    }

    @Test
    void nonceIsFourZeroBytesThenTheCounterBigEndian() throws Exception {
        CipherState c = keyed();
        c.setNonce(0x0102030405060708L);
        byte[] ours = c.encryptWithAd(AD, TEXT);
        Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"),
                new GCMParameterSpec(128, HexFormat.of().parseHex("000000000102030405060708")));
        jdk.updateAAD(AD);
        assertArrayEquals(jdk.doFinal(TEXT), ours);
        assertEquals(0x0102030405060709L, c.nonce());
    }

    @Test
    void roundTripsAndAdvancesBothNonces() throws Exception {
        CipherState send = keyed();
        CipherState receive = keyed();
        for (int i = 0; i < 5; i++) {
            byte[] ciphertext = send.encryptWithAd(AD, TEXT);
            assertEquals(TEXT.length + CipherState.TAG_LENGTH, ciphertext.length);
            assertArrayEquals(TEXT, receive.decryptWithAd(AD, ciphertext));
        }
        assertEquals(5, send.nonce());
        assertEquals(5, receive.nonce());
    }

    @Test
    void aFailedDecryptionThrowsAndLeavesTheNonceAndOutputAlone() throws Exception {
        CipherState send = keyed();
        CipherState receive = keyed();
        byte[] ciphertext = send.encryptWithAd(AD, TEXT);
        for (int bit = 0; bit < ciphertext.length * 8; bit++) {
            byte[] bad = ciphertext.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            byte[] out = new byte[TEXT.length];
            assertThrows(NoiseException.class,
                    () -> receive.decryptWithAd(AD, 0, AD.length, bad, 0, bad.length, out, 0), "bit " + bit);
            assertArrayEquals(new byte[TEXT.length], out, "no plaintext released");
            assertEquals(0, receive.nonce());
        }
        assertThrows(NoiseException.class, () -> receive.decryptWithAd("other".getBytes(StandardCharsets.US_ASCII),
                ciphertext), "wrong associated data");
        assertThrows(NoiseException.class, () -> receive.decryptWithAd(AD, new byte[15]), "shorter than a tag");
        assertThrows(NoiseException.class, () -> receive.decryptWithAd(AD, 0, AD.length, new byte[15], 0, 15,
                new byte[15], 0), "shorter than a tag, ranges");
        assertEquals(0, receive.nonce());
        assertArrayEquals(TEXT, receive.decryptWithAd(AD, ciphertext), "the genuine message still decrypts");
    }

    @Test
    void encryptsAndDecryptsInPlace() throws Exception {
        CipherState send = keyed();
        CipherState receive = keyed();
        byte[] packet = new byte[AD.length + TEXT.length + CipherState.TAG_LENGTH];
        System.arraycopy(AD, 0, packet, 0, AD.length);
        System.arraycopy(TEXT, 0, packet, AD.length, TEXT.length);
        int sealed = send.encryptWithAd(packet, 0, AD.length, packet, AD.length, TEXT.length, packet, AD.length);
        assertEquals(TEXT.length + CipherState.TAG_LENGTH, sealed);
        int opened = receive.decryptWithAd(packet, 0, AD.length, packet, AD.length, sealed, packet, AD.length);
        assertEquals(TEXT.length, opened);
        assertArrayEquals(TEXT, Arrays.copyOfRange(packet, AD.length, AD.length + opened));
    }

    @Test
    void theLastNonceIsReservedSoTheCounterRunsOut() throws Exception {
        CipherState send = keyed();
        CipherState receive = keyed();
        send.setNonce(-2L); // 2^64 - 2, the last usable nonce
        receive.setNonce(-2L);
        byte[] last = send.encryptWithAd(AD, TEXT);
        assertArrayEquals(TEXT, receive.decryptWithAd(AD, last));
        assertEquals(-1L, send.nonce());
        assertThrows(NoiseException.class, () -> send.encryptWithAd(AD, TEXT));
        assertThrows(NoiseException.class, () -> receive.decryptWithAd(AD, last));
        assertEquals(-1L, send.nonce());
    }

    @Test
    void rekeyEncryptsZerosUnderTheReservedNonceAndKeepsTheCounter() throws Exception {
        CipherState send = keyed();
        CipherState receive = keyed();
        send.setNonce(7);
        receive.setNonce(7);
        send.rekey();
        receive.rekey();
        assertEquals(7, send.nonce(), "§5.1: Rekey leaves n alone");

        Cipher jdk = Cipher.getInstance("AES/GCM/NoPadding");
        jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"),
                new GCMParameterSpec(128, HexFormat.of().parseHex("00000000ffffffffffffffff")));
        byte[] newKey = Arrays.copyOf(jdk.doFinal(new byte[32]), 32);
        CipherState expected = new CipherState();
        expected.initializeKey(newKey);
        expected.setNonce(7);

        byte[] ciphertext = send.encryptWithAd(AD, TEXT);
        assertArrayEquals(expected.encryptWithAd(AD, TEXT), ciphertext);
        assertArrayEquals(TEXT, receive.decryptWithAd(AD, ciphertext));
        CipherState stale = keyed();
        stale.setNonce(7);
        assertThrows(NoiseException.class, () -> stale.decryptWithAd(AD, ciphertext), "the old key no longer opens it");
    }

    @Test
    void repeatingTheLastEncryptionNonceIsRefusedByTheJdk() throws Exception {
        CipherState send = keyed();
        send.encryptWithAd(AD, TEXT);
        send.setNonce(0);
        assertThrows(IllegalStateException.class, () -> send.encryptWithAd(AD, TEXT));
    }

    @Test
    void toStringShowsNoKey() {
        CipherState c = keyed();
        assertTrue(c.toString().contains("n=0"));
        assertFalse(c.toString().contains(HexFormat.of().formatHex(KEY)));
    }

    private static CipherState keyed() {
        CipherState c = new CipherState();
        c.initializeKey(KEY);
        return c;
    }
}
