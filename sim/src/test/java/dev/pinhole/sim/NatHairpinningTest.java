package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.sim.SimFixture.Inbox;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RFC 4787 §6: a datagram from inside to the NAT's own external address, with and without hairpinning. */
class NatHairpinningTest {
    private static final InetSocketAddress SERVER = address("198.51.100.1", 3478);
    private final SimFixture f = new SimFixture(6);
    private Nat nat;
    private SimEndpoint alice;
    private SimEndpoint bob;
    private Inbox atServer;
    private Inbox atBob;
    private Inbox atAlice;

    @AfterEach
    void noLeaks() {
        f.close();
    }

    private void build(NatConfig config) {
        atServer = Inbox.on(f.sim.internet().addHost("198.51.100.1").bind(3478));
        nat = f.sim.internet().addNat("203.0.113.5", config);
        alice = nat.inside().addHost("10.0.0.2").bind(4000);
        bob = nat.inside().addHost("10.0.0.3").bind(5000);
        atAlice = Inbox.on(alice);
        atBob = Inbox.on(bob);
    }

    /** What the server sees as the source of {@code endpoint}. */
    private InetSocketAddress mappedAddressOf(SimEndpoint endpoint) {
        sendText(endpoint, SERVER, "who am i");
        f.sim.runFor(SECOND);
        return atServer.last().from();
    }

    @Test
    void hairpinnedDatagramCarriesTheSendersExternalMappingAsSource() {
        build(NatConfig.FULL_CONE.withHairpinning(true));
        InetSocketAddress aliceMapped = mappedAddressOf(alice);
        InetSocketAddress bobMapped = mappedAddressOf(bob);
        sendText(alice, bobMapped, "via hairpin");
        f.sim.runFor(SECOND);
        assertEquals(1, atBob.size(), "bob received the hairpinned datagram");
        assertEquals(aliceMapped, atBob.last().from(),
                "REQ-9 a): source is alice's external address and port, not her private one");
        assertEquals(1, nat.counters().hairpinned(), "one datagram hairpinned");
    }

    @Test
    void withoutHairpinningADatagramToTheOwnExternalAddressIsDropped() {
        build(NatConfig.FULL_CONE.withHairpinning(false));
        mappedAddressOf(alice);
        InetSocketAddress bobMapped = mappedAddressOf(bob);
        sendText(alice, bobMapped, "via hairpin");
        f.sim.runFor(SECOND);
        assertEquals(0, atBob.size(), "bob received nothing");
        assertEquals(1, nat.counters().dropped(DropCause.HAIRPIN_DISABLED), "counted as HAIRPIN_DISABLED");
    }

    @Test
    void hairpinnedDatagramsPassTheTargetMappingsFilterLikeAnyInbound() {
        build(NatConfig.PORT_RESTRICTED_CONE.withHairpinning(true));
        InetSocketAddress aliceMapped = mappedAddressOf(alice);
        InetSocketAddress bobMapped = mappedAddressOf(bob);
        sendText(alice, bobMapped, "before bob punched");
        f.sim.runFor(SECOND);
        assertEquals(0, atBob.size(), "filtered: bob never sent to alice's mapping");
        assertEquals(1, nat.counters().dropped(DropCause.FILTERED), "counted as FILTERED");
        sendText(bob, aliceMapped, "punch");
        f.sim.runFor(SECOND);
        assertEquals(1, atAlice.size(), "alice had sent to bob's mapping, so bob's punch gets in");
        sendText(alice, bobMapped, "after bob punched");
        f.sim.runFor(SECOND);
        assertEquals("after bob punched", atBob.last().text(), "now alice gets through");
    }
}
