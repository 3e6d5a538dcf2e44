package dev.pinhole.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Identity}'s keys, signatures, key agreement and id, checked against the RFCs' test vectors. */
class IdentityTest {
    private static final HexFormat HEX = HexFormat.of();

    /** A SecureRandom with a fixed seed, so a failure can be replayed. */
    private static SecureRandom seeded(long seed) {
        Random source = new Random(seed);
        return new SecureRandom() {
            private static final long serialVersionUID = 1L;

            @Override
            public void nextBytes(byte[] bytes) {
                source.nextBytes(bytes);
            }
        };
    }

    @Test
    void x25519PublicKeyAndSharedSecretMatchRfc7748() throws Exception {
        // RFC 7748 §6.1: Alice's and Bob's key pairs and their shared secret.
        Identity alice = Identity.fromPrivateKeys(
                HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), new byte[32]);
        Identity bob = Identity.fromPrivateKeys(
                HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"), new byte[32]);
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
                HEX.formatHex(alice.x25519PublicKey()));
        assertEquals("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                HEX.formatHex(bob.x25519PublicKey()));
        String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
        assertEquals(shared, HEX.formatHex(alice.dh(bob.x25519PublicKey())));
        assertEquals(shared, HEX.formatHex(bob.dh(alice.x25519PublicKey())));
    }

    @Test
    void smallOrderPeerKeyIsRefused() {
        Identity me = Identity.generate(seeded(1));
        // u = 0 and u = 1 are points of small order: X25519 with them is all zeros (RFC 7748 §6.1).
        assertThrows(InvalidKeyException.class, () -> me.dh(new byte[32]));
        byte[] one = new byte[32];
        one[0] = 1;
        assertThrows(InvalidKeyException.class, () -> me.dh(one));
    }

    @Test
    void ed25519PublicKeyAndSignatureMatchRfc8032() {
        // RFC 8032 §7.1, TEST 1: the empty message.
        Identity identity = Identity.fromPrivateKeys(new byte[32],
                HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        assertEquals("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                HEX.formatHex(identity.ed25519PublicKey()));
        byte[] signature = identity.sign(new byte[0]);
        assertEquals("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
                + "6bd25bf5f0595bbe24655141438e7a100b", HEX.formatHex(signature));
        assertTrue(Identity.verify(identity.ed25519PublicKey(), new byte[0], signature));
    }

    @Test
    void signatureVerifiesAndAnyFlippedBitFails() {
        Identity identity = Identity.generate(seeded(2));
        byte[] message = "alice is pinhole node ...".getBytes(StandardCharsets.UTF_8);
        byte[] signature = identity.sign(message);
        assertEquals(Identity.SIGNATURE_BYTES, signature.length);
        assertTrue(Identity.verify(identity.ed25519PublicKey(), message, signature));

        byte[] flippedMessage = message.clone();
        flippedMessage[3] ^= 0x01;
        assertFalse(Identity.verify(identity.ed25519PublicKey(), flippedMessage, signature), "message bit");
        for (int bit : new int[] {0, 255, 256, 511}) {
            byte[] flipped = signature.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            assertFalse(Identity.verify(identity.ed25519PublicKey(), message, flipped), "signature bit " + bit);
        }
        byte[] otherKey = Identity.generate(seeded(3)).ed25519PublicKey();
        assertFalse(Identity.verify(otherKey, message, signature), "another key");
        assertFalse(Identity.verify(new byte[31], message, signature), "short key");
        assertFalse(Identity.verify(identity.ed25519PublicKey(), message, new byte[63]), "short signature");
    }

    @Test
    void generatedIdentitiesDifferAndRoundTripThroughTheirPrivateKeys() {
        Identity a = Identity.generate(new SecureRandom());
        Identity b = Identity.generate(new SecureRandom());
        assertNotEquals(a, b);
        assertNotEquals(a.id(), b.id());
        Identity again = Identity.generate(seeded(4));
        assertEquals(again, Identity.generate(seeded(4)), "the same random bytes give the same identity");
        byte[] key = a.x25519PublicKey();
        key[0] ^= 1;
        assertNotEquals(HEX.formatHex(key), HEX.formatHex(a.x25519PublicKey()), "accessors return copies");
    }

    @Test
    void idIsTheX25519PublicKeyIn52LowercaseBase32Characters() {
        Identity identity = Identity.fromPrivateKeys(
                HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), new byte[32]);
        // RFC 4648 §6 base32 of 8520f009...4e6a, lower case, the padding "====" dropped.
        assertEquals("quqpacmjgctvi5elpxolipxxlig36oqney4bv5hlusuy5ku3jzva", identity.id());
        assertEquals(Identity.ID_CHARS, identity.id().length());
        assertArrayEquals(identity.x25519PublicKey(), Identity.parseId(identity.id()));
        assertArrayEquals(identity.x25519PublicKey(), Identity.parseId(identity.id().toUpperCase()),
                "upper case is the same id");
        assertTrue(identity.toString().contains(identity.id()));
        for (long seed = 0; seed < 50; seed++) {
            Identity random = Identity.generate(seeded(seed));
            assertTrue(random.id().matches("[a-z2-7]{52}"), random.id());
            assertArrayEquals(random.x25519PublicKey(), Identity.parseId(random.id()));
        }
    }

    @Test
    void badIdsAreRefusedWithWhatAValidIdLooksLike() {
        String valid = Identity.generate(seeded(5)).id();
        IllegalArgumentException shortId = assertThrows(IllegalArgumentException.class,
                () -> Identity.parseId(valid.substring(1)));
        assertTrue(shortId.getMessage().contains("51 characters") && shortId.getMessage().contains("52 characters of"
                + " a-z and 2-7"), shortId.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Identity.parseId(valid + "a"));
        assertThrows(IllegalArgumentException.class, () -> Identity.parseId(""));
        IllegalArgumentException badChar = assertThrows(IllegalArgumentException.class,
                () -> Identity.parseId("0" + valid.substring(1)));
        assertTrue(badChar.getMessage().contains("'0' at position 1"), badChar.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Identity.parseId(valid.substring(0, 51) + "="));
        // 52 characters carry 260 bits: the last one holds one bit and four spare zero bits, so it is 'a' or
        // 'q'; with a spare bit set two ids would name one key.
        assertTrue("aq".indexOf(valid.charAt(51)) >= 0, valid);
        IllegalArgumentException spare = assertThrows(IllegalArgumentException.class,
                () -> Identity.parseId(valid.substring(0, 51) + 'b'));
        assertTrue(spare.getMessage().contains("ends in 'b'"), spare.getMessage());
    }

    @Test
    void fingerprintIsFourGroupsOfTheIdKeysSha256() throws Exception {
        Identity identity = Identity.generate(seeded(6));
        assertTrue(identity.fingerprint().matches("[a-z2-7]{4}(-[a-z2-7]{4}){3}"), identity.fingerprint());
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(identity.x25519PublicKey());
        String expected = Base32.encode(java.util.Arrays.copyOf(digest, 10));
        assertEquals(expected, identity.fingerprint().replace("-", ""));
        assertEquals(identity.fingerprint(), Identity.fingerprintOf(identity.x25519PublicKey()));
    }
}
