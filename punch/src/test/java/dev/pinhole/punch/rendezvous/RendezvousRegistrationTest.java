package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.NameTakenException;
import dev.pinhole.punch.RendezvousException;
import dev.pinhole.punch.RendezvousUnreachableException;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.RendezvousServerStats;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.reliability.Identity;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Registration, refresh, expiry, restart and the name-ownership rule, on the simulator. */
class RendezvousRegistrationTest {
    private static final long SEED = 0xEE01L;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    @Test
    void registrationThroughANatReportsTheNatMappingAsTheObservedAddress() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");

        Registration registration = net.register(alice);

        assertEquals(alice.mappedTowards(net.serverAddress), registration.observedAddress(),
            "observed address is the NAT's mapping towards the server");
        assertNotEquals(alice.endpoint().localAddress(), registration.observedAddress(), "not the private address");
        assertEquals(net.server.registeredAddress("alice"), registration.observedAddress(),
            "the server keeps the same address");
        assertEquals(15 * SECOND, registration.refreshIntervalNs(), "default refresh interval (RFC 8445 keepalive)");
        assertEquals(45 * SECOND, registration.lifetimeNs(), "three missed refreshes");
        assertEquals(1, alice.client().stats().staleNonceRetries(), "first contact fetched a nonce (438) once");
    }

    @Test
    void refreshesEveryIntervalKeepTheRegistrationAliveForMinutes() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);

        net.runFor(10 * 60 * SECOND);

        assertTrue(net.server.isRegistered("alice"), "still registered after 10 minutes of refreshes");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(40, stats.refreshes(), "one refresh per 15 s over 600 s");
        assertEquals(0, stats.expired(), "nothing expired");
        assertEquals(1, stats.registered(), "registered once; refreshes only refresh");
        assertEquals(41, alice.client().stats().registrations(), "registration plus 40 refreshes accepted");
    }

    @Test
    void theClientRefreshesAtItsOwnShorterInterval() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice", NatConfig.FULL_CONE, b -> b.refreshIntervalNs(5 * SECOND));

        Registration registration = net.register(alice);
        net.runFor(60 * SECOND);

        assertEquals(5 * SECOND, registration.refreshIntervalNs(), "client's 5 s is below the server's 15 s");
        assertEquals(12, net.server.stats().refreshes(), "a refresh every 5 s for 60 s");
    }

    @Test
    void aRegistrationExpiresAfterThreeMissedRefreshesAndNotBefore() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        long lastRefreshNs = net.sim.nowNs();
        alice.crash();

        net.runFor(45 * SECOND - 1 * MS);
        assertTrue(net.server.isRegistered("alice"), "alive until 45 s after the last refresh");
        net.runFor(1 * MS);
        assertFalse(net.server.isRegistered("alice"), "gone 45 s after the last refresh (registered at "
            + lastRefreshNs / MS + " ms)");
        assertEquals(1, net.server.stats().expired(), "counted as expired");
        assertEquals(0, net.server.registrationCount(), "table empty");
    }

    @Test
    void aRestartedServerIsRepopulatedByTheNextRefreshes() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer bob = net.peerBehindNat("bob");
        net.register(alice);
        net.runFor(3 * SECOND);
        net.register(bob);

        net.stopServer();
        net.runFor(1 * SECOND);
        RendezvousServer restarted = net.startServer();
        assertEquals(0, restarted.registrationCount(), "a new instance starts empty");

        net.runFor(16 * SECOND);

        assertTrue(restarted.isRegistered("alice"), "alice re-registered by her refresh");
        assertTrue(restarted.isRegistered("bob"), "bob re-registered by his refresh");
        assertEquals(alice.mappedTowards(net.serverAddress), restarted.registeredAddress("alice"), "same observed address");
        assertEquals(1, alice.client().stats().reRegistrations(), "alice's refresh got 438 and registered again");
        assertEquals(1, bob.client().stats().reRegistrations(), "bob's too");
        assertEquals(2, restarted.stats().staleNonces(), "each old nonce rejected once");
        assertTrue(alice.listener().lost.isEmpty(), "no registration was reported lost");
    }

    @Test
    void refreshesRideOutAServerOutageShorterThanTheRetransmissionSchedule() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        net.stopServer();
        // Down from t≈0 to 20 s: the refresh at 15 s retransmits at 15.5, 16.5, 18.5, 22.5 s.
        net.runFor(20 * SECOND);
        RendezvousServer restarted = net.startServer();

        net.runFor(5 * SECOND);

        assertTrue(restarted.isRegistered("alice"), "a retransmission of the pending refresh reached the new server");
        assertTrue(alice.listener().refreshFailures.isEmpty(), "the refresh did not fail");
    }

    @Test
    void aNameHeldByAnotherClientIsRefusedWith409UntilItExpires() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer impostor = net.peerBehindNat("impostor");
        net.register(alice);

        Throwable failure = net.awaitFailure(impostor.client().register("alice", List.of()), 5 * SECOND);

        NameTakenException taken = assertInstanceOf(NameTakenException.class, failure);
        assertEquals("alice", taken.name(), "the name in the exception");
        assertEquals(409, taken.errorCode(), "409 from the server");
        assertTrue(taken.getMessage().contains("registered to another key"), "says why: " + taken.getMessage());
        assertEquals(alice.mappedTowards(net.serverAddress), net.server.registeredAddress("alice"), "alice keeps it");

        alice.crash();
        net.runFor(46 * SECOND);
        Registration second = net.await(impostor.client().register("alice", List.of()), 5 * SECOND);
        assertEquals("alice", second.name(), "free after alice's registration expired");
    }

    @Test
    void aCleanCloseEndsTheRegistrationAtOnceSoTheNameIsFreeForTheNextStart() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer restarted = net.peerBehindNat("restarted");
        net.register(alice);

        alice.client().close();
        net.runFor(100 * MS);

        assertFalse(net.server.isRegistered("alice"), "deregistered by the close, not after 45 s");
        assertEquals(1, net.server.stats().deregistered(), "counted");
        Registration again = net.await(restarted.client().register("alice", List.of()), 5 * SECOND);
        assertEquals("alice", again.name(), "another client (another address and id) takes the name at once");
    }

    @Test
    void onlyTheHolderCanEndARegistration() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        RawPeer raw = new RawPeer(net.sim.internet().addHost("192.0.2.66").bind(7000), net.serverAddress,
            net.sim.random("raw")).identity(RawPeer.identity("mallory"));
        Consumer<StunWriter> deregister = w -> {
            w.addString(RendezvousProtocol.ATTR_PEER_NAME, "alice");
            w.addUInt32(RendezvousProtocol.ATTR_REGISTRATION_LIFETIME, 0);
        };
        raw.call(RendezvousProtocol.METHOD_REGISTER, deregister, () -> net.runFor(100 * MS));
        raw.call(RendezvousProtocol.METHOD_REGISTER, deregister, () -> net.runFor(100 * MS));

        assertEquals(0, raw.lastCode(), "answered like any deregistration, revealing nothing");
        assertTrue(net.server.isRegistered("alice"), "but alice's registration stands");
        assertEquals(0, net.server.stats().deregistered(), "nothing ended");
    }

    @Test
    void theSameClientMovingToANewAddressKeepsItsName() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Registration first = net.register(alice);

        // The NAT reboots (or a carrier-grade NAT rebinds): the next refresh leaves from a new external port.
        alice.nat().clearMappings();
        net.runFor(16 * SECOND);

        assertTrue(net.server.isRegistered("alice"), "still registered");
        assertNotEquals(first.observedAddress(), net.server.registeredAddress("alice"), "under the new mapping");
        assertEquals(alice.mappedTowards(net.serverAddress), net.server.registeredAddress("alice"),
            "the server has the new mapping");
        assertEquals(alice.client().registration().observedAddress(), net.server.registeredAddress("alice"),
            "the client learnt the new observed address");
        assertEquals(1, net.server.registrationCount(), "one registration, moved, not two");
        assertEquals(1, net.server.stats().replaced(), "the old entry gave way");
        assertEquals(1, alice.client().stats().reRegistrations(), "the nonce of the old address was refused once (438)");
    }

    @Test
    void aRestartWithTheSameIdentityOnTheSameSocketAddressTakesOverTheNameAndAnotherKeyCannot() {
        net.startServer();
        SimEndpoint socket = net.sim.internet().addHost("192.0.2.77").bind(6000);
        Identity identity = RawPeer.identity("alice");
        RendezvousClient first = RendezvousClient.listen(socket, net.serverAddress,
            RendezvousClientConfig.builder().random(net.sim.random("first")).identity(identity).build());
        net.await(first.register("alice", List.of()), 5 * SECOND);
        // The first process dies without a word: its last datagrams never leave the machine.
        socket.host().uplink(LinkConfig.BLACKHOLE);
        first.close();
        socket.host().uplink(LinkConfig.PERFECT);

        RendezvousClient stranger = RendezvousClient.listen(socket, net.serverAddress,
            RendezvousClientConfig.builder().random(net.sim.random("stranger")).build());
        Throwable failure = net.awaitFailure(stranger.register("alice", List.of()), 5 * SECOND);
        assertEquals(409, assertInstanceOf(NameTakenException.class, failure).errorCode(),
            "another key on the very same socket address does not get the name");
        stranger.close();
        net.runUntil(() -> stranger.deregistration().isDone(), 2 * SECOND);

        RendezvousClient second = RendezvousClient.listen(socket, net.serverAddress,
            RendezvousClientConfig.builder().random(net.sim.random("second")).identity(identity).build());
        try {
            Registration registration = net.await(second.register("alice", List.of()), 5 * SECOND);
            assertEquals("alice", registration.name(), "a restart with the same identity reclaims the name at once");
            assertEquals(first.identity(), second.identity(), "the same key");
        } finally {
            second.close();
            // Both DEREGISTER transactions hold their request until answered or given up (1.25 s).
            net.runUntil(() -> first.deregistration().isDone() && second.deregistration().isDone(), 2 * SECOND);
        }
    }

    @Test
    void registeringAnotherNameFromTheSameAddressReplacesTheFirst() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);

        net.await(alice.client().register("alicia", PunchSim.hostCandidates(alice)), 5 * SECOND);

        assertFalse(net.server.isRegistered("alice"), "old name released");
        assertTrue(net.server.isRegistered("alicia"), "new name registered");
        assertEquals(1, net.server.registrationCount(), "one registration per address");
    }

    @Test
    void aFullTableAnswers508AndRefreshesOfExistingPeersStillWork() {
        net.startServer(b -> b.maxRegistrations(2));
        Peer a = net.peerBehindNat("a");
        Peer b = net.peerBehindNat("b");
        Peer c = net.peerBehindNat("c");
        net.register(a);
        net.register(b);

        Throwable failure = net.awaitFailure(c.client().register("c", List.of()), 5 * SECOND);

        RendezvousException full = assertInstanceOf(RendezvousException.class, failure);
        assertEquals(508, full.errorCode(), "508 server full, got " + full.getMessage());
        assertTrue(full.getMessage().contains("server full"), full.getMessage());
        net.runFor(20 * SECOND);
        assertEquals(2, net.server.registrationCount(), "never more than the cap");
        assertTrue(net.server.stats().refreshes() >= 2, "a and b keep refreshing");
        assertEquals(1, net.server.stats().serverFull(), "one 508");
    }

    @Test
    void namesAreNormalisedByTheClientAndValidated() {
        net.startServer();
        Peer peer = net.peerBehindNat("x");
        // "é" as e + combining acute accent becomes the single code point U+00E9 (NFC).
        Registration registration = net.await(peer.client().register("Jos\u0065\u0301", List.of()), 5 * SECOND);
        assertEquals("Jos\u00e9", registration.name(), "NFC form registered");
        assertTrue(net.server.isRegistered("Jos\u00e9"), "server has the NFC form");

        assertThrows(IllegalArgumentException.class, () -> peer.client().register("bob smith", List.of()),
            "whitespace is refused");
        assertThrows(IllegalArgumentException.class, () -> peer.client().register("", List.of()), "empty is refused");
        assertThrows(IllegalArgumentException.class, () -> peer.client().register("a".repeat(65), List.of()),
            "65 bytes is too long");
    }

    @Test
    void hostCandidatesBeyondTheLimitAreRefusedBeforeSending() {
        net.startServer();
        Peer peer = net.peerBehindNat("x");
        List<Candidate> nine = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            nine.add(Candidate.of(CandidateType.HOST, PunchSim.address("10.0.0." + (i + 2), 4000)));
        }
        assertThrows(IllegalArgumentException.class, () -> peer.client().register("x", nine));
    }

    @Test
    void anUnreachableServerFailsTheRegistrationAfterTheWholeRetransmissionSchedule() {
        Peer alice = net.peerBehindNat("alice");

        Throwable failure = net.awaitFailure(alice.client().register("alice", List.of()), 60 * SECOND);

        RendezvousUnreachableException unreachable = assertInstanceOf(RendezvousUnreachableException.class, failure);
        assertEquals(net.serverAddress, unreachable.server(), "names the server");
        assertEquals(7, unreachable.requestsSent(), "Rc = 7 requests (RFC 8489 §6.2.1)");
        assertEquals(39_500 * MS, unreachable.waitedNs(), "39.5 s");
        assertTrue(unreachable.getMessage().contains("198.51.100.10:3478") && unreachable.getMessage().contains("39.5 s"),
            "message says where and how long: " + unreachable.getMessage());
    }
}
