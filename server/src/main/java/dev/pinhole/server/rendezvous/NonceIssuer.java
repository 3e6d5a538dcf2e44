package dev.pinhole.server.rendezvous;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.random.RandomGenerator;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server's NONCE values: stateless return-routability tokens bound to a source transport address
 * (RFC 8489 §9.2 lets a nonce encode the client's address; here that is all it encodes).
 *
 * <pre>
 *   token = epoch (16 bits) | HMAC-SHA256(key, epoch | port | IP address)[0..16)   (18 bytes)
 *   NONCE = base64url(token) without padding                                      (24 characters)
 * </pre>
 * The key is drawn when the server starts, so a restarted server rejects old nonces, which tells
 * clients to re-register (438). An epoch lasts {@link #EPOCH_NS}; a nonce is valid in its epoch and
 * the next, so it lives between one and two epochs, and a server response hands out a fresh one when
 * the request's is from the previous epoch. Only someone who receives datagrams at an address learns
 * its nonce.
 */
public final class NonceIssuer {
    /** One epoch: 30 minutes. A nonce stays valid for 30 to 60 minutes. */
    public static final long EPOCH_NS = 30L * 60 * 1_000_000_000L;
    /** Characters of a NONCE value. */
    public static final int NONCE_CHARS = 24;
    private static final int EPOCH_BYTES = 2;
    private static final int MAC_BYTES = 16;
    private static final int TOKEN_BYTES = EPOCH_BYTES + MAC_BYTES;
    private static final byte[] DECODE = new byte[128];

    static {
        Arrays.fill(DECODE, (byte) -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int i = 0; i < alphabet.length(); i++) {
            DECODE[alphabet.charAt(i)] = (byte) i;
        }
    }

    private final Mac mac;
    private final Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
    private final byte[] token = new byte[TOKEN_BYTES];
    private final byte[] carried = new byte[TOKEN_BYTES];
    private final byte[] digest = new byte[32];
    private final byte[] text = new byte[NONCE_CHARS];
    private final byte[] received = new byte[NONCE_CHARS];
    private final byte[] portBytes = new byte[2];

    public NonceIssuer(RandomGenerator random) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i += 8) {
            long bits = random.nextLong();
            for (int j = 0; j < 8; j++) {
                key[i + j] = (byte) (bits >>> (8 * j));
            }
        }
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA256", e);
        }
    }

    /** The epoch number of {@code nowNs} (clock origin is arbitrary, so this may be negative). */
    public static int epoch(long nowNs) {
        return (int) Math.floorDiv(nowNs, EPOCH_NS) & 0xFFFF;
    }

    /**
     * The NONCE for {@code source} at {@code nowNs} as ASCII bytes, in a buffer this issuer reuses
     * (copy it before the next call).
     */
    public byte[] issue(InetSocketAddress source, long nowNs) {
        int epoch = epoch(nowNs);
        token[0] = (byte) (epoch >>> 8);
        token[1] = (byte) epoch;
        sign(epoch, source);
        System.arraycopy(digest, 0, token, EPOCH_BYTES, MAC_BYTES);
        int written = encoder.encode(token, text);
        if (written != NONCE_CHARS) {
            throw new IllegalStateException("18 bytes are 24 base64 characters, got " + written);
        }
        return text;
    }

    /** Outcome of {@link #verify}. */
    public enum Check { VALID, VALID_PREVIOUS_EPOCH, INVALID }

    /** Checks a NONCE value found at {@code [index, index + length)} of {@code buf} against {@code source}. */
    public Check verify(ByteBuf buf, int index, int length, InetSocketAddress source, long nowNs) {
        if (length != NONCE_CHARS || !decode(buf, index)) {
            return Check.INVALID;
        }
        int epoch = ((carried[0] & 0xFF) << 8) | (carried[1] & 0xFF);
        int current = epoch(nowNs);
        boolean previous = epoch == ((current - 1) & 0xFFFF);
        if (epoch != current && !previous) {
            return Check.INVALID;
        }
        sign(epoch, source);
        int difference = 0;
        for (int i = 0; i < MAC_BYTES; i++) {
            difference |= digest[i] ^ carried[EPOCH_BYTES + i];
        }
        if (difference != 0) {
            return Check.INVALID;
        }
        return previous ? Check.VALID_PREVIOUS_EPOCH : Check.VALID;
    }

    private void sign(int epoch, InetSocketAddress source) {
        portBytes[0] = (byte) (source.getPort() >>> 8);
        portBytes[1] = (byte) source.getPort();
        mac.update((byte) (epoch >>> 8));
        mac.update((byte) epoch);
        mac.update(portBytes);
        mac.update(source.getAddress().getAddress());
        try {
            mac.doFinal(digest, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException("the digest buffer holds an HMAC-SHA256", e);
        }
    }

    /** Decodes 24 base64url characters into {@link #carried}; false if any is outside the alphabet. */
    private boolean decode(ByteBuf buf, int index) {
        buf.getBytes(index, received, 0, NONCE_CHARS);
        int out = 0;
        for (int group = 0; group < NONCE_CHARS; group += 4) {
            int bits = 0;
            for (int i = 0; i < 4; i++) {
                int c = received[group + i] & 0xFF;
                int value = c < DECODE.length ? DECODE[c] : -1;
                if (value < 0) {
                    return false;
                }
                bits = (bits << 6) | value;
            }
            carried[out++] = (byte) (bits >>> 16);
            carried[out++] = (byte) (bits >>> 8);
            carried[out++] = (byte) bits;
        }
        return true;
    }
}
