package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.noise.HandshakePattern;
import dev.pinhole.reliability.noise.HandshakeState;
import dev.pinhole.reliability.noise.NoiseException;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server's side of the Noise handshake, kept stateless between its reply and the client's CONFIRM
 * (docs/protocol.md, "Handshake"; the idea of TCP SYN cookies and QUIC's Retry token, RFC 9000 §8.1.2).
 *
 * <p>{@link #reply} reads the client's first Noise message, draws the responder's ephemeral key, puts
 * everything the server must remember into the cookie, sealed with AES-256-GCM under a key drawn once per
 * endpoint, and writes the responder's message, whose encrypted payload carries the cookie's SHA-256 (so the
 * client accepts the cookie only as the server sent it):
 *
 * <pre>
 * cookie    = time bucket (32) || nonce (96) || AES-256-GCM(cookie key, nonce, plaintext, aad)
 * aad       = time bucket || client IP || client port
 * plaintext = server cid (64) || client cid (64) || client transport parameters || responder snapshot
 * </pre>
 *
 * The snapshot is the responder's Noise state after reading the client's message, with its ephemeral key
 * ({@link HandshakeState#exportResponder()}); {@link #confirm} restores it, writes the same reply again (two
 * DH operations) and, for XX, reads the client's third message. So the server keeps
 * nothing for an INITIAL, a spoofed one included, and a client proves its address by returning the cookie,
 * which only the address the reply went to received. A cookie is accepted in its own 10-second bucket and
 * the next. Each server connection id is accepted once while its cookie lives ({@link #confirm}), so a
 * CONFIRM replayed after its connection ended creates nothing.
 *
 * <p>Not thread-safe: one per endpoint, on its event loop.
 */
final class ServerHandshakes {
    /** Length of a time bucket (10 s). */
    static final long BUCKET_NS = 10_000_000_000L;
    /** Server connection ids remembered against replayed CONFIRMs; beyond it new connections are refused. */
    static final int MAX_REMEMBERED_CONFIRMS = 100_000;
    private static final int NONCE_LENGTH = 12;
    private static final int TAG_BITS = 128;

    /** What {@link #confirm} hands over for a new connection. */
    record Accepted(long clientCid, TransportParameters clientParams, byte[] peerStatic, byte[] sendSecret,
                    byte[] receiveSecret) {
    }

    /** Why {@link #confirm} created nothing, for the endpoint's counters. */
    enum Refusal { NONE, BAD_COOKIE, EXPIRED_COOKIE, BAD_HANDSHAKE, REPLAYED, TOO_MANY }

    private final NoiseKeyPair local;
    private final TransportParameters localParams;
    private final SecureRandom random;
    private final Cipher cipher;
    private final SecretKeySpec cookieKey;
    private final byte[] noncePrefix = new byte[4];
    private long nonceCounter;
    /** Server connection ids of accepted CONFIRMs → when their cookie expires at the latest. */
    private final LinkedHashMap<Long, Long> confirmed = new LinkedHashMap<>();
    private Refusal lastRefusal = Refusal.NONE;

    /** @param localParams the transport parameters the server announces in every HELLO_REPLY */
    ServerHandshakes(NoiseKeyPair local, TransportParameters localParams, SecureRandom random) {
        this.local = local;
        this.localParams = localParams;
        this.random = random;
        byte[] key = new byte[32];
        random.nextBytes(key);
        random.nextBytes(noncePrefix);
        this.cookieKey = new SecretKeySpec(key, "AES");
        Arrays.fill(key, (byte) 0);
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks AES/GCM/NoPadding", e);
        }
    }

    static long timeBucket(long nowNs) {
        return Math.floorDiv(nowNs, BUCKET_NS) & 0xFFFF_FFFFL;
    }

    /** The reply to a HELLO: the cookie and the responder's Noise message. */
    record Reply(byte[] cookie, byte[] message) {
    }

    /**
     * Reads the client's first message and answers it, or returns null if it does not read (a forged or
     * damaged HELLO, or IK towards a key that is not ours).
     */
    Reply reply(long nowNs, InetSocketAddress client, long clientCid, TransportParameters params, int pattern,
                ByteBuf firstMessage, long serverCid) {
        HandshakePattern noisePattern = pattern == Frames.PATTERN_IK ? HandshakePattern.IK : HandshakePattern.XX;
        HandshakeState noise = HandshakeState.responder(noisePattern, HandshakeProtocol.prologue(clientCid, params),
                local, random);
        try {
            noise.readMessage(ByteBufUtil.getBytes(firstMessage));
            // The cookie holds the state before our message, ephemeral included; the message then carries the
            // cookie's hash, and the CONFIRM's restored state writes the very same message again.
            noise.prepareEphemeral();
            byte[] cookie = sealCookie(nowNs, client, serverCid, clientCid, params, noise.exportResponder());
            byte[] message = noise.writeMessage(HandshakeProtocol.replyPayload(serverCid, localParams, cookie));
            return new Reply(cookie, message);
        } catch (NoiseException e) {
            return null;
        }
    }

    /**
     * Opens the cookie of a CONFIRM packet for connection id {@code serverCid} from {@code client}, finishes
     * the handshake with the client's final message, and returns the new connection's keys, or null with
     * {@link #lastRefusal()} saying why.
     */
    Accepted confirm(long nowNs, InetSocketAddress client, long serverCid, byte[] cookie, byte[] finalMessage) {
        lastRefusal = Refusal.NONE;
        ByteBuf plain = openCookie(nowNs, client, cookie);
        if (plain == null) {
            return null;
        }
        if (plain.readLong() != serverCid) {
            lastRefusal = Refusal.BAD_COOKIE;
            return null;
        }
        long clientCid = plain.readLong();
        TransportParameters clientParams = TransportParameters.read(plain);
        if (clientParams == null) {
            lastRefusal = Refusal.BAD_COOKIE;
            return null;
        }
        byte[] snapshot = ByteBufUtil.getBytes(plain);
        byte[][] secrets;
        byte[] peerStatic;
        try {
            HandshakeState noise = HandshakeState.restoreResponder(snapshot, local, random);
            noise.writeMessage(HandshakeProtocol.replyPayload(serverCid, localParams, cookie));
            if (!noise.isFinished()) {
                noise.readMessage(finalMessage);
            } else if (finalMessage.length != 0) {
                throw new NoiseException("a message after the handshake finished");
            }
            if (!noise.isFinished()) {
                throw new NoiseException("the handshake is not finished");
            }
            peerStatic = noise.remoteStaticKey();
            secrets = noise.splitKeys();
        } catch (NoiseException e) {
            lastRefusal = Refusal.BAD_HANDSHAKE;
            return null;
        } finally {
            Arrays.fill(snapshot, (byte) 0);
        }
        if (!remember(nowNs, serverCid)) {
            return null;
        }
        return new Accepted(clientCid, clientParams, peerStatic, secrets[0], secrets[1]);
    }

    Refusal lastRefusal() {
        return lastRefusal;
    }

    /** Records an accepted server connection id; false if it was accepted before or the memory is full. */
    private boolean remember(long nowNs, long serverCid) {
        for (Iterator<Map.Entry<Long, Long>> it = confirmed.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue() > nowNs) {
                break;
            }
            it.remove();
        }
        if (confirmed.containsKey(serverCid)) {
            lastRefusal = Refusal.REPLAYED;
            return false;
        }
        if (confirmed.size() >= MAX_REMEMBERED_CONFIRMS) {
            lastRefusal = Refusal.TOO_MANY;
            return false;
        }
        // A cookie issued at the very start of a bucket lives until the end of the next: two buckets.
        confirmed.put(serverCid, nowNs + 2 * BUCKET_NS);
        return true;
    }

    private byte[] sealCookie(long nowNs, InetSocketAddress client, long serverCid, long clientCid,
                              TransportParameters params, byte[] snapshot) {
        long bucket = timeBucket(nowNs);
        ByteBuf plain = Unpooled.buffer(16 + params.encodedLength() + snapshot.length);
        plain.writeLong(serverCid);
        plain.writeLong(clientCid);
        params.write(plain);
        plain.writeBytes(snapshot);
        Arrays.fill(snapshot, (byte) 0);
        byte[] nonce = new byte[NONCE_LENGTH];
        System.arraycopy(noncePrefix, 0, nonce, 0, 4);
        long counter = nonceCounter++;
        for (int i = 0; i < 8; i++) {
            nonce[NONCE_LENGTH - 1 - i] = (byte) (counter >>> (8 * i));
        }
        try {
            cipher.init(Cipher.ENCRYPT_MODE, cookieKey, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad(bucket, client));
            byte[] sealed = cipher.doFinal(plain.array(), plain.arrayOffset(), plain.readableBytes());
            ByteBuf cookie = Unpooled.buffer(4 + NONCE_LENGTH + sealed.length);
            cookie.writeInt((int) bucket);
            cookie.writeBytes(nonce);
            cookie.writeBytes(sealed);
            return ByteBufUtil.getBytes(cookie);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a cookie failed", e);
        } finally {
            Arrays.fill(plain.array(), (byte) 0);
        }
    }

    private ByteBuf openCookie(long nowNs, InetSocketAddress client, byte[] cookie) {
        if (cookie.length < 4 + NONCE_LENGTH + TAG_BITS / 8) {
            lastRefusal = Refusal.BAD_COOKIE;
            return null;
        }
        long bucket = ((cookie[0] & 0xFFL) << 24) | ((cookie[1] & 0xFFL) << 16) | ((cookie[2] & 0xFFL) << 8)
                | (cookie[3] & 0xFFL);
        long current = timeBucket(nowNs);
        if (bucket != current && bucket != ((current - 1) & 0xFFFF_FFFFL)) {
            lastRefusal = Refusal.EXPIRED_COOKIE;
            return null;
        }
        try {
            cipher.init(Cipher.DECRYPT_MODE, cookieKey, new GCMParameterSpec(TAG_BITS, cookie, 4, NONCE_LENGTH));
            cipher.updateAAD(aad(bucket, client));
            byte[] plain = cipher.doFinal(cookie, 4 + NONCE_LENGTH, cookie.length - 4 - NONCE_LENGTH);
            return Unpooled.wrappedBuffer(plain);
        } catch (GeneralSecurityException e) {
            lastRefusal = Refusal.BAD_COOKIE;
            return null;
        }
    }

    private static byte[] aad(long bucket, InetSocketAddress client) {
        byte[] ip = client.getAddress().getAddress();
        ByteBuf aad = Unpooled.buffer(4 + ip.length + 2);
        aad.writeInt((int) bucket);
        aad.writeBytes(ip);
        aad.writeShort(client.getPort());
        return ByteBufUtil.getBytes(aad);
    }
}
