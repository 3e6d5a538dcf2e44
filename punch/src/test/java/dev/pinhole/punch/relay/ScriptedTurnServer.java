package dev.pinhole.punch.relay;

import dev.pinhole.core.net.DatagramEndpoint;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A scripted stand-in for a TURN server on the simulator, to test the client's state machine on
 * virtual time. Not a TURN server: one client, no allocation table, no quotas. By default it
 * answers as RFC 8656 says a server does (401 challenge, 438 for an old nonce, success with the
 * attributes each method returns, integrity on every response to an authenticated request) and
 * relays data between the client and peers through a second endpoint; a test can queue one-off
 * replies per method ({@link #nextReply}) to script errors, and reads back what arrived ({@link #received}).
 */
public final class ScriptedTurnServer {
    public static final String USER = "alice";
    public static final String PASSWORD = "secret";
    static final String REALM = "sim.test";

    /** What the server received: a request or an indication, with what the tests look at. */
    record Received(long atNs, int method, StunClass messageClass, String username, String nonce,
                    boolean integrityValid, long lifetimeSeconds, InetSocketAddress peer, int channel, byte[] data,
                    boolean hasFingerprint, long requestedTransport) {
        boolean authenticated() {
            return username != null;
        }
    }

    /** A scripted answer to one request. */
    sealed interface Reply {
        /** Answer as the server normally would. */
        Reply NORMAL = new Normal();
        /** Send nothing. */
        Reply DROP = new Drop();

        record Normal() implements Reply {
        }

        record Drop() implements Reply {
        }

        /** An error response with this code and reason; {@code withIntegrity} signs it. */
        record Error(int code, String reason, boolean withIntegrity) implements Reply {
        }

        /** A success response whose attributes the test writes (integrity and fingerprint are added). */
        record Success(Consumer<StunWriter> attributes, StunKey signWith) implements Reply {
        }
    }

    private final DatagramEndpoint endpoint;
    private final DatagramEndpoint relay;
    private final StunReader reader = new StunReader();
    private final StunWriter writer = new StunWriter();
    private final Map<Integer, Deque<Reply>> scripted = new HashMap<>();
    private final Set<InetAddress> permitted = new HashSet<>();
    private final Map<Integer, InetSocketAddress> channels = new HashMap<>();
    final List<Received> received = new ArrayList<>();
    private InetSocketAddress client;
    private String nonce = "nonce-1";
    private int nonceVersion = 1;
    long grantedLifetimeSeconds = 600;

    public ScriptedTurnServer(DatagramEndpoint endpoint, DatagramEndpoint relay) {
        this.endpoint = endpoint;
        this.relay = relay;
        endpoint.receiver(this::onDatagram);
        relay.receiver(this::onPeerDatagram);
    }

    static StunKey key() {
        return StunKey.longTerm(USER, REALM, PASSWORD);
    }

    public InetSocketAddress address() {
        return endpoint.localAddress();
    }

    InetSocketAddress relayAddress() {
        return relay.localAddress();
    }

    /** Queues a reply for the next request of {@code method} (after the unauthenticated first try is challenged). */
    void nextReply(int method, Reply reply) {
        scripted.computeIfAbsent(method, m -> new ArrayDeque<>()).addLast(reply);
    }

    /** Makes the current nonce stale: the next authenticated request gets 438 with a fresh one. */
    void staleNonce() {
        nonce = "nonce-" + ++nonceVersion;
    }

    String nonce() {
        return nonce;
    }

    List<Received> received(int method) {
        return received.stream().filter(r -> r.method() == method).toList();
    }

    List<Long> requestTimes(int method) {
        return received.stream().filter(r -> r.method() == method && r.messageClass() == StunClass.REQUEST)
            .map(Received::atNs).toList();
    }

    /** Sends raw bytes to the client from the server's address (for malformed-input tests). */
    void sendRaw(byte[] bytes) {
        ByteBuf out = endpoint.allocator().buffer(bytes.length);
        out.writeBytes(bytes);
        endpoint.send(out, client);
    }

    InetSocketAddress client() {
        return client;
    }

    private void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        client = sender;
        if (datagram.readableBytes() >= 4 && (datagram.getUnsignedByte(datagram.readerIndex()) & 0xC0) == 0x40) {
            onChannelData(datagram);
            return;
        }
        if (reader.wrap(datagram) != StunParseResult.OK) {
            throw new AssertionError("the client sent a malformed STUN message: " + reader.result() + " "
                + ByteBufUtil.hexDump(datagram));
        }
        Received r = record();
        received.add(r);
        if (r.messageClass() == StunClass.INDICATION) {
            if (r.method() == StunMessageType.METHOD_SEND && permitted.contains(r.peer().getAddress())) {
                relay.send(relay.allocator().buffer().writeBytes(r.data()), r.peer());
            }
            return;
        }
        TransactionId id = reader.transactionId();
        if (!r.authenticated()) {
            error(r.method(), id, 401, "Unauthorized", true, false);
            return;
        }
        if (!r.integrityValid()) {
            error(r.method(), id, 401, "Unauthorized", true, false);
            return;
        }
        if (!r.nonce().equals(nonce)) {
            error(r.method(), id, 438, "Stale Nonce", true, false);
            return;
        }
        Deque<Reply> queue = scripted.get(r.method());
        Reply reply = queue == null || queue.isEmpty() ? Reply.NORMAL : queue.removeFirst();
        if (reply instanceof Reply.Error e) {
            error(r.method(), id, e.code(), e.reason(), e.code() == 438, e.withIntegrity());
        } else if (reply instanceof Reply.Success s) {
            success(r.method(), id, s.attributes(), s.signWith());
        } else if (reply instanceof Reply.Normal) {
            normal(r, id);
        }
    }

    private Received record() {
        String username = reader.findString(StunAttributeType.USERNAME);
        String requestNonce = reader.findString(StunAttributeType.NONCE);
        boolean valid = reader.hasMessageIntegrity() && reader.verifyIntegrity(key()) == StunParseResult.OK;
        int lifetimeAt = reader.findAttribute(StunAttributeType.LIFETIME);
        int channelAt = reader.findAttribute(StunAttributeType.CHANNEL_NUMBER);
        int dataAt = reader.findAttribute(StunAttributeType.DATA);
        int transportAt = reader.findAttribute(StunAttributeType.REQUESTED_TRANSPORT);
        byte[] data = null;
        if (dataAt != StunReader.NO_ATTRIBUTE) {
            data = new byte[reader.attributeLength(dataAt)];
            reader.copyAttributeValue(dataAt, data, 0);
        }
        return new Received(endpoint.clock().nanoTime(), reader.method(), reader.messageClass(), username, requestNonce,
            valid, lifetimeAt == StunReader.NO_ATTRIBUTE ? -1 : reader.uint32(lifetimeAt),
            reader.findAddress(StunAttributeType.XOR_PEER_ADDRESS),
            channelAt == StunReader.NO_ATTRIBUTE ? 0 : (int) (reader.uint32(channelAt) >>> 16), data,
            reader.hasFingerprint(), transportAt == StunReader.NO_ATTRIBUTE ? -1 : reader.uint32(transportAt));
    }

    private void normal(Received r, TransactionId id) {
        switch (r.method()) {
            case StunMessageType.METHOD_ALLOCATE -> success(r.method(), id, w -> w
                .addXorAddress(StunAttributeType.XOR_RELAYED_ADDRESS, relay.localAddress())
                .addUInt32(StunAttributeType.LIFETIME, (int) grantedLifetimeSeconds)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, client), key());
            case StunMessageType.METHOD_REFRESH -> {
                long lifetime = r.lifetimeSeconds() == 0 ? 0 : grantedLifetimeSeconds;
                success(r.method(), id, w -> w.addUInt32(StunAttributeType.LIFETIME, (int) lifetime), key());
            }
            case StunMessageType.METHOD_CREATE_PERMISSION -> {
                permitted.add(r.peer().getAddress());
                success(r.method(), id, w -> { }, key());
            }
            case StunMessageType.METHOD_CHANNEL_BIND -> {
                permitted.add(r.peer().getAddress());
                channels.put(r.channel(), r.peer());
                success(r.method(), id, w -> { }, key());
            }
            default -> error(r.method(), id, 400, "Bad Request", false, true);
        }
    }

    private void success(int method, TransactionId id, Consumer<StunWriter> attributes, StunKey signWith) {
        ByteBuf out = endpoint.allocator().buffer();
        writer.begin(out, StunMessageType.of(method, StunClass.SUCCESS_RESPONSE), id);
        attributes.accept(writer);
        if (signWith != null) {
            writer.addMessageIntegrity(signWith);
        }
        writer.addFingerprint().finish();
        endpoint.send(out, client);
    }

    private void error(int method, TransactionId id, int code, String reason, boolean challenge, boolean sign) {
        if (code == 438) {
            staleNonceIfSame();
        }
        ByteBuf out = endpoint.allocator().buffer();
        writer.begin(out, StunMessageType.of(method, StunClass.ERROR_RESPONSE), id).addErrorCode(code, reason);
        if (challenge) {
            writer.addString(StunAttributeType.REALM, REALM).addString(StunAttributeType.NONCE, nonce);
        }
        if (sign) {
            writer.addMessageIntegrity(key());
        }
        writer.addFingerprint().finish();
        endpoint.send(out, client);
    }

    /** A scripted 438 hands out a fresh nonce, as a real server's would. */
    private void staleNonceIfSame() {
        if (reader.findString(StunAttributeType.NONCE) != null && reader.findString(StunAttributeType.NONCE).equals(nonce)) {
            staleNonce();
        }
    }

    private void onChannelData(ByteBuf datagram) {
        int start = datagram.readerIndex();
        int channel = datagram.getUnsignedShort(start);
        int length = datagram.getUnsignedShort(start + 2);
        byte[] data = new byte[length];
        datagram.getBytes(start + 4, data);
        InetSocketAddress peer = channels.get(channel);
        received.add(new Received(endpoint.clock().nanoTime(), -1, null, null, null, false, -1, peer, channel, data,
            false, -1));
        if (peer != null) {
            relay.send(relay.allocator().buffer().writeBytes(data), peer);
        }
    }

    /** A peer sent to the relayed address: pass it to the client on its channel or in a Data indication. */
    private void onPeerDatagram(ByteBuf datagram, InetSocketAddress peer) {
        if (client == null || !permitted.contains(peer.getAddress())) {
            return;
        }
        for (Map.Entry<Integer, InetSocketAddress> e : channels.entrySet()) {
            if (e.getValue().equals(peer)) {
                ByteBuf out = endpoint.allocator().buffer();
                out.writeShort(e.getKey()).writeShort(datagram.readableBytes()).writeBytes(datagram, datagram.readerIndex(),
                    datagram.readableBytes());
                endpoint.send(out, client);
                return;
            }
        }
        ByteBuf out = endpoint.allocator().buffer();
        writer.begin(out, StunMessageType.of(StunMessageType.METHOD_DATA, StunClass.INDICATION), new TransactionId(1, 2))
            .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer)
            .addBytes(StunAttributeType.DATA, datagram)
            .addFingerprint()
            .finish();
        endpoint.send(out, client);
    }
}
