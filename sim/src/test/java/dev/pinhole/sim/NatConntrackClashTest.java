package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimFixture.Inbox;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Linux conntrack trap: two hosts behind MASQUERADE NATs learn each other's mappings from a
 * server and punch; if the peer's first datagram reaches our NAT before our first one left it, our
 * flow to the peer gets another port and the punch never succeeds, however often both retry.
 */
class NatConntrackClashTest {
    private static final InetSocketAddress SERVER = address("198.51.100.1", 3478);
    private final SimFixture f = new SimFixture(30);
    private Nat aliceNat;
    private SimEndpoint alice;
    private SimEndpoint bob;
    private Inbox atAlice;
    private Inbox atBob;
    private Inbox atServer;
    private InetSocketAddress aliceMapped;
    private InetSocketAddress bobMapped;

    @AfterEach
    void noLeaks() {
        f.close();
    }

    private void build(NatConfig config) {
        LinkConfig wan = LinkConfig.builder().delay(10 * MS).build();
        atServer = Inbox.on(f.sim.internet().addHost("198.51.100.1").bind(3478));
        aliceNat = f.sim.internet().addNat("203.0.113.5", config, wan);
        alice = aliceNat.inside().addHost("10.0.0.2").bind(4000);
        bob = f.sim.internet().addNat("203.0.113.6", config, wan).inside().addHost("10.0.0.2").bind(4000);
        atAlice = Inbox.on(alice);
        atBob = Inbox.on(bob);
        sendText(alice, SERVER, "register alice");
        f.sim.runFor(SECOND);
        aliceMapped = atServer.last().from();
        sendText(bob, SERVER, "register bob");
        f.sim.runFor(SECOND);
        bobMapped = atServer.last().from();
    }

    /** Both punch every 100 ms for 10 s; bob starts {@code bobHeadStartNs} before alice. */
    private void punch(long bobHeadStartNs) {
        long start = f.sim.nowNs();
        for (int i = 0; i < 100; i++) {
            f.sim.schedule(start + i * 100 * MS, () -> sendText(bob, aliceMapped, "from bob"));
            f.sim.schedule(start + bobHeadStartNs + i * 100 * MS, () -> sendText(alice, bobMapped, "from alice"));
        }
        f.sim.runFor(bobHeadStartNs + 11 * SECOND);
    }

    @Test
    void punchFailsForeverWhenThePeersFirstDatagramArrivesFirst() {
        build(NatConfig.LINUX_MASQUERADE);
        assertEquals(4000, aliceMapped.getPort(), "port preserved for the server");
        punch(50 * MS);
        assertEquals(0, atAlice.size(), "nothing from bob ever reached alice");
        assertEquals(0, atBob.size(), "nothing from alice ever reached bob");
        InetSocketAddress aliceTowardBob = aliceNat.mappingOf(alice.localAddress(), bobMapped).orElseThrow();
        assertNotEquals(aliceMapped, aliceTowardBob, "alice's flow to bob clashed and got another port");
        assertEquals(aliceMapped, aliceNat.mappingOf(alice.localAddress(), SERVER).orElseThrow(),
                "her flow to the server keeps the preserved port");
    }

    @Test
    void punchSucceedsWhenOurFirstDatagramLeavesBeforeThePeersArrives() {
        build(NatConfig.LINUX_MASQUERADE);
        punch(5 * MS);
        assertTrue(atAlice.size() > 90 && atBob.size() > 90, "both directions work: " + atAlice.size() + ", " + atBob.size());
    }

    @Test
    void withoutTheClashTheSameLatePunchSucceeds() {
        build(NatConfig.LINUX_MASQUERADE.withConntrackClash(false));
        punch(50 * MS);
        assertTrue(atAlice.size() > 90 && atBob.size() > 90, "both directions work: " + atAlice.size() + ", " + atBob.size());
    }

    @Test
    void aStrayEarlyDatagramStillBlocksAWellTimedPunchWithinThirtySeconds() {
        build(NatConfig.LINUX_MASQUERADE);
        sendText(bob, aliceMapped, "early");
        f.sim.runFor(NatConfig.CONNTRACK_UNREPLIED_TIMEOUT_NS - 5 * SECOND);
        punch(5 * MS);
        assertEquals(0, atBob.size(), "the entry bob's early datagram left 25 s ago still clashes");
    }

    @Test
    void theBlockExpiresThirtySecondsAfterThePeersLastDatagram() {
        build(NatConfig.LINUX_MASQUERADE);
        sendText(bob, aliceMapped, "early");
        f.sim.runFor(NatConfig.CONNTRACK_UNREPLIED_TIMEOUT_NS + SECOND);
        punch(5 * MS);
        assertTrue(atBob.size() > 90 && atAlice.size() > 90,
                "31 s later the entry is gone and a well-timed punch works: " + atAlice.size() + ", " + atBob.size());
    }
}
