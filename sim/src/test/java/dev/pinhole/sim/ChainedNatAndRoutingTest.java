package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimFixture.Inbox;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Chained NATs (a home NAT behind a carrier-grade NAT) and routing between realms. */
class ChainedNatAndRoutingTest {
    private static final InetSocketAddress SERVER = address("198.51.100.1", 3478);
    private final SimFixture f = new SimFixture(6888);

    @AfterEach
    void noLeaks() {
        f.close();
    }

    @Test
    void homeNatBehindCarrierNatTranslatesTwiceOutAndTwiceBackIn() {
        Network internet = f.sim.internet();
        SimEndpoint server = internet.addHost("198.51.100.1").bind(3478);
        Inbox atServer = Inbox.on(server);
        Nat carrier = internet.addNat("203.0.113.9", NatConfig.PORT_RESTRICTED_CONE);
        Nat home = carrier.inside().addNat("100.64.0.2", NatConfig.LINUX_MASQUERADE);
        SimEndpoint alice = home.inside().addHost("192.168.1.2").bind(4000);
        Inbox atAlice = Inbox.on(alice);

        sendText(alice, SERVER, "hello");
        f.sim.runFor(SECOND);
        InetSocketAddress seen = atServer.last().from();
        assertEquals("203.0.113.9", seen.getAddress().getHostAddress(), "the server sees the carrier's address");
        InetSocketAddress homeMapping = home.mappingOf(alice.localAddress(), SERVER).orElseThrow();
        assertEquals(address("100.64.0.2", 4000), homeMapping, "the home NAT preserved the port in carrier space");
        assertEquals(seen, carrier.mappingOf(homeMapping, SERVER).orElseThrow(),
                "the carrier mapped the home NAT's mapping to what the server saw");

        sendText(server, seen, "reply");
        f.sim.runFor(SECOND);
        assertEquals("reply", atAlice.last().text(), "the reply came back through both NATs");
        assertEquals(SERVER, atAlice.last().from(), "from the server's own address");
        for (Nat nat : new Nat[] {carrier, home}) {
            assertEquals(1, nat.counters().translatedOutbound(), nat + " translated once outbound");
            assertEquals(1, nat.counters().translatedInbound(), nat + " translated once inbound");
        }
    }

    @Test
    void customersOfOneCarrierReachEachOtherByHairpinningAtTheCarrier() {
        Network internet = f.sim.internet();
        Inbox atServer = Inbox.on(internet.addHost("198.51.100.1").bind(3478));
        Nat carrier = internet.addNat("203.0.113.9", NatConfig.FULL_CONE);
        SimEndpoint alice = carrier.inside().addNat("100.64.0.2", NatConfig.FULL_CONE).inside()
                .addHost("192.168.1.2").bind(4000);
        SimEndpoint bob = carrier.inside().addNat("100.64.0.3", NatConfig.FULL_CONE).inside()
                .addHost("192.168.1.2").bind(4000);
        Inbox atBob = Inbox.on(bob);
        sendText(alice, SERVER, "alice");
        f.sim.runFor(SECOND);
        InetSocketAddress aliceSeen = atServer.last().from();
        sendText(bob, SERVER, "bob");
        f.sim.runFor(SECOND);
        InetSocketAddress bobSeen = atServer.last().from();
        sendText(alice, bobSeen, "hi bob");
        f.sim.runFor(SECOND);
        assertEquals("hi bob", atBob.last().text(), "delivered by hairpinning at the carrier NAT");
        assertEquals(aliceSeen, atBob.last().from(), "bob sees alice's public mapping");
        assertEquals(1, carrier.counters().hairpinned());
    }

