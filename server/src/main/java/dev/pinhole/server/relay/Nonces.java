package dev.pinhole.server.relay;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless NONCEs (RFC 8489 §9.2.2, §9.2.4): the server keeps no per-client state before a client
 * authenticated, so a flood of unauthenticated requests costs it no memory.
 *
 * <pre>
 *   nonce = hex32(bucket) ‖ hex(HMAC-SHA1(serverSecret, bucket ‖ client IP ‖ client port)[0..12))   (32 ASCII bytes)
 *   bucket = floor(nowNs / lifetimeNs)
 * </pre>
 *
 * A nonce is valid in its own time bucket and the next one, so it lives between one and two
 * lifetimes; after that the server answers 438 Stale Nonce and the client retries with the fresh
 * nonce that answer carries. Binding the nonce to the client's address means a nonce observed on
 * the path cannot be replayed from elsewhere. One thread.
 */
final class Nonces {
    /** Bytes of a nonce: 8 hex digits of the bucket, 24 of the truncated HMAC. */
    static final int NONCE_LENGTH = 32;
    private static final int BUCKET_HEX_DIGITS = 8;
    private static final int MAC_BYTES_USED = (NONCE_LENGTH - BUCKET_HEX_DIGITS) / 2;
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Mac mac;
    private final long lifetimeNs;
    private final byte[] input = new byte[8 + 16 + 2];
    private final byte[] digest = new byte[20];
    private final byte[] expected = new byte[NONCE_LENGTH];

    Nonces(byte[] secret, long lifetimeNs) {
        if (lifetimeNs <= 0) {
            throw new IllegalArgumentException("nonce lifetime must be positive: " + lifetimeNs);
        }
        this.lifetimeNs = lifetimeNs;
        try {
            mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret, "HmacSHA1"));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA1 with any non-empty key", e);
        }
    }

    /** Writes the current nonce for {@code client} into {@code out[0, NONCE_LENGTH)}. */
    void write(long nowNs, InetSocketAddress client, byte[] out) {
        compute(Math.floorDiv(nowNs, lifetimeNs), client, out);
    }

    /** Whether the {@code length} bytes at {@code index} are a nonce this server gave {@code client} recently enough. */
    boolean isValid(ByteBuf buffer, int index, int length, InetSocketAddress client, long nowNs) {
        if (length != NONCE_LENGTH) {
            return false;
        }
        long current = Math.floorDiv(nowNs, lifetimeNs);
        int carried = 0;
        for (int i = 0; i < BUCKET_HEX_DIGITS; i++) {
            int digit = Character.digit(buffer.getByte(index + i), 16);
            if (digit < 0) {
                return false;
            }
            carried = (carried << 4) | digit;
        }
        long bucket;
        if (carried == (int) current) {
            bucket = current;
        } else if (carried == (int) (current - 1)) {
            bucket = current - 1;
        } else {
            return false;
        }
        compute(bucket, client, expected);
        int difference = 0;
        // Constant time: a forger learns nothing from how long the comparison takes.
        for (int i = 0; i < NONCE_LENGTH; i++) {
            difference |= expected[i] ^ buffer.getByte(index + i);
        }
        return difference == 0;
    }

    private void compute(long bucket, InetSocketAddress client, byte[] out) {
        int n = 0;
        for (int shift = 56; shift >= 0; shift -= 8) {
            input[n++] = (byte) (bucket >>> shift);
        }
        byte[] ip = client.getAddress().getAddress();
        System.arraycopy(ip, 0, input, n, ip.length);
        n += ip.length;
        input[n++] = (byte) (client.getPort() >>> 8);
        input[n++] = (byte) client.getPort();
        mac.update(input, 0, n);
        try {
            mac.doFinal(digest, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException("the digest buffer holds an HMAC-SHA1", e);
        }
        int b = (int) bucket;
        for (int i = 0; i < BUCKET_HEX_DIGITS; i++) {
            out[i] = HEX[(b >>> (28 - 4 * i)) & 0xF];
        }
        for (int i = 0; i < MAC_BYTES_USED; i++) {
            out[BUCKET_HEX_DIGITS + 2 * i] = HEX[(digest[i] >>> 4) & 0xF];
            out[BUCKET_HEX_DIGITS + 2 * i + 1] = HEX[digest[i] & 0xF];
        }
    }
}
