package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.random.RandomGenerator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server's stateless handshake cookies (protocol sketch, "Handshake"; the idea of TCP SYN cookies
 * and of QUIC's Retry token, RFC 9000 §8.1.2): a server answers an INITIAL without keeping anything,
 * and creates a connection only when the client returns a cookie that proves it received that answer
 * at the address it claims.
 *
 * <pre>
 * cookie = first 16 bytes of HMAC-SHA256(secret, timeBucket || client IP || client port || clientCid
 *                                               || serverCid || encoded client parameters)
 * </pre>
 * Time buckets are {@link #BUCKET_NS} long; a cookie is accepted in its own bucket and the next, so it
 * lives between 10 and 20 seconds. HELLO_REPLY does not tell the client the bucket, so the server
 * tries the current and the previous one (two HMACs at most); the CONFIRM frame's time-bucket field
 * is sent as 0 and not trusted. The secret is drawn once per endpoint and never leaves it.
 *
 * <p>Not thread-safe: one instance per event loop. Verification compares in constant time.
 */
final class HandshakeCookies {
    /** Cookie length in bytes: 128 bits make guessing hopeless within a cookie's lifetime. */
    static final int COOKIE_LENGTH = Frames.COOKIE_LENGTH;
    /** Length of a time bucket (10 s). */
    static final long BUCKET_NS = 10_000_000_000L;
    /** Time buckets travel as 30-bit values (a 4-byte varint) and are compared modulo 2^30. */
    static final long BUCKET_MASK = (1L << 30) - 1;
    private static final int SECRET_LENGTH = 32;
    private static final String ALGORITHM = "HmacSHA256";

    private final Mac mac;
    private final ByteBuf input = Unpooled.buffer(128);
    private final byte[] digest = new byte[32];
    private final byte[] expected = new byte[COOKIE_LENGTH];
    private final byte[] presented = new byte[COOKIE_LENGTH];

    HandshakeCookies(RandomGenerator random) {
        byte[] secret = new byte[SECRET_LENGTH];
        random.nextBytes(secret);
        try {
            mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(secret, ALGORITHM));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM lacks " + ALGORITHM + ", which every Java SE platform must have", e);
        }
    }

    /** The time bucket that {@code nowNs} falls in, as it travels on the wire. */
    static long timeBucket(long nowNs) {
        return Math.floorDiv(nowNs, BUCKET_NS) & BUCKET_MASK;
    }

    /** The cookie for these handshake values issued at {@code nowNs}, into {@code out} (COOKIE_LENGTH bytes). */
    void issue(long nowNs, InetSocketAddress client, long clientCid, long serverCid, TransportParameters clientParams,
               byte[] out) {
        compute(timeBucket(nowNs), client, clientCid, serverCid, clientParams, out);
    }

    /**
     * True if the first {@code COOKIE_LENGTH} readable bytes of {@code cookie} are the cookie for these
     * values issued in the current or the previous time bucket.
     */
    boolean verify(long nowNs, ByteBuf cookie, InetSocketAddress client, long clientCid, long serverCid,
                   TransportParameters clientParams) {
        if (cookie.readableBytes() < COOKIE_LENGTH) {
            return false;
        }
        cookie.getBytes(cookie.readerIndex(), presented);
        long current = timeBucket(nowNs);
        compute(current, client, clientCid, serverCid, clientParams, expected);
        if (MessageDigest.isEqual(expected, presented)) {
            return true;
        }
        compute((current - 1) & BUCKET_MASK, client, clientCid, serverCid, clientParams, expected);
        return MessageDigest.isEqual(expected, presented);
    }

    private void compute(long bucket, InetSocketAddress client, long clientCid, long serverCid,
                         TransportParameters clientParams, byte[] out) {
        input.clear();
        input.writeInt((int) bucket);
        input.writeBytes(client.getAddress().getAddress());
        input.writeShort(client.getPort());
        input.writeLong(clientCid);
        input.writeLong(serverCid);
        clientParams.write(input);
        mac.update(input.array(), input.arrayOffset() + input.readerIndex(), input.readableBytes());
        try {
            mac.doFinal(digest, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC output buffer too small", e);
        }
        System.arraycopy(digest, 0, out, 0, COOKIE_LENGTH);
    }
}
