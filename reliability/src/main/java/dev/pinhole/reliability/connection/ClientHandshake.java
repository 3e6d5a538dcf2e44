package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.noise.HandshakePattern;
import dev.pinhole.reliability.noise.HandshakeState;
import dev.pinhole.reliability.noise.NoiseException;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The client's side of one connection's Noise handshake (docs/protocol.md, "Handshake"):
 * {@code Noise_IK_25519_AESGCM_SHA256} when it knows the server's static key (one round trip, the server
 * authenticated by its first answer), {@code Noise_XX_25519_AESGCM_SHA256} when it does not (the third
 * message rides in the client's CONFIRM packets, so still one round trip before data flows).
 */
final class ClientHandshake {
    private static final byte[] EMPTY = new byte[0];

    private final HandshakeState noise;
    private final int pattern;
    private final byte[] firstMessage;
    private byte[] finalMessage = EMPTY;
    private byte[][] secrets;
    private byte[] peerStatic;

    /**
     * @param expectedPeerKey the server's 32-byte X25519 key if known (IK), else null (XX)
     * @throws IllegalArgumentException if the expected key is not a usable X25519 key
     */
    ClientHandshake(NoiseKeyPair local, byte[] expectedPeerKey, long clientCid, TransportParameters params,
                    SecureRandom random) {
        HandshakePattern noisePattern = expectedPeerKey != null ? HandshakePattern.IK : HandshakePattern.XX;
        this.pattern = HandshakeProtocol.patternByte(expectedPeerKey != null);
        this.noise = HandshakeState.initiator(noisePattern, HandshakeProtocol.prologue(clientCid, params), local,
                expectedPeerKey, random);
        try {
            this.firstMessage = noise.writeMessage(null);
        } catch (NoiseException e) {
            // IK's "es"/"ss" with a small-order key: no peer can own it.
            throw new IllegalArgumentException("the peer key is not a usable X25519 public key", e);
        }
    }

    int pattern() {
        return pattern;
    }

    /** The HELLO's Noise message, the same on every INITIAL retransmission. */
    byte[] firstMessage() {
        return firstMessage;
    }

    /**
     * Reads the server's HELLO_REPLY message. True if it authenticated and its encrypted payload repeats the
     * clear connection id and parameters and hashes the clear cookie; the keys are then ready. False leaves
     * the handshake as it was, so that a forged or damaged reply cannot spoil the genuine one that follows
     * (the server answers every INITIAL retransmission).
     */
    boolean onReply(long serverCid, TransportParameters params, byte[] cookie, ByteBuf message) {
        byte[] expected = HandshakeProtocol.replyPayload(serverCid, params, cookie);
        try {
            noise.readMessage(ByteBufUtil.getBytes(message), payload -> Arrays.equals(payload, expected));
        } catch (NoiseException e) {
            return false;
        }
        try {
            if (noise.isMyTurnToWrite()) {
                finalMessage = noise.writeMessage(null);
            }
        } catch (NoiseException e) {
            return false;
        }
        peerStatic = noise.remoteStaticKey();
        secrets = noise.splitKeys();
        return true;
    }

    /** XX's third message for the CONFIRM prefix; empty for IK. */
    byte[] finalMessage() {
        return finalMessage;
    }

    /** The server's static key, authenticated, after a successful {@link #onReply}. */
    byte[] peerStatic() {
        return peerStatic;
    }

    /** The split's secrets, [0] to send and [1] to receive; the caller wipes them. */
    byte[][] takeSecrets() {
        byte[][] s = secrets;
        secrets = null;
        return s;
    }
}
