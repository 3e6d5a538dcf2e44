package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PunchSim.Got;
import dev.pinhole.punch.PunchSim.TurnNode;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Two Pinhole nodes behind endpoint-dependent NATs talk through the built-in relay with the real TURN client. */
class RelaySimTest {

    @Test
    void peersBehindSymmetricNatsExchangeDatagramsBothWaysThroughTheRelay() {
        for (long seed = 1; seed <= 5; seed++) {
            exchangeThroughRelay(seed);
        }
    }

    private static void exchangeThroughRelay(long seed) {
        try (PunchSim f = PunchSim.withTurnServer(seed, TurnServerConfig.defaults())) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocationA = a.allocate(a.config(PunchSim.USER, PunchSim.PASSWORD));
            TurnAllocation allocationB = b.allocate(b.config(PunchSim.USER_2, PunchSim.PASSWORD_2));
            InetSocketAddress relayedA = allocationA.relayedAddress();
            InetSocketAddress relayedB = allocationB.relayedAddress();
            assertEquals(f.serverHost.address(), relayedA.getAddress(), "relayed address on the server (seed " + seed + ")");
            assertNotEquals(relayedA, relayedB, "each allocation has its own relayed port");
            assertEquals("203.0.113.1", allocationA.mappedAddress().getAddress().getHostAddress(),
                "the server reports A's NAT-mapped address");
            f.awaitDone(CompletableFuture.allOf(allocationA.createPermission(relayedB), allocationB.createPermission(relayedA)),
                5 * SECOND).join();

            DatagramEndpoint endpointA = allocationA.asEndpoint();
            DatagramEndpoint endpointB = allocationB.asEndpoint();
            SplittableRandom random = new SplittableRandom(seed);
            List<byte[]> sentByA = new ArrayList<>();
            List<byte[]> sentByB = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                byte[] toB = randomBytes(random);
                byte[] toA = randomBytes(random);
                sentByA.add(toB);
                sentByB.add(toA);
                assertTrue(endpointA.send(f.buffer(toB), relayedB), "A's relayed send accepted");
                assertTrue(endpointB.send(f.buffer(toA), relayedA), "B's relayed send accepted");
                f.sim.runFor(20 * PunchSim.MS);
            }
            f.sim.runFor(2 * SECOND);
            assertReceived(sentByA, b.got, relayedA, seed);
            assertReceived(sentByB, a.got, relayedB, seed);
            assertTrue(allocationA.channelOf(relayedB) != 0, "A's client bound a channel to B");
            assertTrue(allocationA.stats().sentChannelData() > 0, "later datagrams went as ChannelData");
            assertEquals(100, f.count(RelayCounter.RELAYED_TO_PEERS), "datagrams relayed from clients");
            assertEquals(100, f.count(RelayCounter.RELAYED_TO_CLIENTS), "datagrams relayed to clients");
            assertEquals(0, f.count(RelayCounter.INTERNAL_ERRORS), "internal errors");
        }
    }

    private static byte[] randomBytes(SplittableRandom random) {
        byte[] bytes = new byte[1 + random.nextInt(1200)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static void assertReceived(List<byte[]> sent, List<Got> got, InetSocketAddress from, long seed) {
        assertEquals(sent.size(), got.size(), "datagrams received (no loss on these links, seed " + seed + ")");
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), got.get(i).bytes(), "datagram " + i + " intact and in order (seed " + seed + ")");
            assertEquals(from, got.get(i).from(), "datagram " + i + " appears to come from the peer's relayed address");
        }
    }
}
