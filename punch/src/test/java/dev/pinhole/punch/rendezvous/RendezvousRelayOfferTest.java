package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PeerNotFoundException;

import dev.pinhole.protocol.rendezvous.PeerNames;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimTracer;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The rendezvous server's relay offers (RELAY-OFFER in INTRODUCTION, TURN REST credentials per
 * recipient) and trickled candidates (CANDIDATE), on the simulator.
 */
class RendezvousRelayOfferTest {
    private static final long SEED = 0xEE0EL;
    private static final byte[] REST_SECRET = "relay-rest-secret-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final InetSocketAddress RELAY = PunchSim.address(PunchSim.SERVER_IP, 3479);
    /** 2026-11-21T12:00:00Z, the wall-clock start of the virtual day. */
    private static final long WALL_START_UNIX_SECONDS = 1_795_262_400L;

    private final PunchSim net = PunchSim.withRendezvousHost(SEED);
    /** The injected wall clock, in Unix seconds; tests move it by hand. */
    private final long[] wall = {WALL_START_UNIX_SECONDS};
    /** INTRODUCTION-IDs of crafted introductions. */
    private long introductions;

    @AfterEach
    void close() {
        net.close();
    }

    // ---- relay offers ---------------------------------------------------------------------------

    @Test
    void bothPeersGetAnOfferForThemselvesWhoseCredentialsTheRelayAcceptsUntilTheLifetimeEnds() {
        net.startServer(b -> b.relay(RELAY, REST_SECRET).unixSeconds(() -> wall[0]));
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.runFor(1 * SECOND);
        Introduction forBob = bob.listener().introductions.get(0);

        long expiry = WALL_START_UNIX_SECONDS + Duration.ofMinutes(10).toSeconds();
        RelayOffer aliceOffer = forAlice.relay();
        RelayOffer bobOffer = forBob.relay();
        assertNotNull(aliceOffer, "alice's introduction carries a relay offer");
        assertNotNull(bobOffer, "bob's introduction carries a relay offer");
        assertEquals(RELAY, aliceOffer.server(), "the offered TURN server");
        assertEquals(RELAY, bobOffer.server(), "the same TURN server for bob");
        // <expiry>:<quota key>.<introduction id>.<role>: the node (its X25519 key, base64url) and the introduction,
        // coturn parsing only the expiry.
        String aliceKey = java.util.Base64.getUrlEncoder().withoutPadding()
            .encodeToString(alice.client().identity().x25519PublicKey());
        String bobKey = java.util.Base64.getUrlEncoder().withoutPadding()
            .encodeToString(bob.client().identity().x25519PublicKey());
        assertTrue(aliceOffer.username().matches(expiry + ":" + java.util.regex.Pattern.quote(aliceKey)
                + "\\.[0-9a-f]{16}\\.0"),
            "alice's own username: expiry (now + 10 min), her node key, the introduction, her role: "
                + aliceOffer.username());
        String introduction = aliceOffer.username().substring(aliceOffer.username().indexOf('.') + 1,
            aliceOffer.username().lastIndexOf('.'));
        assertEquals(expiry + ":" + bobKey + "." + introduction + ".1", bobOffer.username(),
            "bob's own username, same introduction");
        assertEquals(expiry, aliceOffer.expiresUnixSeconds(), "expiry of the default lifetime, 10 minutes");
        assertNotEquals(aliceOffer.password(), bobOffer.password(), "each peer has its own password");

        // The relay verifies with the same secret and its own wall clock.
        RestCredentials relay = new RestCredentials(REST_SECRET, () -> wall[0]);
        assertEquals(aliceOffer.password(), relay.password(aliceOffer.username()), "the relay accepts alice's");
        assertEquals(bobOffer.password(), relay.password(bobOffer.username()), "the relay accepts bob's");
        assertNotEquals(aliceOffer.password(), new RestCredentials(
            "another-secret-0123456789".getBytes(StandardCharsets.US_ASCII), () -> wall[0]).password(aliceOffer.username()),
            "a relay with another secret does not accept the password");
        wall[0] = expiry - 1;
        assertEquals(aliceOffer.password(), relay.password(aliceOffer.username()), "still valid a second before expiry");
        assertTrue(aliceOffer.isValidAt(wall[0]), "the offer says it is valid a second before expiry");
        wall[0] = expiry;
        assertNull(relay.password(aliceOffer.username()), "refused once the lifetime has passed");
        assertFalse(aliceOffer.isValidAt(wall[0]), "the offer says it has expired");
        assertEquals(2, net.server.stats().relayOffers(), "two offers issued");
    }

