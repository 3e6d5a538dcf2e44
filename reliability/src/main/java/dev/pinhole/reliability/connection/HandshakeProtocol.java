package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.random.RandomGenerator;

/**
 * What both sides of the transport's Noise handshake agree on (docs/protocol.md, "Handshake"): the prologue,
 * the encrypted payload of the responder's message, and a {@link SecureRandom} view of the endpoint's random
 * source.
 */
final class HandshakeProtocol {
    /** Mixed into every handshake first, so that no other protocol's Noise messages can be replayed into ours. */
    private static final byte[] PROLOGUE_LABEL = "pinhole/1 transport handshake".getBytes(StandardCharsets.US_ASCII);

    private HandshakeProtocol() {
    }

    /**
     * The prologue (Noise §6): the label, then the HELLO frame's clear fields (client connection id and
     * transport parameters), so that changing any of them on the path makes the handshake fail.
     */
    static byte[] prologue(long clientCid, TransportParameters params) {
        ByteBuf buf = Unpooled.buffer(PROLOGUE_LABEL.length + 8 + params.encodedLength());
        buf.writeBytes(PROLOGUE_LABEL);
        buf.writeLong(clientCid);
        params.write(buf);
        return bytes(buf);
    }

    /**
     * The responder's encrypted payload: the HELLO_REPLY's server connection id, transport parameters and the
     * SHA-256 of its cookie, so that the client uses only values the server authenticated, and a cookie
     * damaged or replaced on the path is refused at once instead of failing every CONFIRM.
     */
    static byte[] replyPayload(long serverCid, TransportParameters params, byte[] cookie) {
        ByteBuf buf = Unpooled.buffer(8 + params.encodedLength() + COOKIE_HASH_LENGTH);
        buf.writeLong(serverCid);
        params.write(buf);
        buf.writeBytes(sha256(cookie));
        return bytes(buf);
    }

    private static final int COOKIE_HASH_LENGTH = 32;

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    static int patternByte(boolean knowsPeerKey) {
        return knowsPeerKey ? Frames.PATTERN_IK : Frames.PATTERN_XX;
    }

    private static byte[] bytes(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.readBytes(out);
        return out;
    }

    /**
     * The endpoint's random source as the {@link SecureRandom} the Noise code takes: the generator itself if
     * it is one (production), else a view of it (seeded simulations, which then repeat exactly).
     */
    static SecureRandom secureRandom(RandomGenerator random) {
        if (random instanceof SecureRandom secure) {
            return secure;
        }
        return new GeneratorView(random);
    }

    /** A SecureRandom whose bytes come from a seeded generator: for simulations only. */
    private static final class GeneratorView extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final transient RandomGenerator generator;

        GeneratorView(RandomGenerator generator) {
            super(new byte[0]);
            this.generator = generator;
        }

        @Override
        public void nextBytes(byte[] bytes) {
            generator.nextBytes(bytes);
        }
    }
}
