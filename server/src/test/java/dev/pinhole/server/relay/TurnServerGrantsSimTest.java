package dev.pinhole.server.relay;

import static dev.pinhole.server.relay.TurnServerSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.server.RelayCounter;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * The built-in relay with a {@link RelayGrants} table, as {@code PinholeServer} runs it: credentials of one
 * introduction relay only to the introduced peer (its observed address, its globally routable host and
 * trickled candidates, the relayed addresses of its own allocations made for the same introduction);
 * quotas count per node key; credentials admit new allocations until they expire while a live allocation
 * keeps refreshing. Raw clients on the simulator, seeded.
 */
class TurnServerGrantsSimTest {
    private static final long SEED = 0x6A47L;
    private static final byte[] RELAY_KEY = "the relay's own key, 32 bytes..".getBytes(StandardCharsets.US_ASCII);
    /** Wall-clock time at simulated time 0. */
    private static final long WALL = 1_800_000_000L;
    /** The default credential lifetime: 10 minutes. */
    private static final long LIFETIME_S = 600;

    /** A relay whose credentials are signed with {@link #RELAY_KEY} and checked against the simulated wall clock. */
    private static final class World implements AutoCloseable {
        final TurnServerSim f;
        final RelayGrants grants = new RelayGrants(64);
        final RestCredentials credentials;
        private long nextIntroduction = 0x1000;

        World(TurnServerConfig config) {
            TurnServerSim[] self = new TurnServerSim[1];
            LongSupplier unixSeconds = () -> WALL + self[0].sim.nowNs() / SECOND;
            credentials = new RestCredentials(RELAY_KEY, unixSeconds);
            f = new TurnServerSim(SEED, config, credentials, grants);
            self[0] = f;
        }

        long unixNow() {
            return WALL + f.sim.nowNs() / SECOND;
        }

        /**
         * What the rendezvous server does on CONNECT: both grants of one introduction, each naming the other
         * side's observed address and host candidates; returns {a's credentials, b's credentials}.
         */
        TurnCredentials[] introduce(String a, InetSocketAddress aObserved, List<InetSocketAddress> aHosts,
                                    String b, InetSocketAddress bObserved, List<InetSocketAddress> bHosts) {
            long introduction = nextIntroduction++;
            String aId = RelayGrants.grantId(a, introduction, RendezvousProtocol.ROLE_CONTROLLING);
            String bId = RelayGrants.grantId(b, introduction, RendezvousProtocol.ROLE_CONTROLLED);
            long expiry = unixNow() + LIFETIME_S;
            grants.issue(aId, bId, a, b, bObserved, bHosts, expiry, unixNow());
            grants.issue(bId, aId, b, a, aObserved, aHosts, expiry, unixNow());
            return new TurnCredentials[] {credentials.issue(aId, expiry), credentials.issue(bId, expiry)};
        }

        Client client(String ip, int port, TurnCredentials credentials) {
            return new Client(new RawTurnClient(f, f.publicEndpoint(ip, port)), credentials);
        }

        @Override
        public void close() {
            f.close();
        }
    }

    /** A raw client with its credentials. */
    private record Client(RawTurnClient raw, TurnCredentials credentials) {
        InetSocketAddress address() {
            return raw.endpoint.localAddress();
        }

        /** Challenge, then Allocate; returns the relayed address, or fails with the error code. */
        InetSocketAddress allocate() {
            raw.challenge();
            StunReader answer = raw.allocate(raw.newId(), credentials.username(), credentials.password());
            assertEquals(0, code(answer), "Allocate as " + credentials.username());
            return answer.findAddress(StunAttributeType.XOR_RELAYED_ADDRESS);
        }

        int allocateCode() {
            raw.challenge();
            return code(raw.allocate(raw.newId(), credentials.username(), credentials.password()));
        }

        int permit(InetSocketAddress peer) {
            return code(raw.exchange(raw.request(StunMessageType.METHOD_CREATE_PERMISSION, raw.newId(),
                w -> w.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer), credentials.username(),
                credentials.password())));
        }

