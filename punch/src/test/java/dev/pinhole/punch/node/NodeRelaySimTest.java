package dev.pinhole.punch.node;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.bytes;
import static dev.pinhole.punch.node.NodeSim.connect;
import static dev.pinhole.punch.node.NodeSim.sha256;
import static dev.pinhole.punch.node.NodeSim.startPumps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PathKind;
import dev.pinhole.punch.node.NodeSim.Linked;
import dev.pinhole.punch.PunchSim.Node;
import dev.pinhole.punch.node.NodeSim.Pump;
import dev.pinhole.punch.node.NodeSim.Pumps;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.TraversalFailedException;
import dev.pinhole.reliability.connection.Connection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * Relaying on the simulator: the rendezvous server offers its built-in relay (a real
 * {@code TurnServer}), nodes fall back to it when the direct checks find nothing within the fallback delay,
 * move a live stream to a direct path that appears later, and survive or clearly fail when the relay goes
 * away. Every failure message carries the seed; replay by running the test again (the seeds are fixed).
 */
class NodeRelaySimTest {

    @Test
    void peersBehindSymmetricNatsConnectThroughTheRelayAndTransferByteExact() throws Exception {
        for (long seed = 0x5EED_0101L; seed < 0x5EED_0101L + 3; seed++) {
            try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
                Node alice = world.node("alice", "203.0.113.1", NatConfig.SYMMETRIC, "10.0.0.2");
                Node bob = world.node("bob", "203.0.113.2", NatConfig.SYMMETRIC, "10.1.0.2");
                world.register(alice, bob);

                long startNs = world.sim.nowNs();
                Linked link = connect(world, alice, bob);
                long connectedNs = world.sim.nowNs() - startNs;
                ConnectedPeer aliceLink = link.alice();
                ConnectedPeer bobLink = link.bob();
                assertEquals(PathKind.RELAYED, aliceLink.path().kind(), "seed " + seed + ": " + aliceLink.path());
                assertEquals(PathKind.RELAYED, bobLink.path().kind(), "seed " + seed + ": " + bobLink.path());
                assertTrue(aliceLink.path().via().contains(PunchSim.RELAY.getAddress().getHostAddress()),
                        "the path names the relay: " + aliceLink.path());
                assertTrue(connectedNs >= RelayConfig.DEFAULT_FALLBACK_DELAY.toNanos()
                        && connectedNs < RelayConfig.DEFAULT_FALLBACK_DELAY.toNanos() + 2 * SECOND,
                        "seed " + seed + ": on the relay soon after the fallback delay, took " + connectedNs / MS + " ms");

                transferBothWays(world, link, seed, 1_000_000, 100_000);
                assertEquals(1, alice.core.relayedConnections(), "alice's connection started on the relay");
                assertEquals(1, bob.core.relayedConnections(), "bob's connection started on the relay");
            }
        }
    }

    @Test
    void aDirectPathThatOpensLaterTakesTheStreamOverMidTransferWithoutLosingAByte() throws Exception {
        long seed = 0x5EED_0201L;
        try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
            Node alice = world.node("alice", "203.0.113.1", NatConfig.PORT_RESTRICTED_CONE, "10.0.0.2");
            Node bob = world.node("bob", "203.0.113.2", NatConfig.PORT_RESTRICTED_CONE, "10.1.0.2");
            world.register(alice, bob);
            // A firewall beside each NAT drops UDP to the other peer's network: no direct path, for now.
            blockBetween(alice, bob, true);
            Linked link = connect(world, alice, bob);
            ConnectedPeer aliceLink = link.alice();
            ConnectedPeer bobLink = link.bob();
            assertEquals(PathKind.RELAYED, aliceLink.path().kind(), "starts relayed: " + aliceLink.path());

            byte[] toBob = bytes(seed, 6_000_000);
            byte[] toAlice = bytes(~seed, 300_000);
            Pumps pumps = startPumps(link, toBob, toAlice);
            Pump alicePump = pumps.alice();
            Pump bobPump = pumps.bob();
            world.sim.runFor(SECOND);
            assertTrue(bobPump.received > 0 && !bobPump.finished,
                    "seed " + seed + ": the stream is under way on the relay, bob read " + bobPump.received);

            blockBetween(alice, bob, false);
            world.sim.runUntil(pumps::finished, 120 * SECOND);

            assertEquals(PathKind.DIRECT, aliceLink.path().kind(), "seed " + seed + ": alice moved: " + aliceLink.path());
            assertEquals(PathKind.DIRECT, bobLink.path().kind(), "seed " + seed + ": bob followed: " + bobLink.path());
            assertEquals(1, alice.core.migratedToDirect(), "alice's connection moved once");
            assertEquals(1, bob.core.migratedToDirect(), "bob's connection moved once");
            assertArrayEquals(sha256(toBob), bobPump.digest(), "seed " + seed + ": SHA-256 of what bob read");
            assertArrayEquals(sha256(toAlice), alicePump.digest(), "seed " + seed + ": SHA-256 of what alice read");
            assertEquals(toBob.length, bobPump.received, "bob read every byte once");
            world.sim.runFor(10 * SECOND);
            assertEquals(0, alice.core.relayAllocations().size(), "alice released the relay after moving");
            assertEquals(0, bob.core.relayAllocations().size(), "bob released the relay after moving");
        }
    }

    @Test
    void aRelayThatDisappearsMidStreamFailsOverToADirectPathThatWorks() throws Exception {
        long seed = 0x5EED_0301L;
        try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
            Node alice = world.node("alice", "203.0.113.1", NatConfig.PORT_RESTRICTED_CONE, "10.0.0.2");
            Node bob = world.node("bob", "203.0.113.2", NatConfig.FULL_CONE, "10.1.0.2");
            world.register(alice, bob);
            blockBetween(alice, bob, true);
            Linked link = connect(world, alice, bob);
            ConnectedPeer aliceLink = link.alice();
            byte[] toBob = bytes(seed, 8_000_000);
            Pump bobPump = startPumps(link, toBob, new byte[0]).bob();
            world.sim.runFor(SECOND);
            assertEquals(PathKind.RELAYED, aliceLink.path().kind(), "on the relay: " + aliceLink.path());
            assertTrue(bobPump.received > 0 && bobPump.received < toBob.length / 2,
                    "seed " + seed + ": mid-stream when the relay goes, bob read " + bobPump.received);

            world.relayServer.close();
            blockBetween(alice, bob, false);
            world.sim.runUntil(() -> bobPump.finished, 120 * SECOND);

            assertTrue(bobPump.finished, "seed " + seed + ": bob read to the end, " + bobPump.received + " bytes");
            assertEquals(PathKind.DIRECT, aliceLink.path().kind(), "seed " + seed + ": " + aliceLink.path());
            assertArrayEquals(sha256(toBob), bobPump.digest(), "seed " + seed + ": SHA-256 of what bob read");
        }
    }

    @Test
    void aRelayThatDisappearsWithNoDirectPathEndsTheConnectionWithATimeout() throws Exception {
        long seed = 0x5EED_0401L;
        try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
            Node alice = world.node("alice", "203.0.113.1", NatConfig.SYMMETRIC, "10.0.0.2");
            Node bob = world.node("bob", "203.0.113.2", NatConfig.SYMMETRIC, "10.1.0.2");
            world.register(alice, bob);
            Linked link = connect(world, alice, bob);
            ConnectedPeer aliceLink = link.alice();
            startPumps(link, bytes(seed, 4_000_000), new byte[0]);
            world.sim.runFor(SECOND);

            world.relayServer.close();
            Connection connection = aliceLink.connection();
            world.sim.runUntil(() -> connection.closeReason() != null, 60 * SECOND);
            assertNotNull(connection.closeReason(), "seed " + seed + ": the connection ends");
            String message = connection.closeReason().toException(connection.remoteAddress()).getMessage();
            assertTrue(message.contains("acknowledg") || message.contains("timed out"),
                    "seed " + seed + ": a timeout that says what happened: " + message);
        }
    }

    @Test
    void withRelayingSwitchedOffSymmetricPeersFailWithAMessageThatSaysSo() throws Exception {
        long seed = 0x5EED_0501L;
        try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
            world.relay = RelayConfig.DISABLED;
            Node alice = world.node("alice", "203.0.113.1", NatConfig.SYMMETRIC, "10.0.0.2");
            Node bob = world.node("bob", "203.0.113.2", NatConfig.SYMMETRIC, "10.1.0.2");
            world.register(alice, bob);
            CompletableFuture<ConnectedPeer> connecting = alice.core.connect("bob");
            world.sim.runUntil(connecting::isDone, 60 * SECOND);
            ExecutionException failed = assertThrows(ExecutionException.class,
                    connecting::get, "seed " + seed + ": no path without a relay");
            TraversalFailedException cause = assertInstanceOf(TraversalFailedException.class, failed.getCause());
            assertTrue(cause.getMessage().contains("Relay: relaying is switched off"), cause.getMessage());
        }
    }

    private static void transferBothWays(PunchSim world, Linked link, long seed, int toBobBytes, int toAliceBytes)
            throws Exception {
        byte[] toBob = bytes(seed, toBobBytes);
        byte[] toAlice = bytes(~seed, toAliceBytes);
        Pumps pumps = startPumps(link, toBob, toAlice);
        world.sim.runUntil(pumps::finished, 120 * SECOND);
        assertTrue(pumps.finished(), "seed " + seed + ": both streams end, bob read " + pumps.bob().received
                + " of " + toBob.length + ", alice " + pumps.alice().received + " of " + toAlice.length);
        assertArrayEquals(sha256(toBob), pumps.bob().digest(), "seed " + seed + ": SHA-256 of what bob read");
        assertArrayEquals(sha256(toAlice), pumps.alice().digest(), "seed " + seed + ": SHA-256 of what alice read");
    }

    /** A firewall rule beside each NAT that drops UDP to the other peer's NAT: no direct path while on. */
    private static void blockBetween(Node alice, Node bob, boolean blocked) {
        alice.nat.block(bob.nat.externalAddress(), blocked);
        bob.nat.block(alice.nat.externalAddress(), blocked);
    }
}
