package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PunchSim.Node;
import dev.pinhole.punch.PunchSim.Peer;
import dev.pinhole.punch.RendezvousUnreachableException;

import dev.pinhole.protocol.rendezvous.RendezvousAttributes;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.server.RendezvousServerStats;
import dev.pinhole.sim.NatConfig;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * DEREGISTER on the simulator: a shutdown frees the name at once, only the holder (its key, proven by the
 * session key's integrity) can free it, twice is harmless, and a node's close sends it without waiting long
 * for a server that is gone.
 */
class RendezvousDeregisterTest {
    private static final long SEED = 0xDE0E6L;
    private final PunchSim net = PunchSim.withRendezvousHost(SEED);

    @AfterEach
    void close() {
        net.close();
    }

    @Test
    void aDeregisteredNameCanBeRegisteredAtOnceByAnotherClient() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        Peer other = net.peerBehindNat("other");
        net.register(alice);

        assertTrue(net.await(alice.client().deregister(), 2 * SECOND), "the server confirms it freed the name");

        assertFalse(net.server.isRegistered("alice"), "freed now, not 45 s later");
        assertEquals(1, net.server.stats().deregistered(), "counted");
        Registration again = net.await(other.client().register("alice", List.of()), 5 * SECOND);
        assertEquals("alice", again.name(), "another client (another address and id) takes the name at once");
        net.runFor(60 * SECOND);
        assertTrue(net.server.isRegistered("alice"), "alice's client no longer refreshes, so nothing takes it back");
        assertEquals(net.server.registeredAddress("alice"), other.mappedTowards(net.serverAddress), "the new holder's");
    }

    @Test
    void deregisteringTwiceIsHarmless() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);

        CompletableFuture<Boolean> first = alice.client().deregister();
        assertSame(first, alice.client().deregister(), "a second call while the first runs is the same request");
        assertTrue(net.await(first, 2 * SECOND), "freed");
        alice.client().close();
        net.runFor(2 * SECOND);

        assertEquals(1, net.server.stats().deregistered(), "one registration ended, once");
        assertEquals(0, net.server.stats().deregistrationsRefused(), "the close sent nothing more");
    }

    @Test
    void aRepeatedDeregisterOnTheWireIsAnswered403AndCounted() {
        net.startServer();
        RawPeer raw = rawPeer("192.0.2.70", "carol");
        assertEquals(0, raw.register("carol", () -> net.runFor(100 * MS)));
        assertTrue(net.server.isRegistered("carol"));

        raw.call(RendezvousProtocol.METHOD_DEREGISTER, name("carol"), () -> net.runFor(100 * MS));
        assertEquals(0, raw.lastCode(), "success: carol's registration ended");
        raw.call(RendezvousProtocol.METHOD_DEREGISTER, name("carol"), () -> net.runFor(100 * MS));

        assertEquals(RendezvousProtocol.ERROR_NOT_REGISTERED, raw.lastCode(), "nothing left to end");
        RendezvousServerStats stats = net.server.stats();
        assertEquals(1, stats.deregistered(), "ended once");
        assertEquals(1, stats.deregistrationsRefused(), "the repeat counted");
        assertFalse(net.server.isRegistered("carol"));
    }

    @Test
    void aDeregisterByAnotherKeyLeavesTheRegistrationInPlace() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        RawPeer raw = rawPeer("192.0.2.66", "mallory");
        // The attacker knows alice's name and holds a registration and a valid session of its own.
        assertEquals(0, raw.register("mallory", () -> net.runFor(100 * MS)));

        raw.call(RendezvousProtocol.METHOD_DEREGISTER, name("alice"), () -> net.runFor(100 * MS));

        assertEquals(RendezvousProtocol.ERROR_NOT_REGISTERED, raw.lastCode(), "refused");
        assertTrue(net.server.isRegistered("alice"), "alice keeps her name");
        assertTrue(net.server.isRegistered("mallory"), "and the sender its own");
        assertEquals(0, net.server.stats().deregistered(), "nothing ended");
        assertEquals(1, net.server.stats().deregistrationsRefused(), "counted");
    }

    @Test
    void aDeregisterWithAlicesKeyButNoValidIntegrityIsRefused() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        RawPeer raw = rawPeer("192.0.2.66", "mallory");
        assertEquals(0, raw.register("mallory", () -> net.runFor(100 * MS)));
        // Alice's public key in NODE-KEY, signed with mallory's session key: the server derives alice's.
        raw.send(raw.request(RendezvousProtocol.METHOD_DEREGISTER, name("alice").andThen(
            w -> w.addBytes(RendezvousProtocol.ATTR_NODE_KEY, alice.client().identity().x25519PublicKey())),
            raw.nonce, raw.sessionKey(), true));
        net.runFor(100 * MS);

        assertEquals(RendezvousProtocol.ERROR_UNAUTHENTICATED, raw.lastCode(), "401: not alice's key");
        assertTrue(net.server.isRegistered("alice"), "alice keeps her name");
        assertEquals(0, net.server.stats().deregistered(), "nothing ended");
    }

    @Test
    void aDeregisterOfAnotherNameOrWithoutKeyLeavesTheRegistrationInPlace() {
        net.startServer();
        RawPeer raw = rawPeer("192.0.2.67", "carol");
        assertEquals(0, raw.register("carol", () -> net.runFor(100 * MS)));

        raw.call(RendezvousProtocol.METHOD_DEREGISTER, name("dave"), () -> net.runFor(100 * MS));
        assertEquals(RendezvousProtocol.ERROR_NOT_REGISTERED, raw.lastCode(), "another name: refused");
        raw.send(raw.request(RendezvousProtocol.METHOD_DEREGISTER, name("carol"), raw.nonce, null, true));
        net.runFor(100 * MS);
        assertEquals(RendezvousProtocol.ERROR_NOT_REGISTERED, raw.lastCode(), "no key: refused");
        raw.send(raw.request(RendezvousProtocol.METHOD_DEREGISTER, name("carol").andThen(
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128])), null, null, true));
        net.runFor(100 * MS);
        assertEquals(RendezvousProtocol.ERROR_STALE_NONCE, raw.lastCode(), "no nonce: the usual 438, nothing else");

        assertTrue(net.server.isRegistered("carol"), "carol's registration stands");
        assertEquals(0, net.server.stats().deregistered(), "nothing ended");
        assertEquals(2, net.server.stats().deregistrationsRefused(), "both refusals counted");
    }

    @Test
    void withASharedSecretAnUnsignedDeregisterIsRefusedAsAnyRequestIs() {
        String secret = "deregister secret";
        net.startServer(b -> b.secret(secret));
        Peer alice = net.peerBehindNat("alice", NatConfig.PORT_RESTRICTED_CONE, b -> b.secret(secret));
        net.register(alice);
        RawPeer raw = rawPeer("192.0.2.68", "mallory");
        raw.send(raw.request(RendezvousProtocol.METHOD_DEREGISTER, name("alice").andThen(
            w -> w.addBytes(StunAttributeType.PADDING, new byte[128])), null, null, true));
        net.runFor(100 * MS);
        assertEquals(RendezvousProtocol.ERROR_UNAUTHENTICATED, raw.lastCode(), "401, as for any unsigned request");
        assertTrue(net.server.isRegistered("alice"));

        assertTrue(net.await(alice.client().deregister(), 2 * SECOND), "alice's own, signed, frees the name");
        assertFalse(net.server.isRegistered("alice"));
    }

    @Test
    void closingANodeDeregistersItsName() {
        try (PunchSim world = PunchSim.withNodeServers(SEED)) {
            Node alice = world.node("alice", "203.0.113.1", NatConfig.PORT_RESTRICTED_CONE, "10.0.0.2");
            world.register(alice);
            assertTrue(world.server.isRegistered("alice"));

            CompletableFuture<Boolean> closed = alice.core.close();
            assertTrue(world.await(closed, 2 * SECOND), "the server confirmed");

            assertFalse(world.server.isRegistered("alice"), "freed by the close");
            assertEquals(1, world.server.stats().deregistered(), "counted");
            Node again = world.node("alice", "203.0.113.2", NatConfig.FULL_CONE, "10.1.0.2");
            world.register(again);
            assertTrue(world.server.isRegistered("alice"), "a new node takes the name at once");
        }
    }

    @Test
    void aNodeWhoseServerIsGoneClosesWithinTheDeregisterBound() {
        try (PunchSim world = PunchSim.withNodeServers(SEED)) {
            Node alice = world.node("alice", "203.0.113.1", NatConfig.PORT_RESTRICTED_CONE, "10.0.0.2");
            world.register(alice);
            world.server.close();

            long start = world.sim.nowNs();
            CompletableFuture<Boolean> closed = alice.core.close();
            world.runUntilOrFail(closed::isDone, RendezvousClient.DEREGISTER_TIMING.timeoutNs() + 100 * MS,
                "the close ends within the DEREGISTER bound");

            assertFalse(closed.join(), "nothing confirmed");
            assertTrue(world.sim.nowNs() - start <= RendezvousClient.DEREGISTER_TIMING.timeoutNs() + MS,
                "given up after " + (world.sim.nowNs() - start) / MS + " ms");
        }
    }

    @Test
    void aClientWhoseServerIsGoneGivesUpTheDeregisterQuickly() {
        net.startServer();
        Peer alice = net.peerBehindNat("alice");
        net.register(alice);
        net.stopServer();

        Throwable failure = net.awaitFailure(alice.client().deregister(),
            RendezvousClient.DEREGISTER_TIMING.timeoutNs() + 100 * MS);

        assertInstanceOf(RendezvousUnreachableException.class, failure, "no answer: " + failure);
    }

    private RawPeer rawPeer(String ip, String owner) {
        return new RawPeer(net.sim.internet().addHost(ip).bind(7000), net.serverAddress, net.sim.random("raw-" + ip))
            .identity(RawPeer.identity(owner));
    }

    private static Consumer<StunWriter> name(String name) {
        return w -> w.addString(RendezvousProtocol.ATTR_PEER_NAME, name);
    }
}
