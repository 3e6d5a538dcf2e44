package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.RendezvousAuthenticationException;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.RecordingEndpoint;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.punch.traversal.Introduction;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Shared-secret authentication, the no-amplification rule, rate limiting and bounded tables. */
class RendezvousAbuseTest {
    private static final long SEED = 0xEE03L;
    private static final int UNKNOWN_METHOD = 0x0EF;
    private static final int UNKNOWN_REQUIRED_ATTRIBUTE = 0x0042;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    // ---- shared secret --------------------------------------------------------------------------

    @Test
    void withTheSameSecretEverythingWorksAndEveryServerMessageIsSigned() {
        RendezvousServerConfig config = RendezvousServerConfig.builder().secret("correct horse")
            .random(net.sim.random("server")).allowList(true).build();
        net.serverEndpoint = net.serverHost.bind(PunchSim.SERVER_PORT);
        RecordingEndpoint tap = new RecordingEndpoint(net.tracked(net.serverEndpoint));
        List<RecordingEndpoint.Sent> sent = tap.sent;
        net.server = RendezvousServer.listen(tap, config);
        Peer alice = net.peerBehindNat("alice", NatConfig.FULL_CONE, b -> b.secret("correct horse"));
        Peer bob = net.peerBehindNat("bob", NatConfig.FULL_CONE, b -> b.secret("correct horse"));
        net.register(alice);
        net.register(bob);

        Introduction introduction = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.await(alice.client().listPeers(), 5 * SECOND);
        net.runFor(1 * SECOND);

        assertEquals("bob", introduction.peerName(), "introduced");
        assertEquals(1, bob.listener().introductions.size(), "bob introduced");
        // Signed with the secret's key (the 438s) or a session key, which the secret's key is part of.
        List<StunKey> keys = new java.util.ArrayList<>(List.of(RendezvousProtocol.deriveKey("correct horse")));
        for (Peer peer : List.of(alice, bob)) {
            for (StunKey session : peer.client().sessionKeys()) {
                if (session != null) {
                    keys.add(session);
                }
            }
        }
        StunReader reader = new StunReader();
        assertTrue(sent.size() >= 8, "the server sent " + sent.size() + " messages");
        for (byte[] message : sent.stream().map(RecordingEndpoint.Sent::bytes).toList()) {
            assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(message)), "parses");
            assertTrue(reader.hasMessageIntegritySha256(), "carries MESSAGE-INTEGRITY-SHA256: " + reader);
            assertTrue(keys.stream().anyMatch(k -> reader.verifyMessageIntegritySha256(k) == StunParseResult.OK),
                "verifies: " + reader);
            assertTrue(reader.hasFingerprint(), "carries FINGERPRINT: " + reader);
        }
        assertEquals(0, net.server.stats().unauthenticated(), "nothing rejected");
        assertEquals(0, alice.client().stats().rejectedResponses(), "alice rejected nothing");
    }

    @Test
    void aWrongSecretIsRefusedWith401AndReportedAsAuthenticationFailure() {
        net.startServer(b -> b.secret("correct horse"));
        Peer mallory = net.peerBehindNat("mallory", NatConfig.FULL_CONE, b -> b.secret("battery staple"));

        Throwable failure = net.awaitFailure(mallory.client().register("mallory", List.of()), 5 * SECOND);

        RendezvousAuthenticationException auth = assertInstanceOf(RendezvousAuthenticationException.class, failure);
        assertEquals(401, auth.errorCode(), "the server's 401");
        assertTrue(auth.getMessage().contains("same shared secret"), "says what to check: " + auth.getMessage());
        assertEquals(1, net.server.stats().unauthenticated(), "counted once");
        assertEquals(0, net.server.registrationCount(), "nothing registered");
    }

    @Test
    void aClientWithoutTheSecretIsRefusedWith401() {
        net.startServer(b -> b.secret("correct horse"));
        Peer anonymous = net.peerBehindNat("anon");

        Throwable failure = net.awaitFailure(anonymous.client().register("anon", List.of()), 5 * SECOND);

        assertEquals(401, assertInstanceOf(RendezvousAuthenticationException.class, failure).errorCode(), "401");
    }

    @Test
    void aServerWithoutTheSecretIsReportedAsAuthenticationFailureNotAsUnreachable() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice", NatConfig.FULL_CONE, b -> b.secret("correct horse"));

        Throwable failure = net.awaitFailure(alice.client().register("alice", List.of()), 60 * SECOND);

        RendezvousAuthenticationException auth = assertInstanceOf(RendezvousAuthenticationException.class, failure);
        assertTrue(auth.getMessage().contains("failed the MESSAGE-INTEGRITY-SHA256 check"), auth.getMessage());
        assertTrue(alice.client().stats().rejectedResponses() >= 7, "unsigned answers were discarded, not trusted");
    }

    @Test
    void keyDerivationIsHmacSha256OfTheLabelUnderTheSecret() throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] expected = mac.doFinal("pinhole rendezvous v1".getBytes(StandardCharsets.UTF_8));

        assertEquals(ByteBufUtil.hexDump(expected), ByteBufUtil.hexDump(RendezvousProtocol.deriveKey("s3cret").bytes()),
            "documented derivation");
    }

    // ---- no amplification -----------------------------------------------------------------------

    @Test
    void noUnvalidatedRequestOfAnyTypeIsAnsweredWithMoreBytesThanItHad() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        RawPeer attacker = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("attacker"));

        Map<String, Integer> answered = checkAmplification(attacker, null);

        assertTrue(answered.values().stream().anyMatch(bytes -> bytes > 0),
            "padded requests are answered (438 with a nonce), so the check is not vacuous: " + answered);
        assertTrue(net.server.stats().amplificationDrops() > 0, "small requests went unanswered");
        assertTrue(net.server.stats().staleNonces() > 0, "438s were due");
    }

    @Test
    void noUnauthenticatedRequestToASecretServerIsAnsweredWithMoreBytesThanItHad() {
        net.startServer(b -> b.secret("correct horse"));
        RawPeer attacker = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("attacker"));

        Map<String, Integer> answered = checkAmplification(attacker, RendezvousProtocol.deriveKey("wrong"));

        assertTrue(answered.values().stream().anyMatch(bytes -> bytes > 0), "some 401s were sent: " + answered);
        assertTrue(net.server.stats().unauthenticated() > 0, "counted as unauthenticated");
    }

    /**
     * Sends every rendezvous method (and an unknown one) in several shapes without a valid nonce or
     * secret and asserts each answer is no larger than its request. Returns the answer bytes per case.
     */
    private Map<String, Integer> checkAmplification(RawPeer attacker, StunKey wrongKey) {
        Map<String, Consumer<StunWriter>> bodies = new LinkedHashMap<>();
        bodies.put("empty", w -> { });
        bodies.put("minimal", w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob"));
        bodies.put("keyed", w -> {
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob");
            w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, RawPeer.identity("bob").x25519PublicKey());
        });
        bodies.put("padded", w -> {
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob");
            w.addBytes(StunAttributeType.PADDING, new byte[RendezvousProtocol.MIN_UNVALIDATED_REQUEST_BYTES]);
        });
        bodies.put("unknown-required", w -> w.addBytes(UNKNOWN_REQUIRED_ATTRIBUTE, new byte[4]));
        bodies.put("unknown-required-padded", w -> {
            w.addBytes(UNKNOWN_REQUIRED_ATTRIBUTE, new byte[4]);
            w.addBytes(StunAttributeType.PADDING, new byte[RendezvousProtocol.MIN_UNVALIDATED_REQUEST_BYTES]);
        });
        byte[] forgedNonce = "AAAAAAAAAAAAAAAAAAAAAAAA".getBytes(StandardCharsets.US_ASCII);
        Map<String, Integer> answered = new LinkedHashMap<>();
        int[] methods = {RendezvousProtocol.METHOD_REGISTER, RendezvousProtocol.METHOD_LIST_PEERS,
            RendezvousProtocol.METHOD_CONNECT, RendezvousProtocol.METHOD_MESSAGE, RendezvousProtocol.METHOD_CANDIDATE,
            RendezvousProtocol.METHOD_INTRODUCTION, UNKNOWN_METHOD};
        for (int method : methods) {
            for (Map.Entry<String, Consumer<StunWriter>> body : bodies.entrySet()) {
                for (boolean withNonce : new boolean[] {false, true}) {
                    for (boolean fingerprint : new boolean[] {false, true}) {
                        String name = RendezvousProtocol.methodName(method) + "/" + body.getKey()
                            + (withNonce ? "/forged-nonce" : "") + (fingerprint ? "/fingerprint" : "");
                        attacker.received.clear();
                        byte[] request = attacker.request(method, body.getValue(), withNonce ? forgedNonce : null,
                            wrongKey, fingerprint);
                        attacker.send(request);
                        net.runFor(200 * MS);
                        int bytes = 0;
                        for (byte[] response : attacker.received) {
                            assertTrue(response.length <= request.length, name + ": answered " + response.length
                                + " bytes to a " + request.length + "-byte request");
                            bytes += response.length;
                        }
                        assertTrue(attacker.received.size() <= 1, name + ": at most one answer, got " + attacker.received.size());
                        answered.put(name + " (" + request.length + " B)", bytes);
                    }
                }
            }
        }
        return answered;
    }

    @Test
    void aPaddedFirstRequestGetsANonceAndTheSameRequestWithItSucceeds() {
        net.startServer();
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw")).identity(RawPeer.identity("raw"));
        Consumer<StunWriter> register = w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, "raw");

        int requestBytes = raw.send(raw.signed(RendezvousProtocol.METHOD_REGISTER, register));
        net.runFor(100 * MS);

        assertEquals(438, raw.lastCode(), "438 Stale Nonce");
        assertTrue(raw.received.get(0).length <= requestBytes, "438 fits the request");
        raw.learn();
        assertNotNull(raw.nonce, "with a NONCE");
        assertNotNull(raw.serverKey, "and the server's key");
        raw.send(raw.signed(RendezvousProtocol.METHOD_REGISTER, register));
        net.runFor(100 * MS);
        assertEquals(0, raw.lastCode(), "registered with the nonce");
        assertTrue(net.server.isRegistered("raw"), "server has it");
    }

    @Test
    void aNonceIsBoundToTheAddressItWasIssuedTo() {
        net.startServer(b -> b.allowList(true));
        RawPeer first = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("first"));
        RawPeer second = new RawPeer(net.sim.internet().addHost("192.0.2.67").bind(7000), net.serverAddress,
            net.sim.random("second"));
        Consumer<StunWriter> padded = w -> w.addBytes(StunAttributeType.PADDING, new byte[128]);
        first.send(first.request(RendezvousProtocol.METHOD_LIST_PEERS, padded, null, null, true));
        net.runFor(100 * MS);
        byte[] nonce = first.lastNonce();

        second.send(second.request(RendezvousProtocol.METHOD_LIST_PEERS, padded, nonce, null, true));
        net.runFor(100 * MS);

        assertEquals(438, second.lastCode(), "another address cannot use it");
        first.send(first.request(RendezvousProtocol.METHOD_LIST_PEERS, w -> { }, nonce, null, true));
        net.runFor(100 * MS);
        assertEquals(0, first.lastCode(), "its own address can");
    }

    @Test
    void bindingRequestsFollowTheBindingResponderBoundOfThreeTimesTheRequest() {
        net.startServer();
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw"));

        for (boolean fingerprint : new boolean[] {false, true}) {
            raw.received.clear();
            int requestBytes = raw.send(raw.request(StunMessageType.METHOD_BINDING, w -> { }, null, null, fingerprint));
            net.runFor(100 * MS);
            assertEquals(1, raw.received.size(), "a Binding request is answered");
            int responseBytes = raw.received.get(0).length;
            assertTrue(responseBytes <= 3 * requestBytes, responseBytes + " bytes for a " + requestBytes + "-byte request");
            StunReader reader = new StunReader();
            reader.wrap(Unpooled.wrappedBuffer(raw.received.get(0)));
            assertEquals(raw.endpoint.localAddress(), reader.xorMappedAddress(), "XOR-MAPPED-ADDRESS is the source");
        }
        assertEquals(2, net.server.stats().bindingResponses(), "counted by the Binding responder");
    }

    @Test
    void connectFromAnAddressWithoutRegistrationIsRefusedWith403() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw"));
        Consumer<StunWriter> connect = w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob");
        raw.send(raw.request(RendezvousProtocol.METHOD_CONNECT,
            connect.andThen(w -> w.addBytes(StunAttributeType.PADDING, new byte[128])), null, null, true));
        net.runFor(100 * MS);

        raw.send(raw.request(RendezvousProtocol.METHOD_CONNECT, connect, raw.lastNonce(), null, true));
        net.runFor(1 * SECOND);

        assertEquals(403, raw.lastCode(), "register first");
        assertEquals(0, net.server.stats().introductionsSent(), "no introduction went anywhere");
        assertTrue(bob.listener().introductions.isEmpty(), "bob heard nothing");
    }

    // ---- rate limiting and bounded tables ---------------------------------------------------------

    @Test
    void aFloodingSourceIsRateLimitedWhileOtherPeersAreServed() {
        net.startServer(b -> b.rateLimit(20, 40));
        RawPeer flooder = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("flooder"));
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        byte[] request = flooder.request(RendezvousProtocol.METHOD_LIST_PEERS,
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128]), null, null, true);
        for (int i = 0; i < 1000; i++) {
            net.sim.schedule(i * MS, () -> flooder.send(request));
        }

        net.register(alice);
        net.register(bob);
        Introduction introduction = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.runFor(2 * SECOND);

        assertEquals("bob", introduction.peerName(), "alice and bob were served during the flood");
        long limited = net.server.stats().rateLimited();
        // GCRA: a burst of 40, then one per 50 ms over the ~1 s flood: about 60 of 1000 pass.
        assertTrue(limited >= 930 && limited <= 945, "flooder limited " + limited + " times");
        assertEquals(1000 - limited, flooder.received.size(), "every request that passed was answered, no more");
        assertEquals(0, alice.client().stats().staleNonceRetries() - 1, "alice's only retry is her first nonce");
    }

    @Test
    void theRateLimiterForgetsTheLeastRecentlySeenSourceWhenItsTableIsFull() {
        net.startServer(b -> b.maxTrackedSources(4));
        for (int i = 0; i < 10; i++) {
            RawPeer source = new RawPeer(net.sim.internet().addHost("192.0.2." + (100 + i)).bind(7000), net.serverAddress,
                net.sim.random("source" + i));
            source.send(source.request(RendezvousProtocol.METHOD_LIST_PEERS, w -> { }, null, null, true));
            net.runFor(10 * MS);
        }

        assertEquals(4, net.server.stats().trackedSources(), "never more than the cap");
        assertEquals(6, net.server.stats().sourceEvictions(), "six forgotten to make room");
    }
}