    @Test
    void theCredentialLifetimeIsConfigurableAndCountsFromTheIntroduction() {
        net.startServer(b -> b.relay(RELAY, REST_SECRET).relayCredentialLifetime(Duration.ofMinutes(10))
            .unixSeconds(() -> wall[0]));
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        wall[0] += 3_600;

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);

        assertEquals(WALL_START_UNIX_SECONDS + 3_600 + 600, forAlice.relay().expiresUnixSeconds(),
            "expiry = the wall clock at the introduction + 10 minutes");
    }

    @Test
    void withoutARelayIntroductionsCarryNoOffer() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.runFor(1 * SECOND);

        assertNull(forAlice.relay(), "no relay offered to alice");
        assertNull(bob.listener().introductions.get(0).relay(), "no relay offered to bob");
        assertEquals(0, net.server.stats().relayOffers(), "no offers counted");
    }

    @Test
    void theLargestIntroductionTheServerSendsWithARelayOfferFitsTheMessageLimit() {
        // Everything at its largest: secret (integrity), 64-byte names, 8 IPv6 host candidates, a 32-byte
        // NAT profile, an IPv6 relay address and a 19-digit expiry in the username.
        InetSocketAddress relay6 = PunchSim.address("2001:db8::1", 3479);
        net.startServer(b -> b.secret("s3cret").relay(relay6, REST_SECRET).unixSeconds(() -> Long.MAX_VALUE / 2));
        String aliceName = "a".repeat(PeerNames.MAX_NAME_BYTES);
        String bobName = "b".repeat(PeerNames.MAX_NAME_BYTES);
        Peer alice = net.peerBehindNat(aliceName, NatConfig.PORT_RESTRICTED_CONE,
            b -> b.secret("s3cret"));
        Peer bob = net.peerBehindNat(bobName, NatConfig.PORT_RESTRICTED_CONE,
            b -> b.secret("s3cret"));
        List<Candidate> hosts = new ArrayList<>();
        for (int i = 0; i < RendezvousProtocol.MAX_HOST_CANDIDATES; i++) {
            hosts.add(Candidate.of(CandidateType.HOST, PunchSim.address("2001:db8:ffff:ffff:ffff:ffff:ffff:" + i,
                65_000 + i)));
        }
        NatProfile nat = new NatProfile(NatProfile.Mapping.ADDRESS_AND_PORT_DEPENDENT,
            NatProfile.Filtering.ADDRESS_AND_PORT_DEPENDENT, NatProfile.PortAllocation.RANDOM, 0);
        net.await(alice.client().register(aliceName, hosts, nat), 5 * SECOND);
        net.await(bob.client().register(bobName, hosts, nat), 5 * SECOND);
        int[] largest = {0};
        net.sim.tracer(new SimTracer() {
            @Override
            public void sent(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
                if (from.equals(net.serverAddress)) {
                    largest[0] = Math.max(largest[0], datagram.readableBytes());
                }
            }
        });

        Introduction forAlice = net.await(alice.client().connect(bobName), 5 * SECOND);

        assertEquals(RendezvousProtocol.MAX_HOST_CANDIDATES + 1, forAlice.peerCandidates().size(),
            "8 host candidates and the server-reflexive one");
        assertEquals(relay6, forAlice.relay().server(), "an IPv6 relay address");
        assertTrue(forAlice.relay().username().getBytes(StandardCharsets.UTF_8).length > 80,
            "a long username: " + forAlice.relay().username());
        assertTrue(largest[0] > 600 && largest[0] <= RendezvousProtocol.MAX_MESSAGE_BYTES,
            "the largest datagram the server sent is at most 1200 bytes, was " + largest[0]);
    }

    @Test
    void anIntroductionWithAHundredByteUsernameAndEverythingElseAtItsLargestFitsAndDecodes() {
        RawPeer server = new RawPeer(net.serverHost.bind(PunchSim.SERVER_PORT), null, net.sim.random("raw"));
        Peer bob = net.publicPeer("bob", b -> b.secret("s3cret"));
        bob.client().register("bob", List.of());
        StunKey key = server.acceptRegistration(RawPeer.identity("raw server"), RendezvousProtocol.deriveKey("s3cret"),
            () -> net.runFor(100 * MS));
        RelayOffer offer = new RelayOffer(PunchSim.address("2001:db8::1", 3479),
            "1795348800:" + "u".repeat(89), "p".repeat(28), 1_795_348_800L);
        assertEquals(100, offer.username().length(), "a 100-byte username");

        byte[] introduction = introduction(RendezvousAttributes.relayOffer(offer), key);
        sendTo(server, bob, introduction);

        assertTrue(introduction.length <= RendezvousProtocol.MAX_MESSAGE_BYTES,
            "INTRODUCTION with 8 IPv6 hosts, srflx, NAT profile, 100-byte username: " + introduction.length + " bytes");
        assertEquals(1, bob.listener().introductions.size(), "bob accepted it");
        Introduction received = bob.listener().introductions.get(0);
        assertEquals(offer, received.relay(), "the offer decodes to what was encoded");
        assertEquals(RendezvousProtocol.MAX_HOST_CANDIDATES + 1, received.peerCandidates().size(), "all candidates");
        assertEquals(0, server.lastCode(), "acknowledged with a success response");
    }

    @Test
    void anIntroductionWithAMalformedRelayOfferIsRefusedAndCountedNotDelivered() {
        RawPeer server = new RawPeer(net.serverHost.bind(PunchSim.SERVER_PORT), null, net.sim.random("raw"));
        Peer bob = net.publicPeer("bob", b -> b);
        bob.client().register("bob", List.of());
        StunKey session = server.acceptRegistration(RawPeer.identity("raw server"), null, () -> net.runFor(100 * MS));
        RelayOffer offer = new RelayOffer(PunchSim.address("198.51.100.10", 3479), "1795348800:bob",
            "c2VjcmV0LXBhc3N3b3JkLTAxMjM0NTY=", 1_795_348_800L);
        byte[] good = RendezvousAttributes.relayOffer(offer);
        Map<String, byte[]> broken = new LinkedHashMap<>();
        broken.put("empty", new byte[0]);
        broken.put("truncated", Arrays.copyOf(good, good.length - 1));
        broken.put("trailing byte", Arrays.copyOf(good, good.length + 1));
        byte[] badFamily = good.clone();
        badFamily[1] = 3;
        broken.put("unknown family", badFamily);
        byte[] ipv6Family = good.clone();
        ipv6Family[1] = 2;
        broken.put("IPv6 family on an IPv4 length", ipv6Family);
        byte[] zeroPort = good.clone();
        zeroPort[2] = 0x21;
        zeroPort[3] = 0x12;
        broken.put("port 0", zeroPort);
        byte[] longUser = good.clone();
        longUser[8] = (byte) 0xFF;
        broken.put("username length past the end", longUser);
        byte[] emptyUser = good.clone();
        emptyUser[8] = 0;
        emptyUser[9] = 0;
        broken.put("empty username", emptyUser);
        byte[] badUtf8 = good.clone();
        badUtf8[10] = (byte) 0xC3;
        badUtf8[11] = 0x28;
        broken.put("username not UTF-8", badUtf8);
        byte[] negative = good.clone();
        negative[good.length - 8] = (byte) 0x80;
        broken.put("negative expiry", negative);

        int sent = 0;
        for (Map.Entry<String, byte[]> entry : broken.entrySet()) {
            sendTo(server, bob, introduction(entry.getValue(), session));
            sent++;
            assertEquals(400, server.lastCode(), entry.getKey() + ": answered 400 so the server stops retransmitting");
            assertEquals(sent, bob.client().stats().invalidIntroductions(), entry.getKey() + ": counted as invalid");
        }
        assertTrue(bob.listener().introductions.isEmpty(), "none delivered: " + bob.listener().introductions);

        sendTo(server, bob, introduction(good, session));
        assertEquals(1, bob.listener().introductions.size(), "the well-formed one is delivered");
        assertEquals(offer, bob.listener().introductions.get(0).relay(), "with its offer");
    }

    @Test
    void aRelayOfferNeverPrintsItsPasswordAndValidatesItsFields() {
        RelayOffer offer = new RelayOffer(RELAY, "1:alice", "hunter2-password", 1);
        assertFalse(offer.toString().contains("hunter2"), "password hidden: " + offer);
        assertTrue(offer.toString().contains("1:alice"), "username shown: " + offer);
        assertThrows(IllegalArgumentException.class, () -> new RelayOffer(RELAY, "", "p", 1), "empty username");
        assertThrows(IllegalArgumentException.class, () -> new RelayOffer(RELAY, "u", "x".repeat(513), 1),
            "513-byte password");
        assertThrows(IllegalArgumentException.class, () -> new RelayOffer(RELAY, "\u00e9".repeat(257), "p", 1),
            "514 bytes of UTF-8 in 257 characters");
        assertThrows(IllegalArgumentException.class,
            () -> new RelayOffer(InetSocketAddress.createUnresolved("relay.example", 3478), "u", "p", 1), "unresolved");
        assertThrows(NullPointerException.class, () -> new RelayOffer(RELAY, null, "p", 1), "null username");
        assertThrows(IllegalArgumentException.class, () -> new RelayOffer(RELAY, "u", "p", -1), "negative expiry");
        RelayOffer longest = new RelayOffer(RELAY, "u".repeat(512), "p".repeat(512), Long.MAX_VALUE);
        byte[] encoded = RendezvousAttributes.relayOffer(longest);
        assertEquals(longest, RendezvousAttributes.readRelayOffer(Unpooled.wrappedBuffer(encoded), 0, encoded.length),
            "512-byte fields round-trip");
    }

    @Test
    void theConfigRefusesAWildcardRelayAndAShortSecret() {
        assertThrows(IllegalArgumentException.class, () -> RendezvousServerConfig.builder()
            .relay(PunchSim.address("0.0.0.0", 3479), REST_SECRET), "wildcard address");
        assertThrows(IllegalArgumentException.class, () -> RendezvousServerConfig.builder()
            .relay(PunchSim.address("198.51.100.10", 0), REST_SECRET), "port 0");
        assertThrows(IllegalArgumentException.class, () -> RendezvousServerConfig.builder()
            .relay(RELAY, new byte[15]), "a 15-byte secret");
        assertThrows(IllegalArgumentException.class, () -> RendezvousServerConfig.builder()
            .relayCredentialLifetime(Duration.ofSeconds(59)), "a lifetime under a minute");
        assertEquals(Duration.ofMinutes(10), RendezvousServerConfig.DEFAULT_RELAY_CREDENTIAL_LIFETIME, "10 minutes");
    }

    // ---- trickled candidates --------------------------------------------------------------------

    @Test
    void aTrickledCandidateReachesTheNamedPeerOnceWithTheSendersName() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        Candidate relayed = new Candidate(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 49_152),
            Candidate.priority(CandidateType.RELAYED, 65_535, 1), PunchSim.address("198.51.100.10", 49_152));

        net.await(alice.client().sendCandidate("bob", relayed), 5 * SECOND);
        net.runFor(2 * SECOND);

        assertEquals(List.of("alice"), bob.listener().candidateSenders, "bob hears from alice");
        assertEquals(List.of(relayed), bob.listener().candidates, "the candidate bob gets equals what alice sent");
        assertEquals(1, net.server.stats().candidatesForwarded(), "forwarded once");
        assertEquals(1, bob.client().stats().candidatesReceived(), "delivered once");
        assertEquals(0, net.server.stats().outboundPending(), "bob acknowledged it");
        assertTrue(alice.listener().candidates.isEmpty(), "alice heard nothing back");
    }

    @Test
    void candidatesOfEveryTypeAndFamilyArriveAsSentOverLossyLinks() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        alice.nat().link(LinkConfig.builder().loss(0.3).build());
        List<Candidate> sent = List.of(
            Candidate.of(CandidateType.HOST, PunchSim.address("10.0.0.2", 4000)),
            Candidate.of(CandidateType.SERVER_REFLEXIVE, PunchSim.address("203.0.113.1", 1)),
            Candidate.of(CandidateType.PEER_REFLEXIVE, PunchSim.address("2001:db8::7", 65_535)),
            new Candidate(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 50_000), 0xFFFF_FFFFL,
                PunchSim.address("198.51.100.10", 50_000)));

        for (Candidate candidate : sent) {
            net.await(alice.client().sendCandidate("bob", candidate), 60 * SECOND);
        }
        net.runFor(20 * SECOND);

        assertEquals(sent, bob.listener().candidates, "each arrives once, as sent, in order (seed " + SEED + ")");
    }

    @Test
    void aCandidateForAnUnregisteredPeerFailsWithPeerNotFoundNamingNoOneElse() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer carol = net.peerBehindNat("carol");
        net.register(alice);
        net.register(carol);

        Throwable failure = net.awaitFailure(alice.client().sendCandidate("bob",
            Candidate.of(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 50_000))), 5 * SECOND);

        PeerNotFoundException notFound = assertInstanceOf(PeerNotFoundException.class,
            failure, "404 for an unknown target");
        assertEquals("bob", notFound.peerName(), "names the missing peer");
        assertEquals(List.of(), notFound.registeredNames(), "names no registered peer");
        assertEquals(0, net.server.stats().candidatesForwarded(), "nothing forwarded");
    }

    @Test
    void aCandidateFromAnUnregisteredAddressIsRefusedWith403() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw"));
        Consumer<StunWriter> body = candidateBody("bob");
        raw.send(raw.request(RendezvousProtocol.METHOD_CANDIDATE,
            body.andThen(w -> w.addBytes(StunAttributeType.PADDING, new byte[128])),
            null, null, true));
        net.runFor(100 * MS);

        raw.send(raw.request(RendezvousProtocol.METHOD_CANDIDATE, body, raw.lastNonce(), null, true));
        net.runFor(1 * SECOND);

        assertEquals(403, raw.lastCode(), "register first");
        assertTrue(bob.listener().candidates.isEmpty(), "bob heard nothing");
        assertEquals(0, net.server.stats().candidatesForwarded(), "nothing forwarded");
    }

    @Test
    void withASecretACandidateWithoutValidIntegrityIsRefusedWith401AndNotForwarded() {
        net.startServer(b -> b.secret("s3cret"));
        Peer alice = net.peerBehindNat("alice", NatConfig.PORT_RESTRICTED_CONE,
            b -> b.secret("s3cret"));
        Peer bob = net.peerBehindNat("bob", NatConfig.PORT_RESTRICTED_CONE,
            b -> b.secret("s3cret"));
        net.register(alice);
        net.register(bob);
        // A forger on the public internet: it cannot sit on alice's address, but even the nonce check comes
        // after integrity, so what it sends is refused first for lacking the secret.
        RawPeer forger = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("forger"));
        long before = net.server.stats().unauthenticated();

        forger.send(forger.request(RendezvousProtocol.METHOD_CANDIDATE, candidateBody("bob").andThen(
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128])), null, null, true));
        net.runFor(100 * MS);
        assertEquals(401, forger.lastCode(), "no integrity: 401");
        forger.send(forger.request(RendezvousProtocol.METHOD_CANDIDATE, candidateBody("bob").andThen(
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128])), null,
            RendezvousProtocol.deriveKey("wrong"), true));
        net.runFor(100 * MS);
        assertEquals(401, forger.lastCode(), "integrity under another secret: 401");

        assertEquals(before + 2, net.server.stats().unauthenticated(), "both counted as unauthenticated");
        assertTrue(bob.listener().candidates.isEmpty(), "bob heard nothing");

        Candidate relayed = Candidate.of(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 50_001));
        net.await(alice.client().sendCandidate("bob", relayed), 5 * SECOND);
        net.runFor(1 * SECOND);
        assertEquals(List.of(relayed), bob.listener().candidates, "the signed one from alice arrives");
    }

    @Test
    void aCandidateRequestWithoutExactlyOneWellFormedCandidateIsABadRequest() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw")).identity(RawPeer.identity("raw"));
        assertEquals(0, raw.register("raw", () -> net.runFor(100 * MS)), "registered");
        assertTrue(net.server.isRegistered("raw"), "the raw peer registered");

        Map<String, Consumer<StunWriter>> bodies = new LinkedHashMap<>();
        bodies.put("no candidate", w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob"));
        bodies.put("two candidates", candidateBody("bob").andThen(w -> w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE,
            RendezvousAttributes.peerCandidate(Candidate.of(CandidateType.HOST, PunchSim.address("10.0.0.9", 9))))));
        bodies.put("malformed candidate", w -> {
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "bob");
            w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE, new byte[16]);
        });
        bodies.put("no name", w -> w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE,
            RendezvousAttributes.peerCandidate(Candidate.of(CandidateType.HOST, PunchSim.address("10.0.0.9", 9)))));
        bodies.put("to itself", candidateBody("raw"));
        for (Map.Entry<String, Consumer<StunWriter>> body : bodies.entrySet()) {
            raw.send(raw.signed(RendezvousProtocol.METHOD_CANDIDATE, body.getValue()));
            net.runFor(100 * MS);
            assertEquals(400, raw.lastCode(), body.getKey() + ": 400");
        }
        assertTrue(bob.listener().candidates.isEmpty(), "bob heard nothing");
        assertEquals(0, net.server.stats().candidatesForwarded(), "nothing forwarded");
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static Consumer<StunWriter> candidateBody(String target) {
        return w -> {
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, target);
            w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE, RendezvousAttributes.peerCandidate(
                Candidate.of(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 50_000))));
        };
    }

    /** Sends {@code bytes} from the raw "server" to {@code peer} and lets the peer answer. */
    private void sendTo(RawPeer server, Peer peer, byte[] bytes) {
        server.endpoint.send(Unpooled.wrappedBuffer(bytes), peer.endpoint().localAddress());
        net.runFor(200 * MS);
    }

    /**
     * An INTRODUCTION (role controlled) about peer "alice" with 8 IPv6 host candidates, a server-reflexive
     * one, a 32-byte NAT profile and {@code offerValue} as RELAY-OFFER.
     */
    private byte[] introduction(byte[] offerValue, StunKey key) {
        long introductionId = ++introductions;
        Consumer<StunWriter> body = w -> {
            byte[] id = new byte[RendezvousProtocol.ID_BYTES];
            RendezvousAttributes.writeLong(id, 0, introductionId);
            w.addBytes(RendezvousProtocol.ATTR_INTRODUCTION_ID, id);
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "a".repeat(PeerNames.MAX_NAME_BYTES));
            w.addBytes(RendezvousProtocol.ATTR_PEER_KEY, RawPeer.identity("alice").x25519PublicKey());
            for (int i = 0; i < RendezvousProtocol.MAX_HOST_CANDIDATES; i++) {
                w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE, RendezvousAttributes.peerCandidate(Candidate.of(
                    CandidateType.HOST, PunchSim.address("2001:db8:ffff:ffff:ffff:ffff:ffff:" + i, 65_000 + i))));
            }
            w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE, RendezvousAttributes.peerCandidate(Candidate.of(
                CandidateType.SERVER_REFLEXIVE, PunchSim.address("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65_535))));
            w.addString(RendezvousProtocol.ATTR_LOCAL_CREDENTIALS, "abcdefgh:" + "x".repeat(24));
            w.addString(RendezvousProtocol.ATTR_REMOTE_CREDENTIALS, "ijklmnop:" + "y".repeat(24));
            w.addUInt32(RendezvousProtocol.ATTR_ROLE, RendezvousProtocol.ROLE_CONTROLLED);
            w.addBytes(RendezvousProtocol.ATTR_NAT_PROFILE, new byte[RendezvousProtocol.MAX_NAT_PROFILE_BYTES]);
            w.addBytes(RendezvousProtocol.ATTR_RELAY_OFFER, offerValue);
        };
        return RawPeer.message(StunMessageType.of(RendezvousProtocol.METHOD_INTRODUCTION, StunClass.REQUEST),
            new TransactionId(introductionId, (int) introductionId), body, null, key, true);
    }
}