        int bind(int channel, InetSocketAddress peer) {
            return code(raw.exchange(raw.request(StunMessageType.METHOD_CHANNEL_BIND, raw.newId(),
                w -> w.addUInt32(StunAttributeType.CHANNEL_NUMBER, channel << 16)
                    .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer), credentials.username(),
                credentials.password())));
        }

        int refresh() {
            return code(raw.exchange(raw.request(StunMessageType.METHOD_REFRESH, raw.newId(), w -> { },
                credentials.username(), credentials.password())));
        }

        /** A Send indication of {@code data} to {@code peer}; runs the simulation 1 s. */
        void send(InetSocketAddress peer, byte[] data) {
            ByteBuf out = Unpooled.buffer();
            raw.writer.begin(out, StunMessageType.of(StunMessageType.METHOD_SEND, StunClass.INDICATION), raw.newId(), 7)
                .addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer)
                .addBytes(StunAttributeType.DATA, data)
                .finish();
            raw.received.clear();
            raw.endpoint.send(raw.f.buffer(SimFixture.bytes(out)), raw.f.turnServer.address());
            raw.f.sim.runFor(SECOND);
        }

        /** ChannelData of {@code data} on {@code channel}; runs the simulation 1 s. */
        void channelData(int channel, byte[] data) {
            byte[] datagram = new byte[4 + data.length];
            datagram[0] = (byte) (channel >>> 8);
            datagram[1] = (byte) channel;
            datagram[3] = (byte) data.length;
            System.arraycopy(data, 0, datagram, 4, data.length);
            raw.received.clear();
            raw.endpoint.send(raw.f.buffer(datagram), raw.f.turnServer.address());
            raw.f.sim.runFor(SECOND);
        }

        int code(StunReader answer) {
            return RawTurnClient.code(answer, credentials.username(), raw.realm, credentials.password());
        }
    }

    /** A plain host on the internet that records what reaches it. */
    private static List<byte[]> listener(SimEndpoint endpoint) {
        List<byte[]> got = new ArrayList<>();
        endpoint.receiver((datagram, sender) -> got.add(SimFixture.bytes(datagram)));
        return got;
    }

    private static InetSocketAddress address(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    @Test
    void credentialsOfAnIntroductionCannotRelayToAThirdAddress() {
        try (World w = new World(TurnServerConfig.defaults())) {
            SimEndpoint bobSocket = w.f.publicEndpoint("192.0.2.20", 5000);
            List<byte[]> bobGot = listener(bobSocket);
            SimEndpoint third = w.f.publicEndpoint("192.0.2.99", 9);
            List<byte[]> thirdGot = listener(third);
            TurnCredentials[] credentials = w.introduce("alice", address("192.0.2.10", 7000), List.of(),
                "bob", bobSocket.localAddress(),
                List.of(address("10.0.0.5", 5000), address("203.0.113.77", 5000)));
            Client alice = w.client("192.0.2.10", 7000, credentials[0]);
            InetSocketAddress relayed = alice.allocate();

            assertEquals(403, alice.permit(third.localAddress()), "CreatePermission for a third address");
            assertEquals(403, alice.bind(0x4000, third.localAddress()), "ChannelBind to a third address");
            assertEquals(403, alice.permit(address("10.0.0.5", 5000)),
                "a private host candidate the peer reported is not granted: it would point into the relay's network");
            assertEquals(403, alice.permit(address("198.51.100.1", 3478)), "the relay's own listening address");
            alice.send(third.localAddress(), new byte[] {1, 2, 3});
            alice.channelData(0x4000, new byte[] {4, 5, 6});
            assertEquals(0, thirdGot.size(), "nothing reached the third address (seed " + SEED + ")");
            assertTrue(w.f.count(RelayCounter.NOT_GRANTED) >= 3, "refusals counted: " + w.f.count(RelayCounter.NOT_GRANTED));
            assertEquals(1, w.f.count(RelayCounter.DROPPED_NO_PERMISSION), "the Send indication without a permission");
            assertEquals(1, w.f.count(RelayCounter.DROPPED_UNBOUND_CHANNEL), "the ChannelData on a refused channel");

            assertEquals(0, alice.permit(bobSocket.localAddress()), "the introduced peer's observed address");
            assertEquals(0, alice.permit(address("203.0.113.77", 5000)), "its public host candidate");
            alice.send(bobSocket.localAddress(), new byte[] {7});
            assertEquals(1, bobGot.size(), "the introduced peer gets the datagram");
            bobSocket.send(w.f.buffer(new byte[] {8}), relayed);
            w.f.sim.runFor(SECOND);
            assertEquals(1, alice.raw().received.size(), "and its answer comes back");

            // A candidate bob trickles to alice extends her grant, if globally routable.
            assertEquals(403, alice.permit(address("203.0.113.200", 4000)), "not yet trickled");
            assertTrue(w.grants.extend("alice", "bob", address("203.0.113.200", 4000)), "a public trickled candidate");
            assertFalse(w.grants.extend("alice", "bob", address("192.168.1.1", 4000)), "a private one is not granted");
            assertFalse(w.grants.extend("alice", "mallory", address("203.0.113.201", 4000)),
                "a candidate from someone alice was not introduced to");
            assertEquals(0, alice.permit(address("203.0.113.200", 4000)), "the trickled candidate is granted now");
            assertEquals(403, alice.permit(address("192.168.1.1", 4000)), "the private one is not");
        }
    }

    @Test
    void bothPeersRelayToEachOtherButNeitherReachesAnotherIntroductionsAllocations() {
        try (World w = new World(TurnServerConfig.defaults())) {
            TurnCredentials[] ab = w.introduce("alice", address("192.0.2.10", 7000), List.of(),
                "bob", address("192.0.2.20", 7000), List.of());
            TurnCredentials[] mc = w.introduce("mallory", address("192.0.2.30", 7000), List.of(),
                "carol", address("192.0.2.40", 7000), List.of());
            Client alice = w.client("192.0.2.10", 7000, ab[0]);
            Client bob = w.client("192.0.2.20", 7000, ab[1]);
            Client mallory = w.client("192.0.2.30", 7000, mc[0]);
            Client carol = w.client("192.0.2.40", 7000, mc[1]);
            InetSocketAddress ra = alice.allocate();
            InetSocketAddress rb = bob.allocate();
            InetSocketAddress rm = mallory.allocate();
            InetSocketAddress rc = carol.allocate();

            assertEquals(0, alice.permit(rb), "alice admits bob's relayed address (the reciprocal grant's allocation)");
            assertEquals(0, bob.permit(ra), "and bob alice's");
            bob.raw().received.clear();
            alice.send(rb, "hello bob".getBytes(StandardCharsets.UTF_8));
            assertEquals(1, bob.raw().received.size(), "alice's datagram crossed both allocations to bob");

            assertEquals(403, mallory.permit(ra), "mallory may not reach alice's allocation");
            assertEquals(403, mallory.bind(0x4001, ra), "nor bind a channel to it");
            assertEquals(403, alice.permit(rc), "alice may not reach carol's either");
            // bob trickles his relayed address through the rendezvous server: the relay's IP enters alice's grant ...
            assertTrue(w.grants.extend("alice", "bob", rb), "a trickled relayed candidate");
            assertEquals(403, alice.permit(rc), "... and still names no other allocation of the relay");
            // Permissions are per IP: mallory's for carol's relayed address covers the relay's IP ...
            assertEquals(0, mallory.permit(rc), "mallory admits carol's relayed address");
            assertEquals(0, carol.permit(rm), "and carol mallory's");
            alice.raw().received.clear();
            mallory.send(ra, "for alice".getBytes(StandardCharsets.UTF_8));
            // ... but datagrams between allocations of this relay pass only between the two sides of one introduction.
            assertEquals(0, alice.raw().received.size(), "nothing from mallory reached alice");
            carol.raw().received.clear();
            alice.send(rc, "for carol".getBytes(StandardCharsets.UTF_8));
            assertEquals(0, carol.raw().received.size(), "nothing from alice reached carol");
            assertEquals(2, w.f.count(RelayCounter.DROPPED_NOT_GRANTED), "both dropped as not granted");
            carol.raw().received.clear();
            mallory.send(rc, "for carol".getBytes(StandardCharsets.UTF_8));
            assertEquals(1, carol.raw().received.size(), "mallory still reaches her own introduced peer");
        }
    }

    @Test
    void expiredCredentialsAreRefusedForAllocateWhileALiveAllocationKeepsRefreshing() {
        try (World w = new World(TurnServerConfig.defaults())) {
            TurnCredentials[] ab = w.introduce("alice", address("192.0.2.10", 7000), List.of(),
                "bob", address("192.0.2.20", 7000), List.of());
            Client alice = w.client("192.0.2.10", 7000, ab[0]);
            alice.allocate();
            // The credentials expire at 600 s; refresh at 500 s (in time) and at 900 and 1400 s (past the expiry).
            for (long at : new long[] {500, 900, 1400}) {
                w.f.sim.runFor(at * SECOND - w.f.sim.nowNs());
                alice.raw().challenge(); // a fresh nonce (they last 10 to 20 minutes)
                assertEquals(0, alice.refresh(), "Refresh of the live allocation at " + at + " s");
            }
            assertEquals(0, alice.permit(address("192.0.2.20", 7000)),
                "a permission for the introduced peer past the expiry, on the live allocation");
            assertEquals(403, alice.permit(address("192.0.2.99", 9)), "and still nothing else");
            assertEquals(1, w.f.turnServer.allocationCount(), "alive at 1400 s");

            Client late = w.client("192.0.2.10", 7001, ab[0]);
            assertEquals(401, late.allocateCode(), "the expired credentials admit no new allocation");
            assertEquals(401, late.allocateCode(), "again 401: the client gives up (Pinhole's does after one)");
            Client bob = w.client("192.0.2.20", 7000, ab[1]);
            assertEquals(401, bob.allocateCode(), "bob's, never used, expired too");
            assertEquals(1, w.f.turnServer.allocationCount(), "no new allocation");
        }
    }

    @Test
    void allocationQuotaHoldsPerNodeKeyAcrossManyUsernames() {
        try (World w = new World(TurnServerConfig.builder().maxAllocations(64, 3).build())) {
            int allocated = 0;
            int refused = 0;
            for (int i = 0; i < 8; i++) {
                // Eight introductions of one node (one key) to eight different peers: eight different usernames.
                TurnCredentials[] pair = w.introduce("mallory-node", address("192.0.2.30", 7000 + i), List.of(),
                    "peer" + i, address("192.0.2.60", 7000 + i), List.of());
                Client mallory = w.client("192.0.2.30", 7000 + i, pair[0]);
                int code = mallory.allocateCode();
                if (code == 0) {
                    allocated++;
                } else {
                    assertEquals(486, code, "beyond the quota: 486 Allocation Quota Reached (RFC 8656)");
                    refused++;
                }
            }
            assertEquals(3, allocated, "allocations of one node key");
            assertEquals(5, refused, "refused");
            assertEquals(5, w.f.count(RelayCounter.QUOTA_REJECTIONS), "counted");
            TurnCredentials[] other = w.introduce("alice", address("192.0.2.10", 7000), List.of(),
                "bob", address("192.0.2.20", 7000), List.of());
            assertEquals(0, w.client("192.0.2.10", 7000, other[0]).allocateCode(), "another node still allocates");
        }
    }

    @Test
    void validlySignedCredentialsWithoutAGrantAreRefused() {
        try (World w = new World(TurnServerConfig.defaults())) {
            // Signed with the relay's key but never issued by the rendezvous server (or already forgotten).
            TurnCredentials unissued = w.credentials.issue("mallory.0000000000000001.0", w.unixNow() + 600);
            Client mallory = w.client("192.0.2.30", 7000, unissued);
            assertEquals(403, mallory.allocateCode(), "no grant, no allocation");
            assertEquals(1, w.f.count(RelayCounter.NOT_GRANTED), "counted");
            assertEquals(0, w.f.turnServer.allocationCount(), "nothing allocated");
        }
    }

    @Test
    void theGrantTableIsBoundedAndForgetsExpiredGrants() {
        RelayGrants grants = new RelayGrants(4);
        for (int i = 0; i < 10; i++) {
            grants.issue("n" + i + ".x.0", null, "n" + i, "p", address("192.0.2.1", 1), List.of(), 1000 + i, 0);
        }
        assertEquals(4, grants.size(), "at most the capacity");
        assertNull(grants.byId("n0.x.0"), "the oldest went first");
        grants.issue("late.x.0", null, "late", "p", address("192.0.2.1", 1), List.of(), 5000, 1008);
        assertEquals(2, grants.size(), "grants whose credentials expired by then (n6 to n8) are forgotten; n9 and the new one stay");
        assertFalse(RelayGrants.grantable(address("100.64.1.1", 1).getAddress()), "carrier-grade NAT space");
        assertFalse(RelayGrants.grantable(address("127.0.0.1", 1).getAddress()), "loopback");
        assertFalse(RelayGrants.grantable(address("169.254.1.1", 1).getAddress()), "link-local");
        assertFalse(RelayGrants.grantable(address("172.16.0.1", 1).getAddress()), "RFC 1918");
        assertFalse(RelayGrants.grantable(address("fd00::1", 1).getAddress()), "IPv6 unique local");
        assertFalse(RelayGrants.grantable(address("224.0.0.1", 1).getAddress()), "multicast");
        assertTrue(RelayGrants.grantable(address("203.0.113.9", 1).getAddress()), "a public address");
        assertTrue(RelayGrants.grantable(address("2001:db8::1", 1).getAddress()), "a public IPv6 address");
    }
}
