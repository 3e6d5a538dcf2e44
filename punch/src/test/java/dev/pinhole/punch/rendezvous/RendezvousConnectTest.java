package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PeerNotFoundException;
import dev.pinhole.punch.RendezvousException;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.server.RendezvousServerStats;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.RecordingEndpoint;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimTracer;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.punch.traversal.IceRole;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** LIST_PEERS, CONNECT and its two INTRODUCTIONs, and MESSAGE, on the simulator. */
class RendezvousConnectTest {
    private static final long SEED = 0xEE02L;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    @Test
    void connectIntroducesBothPeersAtTheSameMomentWithEachOthersCandidatesAndMatchingCredentials() {
        net.serverHost.link(LinkConfig.builder().delay(10 * MS).build());
        net.startServer();
        NatProfile aliceNat = new NatProfile(NatProfile.Mapping.ENDPOINT_INDEPENDENT,
            NatProfile.Filtering.ADDRESS_AND_PORT_DEPENDENT, NatProfile.PortAllocation.PRESERVING, 0);
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        alice.nat().link(LinkConfig.builder().delay(20 * MS).build());
        bob.nat().link(LinkConfig.builder().delay(35 * MS).build());
        net.await(alice.client().register("alice", PunchSim.hostCandidates(alice), aliceNat), 5 * SECOND);
        net.register(bob);
        InetSocketAddress aliceReflexive = alice.mappedTowards(net.serverAddress);
        InetSocketAddress bobReflexive = bob.mappedTowards(net.serverAddress);

        long[] aliceAtNs = {-1};
        CompletableFuture<Introduction> connecting = alice.client().connect("bob");
        connecting.thenRun(() -> aliceAtNs[0] = net.sim.nowNs());
        Introduction forAlice = net.await(connecting, 5 * SECOND);
        net.runFor(1 * SECOND);

        assertEquals(1, bob.listener().introductions.size(), "bob was introduced once");
        Introduction forBob = bob.listener().introductions.get(0);
        long bobAtNs = bob.listener().introductionTimesNs.get(0);
        // Both INTRODUCTIONs leave the server in one turn: they arrive 10 + 20 ms and 10 + 35 ms after it.
        assertEquals(35 * MS - 20 * MS, bobAtNs - aliceAtNs[0],
            "bob's introduction arrives later by exactly the difference of the access-link delays");

        assertEquals("bob", forAlice.peerName(), "alice is told about bob");
        assertEquals("alice", forBob.peerName(), "bob is told about alice");
        assertEquals(IceRole.CONTROLLING, forAlice.role(), "the requester controls");
        assertEquals(IceRole.CONTROLLED, forBob.role(), "the other is controlled");
        assertEquals(forAlice.local(), forBob.remote(), "alice's local credentials are bob's remote ones");
        assertEquals(forAlice.remote(), forBob.local(), "and the other way round");
        assertTrue(!forAlice.local().equals(forAlice.remote()), "each side has its own credentials");

        assertEquals(List.of(Candidate.of(CandidateType.HOST, bob.endpoint().localAddress()).address(), bobReflexive),
            addresses(forAlice.peerCandidates()), "bob's host candidate, then his server-reflexive one");
        assertEquals(List.of(CandidateType.HOST, CandidateType.SERVER_REFLEXIVE), types(forAlice.peerCandidates()),
            "candidate types");
        assertEquals(List.of(alice.endpoint().localAddress(), aliceReflexive), addresses(forBob.peerCandidates()),
            "alice's candidates for bob");
        assertEquals(Candidate.of(CandidateType.HOST, alice.endpoint().localAddress()).priority(),
            forBob.peerCandidates().get(0).priority(), "the priority alice reported is passed on");

        assertEquals(aliceNat, forBob.peerNat(), "alice's NAT profile reaches bob");
        assertEquals(aliceNat, forAlice.localNat(), "alice's introduction carries her own profile as local");
        assertEquals(NatProfile.UNKNOWN, forAlice.peerNat(), "bob reported none");

        RendezvousServerStats stats = net.server.stats();
        assertEquals(2, stats.introductionsSent(), "two INTRODUCTIONs");
        assertEquals(2, stats.introductionsAcked(), "both acknowledged");
        assertEquals(0, stats.outboundPending(), "nothing left to retransmit");
    }

