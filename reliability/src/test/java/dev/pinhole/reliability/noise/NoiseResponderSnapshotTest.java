package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/**
 * A responder exported before its message and restored writes the same message and finishes the same
 * handshake (the transport's stateless server relies on it), and a refused payload rolls the reader back.
 */
class NoiseResponderSnapshotTest {
    private static final byte[] PROLOGUE = "test prologue".getBytes(StandardCharsets.US_ASCII);
    private final SecureRandom random = new SecureRandom();
    private final NoiseKeyPair client = NoiseKeyPair.generate(random);
    private final NoiseKeyPair server = NoiseKeyPair.generate(random);

    @Test
    void ikRestoredResponderWritesTheSameReplyAndSplitsTheSameKeys() throws Exception {
        roundTrip(HandshakePattern.IK);
    }

    @Test
    void xxRestoredResponderReadsTheThirdMessage() throws Exception {
        roundTrip(HandshakePattern.XX);
    }

    private void roundTrip(HandshakePattern pattern) throws Exception {
        HandshakeState initiator = HandshakeState.initiator(pattern, PROLOGUE, client,
                pattern == HandshakePattern.IK ? server.publicKey() : null, random);
        byte[] first = initiator.writeMessage(null);
        HandshakeState responder = HandshakeState.responder(pattern, PROLOGUE, server, random);
        responder.readMessage(first);
        responder.prepareEphemeral();
        byte[] snapshot = responder.exportResponder();
        assertTrue(snapshot.length <= HandshakeState.SNAPSHOT_MAX_LENGTH, "snapshot fits: " + snapshot.length);
        byte[] payload = "reply".getBytes(StandardCharsets.US_ASCII);
        byte[] reply = responder.writeMessage(payload);

        HandshakeState restored = HandshakeState.restoreResponder(snapshot, server, null);
        assertArrayEquals(reply, restored.writeMessage(payload), "the restored state writes the identical reply");

        assertArrayEquals(payload, initiator.readMessage(reply));
        if (pattern == HandshakePattern.XX) {
            byte[] third = initiator.writeMessage(null);
            restored.readMessage(third);
            assertArrayEquals(client.publicKey(), restored.remoteStaticKey(), "XX's third message gives the key");
        } else {
            assertArrayEquals(client.publicKey(), restored.remoteStaticKey(), "IK's first message gave the key");
        }
        byte[][] mine = initiator.splitKeys();
        byte[][] theirs = restored.splitKeys();
        assertArrayEquals(mine[0], theirs[1], "initiator's send key is the responder's receive key");
        assertArrayEquals(mine[1], theirs[0], "and the other way round");
        assertArrayEquals(initiator.handshakeHash(), restored.handshakeHash(), "same transcript");
    }

    @Test
    void aRefusedPayloadLeavesTheReaderAsItWas() throws Exception {
        HandshakeState initiator = HandshakeState.initiator(HandshakePattern.IK, PROLOGUE, client,
                server.publicKey(), random);
        HandshakeState responder = HandshakeState.responder(HandshakePattern.IK, PROLOGUE, server, random);
        responder.readMessage(initiator.writeMessage(null));
        byte[] reply = responder.writeMessage("genuine".getBytes(StandardCharsets.US_ASCII));
        NoiseException refused = assertThrows(NoiseException.class, () -> initiator.readMessage(reply, p -> false));
        assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
        byte[] read = initiator.readMessage(reply, p -> true);
        assertEquals("genuine", new String(read, StandardCharsets.US_ASCII), "the same reply reads after the refusal");
        assertTrue(initiator.isFinished());
    }

    @Test
    void malformedSnapshotsAreNoiseExceptions() {
        assertThrows(NoiseException.class, () -> HandshakeState.restoreResponder(new byte[0], server, random));
        assertThrows(NoiseException.class, () -> HandshakeState.restoreResponder(new byte[] {99, 0}, server, random));
        assertThrows(NoiseException.class, () -> HandshakeState.restoreResponder(new byte[3], server, random));
    }
}