    @Test
    void hostsInOneRealmTalkDirectlyWithoutTranslation() {
        Nat nat = f.sim.internet().addNat("203.0.113.5", NatConfig.SYMMETRIC);
        SimEndpoint alice = nat.inside().addHost("10.0.0.2").bind(4000);
        SimEndpoint bob = nat.inside().addHost("10.0.0.3").bind(4000);
        Inbox atBob = Inbox.on(bob);
        sendText(alice, bob.localAddress(), "lan");
        f.sim.runFor(SECOND);
        assertEquals(alice.localAddress(), atBob.last().from(), "bob sees alice's private address");
        assertEquals(0, nat.counters().translatedOutbound(), "the NAT never saw it");
    }

    @Test
    void unknownPublicAddressIsUnroutable() {
        SimEndpoint a = f.sim.internet().addHost("198.51.100.1").bind(1);
        assertTrue(sendText(a, address("192.0.2.1", 9), "nowhere"), "send hands it to the network");
        f.sim.runFor(SECOND);
        assertEquals(1, f.sim.counters().dropped(DropCause.UNROUTABLE));
    }

    @Test
    void privateAddressesAreUnreachableFromTheInternet() {
        SimEndpoint outsider = f.sim.internet().addHost("198.51.100.1").bind(1);
        Inbox atInside = Inbox.on(f.sim.internet().addNat("203.0.113.5", NatConfig.FULL_CONE).inside()
                .addHost("10.0.0.2").bind(4000));
        sendText(outsider, address("10.0.0.2", 4000), "in?");
        f.sim.runFor(SECOND);
        assertEquals(0, atInside.size(), "nothing reached the private host");
        assertEquals(1, f.sim.counters().dropped(DropCause.UNROUTABLE));
    }

    @Test
    void datagramToAnUnboundPortIsDroppedAsNoListener() {
        SimHost server = f.sim.internet().addHost("198.51.100.1");
        SimEndpoint a = f.sim.internet().addHost("198.51.100.2").bind(1);
        SimEndpoint closed = server.bind(3478);
        closed.close();
        sendText(a, address("198.51.100.1", 3478), "anyone?");
        sendText(a, address("198.51.100.1", 9999), "anyone?");
        f.sim.runFor(SECOND);
        assertEquals(2, server.counters().dropped(DropCause.NO_LISTENER), "both counted at the server host");
    }

    @Test
    void sendIsRejectedLocallyOnlyForClosedEndpointsAndImpossibleDatagrams() throws Exception {
        SimEndpoint a = f.sim.internet().addHost("198.51.100.2").bind(1);
        assertFalse(sendText(a, InetSocketAddress.createUnresolved("example.org", 53), "x"), "unresolved name");
        assertFalse(sendText(a, new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 53), "x"), "IPv6");
        io.netty.buffer.ByteBuf tooBig = a.allocator().buffer(65_508);
        tooBig.writeZero(65_508);
        assertFalse(a.send(tooBig, SERVER), "65508 bytes exceed the largest UDP payload over IPv4");
        assertEquals(0, tooBig.refCnt(), "a rejected datagram is released too");
        a.close();
        assertFalse(sendText(a, SERVER, "closed"), "closed endpoint");
        assertEquals(4, f.sim.counters().dropped(DropCause.SEND_REJECTED), "counted as SEND_REJECTED");
        assertEquals(4, f.sim.counters().sent(), "and as sent");
    }

    @Test
    void addressesMustBeUniqueInARealmButMayRepeatAcrossRealms() {
        Network internet = f.sim.internet();
        internet.addHost("198.51.100.1");
        assertThrows(IllegalArgumentException.class, () -> internet.addHost("198.51.100.1"));
        assertThrows(IllegalArgumentException.class, () -> internet.addNat("198.51.100.1", NatConfig.FULL_CONE));
        assertThrows(IllegalArgumentException.class, () -> internet.addHost("10.0.0.256"));
        assertThrows(IllegalArgumentException.class, () -> internet.addHost("10.0.0"));
        internet.addNat("203.0.113.1", NatConfig.FULL_CONE).inside().addHost("10.0.0.2");
        internet.addNat("203.0.113.2", NatConfig.FULL_CONE).inside().addHost("10.0.0.2");
    }
}
