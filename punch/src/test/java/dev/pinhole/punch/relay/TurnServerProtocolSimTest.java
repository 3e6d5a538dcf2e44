package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.PASSWORD;
import static dev.pinhole.punch.PunchSim.PASSWORD_2;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.USER;
import static dev.pinhole.punch.PunchSim.USER_2;
import static dev.pinhole.punch.PunchSim.turnFailure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.punch.PunchSim.TurnNode;
import dev.pinhole.protocol.turn.TurnError;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server's answers, quotas, lifetimes and enforcement towards Pinhole's TURN client, on the simulator. */
class TurnServerProtocolSimTest {
    private static final long SEED = 42;

    @Test
    void wrongPasswordFailsWith401() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            TurnNode node = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = node.startAllocation(node.config(USER, "wrong"));
            TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));
            assertEquals(TurnError.UNAUTHORIZED, e.error(), "error for a wrong password: " + e.getMessage());
            assertEquals(1, f.count(RelayCounter.REJECTED_CREDENTIALS), "rejections counted");
            assertEquals(0, f.turnServer.allocationCount(), "allocations");
        }
    }

    @Test
    void staleNonceIsAnswered438AndTheClientRetriesWithTheNewOne() {
        TurnServerConfig config = TurnServerConfig.builder().nonceLifetime(Duration.ofSeconds(20)).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            // Within the NAT's 120 s mapping timeout: the client sends no keepalives of its own.
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = a.allocate();
            f.sim.runFor(50 * SECOND);
            f.awaitDone(allocation.createPermission(new InetSocketAddress("203.0.113.200", 9)), 10 * SECOND).join();
            assertTrue(f.count(RelayCounter.STALE_NONCES) >= 1, "the server declared the nonce stale");
            assertTrue(allocation.stats().staleNonceRetries() >= 1, "the client retried with the fresh nonce");
            assertEquals(1, f.count(RelayCounter.PERMISSIONS_INSTALLED), "permission installed after the retry");
        }
    }

    @Test
    void perUserQuotaIs486AndTheServerCapIs508() {
        TurnServerConfig config = TurnServerConfig.builder().maxAllocations(3, 2).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            List<TurnNode> nodes = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                nodes.add(f.publicNode("192.0.2.10", 5000 + i));
            }
            nodes.get(0).allocate();
            nodes.get(1).allocate();
            TurnAllocation third = nodes.get(2).startAllocation(nodes.get(2).config(USER, PASSWORD));
            assertEquals(TurnError.ALLOCATION_QUOTA_REACHED, turnFailure(f.awaitDone(third.allocated(), 10 * SECOND)).error(),
                "alice's third allocation");
            nodes.get(2).allocate(nodes.get(2).config(USER_2, PASSWORD_2));
            TurnAllocation fourth = nodes.get(3).startAllocation(nodes.get(3).config(USER_2, PASSWORD_2));
            assertEquals(TurnError.INSUFFICIENT_CAPACITY, turnFailure(f.awaitDone(fourth.allocated(), 10 * SECOND)).error(),
                "an allocation beyond the server's cap");
            assertEquals(3, f.turnServer.allocationCount(), "allocations");
            assertEquals(3, f.turnServer.relaySocketCount(), "relay sockets");
            assertEquals(1, f.count(RelayCounter.QUOTA_REJECTIONS), "486s");
            assertEquals(1, f.count(RelayCounter.CAPACITY_REJECTIONS), "508s");
        }
    }

    @Test
    void clientRefreshesKeepAnActiveAllocationForHoursAndLifetimeZeroDeletesIt() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocationA = a.allocate();
            TurnAllocation allocationB = b.allocate(b.config(USER_2, PASSWORD_2));
            Duration granted = f.awaitDone(allocationA.refresh(), 5 * SECOND).join();
            assertEquals(Duration.ofMinutes(10), granted, "lifetime granted by an explicit refresh");
            for (int minute = 0; minute < 120; minute++) {
                allocationA.sendTo(allocationB.relayedAddress(), f.buffer(new byte[] {(byte) minute}));
                allocationB.sendTo(allocationA.relayedAddress(), f.buffer(new byte[] {(byte) minute}));
                f.sim.runFor(60 * SECOND);
            }
            assertEquals(TurnAllocation.State.ACTIVE, allocationA.state(), "A after two hours");
            assertEquals(120, b.got.size(), "B heard A every minute for two hours");
            assertEquals(120, a.got.size(), "A heard B every minute for two hours");
            assertEquals(0, f.count(RelayCounter.ALLOCATIONS_EXPIRED), "expiries");
            assertTrue(f.count(RelayCounter.REFRESHES) >= 2 * 12, "refreshes every 8 minutes, got "
                + f.count(RelayCounter.REFRESHES));
            f.awaitDone(allocationA.close(), 5 * SECOND).join();
            assertEquals(1, f.turnServer.allocationCount(), "allocations after A deallocated");
            assertEquals(1, f.count(RelayCounter.ALLOCATIONS_DELETED), "deletions by LIFETIME 0");
        }
    }

    @Test
    void allocationThatRelaysNothingIsDeletedAfterTheIdleTimeoutEvenIfRefreshed() {
        TurnServerConfig config = TurnServerConfig.builder().idleTimeout(Duration.ofMinutes(20)).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            // A public node: behind a NAT the client's 8-minute refreshes would outlive the NAT mapping.
            TurnNode a = f.publicNode("192.0.2.10", 5000);
            TurnAllocation allocation = a.allocate();
            List<TurnException> lost = new ArrayList<>();
            allocation.listener(new TurnListener() {
                @Override
                public void onAllocationLost(TurnAllocation lostAllocation, TurnException cause) {
                    lost.add(cause);
                }
            });
            f.sim.runFor(Duration.ofMinutes(21).toNanos());
            assertEquals(0, f.turnServer.allocationCount(), "idle allocation deleted");
            assertEquals(1, f.count(RelayCounter.ALLOCATIONS_IDLE_EXPIRED), "idle expiries");
            f.sim.runFor(Duration.ofMinutes(10).toNanos());
            assertEquals(1, lost.size(), "the client learned at its next refresh");
            assertEquals(TurnError.ALLOCATION_MISMATCH, lost.get(0).error(), "the loss was a 437");
        }
    }

    @Test
    void datagramsFromAPeerWithoutPermissionAreDroppedUntilOneIsInstalled() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = a.allocate();
            SimEndpoint peer = f.sim.internet().addHost("192.0.2.77", PunchSim.LINK).bind(6000);
            peer.send(f.buffer(new byte[] {1, 2, 3}), allocation.relayedAddress());
            f.sim.runFor(SECOND);
            assertEquals(0, a.got.size(), "nothing relayed from an unpermitted peer");
            assertEquals(1, f.count(RelayCounter.DROPPED_NO_PERMISSION), "drops for want of a permission");
            f.awaitDone(allocation.createPermission(peer.localAddress()), 5 * SECOND).join();
            peer.send(f.buffer(new byte[] {4, 5, 6}), allocation.relayedAddress());
            f.sim.runFor(SECOND);
            assertEquals(1, a.got.size(), "relayed once permitted");
            assertArrayEquals(new byte[] {4, 5, 6}, a.got.get(0).bytes(), "payload");
            assertEquals(peer.localAddress(), a.got.get(0).from(), "peer address in the Data indication");
            assertEquals(1, allocation.stats().receivedDataIndications(), "came as a Data indication (no channel)");
        }
    }

    @Test
    void loopbackPeersAndTheServersOwnAddressAreForbidden() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = a.allocate();
            TurnException e = turnFailure(f.awaitDone(allocation.createPermission(new InetSocketAddress("127.0.0.1", 5000)),
                5 * SECOND));
            assertEquals(TurnError.FORBIDDEN, e.error(), "permission for a loopback peer");
            TurnException own = turnFailure(f.awaitDone(allocation.createPermission(f.turnServer.address()), 5 * SECOND));
            assertEquals(TurnError.FORBIDDEN, own.error(), "permission for the server's own listening address");
            assertEquals(2, f.count(RelayCounter.FORBIDDEN_PEERS), "403s");
        }
    }

    @Test
    void perAllocationRateLimitDropsBeyondTheBucketAndRefills() {
        TurnServerConfig config = TurnServerConfig.builder().allocationRate(10_000, 10_000).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = a.allocate();
            SimEndpoint peer = f.sim.internet().addHost("192.0.2.77", PunchSim.LINK).bind(6000);
            List<byte[]> peerGot = new ArrayList<>();
            peer.receiver((datagram, sender) -> peerGot.add(PunchSim.bytes(datagram)));
            f.awaitDone(allocation.createPermission(peer.localAddress()), 5 * SECOND).join();
            for (int i = 0; i < 50; i++) {
                allocation.sendTo(peer.localAddress(), f.buffer(new byte[1000]));
            }
            f.sim.runFor(SECOND / 2);
            assertEquals(10, peerGot.size(), "a full 10 000-byte bucket passes ten 1000-byte datagrams");
            assertEquals(40, f.count(RelayCounter.DROPPED_ALLOCATION_RATE), "drops beyond the allocation's rate");
            f.sim.runFor(SECOND);
            for (int i = 0; i < 50; i++) {
                allocation.sendTo(peer.localAddress(), f.buffer(new byte[1000]));
            }
            f.sim.runFor(SECOND / 2);
            assertEquals(20, peerGot.size(), "the refilled bucket passes ten more");
        }
    }

    @Test
    void serverRateLimitDropsBeyondTheServersBucket() {
        TurnServerConfig config = TurnServerConfig.builder().serverRate(5_000, 5_000).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocationA = a.allocate();
            TurnAllocation allocationB = b.allocate(b.config(USER_2, PASSWORD_2));
            SimEndpoint peer = f.sim.internet().addHost("192.0.2.77", PunchSim.LINK).bind(6000);
            List<byte[]> peerGot = new ArrayList<>();
            peer.receiver((datagram, sender) -> peerGot.add(PunchSim.bytes(datagram)));
            f.awaitDone(allocationA.createPermission(peer.localAddress()), 5 * SECOND).join();
            f.awaitDone(allocationB.createPermission(peer.localAddress()), 5 * SECOND).join();
            for (int i = 0; i < 5; i++) {
                allocationA.sendTo(peer.localAddress(), f.buffer(new byte[1000]));
                allocationB.sendTo(peer.localAddress(), f.buffer(new byte[1000]));
            }
            f.sim.runFor(100 * MS);
            assertEquals(5, peerGot.size(), "the server's 5000-byte bucket passes five 1000-byte datagrams in all");
            assertEquals(5, f.count(RelayCounter.DROPPED_SERVER_RATE), "drops beyond the server's rate");
        }
    }
}
