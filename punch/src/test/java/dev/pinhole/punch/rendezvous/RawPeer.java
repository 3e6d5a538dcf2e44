package dev.pinhole.punch.rendezvous;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.reliability.Identity;
import dev.pinhole.sim.SimEndpoint;
import java.security.InvalidKeyException;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * A hand-driven socket for tests that craft requests byte by byte (as an attacker or a broken client
 * would) and look at exactly what comes back.
 */
final class RawPeer {
    final SimEndpoint endpoint;
    final InetSocketAddress server;
    final List<byte[]> received = new ArrayList<>();
    final List<InetSocketAddress> senders = new ArrayList<>();
    private final RandomGenerator random;

    RawPeer(SimEndpoint endpoint, InetSocketAddress server, RandomGenerator random) {
        this.endpoint = endpoint;
        this.server = server;
        this.random = random;
        endpoint.receiver((datagram, sender) -> {
            received.add(ByteBufUtil.getBytes(datagram));
            senders.add(sender);
        });
    }

    /** Sends {@code bytes} to the server; returns their length. */
    int send(byte[] bytes) {
        endpoint.send(Unpooled.wrappedBuffer(bytes), server);
        return bytes.length;
    }

    /** A request of {@code method} with the attributes {@code body} writes, then optional NONCE, integrity, FINGERPRINT. */
    byte[] request(int method, Consumer<StunWriter> body, byte[] nonce, StunKey key, boolean fingerprint) {
        return message(StunMessageType.of(method, StunClass.REQUEST), TransactionId.random(random), body, nonce, key,
            fingerprint);
    }

    static byte[] message(int type, TransactionId id, Consumer<StunWriter> body, byte[] nonce, StunKey key,
                          boolean fingerprint) {
        ByteBuf out = Unpooled.buffer();
        StunWriter writer = new StunWriter();
        writer.begin(out, type, id);
        body.accept(writer);
        if (nonce != null) {
            writer.addBytes(StunAttributeType.NONCE, nonce);
        }
        if (key != null) {
            writer.addMessageIntegritySha256(key);
        }
        if (fingerprint) {
            writer.addFingerprint();
        }
        writer.finish();
        return ByteBufUtil.getBytes(out);
    }

    /** The NONCE of the last response received, or null. */
    byte[] lastNonce() {
        for (int i = received.size() - 1; i >= 0; i--) {
            StunReader reader = new StunReader();
            if (reader.wrap(Unpooled.wrappedBuffer(received.get(i))) == StunParseResult.OK) {
                int at = reader.findAttribute(StunAttributeType.NONCE);
                if (at != StunReader.NO_ATTRIBUTE) {
                    byte[] nonce = new byte[reader.attributeLength(at)];
                    reader.copyAttributeValue(at, nonce, 0);
                    return nonce;
                }
            }
        }
        return null;
    }

    // ---- a raw peer with a key: NODE-KEY and the session key's MESSAGE-INTEGRITY-SHA256 ------------------

    /** The identity {@link #signed} proves; null until {@link #identity(Identity)}. */
    Identity identity;
    /** The shared secret's key, or null. */
    StunKey admission;
    byte[] nonce;
    byte[] serverKey;

