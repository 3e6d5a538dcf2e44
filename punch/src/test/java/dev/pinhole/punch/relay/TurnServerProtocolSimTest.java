package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.relay.TurnServerCounter;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.PASSWORD;
import static dev.pinhole.punch.PunchSim.PASSWORD_2;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.USER;
import static dev.pinhole.punch.PunchSim.USER_2;
import static dev.pinhole.punch.PunchSim.turnFailure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.punch.PunchSim.TurnNode;
import dev.pinhole.protocol.turn.TurnError;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The server's answers, quotas, lifetimes and enforcement, on the simulator. */
class TurnServerProtocolSimTest {
    private static final long SEED = 42;

    private static RawTurnClient raw(PunchSim f, int port) {
        SimEndpoint endpoint = f.publicNode("192.0.2.50", port).endpoint;
        return new RawTurnClient(f, endpoint);
    }

    @Test
    void unauthenticatedAllocateIsChallengedWithRealmAndNonceWithinTheAmplificationBound() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            SimEndpoint endpoint = f.sim.internet().addHost("192.0.2.60", PunchSim.LINK).bind(7000);
            RawTurnClient client = new RawTurnClient(f, endpoint);
            byte[] request = client.request(StunMessageType.METHOD_ALLOCATE, 1,
                w -> w.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, RawTurnClient.REQUESTED_TRANSPORT_UDP), null, null);
            StunReader answer = client.exchange(request);
            assertNotNull(answer, "an answer to the unauthenticated Allocate");
            assertEquals(401, answer.errorCode(), "401 Unauthorized");
            assertEquals("pinhole", answer.findString(StunAttributeType.REALM), "REALM");
            assertEquals(32, answer.findString(StunAttributeType.NONCE).length(), "NONCE length");
            int answerBytes = client.received.get(0).length;
            assertTrue(answerBytes <= request.length + TurnServer.MAX_UNAUTHENTICATED_GROWTH_BYTES,
                "401 of " + answerBytes + " bytes exceeds the " + request.length + "-byte request by more than the bound");
            assertEquals(96, answerBytes, "401 size with the default realm and a FINGERPRINT");
            assertEquals(0, f.turnServer.allocationCount(), "nothing stored before authentication");
            assertEquals(1, f.count(TurnServerCounter.CHALLENGED), "challenges counted");
        }
    }

    @Test
    void secondAllocateOnOneFiveTupleIs437AndARetransmissionGetsTheOriginalAnswer() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            long id = client.newId();
            StunReader first = client.allocate(id, USER, PASSWORD);
            assertEquals(0, RawTurnClient.code(first, USER, client.realm, PASSWORD), "first Allocate succeeds");
            InetSocketAddress relayed = first.findAddress(StunAttributeType.XOR_RELAYED_ADDRESS);
            StunReader again = client.allocate(id, USER, PASSWORD);
            assertEquals(0, RawTurnClient.code(again, USER, client.realm, PASSWORD), "retransmission answered with success");
            assertEquals(relayed, again.findAddress(StunAttributeType.XOR_RELAYED_ADDRESS), "same relayed address");
            StunReader second = client.allocate(client.newId(), USER, PASSWORD);
            assertEquals(437, RawTurnClient.code(second, USER, client.realm, PASSWORD), "a new Allocate on the 5-tuple");
            assertTrue(second.hasMessageIntegrity(), "errors to authenticated requests carry MESSAGE-INTEGRITY");
            assertEquals(1, f.turnServer.allocationCount(), "allocations");
            assertEquals(1, f.count(TurnServerCounter.ALLOCATE_RETRANSMISSIONS), "retransmissions counted");
        }
    }

    @Test
    void requestOnAnotherUsersAllocationIs441() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            assertEquals(0, RawTurnClient.code(client.allocate(client.newId(), USER, PASSWORD), USER, client.realm, PASSWORD),
                "Allocate as alice");
            StunReader refresh = client.exchange(client.request(StunMessageType.METHOD_REFRESH, client.newId(),
                w -> { }, USER_2, PASSWORD_2));
            assertEquals(441, refresh.errorCode(), "Refresh as bob on alice's allocation");
        }
    }

    @Test
    void wrongPasswordFailsWith401() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            TurnNode node = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocation = node.startAllocation(node.config(USER, "wrong"));
            TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));
            assertEquals(TurnError.UNAUTHORIZED, e.error(), "error for a wrong password: " + e.getMessage());
            assertEquals(1, f.count(TurnServerCounter.REJECTED_CREDENTIALS), "rejections counted");
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
            assertTrue(f.count(TurnServerCounter.STALE_NONCES) >= 1, "the server declared the nonce stale");
            assertTrue(allocation.stats().staleNonceRetries() >= 1, "the client retried with the fresh nonce");
            assertEquals(1, f.count(TurnServerCounter.PERMISSIONS_INSTALLED), "permission installed after the retry");
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
            assertEquals(1, f.count(TurnServerCounter.QUOTA_REJECTIONS), "486s");
            assertEquals(1, f.count(TurnServerCounter.CAPACITY_REJECTIONS), "508s");
        }
    }

    @Test
    void allocationLapsesOnVirtualTimeWithoutRefreshAndItsSocketServesTheNextOne() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            StunReader granted = client.allocate(client.newId(), USER, PASSWORD);
            assertEquals(600, granted.uint32(granted.findAttribute(StunAttributeType.LIFETIME)), "default lifetime, s");
            f.sim.runFor(599 * SECOND);
            assertEquals(1, f.turnServer.allocationCount(), "alive just before its lifetime ends");
            f.sim.runFor(10 * SECOND);
            assertEquals(0, f.turnServer.allocationCount(), "swept after its lifetime ended");
            assertEquals(1, f.count(TurnServerCounter.ALLOCATIONS_EXPIRED), "expiries");
            client.challenge();
            StunReader refresh = client.exchange(client.request(StunMessageType.METHOD_REFRESH, client.newId(),
                w -> { }, USER, PASSWORD));
            assertEquals(437, refresh.errorCode(), "Refresh of a lapsed allocation");
            assertEquals(0, RawTurnClient.code(client.allocate(client.newId(), USER, PASSWORD), USER, client.realm,
                PASSWORD), "a new Allocate");
            assertEquals(1, f.turnServer.relaySocketCount(), "the freed relay socket was reused");
        }
    }

    @Test
    void allocationChurnStaysWithinTheSocketPoolAndLeavesNothingBehind() {
        TurnServerConfig config = TurnServerConfig.builder().maxAllocations(3, 3).build();
        try (PunchSim f = PunchSim.withTurnServer(SEED, config)) {
            for (int round = 0; round < 20; round++) {
                RawTurnClient client = raw(f, 7000 + round);
                client.challenge();
                assertEquals(0, RawTurnClient.code(client.allocate(client.newId(), USER, PASSWORD), USER, client.realm,
                    PASSWORD), "Allocate in round " + round);
                assertEquals(0, RawTurnClient.code(client.exchange(client.request(StunMessageType.METHOD_CREATE_PERMISSION,
                    client.newId(), w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS,
                        new InetSocketAddress("192.0.2.99", 9)), USER, PASSWORD)), USER, client.realm, PASSWORD),
                    "CreatePermission in round " + round);
                StunReader deleted = client.exchange(client.request(StunMessageType.METHOD_REFRESH, client.newId(),
                    w -> w.addUInt32(StunAttributeType.LIFETIME, 0), USER, PASSWORD));
                assertEquals(0, deleted.uint32(deleted.findAttribute(StunAttributeType.LIFETIME)), "LIFETIME 0 granted");
            }
            assertEquals(0, f.turnServer.allocationCount(), "allocations after 20 allocate-and-delete rounds");
            assertEquals(0, f.turnServer.permissionCount(), "permissions left behind");
            assertEquals(1, f.turnServer.relaySocketCount(), "one relay socket served every round");
            assertEquals(20, f.count(TurnServerCounter.ALLOCATIONS_DELETED), "deletions");
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
            assertEquals(0, f.count(TurnServerCounter.ALLOCATIONS_EXPIRED), "expiries");
            assertTrue(f.count(TurnServerCounter.REFRESHES) >= 2 * 12, "refreshes every 8 minutes, got "
                + f.count(TurnServerCounter.REFRESHES));
            f.awaitDone(allocationA.close(), 5 * SECOND).join();
            assertEquals(1, f.turnServer.allocationCount(), "allocations after A deallocated");
            assertEquals(1, f.count(TurnServerCounter.ALLOCATIONS_DELETED), "deletions by LIFETIME 0");
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
            assertEquals(1, f.count(TurnServerCounter.ALLOCATIONS_IDLE_EXPIRED), "idle expiries");
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
            assertEquals(1, f.count(TurnServerCounter.DROPPED_NO_PERMISSION), "drops for want of a permission");
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
    void sendIndicationToAPeerWithoutPermissionIsDropped() {
        try (PunchSim f = PunchSim.withTurnServer(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            client.allocate(client.newId(), USER, PASSWORD);
            SimEndpoint peer = f.sim.internet().addHost("192.0.2.77", PunchSim.LINK).bind(6000);
            List<byte[]> peerGot = new ArrayList<>();
            peer.receiver((datagram, sender) -> peerGot.add(PunchSim.bytes(datagram)));
            io.netty.buffer.ByteBuf send = io.netty.buffer.Unpooled.buffer();
            client.writer.begin(send, StunMessageType.of(StunMessageType.METHOD_SEND,
                    dev.pinhole.protocol.stun.StunClass.INDICATION), 99, 99)
                .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer.localAddress())
                .addBytes(StunAttributeType.DATA, new byte[] {7, 7, 7})
                .finish();
            assertNull(client.exchange(PunchSim.bytes(send)), "indications get no answer");
            assertEquals(0, peerGot.size(), "nothing relayed to an unpermitted peer");
            assertEquals(1, f.count(TurnServerCounter.DROPPED_NO_PERMISSION), "drops for want of a permission");
            StunReader permitted = client.exchange(client.request(StunMessageType.METHOD_CREATE_PERMISSION, client.newId(),
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer.localAddress()), USER, PASSWORD));
            assertEquals(0, RawTurnClient.code(permitted, USER, client.realm, PASSWORD), "CreatePermission");
            client.received.clear();
            peer.send(f.buffer(new byte[] {9}), f.turnServer.relayedAddresses().get(0));
            f.sim.runFor(SECOND);
            assertEquals(1, client.received.size(), "a permitted peer's datagram reaches the raw client");
            client.endpoint.send(f.buffer(PunchSim.bytes(send.resetReaderIndex())), f.turnServer.address());
            f.sim.runFor(SECOND);
            assertEquals(1, peerGot.size(), "the Send indication is relayed once permitted");
            assertArrayEquals(new byte[] {7, 7, 7}, peerGot.get(0), "payload");
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
            assertEquals(2, f.count(TurnServerCounter.FORBIDDEN_PEERS), "403s");
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
            assertEquals(40, f.count(TurnServerCounter.DROPPED_ALLOCATION_RATE), "drops beyond the allocation's rate");
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
            assertEquals(5, f.count(TurnServerCounter.DROPPED_SERVER_RATE), "drops beyond the server's rate");
        }
    }
}
