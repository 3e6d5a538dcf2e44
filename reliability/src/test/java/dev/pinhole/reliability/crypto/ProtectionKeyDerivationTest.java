package dev.pinhole.reliability.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The packet-protection key schedule on HKDF-SHA256 (whose RFC 5869 vectors are in {@link HkdfTest}). */
class ProtectionKeyDerivationTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void expandLabelFeedsTheHkdfLabelStructure() {
        final byte[] secret = ProtectionFixture.secret(1);
        // uint16 length 32, label length 11, "pinhole key", empty context.
        final String label = HEX.formatHex("pinhole key".getBytes(StandardCharsets.US_ASCII));
        final byte[] info = HEX.parseHex("00200b" + label + "00");
        Hkdf hkdf = new Hkdf();
        assertArrayEquals(hkdf.expand(secret, info, 32), hkdf.expandLabel(secret, "key", 32));
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
