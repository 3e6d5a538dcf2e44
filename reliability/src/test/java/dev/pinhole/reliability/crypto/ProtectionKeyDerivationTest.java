package dev.pinhole.reliability.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** HKDF-SHA256 against RFC 5869's vectors, and the key schedule built on it. */
class ProtectionKeyDerivationTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void hkdfMatchesRfc5869TestCase1() {
        final byte[] ikm = new byte[22];
        Arrays.fill(ikm, (byte) 0x0b);
        final byte[] prk = Hkdf.extract(HEX.parseHex("000102030405060708090a0b0c"), ikm);
        assertEquals("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", HEX.formatHex(prk));
        final byte[] okm = Hkdf.expand(prk, HEX.parseHex("f0f1f2f3f4f5f6f7f8f9"), 42);
        assertEquals("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
                HEX.formatHex(okm));
    }

    @Test
    void hkdfMatchesRfc5869TestCase3WithEmptySaltAndInfo() {
        final byte[] ikm = new byte[22];
        Arrays.fill(ikm, (byte) 0x0b);
        final byte[] prk = Hkdf.extract(new byte[0], ikm);
        assertEquals("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04", HEX.formatHex(prk));
        assertEquals("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
                HEX.formatHex(Hkdf.expand(prk, new byte[0], 42)));
    }

    @Test
    void expandLabelFeedsTheHkdfLabelStructure() {
        final byte[] secret = ProtectionFixture.secret(1);
        // uint16 length 32, label length 11, "pinhole key", empty context.
        final String label = HEX.formatHex("pinhole key".getBytes(StandardCharsets.US_ASCII));
        final byte[] info = HEX.parseHex("00200b" + label + "00");
        assertArrayEquals(Hkdf.expand(secret, info, 32), Hkdf.expandLabel(secret, "key", 32));
    }

    @Test
    void keysIvAndHeaderKeyAreDistinctAndUpdatesKeepTheHeaderKey() {
        final TrafficKeys first = TrafficKeys.fromSecret(ProtectionFixture.secret(2));
        assertEquals(TrafficKeys.KEY_LENGTH, first.key.length);
        assertEquals(TrafficKeys.IV_LENGTH, first.iv.length);
        assertFalse(Arrays.equals(first.key, first.headerProtectionKey));
        final TrafficKeys second = first.next();
        assertFalse(Arrays.equals(first.key, second.key), "a key update changes the key");
        assertFalse(Arrays.equals(first.iv, second.iv), "and the IV");
        assertArrayEquals(first.headerProtectionKey, second.headerProtectionKey, "but not the header key (RFC 9001 §6)");
        assertArrayEquals(second.key, TrafficKeys.fromSecret(ProtectionFixture.secret(2)).next().key, "deterministic");
    }

    @Test
    void refusesSecretsOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> PacketProtection.sealer(new byte[16]));
        assertThrows(IllegalArgumentException.class, () -> PacketProtection.opener(new byte[33]));
    }
}
