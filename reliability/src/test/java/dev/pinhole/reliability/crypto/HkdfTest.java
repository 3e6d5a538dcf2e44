package dev.pinhole.reliability.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** RFC 5869 Appendix A's SHA-256 cases, and Noise's HKDF (§4.3) against its definition. */
class HkdfTest {
    private final Hkdf hkdf = new Hkdf();

    @Test
    void rfc5869Case1BasicSha256() {
        check(HexFormat.of().parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                HexFormat.of().parseHex("000102030405060708090a0b0c"),
                HexFormat.of().parseHex("f0f1f2f3f4f5f6f7f8f9"), 42,
                "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    }

    @Test
    void rfc5869Case2LongerInputsAndOutput() {
        check(range(0x00, 80), range(0x60, 80), range(0xb0, 80), 82,
                "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                        + "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                        + "cc30c58179ec3e87c14c01d5c1f3434f1d87");
    }

    @Test
    void rfc5869Case3EmptySaltAndInfo() {
        check(HexFormat.of().parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), new byte[0], new byte[0], 42,
                "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    }

    @Test
    void noiseHkdfIsRfc5869WithTheChainingKeyAsSaltAndNoInfo() {
        byte[] ck = range(0x20, 32);
        byte[] ikm = range(0x90, 32);
        byte[] okm = hkdf.expand(hkdf.extract(ck, ikm), new byte[0], 96);
        byte[] o1 = new byte[32];
        byte[] o2 = new byte[32];
        byte[] o3 = new byte[32];
        hkdf.noise(ck, ikm, 0, ikm.length, o1, o2, o3);
        assertArrayEquals(Arrays.copyOfRange(okm, 0, 32), o1);
        assertArrayEquals(Arrays.copyOfRange(okm, 32, 64), o2);
        assertArrayEquals(Arrays.copyOfRange(okm, 64, 96), o3);

        byte[] t1 = new byte[32];
        byte[] t2 = new byte[32];
        hkdf.noise(ck, ikm, 0, ikm.length, t1, t2, null);
        assertArrayEquals(o1, t1, "two outputs are the first two of three");
        assertArrayEquals(o2, t2);
    }

    @Test
    void noiseHkdfMatchesTheSpecDefinitionStepByStep() throws Exception {
        byte[] ck = range(0x01, 32);
        byte[] ikm = new byte[0];
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(ck, "HmacSHA256"));
        byte[] tempKey = mac.doFinal(ikm);
        mac.init(new SecretKeySpec(tempKey, "HmacSHA256"));
        byte[] expected1 = mac.doFinal(new byte[] {1});
        mac.update(expected1);
        byte[] expected2 = mac.doFinal(new byte[] {2});
        mac.update(expected2);
        byte[] expected3 = mac.doFinal(new byte[] {3});

        byte[] o1 = new byte[32];
        byte[] o2 = new byte[32];
        byte[] o3 = new byte[32];
        hkdf.noise(ck, ikm, 0, 0, o1, o2, o3);
        assertArrayEquals(expected1, o1);
        assertArrayEquals(expected2, o2);
        assertArrayEquals(expected3, o3);
    }

    @Test
    void anOutputMayOverwriteTheChainingKey() {
        byte[] ck = range(0x40, 32);
        byte[] ikm = range(0x70, 5);
        byte[] expected1 = new byte[32];
        byte[] expected2 = new byte[32];
        hkdf.noise(ck.clone(), ikm, 0, ikm.length, expected1, expected2, null);
        byte[] k = new byte[32];
        hkdf.noise(ck, ikm, 0, ikm.length, ck, k, null);
        assertArrayEquals(expected1, ck);
        assertArrayEquals(expected2, k);
    }

    private void check(byte[] ikm, byte[] salt, byte[] info, int length, String prk, String okm) {
        byte[] actualPrk = hkdf.extract(salt, ikm);
        assertEquals(prk, HexFormat.of().formatHex(actualPrk));
        assertEquals(okm, HexFormat.of().formatHex(hkdf.expand(actualPrk, info, length)));
    }

    private static byte[] range(int first, int count) {
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            out[i] = (byte) (first + i);
        }
        return out;
    }
}
