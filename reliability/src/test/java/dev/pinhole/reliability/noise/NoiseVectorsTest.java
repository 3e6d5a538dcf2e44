package dev.pinhole.reliability.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.noise.NoiseVectorFile.Message;
import dev.pinhole.reliability.noise.NoiseVectorFile.Vector;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Replays the published Noise test vectors of {@code 25519_AESGCM_SHA256} (cacophony and snow; see
 * noise-vectors.json): fixed statics and ephemerals, the prologue, each handshake message's payload
 * and exact ciphertext, the handshake hash where the vector gives one, then the transport messages
 * through the split CipherStates.
 */
class NoiseVectorsTest {

    static List<Vector> vectors() {
        return NoiseVectorFile.load();
    }

    @Test
    void theFileHoldsEveryPatternFromBothSources() {
        Set<String> seen = vectors().stream().map(Vector::toString).collect(Collectors.toCollection(TreeSet::new));
        for (String source : List.of("cacophony", "snow")) {
            for (HandshakePattern pattern : HandshakePattern.values()) {
                assertTrue(seen.contains(source + " " + pattern.protocolName()), source + " " + pattern);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void replays(Vector v) throws Exception {
        HandshakePattern pattern = HandshakePattern.valueOf(v.protocolName().split("_")[1]);
        assertEquals(v.protocolName(), pattern.protocolName());
        HandshakeState initiator = new HandshakeState(pattern, true, v.bytes("init_prologue"),
                keyPair(v.bytes("init_static")), keyPair(v.bytes("init_ephemeral")),
                v.bytes("init_remote_static"), null);
        HandshakeState responder = new HandshakeState(pattern, false, v.bytes("resp_prologue"),
                keyPair(v.bytes("resp_static")), keyPair(v.bytes("resp_ephemeral")), null, null);

        List<Message> messages = v.messages();
        int i = 0;
        for (; !initiator.isFinished(); i++) {
            boolean fromInitiator = i % 2 == 0;
            HandshakeState writer = fromInitiator ? initiator : responder;
            HandshakeState reader = fromInitiator ? responder : initiator;
            assertTrue(writer.isMyTurnToWrite(), "message " + i);
            byte[] ciphertext = writer.writeMessage(messages.get(i).payload());
            assertEquals(HexFormat.of().formatHex(messages.get(i).ciphertext()), HexFormat.of().formatHex(ciphertext),
                    "handshake message " + i);
            assertArrayEquals(messages.get(i).payload(), reader.readMessage(ciphertext), "payload " + i);
        }
        assertTrue(responder.isFinished());
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());
        byte[] expectedHash = v.bytes("handshake_hash");
        if (expectedHash != null) {
            assertEquals(HexFormat.of().formatHex(expectedHash), HexFormat.of().formatHex(initiator.handshakeHash()));
        }
        if (v.bytes("init_static") != null && pattern != HandshakePattern.N) {
            assertArrayEquals(keyPair(v.bytes("init_static")).publicKey(), responder.remoteStaticKey());
        }

        CipherStatePair initiatorCiphers = initiator.split();
        CipherStatePair responderCiphers = responder.split();
        for (; i < messages.size(); i++) {
            // One-way patterns only ever send from the initiator (§7.4); the others alternate on.
            boolean fromInitiator = pattern.isOneWay() || i % 2 == 0;
            CipherState send = fromInitiator ? initiatorCiphers.sender() : responderCiphers.sender();
            CipherState receive = fromInitiator ? responderCiphers.receiver() : initiatorCiphers.receiver();
            byte[] ciphertext = send.encryptWithAd(null, messages.get(i).payload());
            assertEquals(HexFormat.of().formatHex(messages.get(i).ciphertext()), HexFormat.of().formatHex(ciphertext),
                    "transport message " + i);
            assertArrayEquals(messages.get(i).payload(), receive.decryptWithAd(null, ciphertext));
        }
        assertFalse(messages.isEmpty());
    }

    private static NoiseKeyPair keyPair(byte[] privateKey) {
        return privateKey == null ? null : NoiseKeyPair.fromPrivateKey(privateKey);
    }
}
