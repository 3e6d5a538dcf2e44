package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HandshakeState between two live sides with random keys: round trips of every pattern, tampering
 * with every handshake message, a wrong responder key in IK, and misuse.
 */
class NoiseHandshakeTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] PROLOGUE = "pinhole test".getBytes(StandardCharsets.US_ASCII);

    private final NoiseKeyPair initiatorStatic = NoiseKeyPair.generate(RANDOM);
    private final NoiseKeyPair responderStatic = NoiseKeyPair.generate(RANDOM);

    @ParameterizedTest
    @EnumSource(HandshakePattern.class)
    void roundTripCarriesPayloadsAndAgreesOnKeys(HandshakePattern pattern) throws Exception {
        HandshakeState initiator = initiator(pattern, responderStatic.publicKey());
        HandshakeState responder = responder(pattern);
        for (int i = 0; !initiator.isFinished(); i++) {
            HandshakeState writer = i % 2 == 0 ? initiator : responder;
            HandshakeState reader = i % 2 == 0 ? responder : initiator;
            byte[] payload = ("payload " + i).getBytes(StandardCharsets.US_ASCII);
            assertTrue(writer.isMyTurnToWrite());
            assertFalse(reader.isMyTurnToWrite());
            assertArrayEquals(payload, reader.readMessage(writer.writeMessage(payload)));
        }
        assertTrue(responder.isFinished());
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());
        if (pattern.usesStatic(true)) {
            assertArrayEquals(initiatorStatic.publicKey(), responder.remoteStaticKey());
        } else {
            assertNull(responder.remoteStaticKey());
        }
        if (pattern.usesStatic(false)) {
            assertArrayEquals(responderStatic.publicKey(), initiator.remoteStaticKey());
        }

        CipherStatePair i = initiator.split();
        CipherStatePair r = responder.split();
        for (int n = 0; n < 3; n++) {
            byte[] data = ("data " + n).getBytes(StandardCharsets.US_ASCII);
            assertArrayEquals(data, r.receiver().decryptWithAd(null, i.sender().encryptWithAd(null, data)));
            if (!pattern.isOneWay()) {
                assertArrayEquals(data, i.receiver().decryptWithAd(null, r.sender().encryptWithAd(null, data)));
            }
        }
        assertThrows(IllegalStateException.class, initiator::split, "only once");
    }

    @Test
    void ikTakesOneRoundTripAndXxOneAndAHalf() {
        assertEquals(2, HandshakePattern.IK.messages().size());
        assertEquals(3, HandshakePattern.XX.messages().size());
    }

    @ParameterizedTest
    @EnumSource(value = HandshakePattern.class, names = {"IK", "XX"})
    void aFlippedBitInAnyHandshakeMessageFailsTheHandshake(HandshakePattern pattern) throws Exception {
        int messages = pattern.messages().size();
        for (int target = 0; target < messages; target++) {
            int length = run(pattern, target, -1).messageLengths.get(target);
            for (int bit = 0; bit < length * 8; bit++) {
                Outcome outcome = run(pattern, target, bit);
                assertNotNull(outcome.failure, pattern + " message " + target + " bit " + bit);
            }
        }
    }

    @Test
    void ikFailsWhenTheInitiatorHasTheWrongResponderKey() throws Exception {
        byte[] wrongKey = NoiseKeyPair.generate(RANDOM).publicKey();
        HandshakeState initiator = initiator(HandshakePattern.IK, wrongKey);
        HandshakeState responder = responder(HandshakePattern.IK);
        byte[] first = initiator.writeMessage(new byte[] {1, 2, 3});
        assertThrows(NoiseException.class, () -> responder.readMessage(first));
        assertFalse(responder.isMyTurnToWrite(), "still waiting for message 1");
        assertFalse(responder.isFinished());
    }

    @Test
    void aDifferentPrologueFailsTheHandshake() throws Exception {
        HandshakeState initiator = initiator(HandshakePattern.XX, null);
        HandshakeState responder = HandshakeState.responder(HandshakePattern.XX, new byte[] {9}, responderStatic,
                RANDOM);
        responder.readMessage(initiator.writeMessage(null));
        byte[] second = responder.writeMessage(null);
        assertThrows(NoiseException.class, () -> initiator.readMessage(second));
    }

    @Test
    void aForgedMessageIsUndoneAndTheGenuineOneStillCompletesTheHandshake() throws Exception {
        HandshakeState initiator = initiator(HandshakePattern.IK, responderStatic.publicKey());
        HandshakeState responder = responder(HandshakePattern.IK);
        byte[] first = initiator.writeMessage(null);
        byte[] hashBefore = responder.handshakeHash();
        byte[] forged = first.clone();
        forged[forged.length - 1] ^= 1;
        assertThrows(NoiseException.class, () -> responder.readMessage(forged));
        assertArrayEquals(hashBefore, responder.handshakeHash(), "state rolled back");
        assertNull(responder.remoteStaticKey());
        responder.readMessage(first);
        initiator.readMessage(responder.writeMessage(null));
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());
    }

    @Test
    void messagesOutOfTurnAreCheckedExceptionsOnReadAndBugsOnWrite() throws Exception {
        HandshakeState initiator = initiator(HandshakePattern.IK, responderStatic.publicKey());
        HandshakeState responder = responder(HandshakePattern.IK);
        assertThrows(IllegalStateException.class, () -> responder.writeMessage(null));
        assertThrows(NoiseException.class, () -> initiator.readMessage(new byte[64]));
        byte[] first = initiator.writeMessage(null);
        responder.readMessage(first);
        assertThrows(NoiseException.class, () -> responder.readMessage(first), "a duplicate");
        initiator.readMessage(responder.writeMessage(null));
        assertThrows(NoiseException.class, () -> initiator.readMessage(first), "after the end");
        assertThrows(IllegalStateException.class, () -> initiator.writeMessage(null), "after the end");
        initiator.split();
        assertThrows(NoiseException.class, () -> initiator.readMessage(first), "after the split");
    }

    @Test
    void messagesAreBoundedBy65535Bytes() throws Exception {
        HandshakeState initiator = initiator(HandshakePattern.XX, null);
        HandshakeState responder = responder(HandshakePattern.XX);
        assertThrows(IllegalArgumentException.class, () -> initiator.writeMessage(new byte[65535 - 31]));
        byte[] largest = initiator.writeMessage(new byte[65535 - 32]);
        assertEquals(65535, largest.length);
        assertThrows(NoiseException.class, () -> responder.readMessage(new byte[65536]));
        assertEquals(65535 - 32, responder.readMessage(largest).length);
    }

    @Test
    void aSmallOrderKeyKillsTheWriterAndIsRefusedByTheReader() throws Exception {
        HandshakeState initiator = initiator(HandshakePattern.IK, new byte[32]);
        assertThrows(NoiseException.class, () -> initiator.writeMessage(null));
        assertThrows(NoiseException.class, () -> initiator.writeMessage(null), "dead after a failed write");

        HandshakeState responder = responder(HandshakePattern.XX);
        byte[] zeroEphemeral = new byte[32];
        responder.readMessage(zeroEphemeral);
        assertThrows(NoiseException.class, () -> responder.writeMessage(null), "ee with a zero point");
    }

    @Test
    void keysArePatternChecked() {
        byte[] rs = responderStatic.publicKey();
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.initiator(HandshakePattern.IK, null, initiatorStatic, null, RANDOM));
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.initiator(HandshakePattern.IK, null, null, rs, RANDOM));
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.initiator(HandshakePattern.XX, null, initiatorStatic, rs, RANDOM));
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.initiator(HandshakePattern.NN, null, initiatorStatic, null, RANDOM));
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.responder(HandshakePattern.XX, null, null, RANDOM));
        assertThrows(IllegalArgumentException.class,
                () -> HandshakeState.initiator(HandshakePattern.IK, null, initiatorStatic, new byte[31], RANDOM));
    }

    private HandshakeState initiator(HandshakePattern pattern, byte[] remoteStatic) {
        return HandshakeState.initiator(pattern, PROLOGUE, pattern.usesStatic(true) ? initiatorStatic : null,
                pattern.needsRemoteStaticInAdvance(true) ? remoteStatic : null, RANDOM);
    }

    private HandshakeState responder(HandshakePattern pattern) {
        return HandshakeState.responder(pattern, PROLOGUE, pattern.usesStatic(false) ? responderStatic : null,
                RANDOM);
    }

    /** How a handshake with one flipped bit went: its message lengths and the first failure. */
    private static final class Outcome {
        final List<Integer> messageLengths = new ArrayList<>();
        NoiseException failure;
    }

    /** Runs a whole handshake, flipping {@code bit} (unless negative) of message {@code target}. */
    private Outcome run(HandshakePattern pattern, int target, int bit) throws Exception {
        Outcome outcome = new Outcome();
        HandshakeState initiator = initiator(pattern, responderStatic.publicKey());
        HandshakeState responder = responder(pattern);
        try {
            for (int i = 0; !initiator.isFinished() || !responder.isFinished(); i++) {
                HandshakeState writer = i % 2 == 0 ? initiator : responder;
                HandshakeState reader = i % 2 == 0 ? responder : initiator;
                byte[] message = writer.writeMessage(new byte[] {42, 43});
                outcome.messageLengths.add(message.length);
                if (i == target && bit >= 0) {
                    message[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                reader.readMessage(message);
            }
            // Reads all succeeded: the sides must then disagree, which the first transport message shows.
            CipherStatePair i = initiator.split();
            CipherStatePair r = responder.split();
            r.receiver().decryptWithAd(null, i.sender().encryptWithAd(null, new byte[] {1}));
        } catch (NoiseException e) {
            outcome.failure = e;
        }
        return outcome;
    }
}
