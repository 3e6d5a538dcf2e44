package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.NameTakenException;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.punch.RendezvousException;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.reliability.Identity;
import dev.pinhole.server.RendezvousServerStats;
import dev.pinhole.sim.NatConfig;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Names bound to keys, on the simulator: a name belongs to the X25519 key that registered it, proven by
 * the session key's MESSAGE-INTEGRITY-SHA256; nobody else can take, move or end it, replays do not help,
 * the owner's refreshes survive a spoofed flood from its own address, introductions and messages carry the
 * peer's key, and the server gives nothing away (no LIST without allow-list, no names in a 404, nothing
 * for unregistered or unauthenticated senders).
 */
class RendezvousKeysTest {
    private static final long SEED = 0x4E7L;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    // ---- ownership --------------------------------------------------------------------------------

    @Test
    void anotherKeyCannotTakeARegisteredNameAndTheRefusalRevealsNoAddress() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer impostor = net.peerBehindNat("impostor");
        net.register(alice);

        Throwable failure = net.awaitFailure(impostor.client().register("alice", List.of()), 5 * SECOND);

        NameTakenException taken = assertInstanceOf(NameTakenException.class, failure);
        assertEquals(409, taken.errorCode());
        String address = alice.mappedTowards(net.serverAddress).getAddress().getHostAddress();
        assertFalse(taken.getMessage().contains(address), "the holder's address is not revealed: " + taken.getMessage());
        assertEquals(alice.mappedTowards(net.serverAddress), net.server.registeredAddress("alice"), "alice keeps it");
        assertArrayEquals(alice.client().identity().x25519PublicKey(), net.server.registeredKey("alice"),
            "held by alice's key");
    }

    @Test
    void theOwnersKeyReRegistersAtOnceFromANewAddressAfterARestart() {
        net.startServer();
        Identity identity = RawPeer.identity("alice");
        Peer alice = net.peerBehindNat("alice", NatConfig.PORT_RESTRICTED_CONE, b -> b.identity(identity));
        net.register(alice);
        // The process dies without a word, and starts again on another network with the same identity file.
        alice.crash();
        Peer restarted = net.peerBehindNat("alice", NatConfig.FULL_CONE, b -> b.identity(identity));

        long start = net.sim.nowNs();
        Registration again = net.register(restarted);

        assertTrue(net.sim.nowNs() - start < 1 * SECOND, "at once, not after the old one expired");
        assertEquals(restarted.mappedTowards(net.serverAddress), again.observedAddress(), "at the new address");
        assertEquals(restarted.mappedTowards(net.serverAddress), net.server.registeredAddress("alice"), "moved");
        assertEquals(1, net.server.stats().movesChallenged(), "one round trip with a move nonce");
        assertEquals(1, net.server.registrationCount(), "replaced, not added");
        net.runFor(60 * SECOND);
        assertTrue(net.server.isRegistered("alice"), "and refreshed from there");
        assertEquals(0, restarted.client().stats().refreshFailures(), "without a failure");
    }

    @Test
    void aSniffedRegisterReplayedFromAnotherAddressDoesNotMoveTheName() {
        net.startServer();
        RawPeer alice = raw("192.0.2.66", "alice");
        assertEquals(0, alice.register("alice", this::settle));
        byte[] sniffed = alice.signed(RendezvousProtocol.METHOD_REGISTER, name("alice"));
        alice.send(sniffed);
        settle();
        assertEquals(0, alice.lastCode(), "the sniffed request is a valid refresh");

        RawPeer attacker = raw("198.51.100.99", "mallory");
        attacker.send(sniffed);
        settle();

        assertEquals(RendezvousProtocol.ERROR_STALE_NONCE, attacker.lastCode(), "its nonce is for alice's address");
        assertEquals(alice.endpoint.localAddress(), net.server.registeredAddress("alice"), "the name did not move");
    }

    @Test
    void aRecordedRegisterReplayedFromTheOwnersOldAddressDoesNotMoveTheNameBack() {
        net.startServer();
        Identity identity = RawPeer.identity("alice");
        RawPeer old = raw("192.0.2.66", "alice");
        assertEquals(0, old.register("alice", this::settle));
        byte[] recorded = old.signed(RendezvousProtocol.METHOD_REGISTER, name("alice"));

        RawPeer moved = raw("192.0.2.77", "alice").identity(identity);
        assertEquals(0, moved.register("alice", this::settle), "the owner moved");
        assertEquals(moved.endpoint.localAddress(), net.server.registeredAddress("alice"));
        // An attacker that recorded the old REGISTER sends it again from (a spoof of) the old address.
        old.send(recorded);
        settle();

        assertEquals(RendezvousProtocol.ERROR_STALE_NONCE, old.lastCode(), "a move needs a nonce for this move");
        assertEquals(moved.endpoint.localAddress(), net.server.registeredAddress("alice"), "the name stays");
    }

    @Test
    void aForgedRegisterWithTheOwnersKeyButNoValidIntegrityIsRefused() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        byte[] aliceKey = alice.client().identity().x25519PublicKey();
        RawPeer mallory = raw("192.0.2.66", "mallory");
        assertEquals(0, mallory.register("mallory", this::settle), "mallory holds a session of her own");

        // Alice's key, with mallory's session key, with no integrity at all, and with a flipped MAC.
        Consumer<StunWriter> claim = name("alice").andThen(w -> w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, aliceKey));
        mallory.send(mallory.request(RendezvousProtocol.METHOD_REGISTER, claim, mallory.nonce, mallory.sessionKey(), true));
        settle();
        assertEquals(RendezvousProtocol.ERROR_UNAUTHENTICATED, mallory.lastCode(), "another key's MAC: 401");
        mallory.send(mallory.request(RendezvousProtocol.METHOD_REGISTER, claim, mallory.nonce, null, true));
        settle();
        assertEquals(RendezvousProtocol.ERROR_UNAUTHENTICATED, mallory.lastCode(), "no MAC: 401");

        assertEquals(alice.mappedTowards(net.serverAddress), net.server.registeredAddress("alice"), "alice keeps it");
        assertTrue(net.server.stats().unauthenticated() >= 2, "counted");
    }

    // ---- keys delivered ---------------------------------------------------------------------------

    @Test
    void introductionsMessagesAndCandidatesCarryThePeersKey() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        byte[] aliceKey = alice.client().identity().x25519PublicKey();
        byte[] bobKey = bob.client().identity().x25519PublicKey();

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.await(alice.client().sendMessage("bob", "hello"), 5 * SECOND);
        net.await(alice.client().sendCandidate("bob",
            Candidate.of(CandidateType.RELAYED, PunchSim.address("198.51.100.10", 50_000))), 5 * SECOND);
        net.runFor(1 * SECOND);

        assertArrayEquals(bobKey, forAlice.peerKey(), "alice's introduction carries bob's key");
        assertEquals(1, bob.listener().introductions.size());
        assertArrayEquals(aliceKey, bob.listener().introductions.get(0).peerKey(), "bob's carries alice's");
        assertEquals(List.of("alice: hello"), bob.listener().messages);
        assertArrayEquals(aliceKey, bob.listener().messageKeys.get(0), "the message names its sender's key");
        assertArrayEquals(aliceKey, bob.listener().candidateKeys.get(0), "so does the candidate");
        byte[] copy = forAlice.peerKey();
        copy[0] ^= 1;
        assertArrayEquals(bobKey, forAlice.peerKey(), "Introduction hands out copies");
    }

    @Test
    void anIntroductionNotSignedWithTheSessionKeyIsDropped() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        Consumer<StunWriter> body = w -> {
            w.addUInt64(RendezvousProtocol.ATTR_INTRODUCTION_ID, 77);
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "mallory");
            w.addBytes(RendezvousProtocol.ATTR_PEER_KEY, RawPeer.identity("mallory").x25519PublicKey());
            w.addString(RendezvousProtocol.ATTR_LOCAL_CREDENTIALS, "abcd:0123456789abcdefghijkl");
            w.addString(RendezvousProtocol.ATTR_REMOTE_CREDENTIALS, "efgh:0123456789abcdefghijkl");
            w.addUInt32(RendezvousProtocol.ATTR_ROLE, RendezvousProtocol.ROLE_CONTROLLED);
        };
        for (var key : new dev.pinhole.protocol.stun.StunKey[] {null, RendezvousProtocol.deriveKey("guess")}) {
            byte[] forged = RawPeer.message(StunMessageType.of(RendezvousProtocol.METHOD_INTRODUCTION, StunClass.REQUEST),
                new TransactionId(1, 2), body, null, key, true);
            ByteBuf buf = Unpooled.wrappedBuffer(forged);
            // As if it came from the server's address (an off-path attacker spoofing it).
            assertTrue(bob.client().handle(buf, net.serverAddress), "consumed");
        }

        assertTrue(bob.listener().introductions.isEmpty(), "no forged introduction delivered");
        assertEquals(2, bob.client().stats().unauthenticatedRequests(), "both counted");
    }

    @Test
    void aConnectReusingAMessagesTransactionIdIsAnsweredWithoutFailing() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        RawPeer raw = raw("192.0.2.66", "raw");
        assertEquals(0, raw.register("raw", this::settle));
        TransactionId id = new TransactionId(0x1234_5678_9ABC_DEF0L, 42);
        Consumer<StunWriter> keyed = w -> w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, raw.identity.x25519PublicKey());
        raw.send(RawPeer.message(StunMessageType.of(RendezvousProtocol.METHOD_MESSAGE, StunClass.REQUEST), id,
            name("bob").andThen(w -> w.addString(RendezvousProtocol.ATTR_MESSAGE_TEXT, "hi")).andThen(keyed),
            raw.nonce, raw.sessionKey(), true));
        settle();
        raw.send(RawPeer.message(StunMessageType.of(RendezvousProtocol.METHOD_CONNECT, StunClass.REQUEST), id,
            name("bob").andThen(keyed), raw.nonce, raw.sessionKey(), true));
        settle();

        assertEquals(0, raw.lastCode(), "answered as the repeat it claims to be");
        assertEquals(1, net.server.stats().messagesForwarded(), "the message went once");
        assertEquals(0, net.server.stats().connects(), "no introduction");
    }

    // ---- giving nothing away ----------------------------------------------------------------------

    @Test
    void listIsRefusedWithoutAllowList() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);

        Throwable failure = net.awaitFailure(alice.client().listPeers(), 5 * SECOND);

        RendezvousException refused = assertInstanceOf(RendezvousException.class, failure);
        assertEquals(403, refused.errorCode());
        assertTrue(refused.getMessage().contains("listing is disabled on this server"), refused.getMessage());
        assertEquals(1, net.server.stats().listsRefused(), "counted");
    }

    @Test
    void listWorksWithAllowList() {
        net.startServer(b -> b.allowList(true));
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        PeerList list = net.await(alice.client().listPeers(), 5 * SECOND);

        assertEquals(List.of("alice", "bob"), list.names());
    }

    @Test
    void aNotFoundAnswerCarriesNoNameAndNoCount() {
        net.startServer();
        Peer carol = net.peerBehindNat("carol");
        net.register(carol);
        RawPeer raw = raw("192.0.2.66", "raw");
        assertEquals(0, raw.register("raw", this::settle));

        raw.call(RendezvousProtocol.METHOD_CONNECT, name("nobody"), this::settle);

        assertEquals(404, raw.lastCode());
        StunReader reader = new StunReader();
        assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(raw.received.get(raw.received.size() - 1))));
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            int type = reader.attributeType(at);
            assertTrue(type != RendezvousProtocol.ATTR_PEER_NAME && type != RendezvousProtocol.ATTR_PEER_COUNT,
                "no PEER-NAME or PEER-COUNT in a 404: " + reader);
        }
        assertFalse(reader.errorReason().contains("carol"), reader.errorReason());
    }

    @Test
    void connectMessageAndCandidateFromAnUnregisteredOrUnauthenticatedSenderAreRefused() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        Map<String, Consumer<StunWriter>> requests = Map.of(
            "CONNECT", name("bob"),
            "MESSAGE", name("bob").andThen(w -> w.addString(RendezvousProtocol.ATTR_MESSAGE_TEXT, "hi")),
            "CANDIDATE", name("bob").andThen(w -> w.addBytes(RendezvousProtocol.ATTR_PEER_CANDIDATE,
                RendezvousAttributes.peerCandidate(Candidate.of(CandidateType.RELAYED,
                    PunchSim.address("198.51.100.10", 50_000))))));
        Map<String, Integer> methods = Map.of("CONNECT", RendezvousProtocol.METHOD_CONNECT,
            "MESSAGE", RendezvousProtocol.METHOD_MESSAGE, "CANDIDATE", RendezvousProtocol.METHOD_CANDIDATE);
        // Authenticated by its key, but not registered.
        RawPeer stranger = raw("192.0.2.66", "stranger");
        stranger.call(RendezvousProtocol.METHOD_REGISTER, w -> w.addBytes(StunAttributeType.PADDING, new byte[4]),
            this::settle);
        assertNotNull(stranger.nonce, "it holds a nonce and the server's key");
        // Registered, but the request carries no key (so no proof of it).
        RawPeer unsigned = raw("192.0.2.67", "unsigned");
        assertEquals(0, unsigned.register("unsigned", this::settle));
        for (Map.Entry<String, Consumer<StunWriter>> request : requests.entrySet()) {
            int method = methods.get(request.getKey());
            stranger.call(method, request.getValue(), this::settle);
            assertEquals(403, stranger.lastCode(), request.getKey() + " from an unregistered key");
            unsigned.send(unsigned.request(method, request.getValue(), unsigned.nonce, null, true));
            settle();
            assertEquals(403, unsigned.lastCode(), request.getKey() + " without a key");
        }

        net.runFor(1 * SECOND);
        RendezvousServerStats stats = net.server.stats();
        assertEquals(6, stats.notRegisteredSenders(), "all six counted");
        assertEquals(0, stats.introductionsSent() + stats.messagesForwarded() + stats.candidatesForwarded(),
            "nothing went anywhere");
        assertTrue(bob.listener().introductions.isEmpty() && bob.listener().messages.isEmpty()
            && bob.listener().candidates.isEmpty(), "bob heard nothing");
    }

    // ---- the rate limiter and the owner -----------------------------------------------------------

    @Test
    void aSpoofedFloodFromTheOwnersAddressDoesNotMakeItsRefreshesFail() {
        net.startServer(b -> b.rateLimit(20, 40));
        Peer victim = net.publicPeer("victim", b -> b);
        net.register(victim);
        // Another socket of the victim's IP address stands for datagrams spoofed with that source.
        RawPeer flooder = new RawPeer(victim.endpoint().host().bind(7777), net.serverAddress, net.sim.random("flood"));
        byte[] junk = flooder.request(RendezvousProtocol.METHOD_LIST_PEERS,
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128]), null, null, true);
        long floodNs = 100 * SECOND;
        for (long t = 0; t < floodNs; t += MS) {
            net.sim.schedule(net.sim.nowNs() + t, () -> flooder.send(junk));
        }

        net.runFor(floodNs);

        RendezvousServerStats stats = net.server.stats();
        assertTrue(stats.rateLimited() > 90_000, "the flood was limited: " + stats.rateLimited());
        assertTrue(net.server.isRegistered("victim"), "the registration never expired");
        assertEquals(0, victim.client().stats().refreshFailures(), "no refresh failed");
        assertTrue(victim.listener().lost.isEmpty(), "never lost");
        assertTrue(stats.ownerOverLimit() >= 5, "the owner's refreshes passed the limiter: " + stats.ownerOverLimit());
    }

    private RawPeer raw(String ip, String owner) {
        return new RawPeer(net.sim.internet().addHost(ip).bind(7000), net.serverAddress, net.sim.random("raw-" + ip))
            .identity(RawPeer.identity(owner));
    }

    private static Consumer<StunWriter> name(String name) {
        return w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, name);
    }

    private void settle() {
        net.runFor(100 * MS);
    }
}
