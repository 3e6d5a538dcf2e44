package dev.pinhole.server.relay;

import dev.pinhole.server.RelayCounter;

import static dev.pinhole.server.relay.TurnServerSim.PASSWORD;
import static dev.pinhole.server.relay.TurnServerSim.PASSWORD_2;
import static dev.pinhole.server.relay.TurnServerSim.SECOND;
import static dev.pinhole.server.relay.TurnServerSim.USER;
import static dev.pinhole.server.relay.TurnServerSim.USER_2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The server's answers, lifetimes and enforcement towards a client driven by hand, on the simulator: the
 * challenge, 437 and 441, lapsing and churning allocations, Send indications without a permission.
 */
class TurnServerRawClientSimTest {
    private static final long SEED = 42;

    private static RawTurnClient raw(TurnServerSim f, int port) {
        return new RawTurnClient(f, f.publicEndpoint("192.0.2.50", port));
    }

    @Test
    void unauthenticatedAllocateIsChallengedWithRealmAndNonceWithinTheAmplificationBound() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            SimEndpoint endpoint = f.sim.internet().addHost("192.0.2.60", TurnServerSim.LINK).bind(7000);
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
            assertEquals(1, f.count(RelayCounter.CHALLENGED), "challenges counted");
        }
    }

    @Test
    void secondAllocateOnOneFiveTupleIs437AndARetransmissionGetsTheOriginalAnswer() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
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
            assertEquals(1, f.count(RelayCounter.ALLOCATE_RETRANSMISSIONS), "retransmissions counted");
        }
    }

    @Test
    void requestOnAnotherUsersAllocationIs441() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
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
    void allocationLapsesOnVirtualTimeWithoutRefreshAndItsSocketServesTheNextOne() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            StunReader granted = client.allocate(client.newId(), USER, PASSWORD);
            assertEquals(600, granted.uint32(granted.findAttribute(StunAttributeType.LIFETIME)), "default lifetime, s");
            f.sim.runFor(599 * SECOND);
            assertEquals(1, f.turnServer.allocationCount(), "alive just before its lifetime ends");
            f.sim.runFor(10 * SECOND);
            assertEquals(0, f.turnServer.allocationCount(), "swept after its lifetime ended");
            assertEquals(1, f.count(RelayCounter.ALLOCATIONS_EXPIRED), "expiries");
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
        try (TurnServerSim f = new TurnServerSim(SEED, config)) {
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
            assertEquals(20, f.count(RelayCounter.ALLOCATIONS_DELETED), "deletions");
        }
    }

    @Test
    void sendIndicationToAPeerWithoutPermissionIsDropped() {
        try (TurnServerSim f = new TurnServerSim(SEED, TurnServerConfig.defaults())) {
            RawTurnClient client = raw(f, 7000);
            client.challenge();
            client.allocate(client.newId(), USER, PASSWORD);
            SimEndpoint peer = f.sim.internet().addHost("192.0.2.77", TurnServerSim.LINK).bind(6000);
            List<byte[]> peerGot = new ArrayList<>();
            peer.receiver((datagram, sender) -> peerGot.add(SimFixture.bytes(datagram)));
            io.netty.buffer.ByteBuf send = io.netty.buffer.Unpooled.buffer();
            client.writer.begin(send, StunMessageType.of(StunMessageType.METHOD_SEND,
                    dev.pinhole.protocol.stun.StunClass.INDICATION), 99, 99)
                .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer.localAddress())
                .addBytes(StunAttributeType.DATA, new byte[] {7, 7, 7})
                .finish();
            assertNull(client.exchange(SimFixture.bytes(send)), "indications get no answer");
            assertEquals(0, peerGot.size(), "nothing relayed to an unpermitted peer");
            assertEquals(1, f.count(RelayCounter.DROPPED_NO_PERMISSION), "drops for want of a permission");
            StunReader permitted = client.exchange(client.request(StunMessageType.METHOD_CREATE_PERMISSION, client.newId(),
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer.localAddress()), USER, PASSWORD));
            assertEquals(0, RawTurnClient.code(permitted, USER, client.realm, PASSWORD), "CreatePermission");
            client.received.clear();
            peer.send(f.buffer(new byte[] {9}), f.turnServer.relayedAddresses().get(0));
            f.sim.runFor(SECOND);
            assertEquals(1, client.received.size(), "a permitted peer's datagram reaches the raw client");
            client.endpoint.send(f.buffer(SimFixture.bytes(send.resetReaderIndex())), f.turnServer.address());
            f.sim.runFor(SECOND);
            assertEquals(1, peerGot.size(), "the Send indication is relayed once permitted");
            assertArrayEquals(new byte[] {7, 7, 7}, peerGot.get(0), "payload");
        }
    }
}