    /** A deterministic identity for {@code label} (a SHA1PRNG seeded with it), so a run replays. */
    static Identity identity(String label) {
        try {
            java.security.SecureRandom random = java.security.SecureRandom.getInstance("SHA1PRNG");
            random.setSeed(label.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Identity.generate(random);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    RawPeer identity(Identity identity) {
        this.identity = identity;
        return this;
    }

    /** Takes the NONCE and SERVER-KEY of the last response that has them. */
    RawPeer learn() {
        byte[] fresh = lastNonce();
        if (fresh != null) {
            nonce = fresh;
        }
        byte[] key = lastAttribute(RendezvousProtocol.ATTR_SERVER_KEY);
        if (key != null) {
            serverKey = key;
        }
        return this;
    }

    /** The session key of {@link #identity} under the current nonce and server key. */
    StunKey sessionKey() {
        try {
            return RendezvousProtocol.sessionKey(identity.dh(serverKey), nonce, identity.x25519PublicKey(), serverKey,
                admission);
        } catch (InvalidKeyException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A request with {@code body}, NODE-KEY, padding to the minimum request size, then (with a nonce) NONCE
     * and MESSAGE-INTEGRITY-SHA256 under the session key, or (without one) the secret's integrity if any.
     */
    byte[] signed(int method, Consumer<StunWriter> body) {
        Consumer<StunWriter> keyed = body.andThen(w -> {
            w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, identity.x25519PublicKey());
            w.addBytes(StunAttributeType.PADDING, new byte[RendezvousProtocol.MIN_UNVALIDATED_REQUEST_BYTES]);
        });
        return request(method, keyed, nonce, nonce == null || serverKey == null ? admission : sessionKey(), true);
    }

    /** Sends {@link #signed}, runs {@code run}, learns the answer's NONCE and SERVER-KEY; returns its code. */
    int call(int method, Consumer<StunWriter> body, Runnable run) {
        send(signed(method, body));
        run.run();
        learn();
        return lastCode();
    }

    /** REGISTER {@code name} with this identity, following 438s (at most three); returns the last code. */
    int register(String name, Runnable run) {
        Consumer<StunWriter> body = w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, name);
        int code = call(RendezvousProtocol.METHOD_REGISTER, body, run);
        for (int i = 0; i < 3 && code == RendezvousProtocol.ERROR_STALE_NONCE; i++) {
            code = call(RendezvousProtocol.METHOD_REGISTER, body, run);
        }
        return code;
    }

    /**
     * Plays a rendezvous server's side of a client's first REGISTER, as this raw peer listening on the
     * server's address: 438 with a NONCE and {@code serverIdentity}'s key (signed with {@code admission} if
     * given), then success signed with the session key the client's second REGISTER proves. Call it after
     * the client's register(); {@code run} lets the network run. Returns the session key, with which a test
     * signs the INTRODUCTION, MESSAGE and CANDIDATE requests it sends the client.
     */
    StunKey acceptRegistration(Identity serverIdentity, StunKey admission, Runnable run) {
        byte[] nonce = "raw-server-nonce-0123456".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] serverPublic = serverIdentity.x25519PublicKey();
        run.run();
        StunReader first = lastRequest(RendezvousProtocol.METHOD_REGISTER);
        InetSocketAddress client = senders.get(senders.size() - 1);
        reply(first, StunClass.ERROR_RESPONSE, w -> {
            w.addErrorCode(RendezvousProtocol.ERROR_STALE_NONCE, "Stale Nonce");
            w.addBytes(StunAttributeType.NONCE, nonce);
            w.addBytes(RendezvousProtocol.ATTR_SERVER_KEY, serverPublic);
        }, admission, client);
        run.run();
        StunReader second = lastRequest(RendezvousProtocol.METHOD_REGISTER);
        byte[] nodeKey = new byte[RendezvousProtocol.KEY_BYTES];
        second.copyAttributeValue(second.findAttribute(RendezvousProtocol.ATTR_NODE_KEY), nodeKey, 0);
        StunKey session;
        try {
            session = RendezvousProtocol.sessionKey(serverIdentity.dh(nodeKey), nonce, nodeKey, serverPublic, admission);
        } catch (InvalidKeyException e) {
            throw new AssertionError(e);
        }
        if (second.verifyMessageIntegritySha256(session) != StunParseResult.OK) {
            throw new AssertionError("the client's REGISTER is not signed with the session key");
        }
        reply(second, StunClass.SUCCESS_RESPONSE, w -> {
            w.addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, client);
            w.addUInt32(RendezvousProtocol.ATTR_REFRESH_INTERVAL, 15_000);
            w.addUInt32(RendezvousProtocol.ATTR_REGISTRATION_LIFETIME, 45_000);
            w.addBytes(RendezvousProtocol.ATTR_SERVER_KEY, serverPublic);
        }, session, client);
        run.run();
        received.clear();
        senders.clear();
        return session;
    }

    private StunReader lastRequest(int method) {
        for (int i = received.size() - 1; i >= 0; i--) {
            StunReader reader = new StunReader();
            if (reader.wrap(Unpooled.wrappedBuffer(received.get(i))) == StunParseResult.OK
                && reader.messageClass() == StunClass.REQUEST && reader.method() == method) {
                return reader;
            }
        }
        throw new AssertionError("no " + RendezvousProtocol.methodName(method) + " request arrived");
    }

    private void reply(StunReader request, StunClass messageClass, Consumer<StunWriter> body, StunKey key,
                       InetSocketAddress to) {
        byte[] bytes = message(StunMessageType.of(request.method(), messageClass), request.transactionId(), body, null,
            key, true);
        endpoint.send(Unpooled.wrappedBuffer(bytes), to);
    }

    /** The value of the first {@code type} attribute of the last response that has one, or null. */
    byte[] lastAttribute(int type) {
        for (int i = received.size() - 1; i >= 0; i--) {
            StunReader reader = new StunReader();
            if (reader.wrap(Unpooled.wrappedBuffer(received.get(i))) == StunParseResult.OK) {
                int at = reader.findAttribute(type);
                if (at != StunReader.NO_ATTRIBUTE) {
                    byte[] value = new byte[reader.attributeLength(at)];
                    reader.copyAttributeValue(at, value, 0);
                    return value;
                }
            }
        }
        return null;
    }

    /** The ERROR-CODE of the last response, 0 for a success, -1 if it does not parse. */
    int lastCode() {
        StunReader reader = new StunReader();
        if (received.isEmpty() || reader.wrap(Unpooled.wrappedBuffer(received.get(received.size() - 1))) != StunParseResult.OK) {
            return -1;
        }
        return reader.messageClass() == StunClass.ERROR_RESPONSE ? reader.errorCode() : 0;
    }
}
