package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/** X25519 on the JDK with raw keys: RFC 7748 §5.2 and §6.1 vectors, and small-order points refused. */
class NoiseKeyPairTest {
    private final Dh25519 dh = new Dh25519();

    @Test
    void rfc7748Section52ScalarMultiplication() throws Exception {
        assertEquals("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
                x25519("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"));
        // The second u-coordinate has its top bit set: RFC 7748 §5 says to mask it.
        assertEquals("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
                x25519("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                        "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"));
    }

    @Test
    void rfc7748Section61DiffieHellman() throws Exception {
        NoiseKeyPair alice = NoiseKeyPair.fromPrivateKey(
                HexFormat.of().parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        NoiseKeyPair bob = NoiseKeyPair.fromPrivateKey(
                HexFormat.of().parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
                HexFormat.of().formatHex(alice.publicKey()));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                HexFormat.of().formatHex(bob.publicKey()));
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        dh.dh(alice.jdkPrivateKey(), bob.publicKey(), k1);
        dh.dh(bob.jdkPrivateKey(), alice.publicKey(), k2);
        assertEquals("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", HexFormat.of().formatHex(k1));
        assertArrayEquals(k1, k2);
    }

    @Test
    void generatedPairsAgree() throws Exception {
        SecureRandom random = new SecureRandom();
        NoiseKeyPair a = NoiseKeyPair.generate(random);
        NoiseKeyPair b = NoiseKeyPair.generate(random);
        assertEquals(32, a.publicKey().length);
        assertEquals(32, a.privateKey().length);
        assertNotEquals(a, b);
        assertEquals(a, NoiseKeyPair.fromPrivateKey(a.privateKey()), "a pair is its private key's");
        byte[] k1 = new byte[32];
        byte[] k2 = new byte[32];
        dh.dh(a.jdkPrivateKey(), b.publicKey(), k1);
        dh.dh(b.jdkPrivateKey(), a.publicKey(), k2);
        assertArrayEquals(k1, k2);
    }

    @Test
    void smallOrderPublicKeysAreRefused() {
        NoiseKeyPair pair = NoiseKeyPair.generate(new SecureRandom());
        // u = 0, 1, p - 1 and p (0 written non-canonically): low-order u-coordinates, X25519 output zero.
        for (String point : new String[] {
                "0000000000000000000000000000000000000000000000000000000000000000",
                "0100000000000000000000000000000000000000000000000000000000000000",
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
            assertThrows(NoiseException.class, () -> dh.dh(pair.jdkPrivateKey(), HexFormat.of().parseHex(point), new byte[32]),
                    point);
        }
    }

    @Test
    void wrongLengthsAreRefused() {
        NoiseKeyPair pair = NoiseKeyPair.generate(new SecureRandom());
        assertThrows(NoiseException.class, () -> dh.dh(pair.jdkPrivateKey(), new byte[31], new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> NoiseKeyPair.fromPrivateKey(new byte[33]));
    }

    @Test
    void keysAreCopiedAndTheStringShowsNoPrivateKey() {
        NoiseKeyPair pair = NoiseKeyPair.generate(new SecureRandom());
        pair.publicKey()[0] ^= 1;
        pair.privateKey()[0] ^= 1;
        assertEquals(pair, NoiseKeyPair.fromPrivateKey(pair.privateKey()));
        assertFalse(pair.toString().contains(HexFormat.of().formatHex(pair.privateKey())));
        assertEquals("NoiseKeyPair[public=" + HexFormat.of().formatHex(pair.publicKey()) + "]", pair.toString());
    }

    private String x25519(String scalar, String u) throws NoiseException {
        byte[] out = new byte[32];
        dh.dh(dh.privateKey(HexFormat.of().parseHex(scalar)), HexFormat.of().parseHex(u), out);
        return HexFormat.of().formatHex(out);
    }
}
