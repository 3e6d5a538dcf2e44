package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PairReport;
import dev.pinhole.punch.TraversalFailedException;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.NatConfig.PortAllocation;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.SimTracer;
import dev.pinhole.protocol.stun.StunMessageType;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Traversal behaviours one scenario at a time, in the simulator. */
class TraversalSessionSimTest {
    private static final NatConfig SEQUENTIAL_SYMMETRIC = NatConfig.SYMMETRIC.withSequentialPorts(1);

    private static void assertConnected(PunchSim world, PunchSim.TraversalPeer a, PunchSim.TraversalPeer b) {
        boolean connected = world.runToOutcome(a, b, 30 * SECOND);
        assertTrue(connected, () -> "expected both sides connected; alice: "
                + (a.failure == null ? a.path : a.failure.getMessage()) + System.lineSeparator() + "bob: "
                + (b.failure == null ? b.path : b.failure.getMessage()));
        assertTrue(world.exchangeData(a, b), "data crosses the nominated paths both ways");
    }

    @Test
    void twoFullConePeersConnectThroughReflexiveAddresses() {
        try (PunchSim world = PunchSim.withStunServers(1)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.FULL_CONE).inside(), "10.0.0.3");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(b.path.mapped(), a.path.remote(), "alice sends where bob's NAT maps him");
            assertEquals(a.path.mapped(), b.path.remote(), "and bob where alice's maps her");
            assertEquals(PathOrigin.SERVER_REFLEXIVE, a.path.origin());
            assertEquals(IceRole.CONTROLLING, a.path.role());
            assertEquals(IceRole.CONTROLLED, b.path.role());
            assertEquals(a.endpoint, a.path.endpoint(), "the path runs on the node's one socket");
        }
    }

    @Test
    void hostPairWinsOverWorkingReflexivePairsInOneLan() {
        try (PunchSim world = PunchSim.withStunServers(2)) {
            Nat nat = world.nat("203.0.113.1", NatConfig.FULL_CONE); // hairpins: reflexive pairs work too
            PunchSim.TraversalPeer a = world.peer("alice", nat.inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", nat.inside(), "10.0.0.3");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(PathOrigin.HOST, a.path.origin(), "alice's path: " + a.path);
            assertEquals(PathOrigin.HOST, b.path.origin(), "bob's path: " + b.path);
            assertEquals(PunchSim.address("10.0.0.3", PunchSim.PEER_PORT), a.path.remote());
        }
    }

    @Test
    void peersBehindOneHairpinningCarrierNatWithUnreachableHostsConnectOverReflexivePairs() {
        try (PunchSim world = PunchSim.withStunServers(3)) {
            Nat carrier = world.nat("203.0.113.1", NatConfig.PORT_RESTRICTED_CONE);
            PunchSim.TraversalPeer a = world.peer("alice", carrier.inside().addNat("100.64.0.1", Scenario.HOME_NAT)
                    .inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", carrier.inside().addNat("100.64.0.2", Scenario.HOME_NAT)
                    .inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(PathOrigin.SERVER_REFLEXIVE, a.path.origin());
            assertEquals(carrier.externalAddress(), a.path.remote().getAddress(), "through the carrier's hairpin");
            assertTrue(carrier.counters().hairpinned() > 0, "the carrier NAT hairpinned the path's datagrams");
        }
    }

    @Test
    void withoutHairpinningPeersBehindOneCarrierNatNeedARelay() {
        try (PunchSim world = PunchSim.withStunServers(4)) {
            Nat carrier = world.nat("203.0.113.1", NatConfig.PORT_RESTRICTED_CONE.withHairpinning(false));
            PunchSim.TraversalPeer a = world.peer("alice", carrier.inside().addNat("100.64.0.1", Scenario.HOME_NAT)
                    .inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", carrier.inside().addNat("100.64.0.2", Scenario.HOME_NAT)
                    .inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            world.runToOutcome(a, b, 30 * SECOND);
            assertNotNull(a.failure, "alice fails");
            assertNotNull(b.failure, "bob fails");
            assertTrue(a.failure.getMessage().contains("relay"), a.failure.getMessage());
        }
    }

    @Test
    void aPublicPeerIsReachedByConnectionReversalWhicheverSideControls() {
        for (boolean publicControls : new boolean[] {true, false}) {
            try (PunchSim world = PunchSim.withStunServers(5)) {
                PunchSim.TraversalPeer pub = world.peer("server", world.internet, "192.0.2.10");
                PunchSim.TraversalPeer natted = world.peer("laptop", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(),
                        "10.0.0.2");
                if (publicControls) {
                    world.introduce(pub, natted, TraversalConfig.DEFAULT);
                } else {
                    world.introduce(natted, pub, TraversalConfig.DEFAULT);
                }
                assertConnected(world, pub, natted);
                assertEquals(PathOrigin.HOST, natted.path.origin(), "the NATed side sends to the public host address");
                assertEquals(PathOrigin.PEER_REFLEXIVE, pub.path.origin(),
                        "the public side learns the symmetric NAT's new port from the NATed side's check");
                assertTrue(pub.session.stats().peerReflexive() > 0);
            }
        }
    }

    @Test
    void sequentialSymmetricNatIsCrossedByPortPrediction() {
        try (PunchSim world = PunchSim.withStunServers(6)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", SEQUENTIAL_SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(PathOrigin.PREDICTED, b.path.origin(), "bob reaches alice on a predicted port: " + b.path);
            int predictedPort = b.path.remote().getPort();
            int measuredPort = a.gathered.join().serverReflexive().address().getPort();
            assertTrue(predictedPort > measuredPort && predictedPort <= measuredPort + 8,
                    "within the window after the measured port " + measuredPort + ", was " + predictedPort);
        }
    }

    @Test
    void twoSequentialSymmetricNatsMeetOnTheirKthPredictedPorts() {
        try (PunchSim world = PunchSim.withStunServers(7)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", SEQUENTIAL_SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", SEQUENTIAL_SYMMETRIC.withSequentialPorts(3))
                    .inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(PathOrigin.PREDICTED, a.path.origin());
            assertEquals(PathOrigin.PREDICTED, b.path.origin());
            int ka = a.path.remote().getPort() - b.gathered.join().serverReflexive().address().getPort();
            int kb = b.path.remote().getPort() - a.gathered.join().serverReflexive().address().getPort();
            assertEquals(ka / 3, kb, "the same k on both sides (bob's step is 3, alice's 1)");
        }
    }

    @Test
    void withoutPredictionASequentialSymmetricNatBehindAPortRestrictedPeerNeedsARelay() {
        try (PunchSim world = PunchSim.withStunServers(6)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", SEQUENTIAL_SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            TraversalConfig noPrediction = TraversalConfig.DEFAULT.withPredictionWindow(0).withBirthday(0, 0, MS);
            world.introduce(a, b, noPrediction);
            assertFalse(world.runToOutcome(a, b, 30 * SECOND), "prediction is what made the difference");
        }
    }

    @Test
    void birthdayProbingCrossesARandomSymmetricNatToAPortRestrictedCone() {
        try (PunchSim world = PunchSim.withStunServers(8)) {
            PunchSim.TraversalPeer hard = world.peer("hard", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer easy = world.peer("easy", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            world.introduce(hard, easy, TraversalConfig.DEFAULT);
            assertConnected(world, hard, easy);
            assertEquals(PathOrigin.BIRTHDAY, hard.path.origin());
            assertEquals(PathOrigin.BIRTHDAY, easy.path.origin());
            assertNotEquals(hard.endpoint, hard.path.endpoint(), "the hard side's path runs on one of its extra sockets");
            assertEquals(TraversalConfig.DEFAULT_BIRTHDAY_SOCKETS, hard.session.stats().birthdaySockets());
            long open = hard.probeSockets.stream().filter(s -> !((SimEndpoint) s).isClosed()).count();
            assertEquals(1, open, "all extra sockets but the path's are closed");
            assertTrue(easy.session.stats().birthdayProbesSent() > 0, "the easy side probed");
            assertEquals(0, hard.session.stats().birthdayProbesSent(), "the hard side does not probe");
        }
    }

    @Test
    void aRandomSymmetricNatToAFullConeNeedsNoBirthdayProbing() {
        try (PunchSim world = PunchSim.withStunServers(9)) {
            PunchSim.TraversalPeer hard = world.peer("hard", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer easy = world.peer("easy", world.nat("203.0.113.2", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            world.introduce(hard, easy, TraversalConfig.DEFAULT);
            assertConnected(world, hard, easy);
            assertEquals(PathOrigin.PEER_REFLEXIVE, easy.path.origin(), "the full cone admits the hard side's check");
            assertEquals(0, hard.session.stats().birthdaySockets(), "no extra sockets");
            assertEquals(0, easy.session.stats().birthdayProbesSent(), "no probes");
        }
    }

    @Test
    void knownPortRestrictedFilteringStartsBirthdayProbingAtOnce() {
        long[] connectNs = new long[2];
        for (int known = 0; known < 2; known++) {
            try (PunchSim world = PunchSim.withStunServers(10)) {
                PunchSim.TraversalPeer hard = world.peer("hard", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(), "10.0.0.2");
                PunchSim.TraversalPeer easy = world.peer("easy", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE)
                        .inside(), "10.0.0.2");
                if (known == 1) {
                    easy.knownFiltering = NatProfile.Filtering.ADDRESS_AND_PORT_DEPENDENT;
                }
                world.introduce(hard, easy, TraversalConfig.DEFAULT);
                long start = world.sim.nowNs();
                assertConnected(world, hard, easy);
                connectNs[known] = Math.max(hard.connectedAtNs, easy.connectedAtNs) - start;
            }
        }
        assertTrue(connectNs[1] < connectNs[0], "known filtering skips the " + TraversalConfig.DEFAULT_BIRTHDAY_DELAY_NS / MS
                + " ms wait: unknown " + connectNs[0] / MS + " ms, known " + connectNs[1] / MS + " ms");
    }

    @Test
    void symmetricNatsOnBothSidesFailWithADiagnosisNamingBothNatsAndEveryPair() {
        try (PunchSim world = PunchSim.withStunServers(11)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.SYMMETRIC).inside(), "10.0.0.3");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            long start = world.sim.nowNs();
            assertFalse(world.runToOutcome(a, b, 30 * SECOND));
            assertNull(a.path);
            TraversalFailedException f = a.failure;
            assertNotNull(f, "alice got a failure");
            assertEquals(TraversalConfig.DEFAULT_DEADLINE_NS, a.failedAtNs - start, "failed at the deadline");
            String m = f.getMessage();
            assertTrue(m.contains("'bob'"), "names the peer: " + m);
            assertTrue(m.contains("relay (TURN) is needed"), "says a relay is needed: " + m);
            assertTrue(m.contains("this side (CONTROLLING): mapping ADDRESS_AND_PORT_DEPENDENT"), "own NAT: " + m);
            assertTrue(m.contains("peer: mapping ADDRESS_AND_PORT_DEPENDENT"), "peer's NAT: " + m);
            assertTrue(m.contains("ports RANDOM"), "port allocation: " + m);
            assertTrue(m.contains("endpoint-dependent mapping"), "explains why: " + m);
            for (Candidate c : b.gathered.join().candidates()) {
                assertTrue(m.contains(c.address().toString()), "lists the pair to " + c.address() + ": " + m);
            }
            assertFalse(f.pairs().isEmpty());
            for (PairReport p : f.pairs()) {
                assertTrue(p.verdict().contains("no response") || p.verdict().contains("only one direction")
                        || p.verdict().contains("another address"), "each pair says why it failed: " + p);
            }
            assertEquals(NatProfile.Mapping.ADDRESS_AND_PORT_DEPENDENT, f.peerNat().mapping());
            assertEquals(TraversalSession.State.FAILED, a.session.state());
        }
    }

    @Test
    void aRoleConflictIsResolvedByTheTieBreakers() {
        for (IceRole both : IceRole.values()) {
            try (PunchSim world = PunchSim.withStunServers(12)) {
                PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.FULL_CONE).inside(), "10.0.0.2");
                PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                        "10.0.0.2");
                world.introduce(a, both, b, both, TraversalConfig.DEFAULT);
                assertConnected(world, a, b);
                assertNotEquals(a.session.role(), b.session.role(), "one side switched role, both started " + both);
                assertTrue(a.session.stats().roleConflicts() + b.session.stats().roleConflicts() > 0);
            }
        }
    }

    @Test
    void keepalivesHoldAShortLivedNatMappingOpen() {
        NatConfig forgetful = NatConfig.PORT_RESTRICTED_CONE.withMappingTimeoutNs(30 * SECOND);
        for (boolean keepalive : new boolean[] {true, false}) {
            try (PunchSim world = PunchSim.withStunServers(13)) {
                PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", forgetful).inside(), "10.0.0.2");
                PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", forgetful).inside(), "10.0.0.2");
                TraversalConfig config = keepalive ? TraversalConfig.DEFAULT
                        : TraversalConfig.DEFAULT.withKeepaliveIntervalNs(1000 * SECOND);
                world.introduce(a, b, config);
                assertConnected(world, a, b);
                world.sim.runFor(120 * SECOND);
                if (keepalive) {
                    long expected = 120 / 15;
                    assertTrue(a.session.stats().keepalivesSent() >= expected,
                            "a keepalive every 15 s: " + a.session.stats().keepalivesSent());
                    assertTrue(b.session.stats().keepalivesReceived() >= expected, "and they arrive");
                    assertTrue(world.exchangeData(a, b), "after two idle minutes the path still works");
                } else {
                    assertFalse(world.exchangeData(a, b), "without keepalives the 30 s mapping expired");
                }
            }
        }
    }

    @Test
    void checksWithAWrongPasswordAreDroppedUnanswered() {
        try (PunchSim world = PunchSim.withStunServers(14)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            SimHost attackerHost = world.internet.addHost("192.0.2.66");
            SimEndpoint attacker = attackerHost.bind(5555);
            List<InetSocketAddress> answers = new ArrayList<>();
            attacker.receiver((datagram, sender) -> answers.add(sender));
            // Right USERNAME (bob's ufrag first, as a check to bob carries it), wrong password.
            Credentials guessedBob = new Credentials(b.credentials.ufrag(), "x".repeat(24));
            IceMessages attackerMessages = new IceMessages(attacker.allocator(), a.credentials, guessedBob);
            InetSocketAddress bobMapped = b.gathered.join().serverReflexive().address();
            for (int i = 0; i < 5; i++) {
                attacker.send(attackerMessages.check(i, i, 1, IceRole.CONTROLLING, 1, true), bobMapped);
            }
            assertConnected(world, a, b);
            assertEquals(5, b.session.stats().badIntegrity(), "every forged check was counted");
            assertTrue(answers.isEmpty(), "and none answered: " + answers);
            assertNotEquals(PunchSim.address("192.0.2.66", 5555), b.path.remote(), "the attacker is no candidate");
        }
    }

    /**
     * The simulator does not model TTL, so the priming datagrams reach the peer's NAT here; with a
     * conntrack-clash NAT (LINUX_MASQUERADE) that would itself cause the clash priming prevents on real
     * networks. This test checks the order of hook calls and datagrams on NATs without the clash; the
     * netns lab tests priming against real MASQUERADE.
     */
    @Test
    void primingSendsOneLowTtlDatagramPerRemoteCandidateBeforeTheFirstCheck() {
        try (PunchSim world = PunchSim.withStunServers(15)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.3");
            List<String> trace = new ArrayList<>();
            a.ttl = new SocketTtl() {
                @Override
                public void setTtl(int ttl) {
                    trace.add("ttl " + ttl);
                }

                @Override
                public void restore() {
                    trace.add("restore");
                }
            };
            InetSocketAddress alice = a.endpoint.localAddress();
            world.sim.tracer(new SimTracer() {
                @Override
                public void sent(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
                    if (from.equals(alice) && !to.getAddress().getHostAddress().startsWith("198.51.100.")) {
                        int type = datagram.getUnsignedShort(datagram.readerIndex());
                        trace.add((type == StunMessageType.BINDING_INDICATION ? "indication "
                                : type == StunMessageType.BINDING_REQUEST ? "check " : "other ") + to);
                    }
                }
            });
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            List<Candidate> remote = b.gathered.join().candidates();
            assertEquals("ttl " + TraversalConfig.DEFAULT_PRIMING_TTL, trace.get(0));
            for (int i = 0; i < remote.size(); i++) {
                assertTrue(trace.get(1 + i).startsWith("indication "), "priming datagram " + i + ": " + trace);
            }
            assertEquals("restore", trace.get(1 + remote.size()), "TTL restored right after priming: " + trace);
            int firstCheck = 0;
            while (!trace.get(firstCheck).startsWith("check ")) {
                firstCheck++;
            }
            assertTrue(firstCheck > 1 + remote.size(), "checks only after priming: " + trace);
            assertEquals(remote.size(), a.session.stats().primingSent());
        }
    }

    @Test
    void heldChecksWaitForReleaseAndTheDeadlineCountsFromThere() {
        try (PunchSim world = PunchSim.withStunServers(19)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.3");
            a.holdChecks = true;
            b.holdChecks = true;
            world.introduce(a, b, TraversalConfig.DEFAULT);
            world.sim.runFor(30 * SECOND);
            assertEquals(0, a.session.stats().checksSent(), "no check before release");
            assertNull(a.failure, "no deadline before release");
            long released = world.sim.nowNs();
            a.session.releaseChecks();
            b.session.releaseChecks();
            assertConnected(world, a, b);
            assertTrue(a.path.elapsedNs() < SECOND, "elapsed counts from the release: " + a.path.elapsedNs());
            assertTrue(a.connectedAtNs - released < SECOND);
        }
    }

    @Test
    void aFailingTtlHookOnlySkipsPriming() {
        try (PunchSim world = PunchSim.withStunServers(16)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE).inside(),
                    "10.0.0.3");
            a.ttl = new SocketTtl() {
                @Override
                public void setTtl(int ttl) throws IOException {
                    throw new IOException("no IP_TTL on this platform");
                }

                @Override
                public void restore() {
                    throw new AssertionError("restore after a failed setTtl");
                }
            };
            world.introduce(a, b, TraversalConfig.DEFAULT);
            assertConnected(world, a, b);
            assertEquals(0, a.session.stats().primingSent());
        }
    }

    @Test
    void aClosedSessionSendsNothingAndTakesNoDatagrams() {
        try (PunchSim world = PunchSim.withStunServers(17)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.SYMMETRIC).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.SYMMETRIC).inside(), "10.0.0.3");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            world.sim.runFor(500 * MS);
            a.session.close();
            long sent = a.session.stats().checksSent();
            world.sim.runFor(20 * SECOND);
            assertEquals(sent, a.session.stats().checksSent(), "no checks after close");
            assertNull(a.failure, "no outcome after close");
            assertEquals(TraversalSession.State.CLOSED, a.session.state());
        }
    }

    @Test
    void theSameSeedGivesTheSameRunTwice() {
        long[] times = new long[2];
        TraversalStats[] stats = new TraversalStats[2];
        for (int run = 0; run < 2; run++) {
            Scenario.Outcome o = new Scenario(Scenario.Topology.DIFFERENT_NATS, NatConfig.SYMMETRIC,
                    NatConfig.PORT_RESTRICTED_CONE, 0.05, 77, TraversalConfig.DEFAULT).run();
            assertTrue(o.connected(), o.describe());
            times[run] = o.connectNs();
            stats[run] = o.statsA();
        }
        assertEquals(times[0], times[1], "time to connect");
        assertEquals(stats[0], stats[1], "every counter");
    }

    @Test
    void natBehaviourWithPortPreservationIsPredictedAsAStepOfOne() {
        try (PunchSim world = PunchSim.withStunServers(18)) {
            NatConfig preserving = NatConfig.SYMMETRIC.withPortAllocation(PortAllocation.PRESERVING);
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", preserving).inside(), "10.0.0.2");
            a.gather();
            world.runUntil(() -> a.gathered.isDone(), 10 * SECOND);
            assertEquals(1, a.gathered.join().nat().portStep(), "each new mapping takes the next free port");
        }
    }
}
