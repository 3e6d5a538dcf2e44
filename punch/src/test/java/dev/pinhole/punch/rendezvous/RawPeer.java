package dev.pinhole.punch.rendezvous;

import dev.pinhole.sim.SimEndpoint;
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
    private final RandomGenerator random;

    RawPeer(SimEndpoint endpoint, InetSocketAddress server, RandomGenerator random) {
        this.endpoint = endpoint;
        this.server = server;
        this.random = random;
        endpoint.receiver((datagram, sender) -> received.add(ByteBufUtil.getBytes(datagram)));
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

    /** The ERROR-CODE of the last response, 0 for a success, -1 if it does not parse. */
    int lastCode() {
        StunReader reader = new StunReader();
        if (received.isEmpty() || reader.wrap(Unpooled.wrappedBuffer(received.get(received.size() - 1))) != StunParseResult.OK) {
            return -1;
        }
        return reader.messageClass() == StunClass.ERROR_RESPONSE ? reader.errorCode() : 0;
    }
}