    @Test
    void aPeerWithAPublicAddressGetsNoRedundantReflexiveCandidate() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer open = net.publicPeer("open", b -> b);
        net.register(alice);
        net.register(open);

        Introduction introduction = net.await(alice.client().connect("open"), 5 * SECOND);

        assertEquals(List.of(open.endpoint().localAddress()), addresses(introduction.peerCandidates()),
            "host candidate only: the observed address is the same (RFC 8445 §5.1.3)");
    }

    @Test
    void connectToAnUnregisteredNameFailsWithPeerNotFoundNamingNoOneElse() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer carol = net.peerBehindNat("carol");
        net.register(alice);
        net.register(carol);

        Throwable failure = net.awaitFailure(alice.client().connect("bob"), 5 * SECOND);

        PeerNotFoundException notFound = assertInstanceOf(PeerNotFoundException.class, failure);
        assertEquals("bob", notFound.peerName(), "the name asked for");
        assertTrue(notFound.registeredNames().isEmpty(), "the 404 names no registered peer: " + notFound.registeredNames());
        assertFalse(notFound.getMessage().contains("carol"), "nor does the message: " + notFound.getMessage());
        assertEquals(404, notFound.errorCode(), "404");
        assertTrue(notFound.getMessage().startsWith("peer 'bob' is not registered"), notFound.getMessage());
        assertEquals(1, net.server.stats().peerNotFound(), "counted");
    }

    @Test
    void connectToAnExpiredPeerFailsWithPeerNotFound() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        bob.crash();
        net.runFor(46 * SECOND);

        Throwable failure = net.awaitFailure(alice.client().connect("bob"), 5 * SECOND);

        PeerNotFoundException notFound = assertInstanceOf(PeerNotFoundException.class, failure);
        assertEquals("bob", notFound.peerName(), "bob expired");
    }

    @Test
    void connectBeforeRegisteringFailsWithoutAskingTheServer() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");

        Throwable failure = net.awaitFailure(alice.client().connect("bob"), 1 * SECOND);

        assertTrue(failure.getMessage().contains("register() first"), failure.getMessage());
        assertEquals(0, net.server.stats().responsesSent(), "nothing was sent");
    }

    @Test
    void aSecondConnectToTheSamePeerWhilePendingSharesTheFuture() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        CompletableFuture<Introduction> first = alice.client().connect("bob");
        CompletableFuture<Introduction> second = alice.client().connect("bob");

        assertSame(first, second, "one introduction at a time per peer");
        net.await(first, 5 * SECOND);
        assertEquals(1, net.server.stats().connects(), "one CONNECT");
    }

    @Test
    void connectSucceedsOverLossyLinksWithOneIntroductionPerPeer() {
        for (long seed = 1; seed <= 20; seed++) {
            try (PunchSim lossy = PunchSim.withRendezvousHost(seed)) {
                lossy.startServer();
                Peer alice = lossy.peerBehindNat("alice");
                Peer bob = lossy.peerBehindNat("bob");
                LinkConfig bad = LinkConfig.builder().delay(15 * MS).loss(0.2).duplication(0.1).build();
                alice.nat().link(bad);
                bob.nat().link(bad);
                lossy.await(alice.client().register("alice", PunchSim.hostCandidates(alice)), 60 * SECOND);
                lossy.await(bob.client().register("bob", PunchSim.hostCandidates(bob)), 60 * SECOND);

                Introduction forAlice = lossy.await(alice.client().connect("bob"), 60 * SECOND);
                lossy.runFor(20 * SECOND);

                assertEquals("bob", forAlice.peerName(), "seed " + seed);
                assertEquals(1, bob.listener().introductions.size(), "bob delivered once despite retransmissions, seed " + seed);
                assertEquals(forAlice.local(), bob.listener().introductions.get(0).remote(), "credentials match, seed " + seed);
                assertEquals(1, lossy.server.stats().connects(),
                    "a retransmitted CONNECT does not start a second introduction, seed " + seed);
            }
        }
    }

    @Test
    void aLateDuplicateOfAConnectDoesNotIntroduceAgain() {
        // The network duplicates alice's CONNECT and delivers the copy 2 s late, long after both
        // INTRODUCTIONs were acknowledged: the server must recognise the transaction, not introduce twice.
        int connectRequest = StunMessageType.of(RendezvousProtocol.METHOD_CONNECT, StunClass.REQUEST);
        net.startServer();
        SimEndpoint[] aliceSocket = new SimEndpoint[1];
        Peer alice = net.peerBehindNat("alice", NatConfig.PORT_RESTRICTED_CONE, b -> b, endpoint ->
            new RecordingEndpoint(endpoint, (bytes, to) -> {
                if (((bytes[0] & 0xFF) << 8 | (bytes[1] & 0xFF)) == connectRequest) {
                    net.sim.scheduleAfter(2 * SECOND, () -> aliceSocket[0].send(Unpooled.wrappedBuffer(bytes), to));
                }
                return false;
            }));
        aliceSocket[0] = alice.endpoint();
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.runFor(10 * SECOND);

        assertEquals("bob", forAlice.peerName(), "alice was introduced");
        assertEquals(1, bob.listener().introductions.size(), "bob was introduced once, not twice");
        assertEquals(1, net.server.stats().connects(), "one introduction");
        assertEquals(0, alice.client().stats().unexpectedIntroductions(), "no second introduction reached alice");
    }

    @Test
    void anAcceptedConnectWhoseIntroductionNeverArrivesFailsAfterTheIntroductionTimeout() {
        int introduction = StunMessageType.of(RendezvousProtocol.METHOD_INTRODUCTION, StunClass.REQUEST);
        Peer[] alice = new Peer[1];
        net.serverEndpoint = net.serverHost.bind(PunchSim.SERVER_PORT);
        RecordingEndpoint lossy = new RecordingEndpoint(net.tracked(net.serverEndpoint),
            (bytes, to) -> ((bytes[0] & 0xFF) << 8 | (bytes[1] & 0xFF)) == introduction
                && to.equals(alice[0].mappedTowards(net.serverAddress)));
        net.server = RendezvousServer.listen(lossy, RendezvousServerConfig.builder().random(net.sim.random("s")).build());
        alice[0] = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice[0]);
        net.register(bob);

        long startNs = net.sim.nowNs();
        Throwable failure = net.awaitFailure(alice[0].client().connect("bob"), 30 * SECOND);

        assertInstanceOf(RendezvousException.class, failure);
        assertTrue(failure.getMessage().contains("INTRODUCTION did not arrive within 10000 ms"), failure.getMessage());
        assertEquals(10 * SECOND, net.sim.nowNs() - startNs, "10 s after the CONNECT was accepted (no delay here)");
        assertEquals(5, lossy.dropped(), "the server tried 5 times (RTO 500 ms, Rc 5)");
    }

    @Test
    void theServerGivesUpOnAPeerThatNeverAcknowledgesButStillIntroducesTheRequester() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);
        // Bob's machine drops off the network; his registration lives on for up to 45 s.
        bob.nat().link(LinkConfig.BLACKHOLE);

        Introduction forAlice = net.await(alice.client().connect("bob"), 5 * SECOND);
        net.runFor(15 * SECOND);

        assertEquals("bob", forAlice.peerName(), "alice still gets hers");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(1, stats.introductionsAcked(), "alice acknowledged");
        assertEquals(1, stats.introductionsUnacked(), "bob's given up");
        assertEquals(4, net.server.outboundClient().retransmissionCount(), "5 sends to bob: 4 retransmissions");
        assertEquals(0, stats.outboundPending(), "nothing left pending");
    }

    @Test
    void listPeersReturnsTheSortedNamesAndPagesThroughManyPeers() {
        net.startServer(b -> b.maxNamesPerPage(3).allowList(true));
        List<Peer> peers = new ArrayList<>();
        for (String name : List.of("erin", "bob", "dave", "alice", "carol", "frank", "grace")) {
            Peer peer = net.peerBehindNat(name);
            net.register(peer);
            peers.add(peer);
        }
        RendezvousClient client = peers.get(0).client();

        List<String> all = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        PeerList page = net.await(client.listPeers(), 5 * SECOND);
        while (true) {
            assertEquals(7, page.registeredCount(), "total on every page");
            all.addAll(page.names());
            pageSizes.add(page.names().size());
            if (!page.hasMore()) {
                break;
            }
            page = net.await(client.listPeers(page.nextAfter()), 5 * SECOND);
        }

        assertEquals(List.of("alice", "bob", "carol", "dave", "erin", "frank", "grace"), all, "every name once, sorted");
        assertEquals(List.of(3, 3, 1), pageSizes, "pages of at most 3");
        assertEquals(3, net.server.stats().lists(), "three pages");
    }

    @Test
    void aListPageNeverExceedsTheMessageSizeLimit() {
        net.startServer(b -> b.maxNamesPerPage(1000).allowList(true));
        Peer first = null;
        for (int i = 0; i < 40; i++) {
            // 64-byte names: 68 bytes per attribute, so at most 16 fit in 1200 bytes.
            Peer peer = net.publicPeer(String.format("%02d", i) + "x".repeat(62), b -> b);
            net.register(peer);
            first = first == null ? peer : first;
        }
        int[] largest = {0};
        net.sim.tracer(new SimTracer() {
            @Override
            public void sent(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
                if (from.equals(net.serverAddress)) {
                    largest[0] = Math.max(largest[0], datagram.readableBytes());
                }
            }
        });

        PeerList page = net.await(first.client().listPeers(), 5 * SECOND);

        assertTrue(page.hasMore(), "40 long names need more than one page");
        assertTrue(page.names().size() >= 10 && page.names().size() <= 16, "page holds " + page.names().size());
        assertTrue(largest[0] <= RendezvousProtocol.MAX_MESSAGE_BYTES, "largest datagram " + largest[0] + " bytes");
    }

    @Test
    void messagesAreRelayedToTheNamedPeerOnce() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        bob.nat().link(LinkConfig.builder().duplication(0.5).build());
        net.register(alice);
        net.register(bob);

        net.await(alice.client().sendMessage("bob", "hello bob"), 5 * SECOND);
        net.await(alice.client().sendMessage("bob", "second"), 5 * SECOND);
        net.runFor(2 * SECOND);

        assertEquals(List.of("alice: hello bob", "alice: second"), bob.listener().messages, "in order, each once");
        assertEquals(2, net.server.stats().messagesForwarded(), "two forwarded");
        Throwable failure = net.awaitFailure(alice.client().sendMessage("nobody", "hi"), 5 * SECOND);
        assertInstanceOf(PeerNotFoundException.class, failure, "unknown recipient");
    }

    @Test
    void aServerWithMessagesDisabledRefusesThem() {
        net.startServer(b -> b.messagesEnabled(false));
        Peer alice = net.peerBehindNat("alice", NatConfig.FULL_CONE, b -> b);
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.register(bob);

        Throwable failure = net.awaitFailure(alice.client().sendMessage("bob", "hi"), 5 * SECOND);

        assertEquals(400, assertInstanceOf(RendezvousException.class, failure).errorCode(), failure.getMessage());
        assertTrue(bob.listener().messages.isEmpty(), "nothing relayed");
    }

    private static List<InetSocketAddress> addresses(List<Candidate> candidates) {
        return candidates.stream().map(Candidate::address).toList();
    }

    private static List<CandidateType> types(List<Candidate> candidates) {
        return candidates.stream().map(Candidate::type).toList();
    }
}
