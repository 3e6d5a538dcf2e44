package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HexFormat;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Seeded fuzzing of {@link HandshakeState#readMessage}: random bytes, truncations, extensions and
 * bit flips of genuine messages, at every read position of IK, XX, NN and N. The only failure
 * allowed is {@link NoiseException}; after one, the state must be unchanged, and the genuine message
 * must still read at the end.
 */
class NoiseReadFuzzTest {
    private static final int ATTEMPTS = 600;

    /** A side about to read, and the message its peer really sent. */
    private record Target(HandshakeState reader, byte[] genuine) {
    }

    @ParameterizedTest(name = "{0} message {1}")
    @CsvSource({"IK, 0", "IK, 1", "XX, 0", "XX, 1", "XX, 2", "NN, 0", "NN, 1", "N, 0"})
    void readMessageOnlyEverThrowsNoiseException(HandshakePattern pattern, int message) throws Exception {
        long seed = 0x5eed0000L + pattern.ordinal() * 16L + message;
        Random random = new Random(seed);
        SecureRandom keys = seededKeys(seed);
        Target target = target(pattern, message, keys);
        int accepted = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            byte[] input = mutate(target.genuine(), random);
            int offset = random.nextInt(4);
            byte[] buffer = new byte[offset + input.length + random.nextInt(4)];
            random.nextBytes(buffer);
            System.arraycopy(input, 0, buffer, offset, input.length);
            byte[] hashBefore = target.reader().handshakeHash();
            try {
                target.reader().readMessage(buffer, offset, input.length);
                // Unauthenticated messages (XX's and NN's first) can be accepted; start again.
                accepted++;
                target = target(pattern, message, keys);
            } catch (NoiseException expected) {
                assertArrayEquals(hashBefore, target.reader().handshakeHash(), "rolled back, seed " + seed);
            } catch (RuntimeException | Error e) {
                fail("seed " + seed + " attempt " + attempt + ": " + e + " on " + HexFormat.of().formatHex(input), e);
            }
        }
        target.reader().readMessage(target.genuine());
        assertTrue(accepted < ATTEMPTS, "most mutations must be rejected");
    }

    private static byte[] mutate(byte[] genuine, Random random) {
        switch (random.nextInt(6)) {
            case 0: { // random bytes of a random length, up to a little more than the genuine message
                byte[] out = new byte[random.nextInt(genuine.length + 48)];
                random.nextBytes(out);
                return out;
            }
            case 1: // truncated
                return Arrays.copyOf(genuine, random.nextInt(genuine.length));
            case 2: { // extended
                byte[] out = Arrays.copyOf(genuine, genuine.length + 1 + random.nextInt(32));
                for (int i = genuine.length; i < out.length; i++) {
                    out[i] = (byte) random.nextInt();
                }
                return out;
            }
            case 3: { // one to three flipped bits
                byte[] out = genuine.clone();
                for (int n = 1 + random.nextInt(3); n > 0; n--) {
                    int bit = random.nextInt(out.length * 8);
                    out[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                return out;
            }
            case 4: { // a random byte replaced, or the whole of a field zeroed
                byte[] out = genuine.clone();
                if (random.nextBoolean()) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt();
                } else {
                    int from = random.nextInt(out.length);
                    Arrays.fill(out, from, Math.min(out.length, from + 32), (byte) 0);
                }
                return out;
            }
            default: // empty, or longer than §3 allows
                return random.nextInt(8) == 0 ? new byte[65536 + random.nextInt(16)] : new byte[0];
        }
    }

    /** Runs a fresh handshake up to the point where message {@code message} is to be read. */
    private static Target target(HandshakePattern pattern, int message, SecureRandom keys) throws Exception {
        NoiseKeyPair initiatorStatic = NoiseKeyPair.generate(keys);
        NoiseKeyPair responderStatic = NoiseKeyPair.generate(keys);
        HandshakeState initiator = HandshakeState.initiator(pattern, null,
                pattern.usesStatic(true) ? initiatorStatic : null,
                pattern.needsRemoteStaticInAdvance(true) ? responderStatic.publicKey() : null, keys);
        HandshakeState responder = HandshakeState.responder(pattern, null,
                pattern.usesStatic(false) ? responderStatic : null, keys);
        for (int i = 0; ; i++) {
            HandshakeState writer = i % 2 == 0 ? initiator : responder;
            HandshakeState reader = i % 2 == 0 ? responder : initiator;
            byte[] written = writer.writeMessage(new byte[] {(byte) i, 7, 7});
            if (i == message) {
                return new Target(reader, written);
            }
            reader.readMessage(written);
        }
    }

    private static SecureRandom seededKeys(long seed) throws NoSuchAlgorithmException {
        // SHA1PRNG seeded before its first use is deterministic: the same keys on every run.
        SecureRandom keys = SecureRandom.getInstance("SHA1PRNG");
        keys.setSeed(seed);
        return keys;
    }
}
