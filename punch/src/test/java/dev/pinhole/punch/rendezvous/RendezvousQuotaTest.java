package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PunchSim.Peer;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.server.RendezvousServerStats;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimHost;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Registration quotas on the simulator: a flood of REGISTERs from one address, or from many addresses of
 * one /24, stops at its quota instead of filling the table; clients of other networks still register,
 * registered clients keep refreshing through the flood, and the counts free up exactly as registrations
 * are deregistered or expire.
 */
class RendezvousQuotaTest {
    private static final long SEED = 0x0070AL;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);
    /** Flooders' hosts by IP: several sockets share one. */
    private final Map<String, SimHost> hosts = new HashMap<>();

    @AfterEach
    void close() {
        net.close();
    }

    @Test
    void aFloodFromOneAddressStopsAtThePerAddressQuota() {
        // A table that 100 names from one address would fill three times over without the quota.
        net.startServer(b -> b.maxRegistrations(30));
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        List<Flooder> flood = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            flood.add(new Flooder("192.0.2.66", 7000 + i, "flood" + i, i));
        }

        int[] codes = registerAll(flood, 200 * MS);

        assertEquals(8, codes[0], "the default quota of 8 per address registered");
        assertEquals(92, codes[1], "every other one was answered 508");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(92, stats.addressQuotaRefused(), "counted as the per-address quota");
        assertEquals(0, stats.prefixQuotaRefused(), "not as the prefix quota");
        assertEquals(0, stats.serverFull(), "the table never filled");
        assertTrue(flood.get(99).lastReason().contains("registration quota reached: 8 per source address (IPv4 address or IPv6 /64)"),
            "the reason names the quota: " + flood.get(99).lastReason());
        assertEquals(9, net.server.registrationCount(), "bob and 8 flood names");
        assertRefreshedThroughTheFlood(bob, 30 * SECOND);

        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        assertTrue(net.server.isRegistered("alice"), "a client of another network registers");
    }

    @Test
    void aFloodFromManyAddressesOfOneSlash24StopsAtThePrefixQuota() {
        net.startServer(b -> b.maxRegistrations(100));
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        List<Flooder> flood = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            // Two sockets on each of 100 addresses of 192.0.2.0/24: the per-address quota alone would allow all.
            flood.add(new Flooder("192.0.2." + (1 + i / 2), 7000 + i % 2, "flood" + i, i));
        }

        int[] codes = registerAll(flood, 50 * MS);

        assertEquals(64, codes[0], "the default quota of 64 per /24 registered");
        assertEquals(136, codes[1], "every other one was answered 508");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(136, stats.prefixQuotaRefused(), "counted as the prefix quota");
        assertEquals(0, stats.addressQuotaRefused(), "no address held more than 2");
        assertEquals(0, stats.serverFull(), "the table never filled");
        assertTrue(flood.get(199).lastReason().contains("registration quota reached: 64 per network (IPv4 /24 or IPv6 /56)"),
            "the reason names the quota: " + flood.get(199).lastReason());
        assertRefreshedThroughTheFlood(bob, 30 * SECOND);

        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        assertTrue(net.server.isRegistered("alice"), "a client of another network registers");
        assertEquals(66, net.server.registrationCount(), "bob, alice and 64 flood names");
    }

    /**
     * The flood that used to fill the table: 10,000 names from 400 addresses (25 sockets each) in four
     * /24s, all within 20 s. Each /24 now keeps 64, the table is nowhere near full, and a client of
     * another network registers in the middle of it.
     */
    @Test
    void theFloodThatFilledTheTableNowStopsAtTheQuotasOfItsNetworks() {
        net.startServer();
        Peer bob = net.peerBehindNat("bob");
        net.register(bob);
        List<Flooder> flood = new ArrayList<>();
        // Socket by socket across the addresses, so each address sends 2 requests per 0.8 s, within its rate limit.
        for (int socket = 0; socket < 25; socket++) {
            for (int address = 0; address < 400; address++) {
                String ip = "192.0." + (2 + address / 100) + "." + (1 + address % 100);
                flood.add(new Flooder(ip, 7000 + socket, "f" + address + "-" + socket, flood.size()));
            }
        }
        long start = net.sim.nowNs();
        for (int i = 0; i < flood.size(); i++) {
            net.sim.schedule(start + i * 2 * MS, flood.get(i)::requestNonce);
            net.sim.schedule(start + i * 2 * MS + 100 * MS, flood.get(i)::sendRegister);
        }
        net.runFor(10 * SECOND);
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        net.runFor(11 * SECOND);

        RendezvousServerStats stats = net.server.stats();
        assertEquals(4 * 64 + 2, net.server.registrationCount(), "64 per /24, bob and alice");
        assertEquals(10_000 - 4 * 64, stats.addressQuotaRefused() + stats.prefixQuotaRefused(), "the rest refused");
        assertEquals(0, stats.serverFull(), "the table never filled");
        assertEquals(0, stats.rateLimited(), "the quotas did it, not the rate limit");
        assertTrue(net.server.isRegistered("alice"), "registered during the flood");
        assertRefreshedThroughTheFlood(bob, 21 * SECOND);
    }

    @Test
    void theHolderIsNeverRefusedAndTheQuotaFreesUpOnDeregistrationAndExpiry() {
        net.startServer(b -> b.maxRegistrationsPerAddress(2).maxRegistrationsPerPrefix(3));
        Flooder first = new Flooder("192.0.2.66", 7000, "first", 1);
        Flooder second = new Flooder("192.0.2.66", 7001, "second", 2);
        Flooder third = new Flooder("192.0.2.66", 7002, "third", 3);
        Flooder neighbour = new Flooder("192.0.2.67", 7000, "neighbour", 4);
        Flooder fourth = new Flooder("192.0.2.68", 7000, "fourth", 5);
        assertEquals(0, first.register(), "1 of 2 at the address");
        assertEquals(0, second.register(), "2 of 2 at the address");
        assertEquals(508, third.register(), "3 of 2 refused");

        assertEquals(0, first.register(), "a refresh at the quota");
        assertEquals(0, second.registerAs("second-renamed"), "another name from the same socket replaces");
        Flooder rebound = new Flooder("192.0.2.66", 7100, "second-renamed", 2);
        assertEquals(0, rebound.register(), "the holder moving to another port of its address (NAT rebinding)");
        assertEquals(7100, net.server.registeredAddress("second-renamed").getPort(), "moved");
        assertEquals(0, neighbour.register(), "3 of 3 in the /24");
        assertEquals(508, fourth.register(), "4 of 3 in the /24 refused");
        Flooder intruder = new Flooder("192.0.2.66", 7200, "neighbour", 4);
        assertEquals(508, intruder.register(), "a name moving in from another address counts as new there");
        assertEquals("192.0.2.67", net.server.registeredAddress("neighbour").getAddress().getHostAddress(),
            "and stays where it was");

        assertEquals(0, first.deregister(), "first leaves");
        assertEquals(0, third.register(), "its place at the address and in the /24 is free at once");
        assertEquals(508, fourth.register(), "and taken: the /24 is full again");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(2, stats.addressQuotaRefused(), "third and the intruder");
        assertEquals(2, stats.prefixQuotaRefused(), "fourth, twice");

        net.runFor(46 * SECOND);
        assertEquals(0, net.server.registrationCount(), "everything expired");
        List<Flooder> after = List.of(new Flooder("192.0.2.66", 8000, "a", 11), new Flooder("192.0.2.66", 8001, "b", 12),
            new Flooder("192.0.2.68", 8000, "c", 13), new Flooder("192.0.2.68", 8001, "d", 14));
        int[] codes = registerAll(after, 100 * MS);
        assertEquals(3, codes[0], "expiry freed the whole /24: exactly its quota registers again");
        assertEquals(1, codes[1], "and no more");
        assertEquals(3, net.server.stats().prefixQuotaRefused(), "the last one");
    }

    /** Registers each flooder in turn, {@code spacingNs} apart; returns {successes, 508 answers}. */
    private int[] registerAll(List<Flooder> flooders, long spacingNs) {
        int[] codes = new int[2];
        for (Flooder flooder : flooders) {
            int code = flooder.register();
            if (code == 0) {
                codes[0]++;
            } else if (code == RendezvousProtocol.ERROR_SERVER_FULL) {
                codes[1]++;
            }
            net.runFor(spacingNs);
        }
        return codes;
    }

    /**
     * {@code peer} is registered and refreshed every 15 s while the flood ran, {@code floodNs} long (at
     * most 30 s, shorter than a registration's 45 s, so no flood name expired meanwhile), never refused.
     */
    private void assertRefreshedThroughTheFlood(Peer peer, long floodNs) {
        assertTrue(net.server.isRegistered(peer.name()), peer.name() + " is still registered");
        long refreshes = floodNs / RendezvousProtocol.DEFAULT_REFRESH_INTERVAL_NS;
        assertTrue(peer.client().stats().registrations() >= 1 + refreshes,
            "registered and refreshed " + refreshes + " times: " + peer.client().stats().registrations());
        assertEquals(0, peer.client().stats().refreshFailures(), "no refresh refused");
    }

    /**
     * A raw client on one socket: REGISTER (after fetching a nonce) and DEREGISTER by hand, with the key of
     * its owner number (flooders with the same number are one node on several sockets).
     */
    private final class Flooder {
        final RawPeer raw;
        final String name;
        final long owner;

        Flooder(String ip, int port, String name, long owner) {
            this.raw = new RawPeer(hosts.computeIfAbsent(ip, net.sim.internet()::addHost).bind(port), net.serverAddress,
                net.sim.random("flooder " + ip + ":" + port)).identity(RawPeer.identity("flooder " + owner));
            this.name = name;
            this.owner = owner;
        }

        /** First half of {@link #register()} without running the simulator: a padded REGISTER for a nonce. */
        void requestNonce() {
            raw.send(raw.signed(RendezvousProtocol.METHOD_REGISTER, body(name)));
        }

        /** Second half: the REGISTER with the nonce the first half got. */
        void sendRegister() {
            raw.learn();
            raw.send(raw.signed(RendezvousProtocol.METHOD_REGISTER, body(name)));
        }

        int register() {
            return registerAs(name);
        }

        int registerAs(String peerName) {
            return call(RendezvousProtocol.METHOD_REGISTER, body(peerName));
        }

        int deregister() {
            return call(RendezvousProtocol.METHOD_DEREGISTER, body(name));
        }

        private Consumer<StunWriter> body(String peerName) {
            return w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, peerName);
        }

        /** The request, repeated after each 438 with its fresh nonce (at most three times). */
        private int call(int method, Consumer<StunWriter> body) {
            int code = raw.call(method, body, () -> net.runFor(50 * MS));
            for (int i = 0; i < 3 && code == RendezvousProtocol.ERROR_STALE_NONCE; i++) {
                code = raw.call(method, body, () -> net.runFor(50 * MS));
            }
            return code;
        }

        String lastReason() {
            StunReader reader = new StunReader();
            byte[] last = raw.received.get(raw.received.size() - 1);
            if (reader.wrap(Unpooled.wrappedBuffer(last)) != StunParseResult.OK
                || reader.messageClass() != StunClass.ERROR_RESPONSE) {
                return "";
            }
            return reader.errorReason();
        }
    }
}
