package dev.pinhole.server.common;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless NONCE values (RFC 8489 §9.2.2, §9.2.4) for both servers: return-routability tokens bound to
 * the client's transport address, so that a server keeps no per-client state before a client proved
 * itself and a flood of unauthenticated requests costs it no memory. A nonce observed on the path cannot
 * be replayed from elsewhere; only someone who receives datagrams at an address learns its nonce.
 *
 * <p>A nonce carries the number of the epoch it was issued in (an epoch lasts {@code epochNs}) and a
 * truncated HMAC, under a key only this server instance knows, of that epoch and the address. It is
 * valid in its own epoch and the next, so it lives between one and two epochs; after that the server
 * answers 438 Stale Nonce with a fresh one. A restarted server has another key and rejects old nonces.
 * The two servers keep the formats their clients have always seen ({@link Format}).
 *
 * <p>Allocation-free: {@link #issue} returns a buffer this issuer reuses. One thread.
 */
public final class NonceIssuer {
    /** Characters of a {@link Format#HEX_HMAC_SHA1} nonce. */
    public static final int HEX_LENGTH = 32;
    /** Characters of a {@link Format#BASE64URL_HMAC_SHA256} nonce. */
    public static final int BASE64URL_LENGTH = 24;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE64URL =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BASE64URL_DECODE = new byte[128];

    static {
        Arrays.fill(BASE64URL_DECODE, (byte) -1);
        for (int i = 0; i < BASE64URL.length; i++) {
            BASE64URL_DECODE[BASE64URL[i]] = (byte) i;
        }
    }

    /** How a nonce is written. */
    public enum Format {
        /**
         * The TURN server's (coturn-like ASCII):
         * {@code hex32(epoch) ‖ hex(HMAC-SHA1(key, epoch as 64 bits ‖ IP ‖ port)[0..12))}, 32 characters.
         */
        HEX_HMAC_SHA1(HEX_LENGTH, 32, "HmacSHA1"),
        /**
         * The rendezvous server's:
         * {@code base64url(epoch16 ‖ HMAC-SHA256(key, epoch16 ‖ port ‖ IP)[0..16))} without padding,
         * 24 characters.
         */
        BASE64URL_HMAC_SHA256(BASE64URL_LENGTH, 16, "HmacSHA256");

        private final int length;
        private final int epochBits;
        private final String algorithm;

        Format(int length, int epochBits, String algorithm) {
            this.length = length;
            this.epochBits = epochBits;
            this.algorithm = algorithm;
        }

        /** Characters (ASCII bytes) of a nonce. */
        public int length() {
            return length;
        }
    }

    /** Outcome of {@link #verify}. */
    public enum Check {
        /** Issued to this address in the current epoch. */
        VALID,
        /** Issued to this address in the previous epoch: still valid, and time to hand out a fresh one. */
        VALID_PREVIOUS_EPOCH,
        /** Not issued by this server to this address, or too old. */
        INVALID
    }

    private final Format format;
    private final Mac mac;
    private final long epochNs;
    private final long epochMask;
    private final byte[] nonce;
    private final byte[] expected;
    private final byte[] input = new byte[8 + 2 + 16];
    private final byte[] digest = new byte[32];
    private final byte[] token = new byte[18];

    /**
     * @param key     the HMAC key, drawn when the server starts
     * @param epochNs how long an epoch lasts
     */
    public NonceIssuer(Format format, byte[] key, long epochNs) {
        this.format = Objects.requireNonNull(format, "format");
        if (epochNs <= 0) {
            throw new IllegalArgumentException("nonce lifetime must be positive: " + epochNs);
        }
        this.epochNs = epochNs;
        this.epochMask = format.epochBits == 32 ? 0xFFFF_FFFFL : (1L << format.epochBits) - 1;
        this.nonce = new byte[format.length];
        this.expected = new byte[format.length];
        try {
            mac = Mac.getInstance(format.algorithm);
            mac.init(new SecretKeySpec(key, format.algorithm));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides " + format.algorithm
                + " with any non-empty key", e);
        }
    }

    public Format format() {
        return format;
    }

    /** Characters of this issuer's nonces. */
    public int length() {
        return format.length;
    }

    /** The epoch number of {@code nowNs} as the nonce carries it (the clock's origin is arbitrary: it wraps). */
    public long epoch(long nowNs) {
        return Math.floorDiv(nowNs, epochNs) & epochMask;
    }

    /**
     * The nonce for {@code client} at {@code nowNs} as ASCII bytes, in a buffer this issuer reuses (copy it
     * before the next call).
     */
    public byte[] issue(InetSocketAddress client, long nowNs) {
        write(Math.floorDiv(nowNs, epochNs), client, nonce);
        return nonce;
    }

    /** Checks the {@code length} bytes at {@code index} of {@code buffer} as a nonce of {@code client}. */
    public Check verify(ByteBuf buffer, int index, int length, InetSocketAddress client, long nowNs) {
        if (length != format.length) {
            return Check.INVALID;
        }
        long carried = carriedEpoch(buffer, index);
        if (carried < 0) {
            return Check.INVALID;
        }
        long current = Math.floorDiv(nowNs, epochNs);
        long bucket;
        if (carried == (current & epochMask)) {
            bucket = current;
        } else if (carried == ((current - 1) & epochMask)) {
            bucket = current - 1;
        } else {
            return Check.INVALID;
        }
        write(bucket, client, expected);
        int difference = 0;
        // Constant time: a forger learns nothing from how long the comparison takes.
        for (int i = 0; i < format.length; i++) {
            difference |= expected[i] ^ buffer.getByte(index + i);
        }
        if (difference != 0) {
            return Check.INVALID;
        }
        return bucket == current ? Check.VALID : Check.VALID_PREVIOUS_EPOCH;
    }

    /** The epoch written at the start of a nonce, or -1 if those characters are not of the format's alphabet. */
    private long carriedEpoch(ByteBuf buffer, int index) {
        if (format == Format.HEX_HMAC_SHA1) {
            long epoch = 0;
            for (int i = 0; i < 8; i++) {
                int digit = Character.digit(buffer.getByte(index + i), 16);
                if (digit < 0) {
                    return -1;
                }
                epoch = (epoch << 4) | digit;
            }
            return epoch;
        }
        // The 16-bit epoch is the first 16 of the 24 bits the first four characters encode.
        int bits = 0;
        for (int i = 0; i < 4; i++) {
            int c = buffer.getByte(index + i) & 0xFF;
            int value = c < BASE64URL_DECODE.length ? BASE64URL_DECODE[c] : -1;
            if (value < 0) {
                return -1;
            }
            bits = (bits << 6) | value;
        }
        return bits >>> 8;
    }

    private void write(long bucket, InetSocketAddress client, byte[] out) {
        byte[] ip = client.getAddress().getAddress();
        int port = client.getPort();
        int n = 0;
        if (format == Format.HEX_HMAC_SHA1) {
            for (int shift = 56; shift >= 0; shift -= 8) {
                input[n++] = (byte) (bucket >>> shift);
            }
            System.arraycopy(ip, 0, input, n, ip.length);
            n += ip.length;
            input[n++] = (byte) (port >>> 8);
            input[n++] = (byte) port;
        } else {
            input[n++] = (byte) (bucket >>> 8);
            input[n++] = (byte) bucket;
            input[n++] = (byte) (port >>> 8);
            input[n++] = (byte) port;
            System.arraycopy(ip, 0, input, n, ip.length);
            n += ip.length;
        }
        mac.update(input, 0, n);
        try {
            mac.doFinal(digest, 0);
        } catch (ShortBufferException e) {
            throw new IllegalStateException("the digest buffer holds an HMAC-SHA1 or HMAC-SHA256", e);
        }
        if (format == Format.HEX_HMAC_SHA1) {
            int epoch = (int) bucket;
            for (int i = 0; i < 8; i++) {
                out[i] = HEX[(epoch >>> (28 - 4 * i)) & 0xF];
            }
            for (int i = 0; i < 12; i++) {
                out[8 + 2 * i] = HEX[(digest[i] >>> 4) & 0xF];
                out[8 + 2 * i + 1] = HEX[digest[i] & 0xF];
            }
        } else {
            token[0] = (byte) (bucket >>> 8);
            token[1] = (byte) bucket;
            System.arraycopy(digest, 0, token, 2, 16);
            // 18 bytes are exactly 24 characters: no padding, and every character is a whole 6 bits.
            for (int group = 0; group < 6; group++) {
                int bits = ((token[3 * group] & 0xFF) << 16) | ((token[3 * group + 1] & 0xFF) << 8)
                    | (token[3 * group + 2] & 0xFF);
                out[4 * group] = BASE64URL[bits >>> 18];
                out[4 * group + 1] = BASE64URL[(bits >>> 12) & 0x3F];
                out[4 * group + 2] = BASE64URL[(bits >>> 6) & 0x3F];
                out[4 * group + 3] = BASE64URL[bits & 0x3F];
            }
        }
    }
}
