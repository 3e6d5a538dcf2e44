package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pinhole.sim.NatConfig.FilteringBehavior;
import dev.pinhole.sim.NatConfig.MappingBehavior;
import dev.pinhole.sim.SimFixture.Inbox;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pins RFC 4787 §4.1 mapping and §5 filtering: an internal endpoint X:x behind the NAT sends to
 * X1:x1, X1:x2 and X2:x1 (the RFC's notation for external endpoints), and the servers report the
 * source they see; then the servers send to that mapping and we see which ones get through.
 */
class NatMappingAndFilteringTest {
    private static final String NAT_IP = "203.0.113.5";
    private static final InetSocketAddress X1_X1 = address("198.51.100.1", 3478);
    private static final InetSocketAddress X1_X2 = address("198.51.100.1", 3479);
    private static final InetSocketAddress X2_X1 = address("198.51.100.2", 3478);

    private final SimFixture f = new SimFixture(4787);
    private SimEndpoint x1x1;
    private SimEndpoint x1x2;
    private SimEndpoint x2x1;
    private Inbox atX1x1;
    private Inbox atX1x2;
    private Inbox atX2x1;
    private Nat nat;
    private SimEndpoint client;
    private Inbox atClient;

    @AfterEach
    void noLeaks() {
        f.close();
    }

    private void build(NatConfig config) {
        Network internet = f.sim.internet();
        SimHost server1 = internet.addHost("198.51.100.1");
        SimHost server2 = internet.addHost("198.51.100.2");
        x1x1 = server1.bind(3478);
        x1x2 = server1.bind(3479);
        x2x1 = server2.bind(3478);
        atX1x1 = Inbox.on(x1x1);
        atX1x2 = Inbox.on(x1x2);
        atX2x1 = Inbox.on(x2x1);
        nat = internet.addNat(NAT_IP, config);
        client = nat.inside().addHost("10.0.0.2").bind(4000);
        atClient = Inbox.on(client);
    }

    /** The client sends to X1:x1, X1:x2, X2:x1; returns the mapped source each one saw. */
    private List<InetSocketAddress> mappingsTowardEachDestination() {
        sendText(client, X1_X1, "to X1:x1");
        sendText(client, X1_X2, "to X1:x2");
        sendText(client, X2_X1, "to X2:x1");
        f.sim.runFor(SECOND);
        assertEquals(1, atX1x1.size(), "X1:x1 received the probe");
        assertEquals(1, atX1x2.size(), "X1:x2 received the probe");
        assertEquals(1, atX2x1.size(), "X2:x1 received the probe");
        for (InetSocketAddress seen : List.of(atX1x1.last().from(), atX1x2.last().from(), atX2x1.last().from())) {
            assertEquals(NAT_IP, seen.getAddress().getHostAddress(), "source address is the NAT's external address");
        }
        return List.of(atX1x1.last().from(), atX1x2.last().from(), atX2x1.last().from());
    }

    @Test
    void endpointIndependentMappingReusesOneExternalEndpointForEveryDestination() {
        build(NatConfig.FULL_CONE.withMapping(MappingBehavior.ENDPOINT_INDEPENDENT));
        List<InetSocketAddress> m = mappingsTowardEachDestination();
        assertEquals(m.get(0), m.get(1), "X1:x1 and X1:x2 see the same mapping");
        assertEquals(m.get(0), m.get(2), "X1:x1 and X2:x1 see the same mapping");
        assertEquals(1, nat.counters().mappingsCreated(), "one mapping created");
    }

    @Test
    void addressDependentMappingSharesAMappingOnlyAmongPortsOfOneDestinationAddress() {
        build(NatConfig.FULL_CONE.withMapping(MappingBehavior.ADDRESS_DEPENDENT));
        List<InetSocketAddress> m = mappingsTowardEachDestination();
        assertEquals(m.get(0), m.get(1), "X1:x1 and X1:x2 (same address) see the same mapping");
        assertNotEquals(m.get(0), m.get(2), "X2:x1 (other address) sees another mapping");
        assertEquals(2, nat.counters().mappingsCreated(), "two mappings created");
    }

    @Test
    void addressAndPortDependentMappingGivesEachDestinationEndpointItsOwnMapping() {
        build(NatConfig.FULL_CONE.withMapping(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT));
        List<InetSocketAddress> m = mappingsTowardEachDestination();
        assertEquals(3, Set.copyOf(m).size(), "three distinct mappings, saw " + m);
        assertEquals(3, nat.counters().mappingsCreated(), "three mappings created");
    }

    @Test
    void mappingOfReportsTheMappingServersObserve() {
        build(NatConfig.SYMMETRIC);
        List<InetSocketAddress> m = mappingsTowardEachDestination();
        assertEquals(m.get(1), nat.mappingOf(client.localAddress(), X1_X2).orElseThrow(), "mapping toward X1:x2");
        assertEquals(m.get(2), nat.mappingOf(client.localAddress(), X2_X1).orElseThrow(), "mapping toward X2:x1");
    }

    /** After the client sent to X1:x1 only, each server sends to the mapping; returns who got through. */
    private Set<String> admittedAfterSendingToX1x1() {
        sendText(client, X1_X1, "open");
        f.sim.runFor(SECOND);
        InetSocketAddress mapped = atX1x1.last().from();
        sendText(x1x1, mapped, "from X1:x1");
        sendText(x1x2, mapped, "from X1:x2");
        sendText(x2x1, mapped, "from X2:x1");
        f.sim.runFor(SECOND);
        Set<String> admitted = new TreeSet<>();
        for (SimFixture.Arrival a : atClient.arrivals) {
            admitted.add(a.text());
        }
        return admitted;
    }

    @Test
    void endpointIndependentFilteringAdmitsAnyExternalEndpoint() {
        build(NatConfig.FULL_CONE.withFiltering(FilteringBehavior.ENDPOINT_INDEPENDENT));
        assertEquals(Set.of("from X1:x1", "from X1:x2", "from X2:x1"), admittedAfterSendingToX1x1());
        assertEquals(0, nat.counters().dropped(DropCause.FILTERED), "nothing filtered");
    }

    @Test
    void addressDependentFilteringAdmitsAnyPortOfAnAddressTheClientSentTo() {
        build(NatConfig.FULL_CONE.withFiltering(FilteringBehavior.ADDRESS_DEPENDENT));
        assertEquals(Set.of("from X1:x1", "from X1:x2"), admittedAfterSendingToX1x1());
        assertEquals(1, nat.counters().dropped(DropCause.FILTERED), "X2:x1 filtered");
    }

    @Test
    void addressAndPortDependentFilteringAdmitsOnlyTheEndpointTheClientSentTo() {
        build(NatConfig.FULL_CONE.withFiltering(FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT));
        assertEquals(Set.of("from X1:x1"), admittedAfterSendingToX1x1());
        assertEquals(2, nat.counters().dropped(DropCause.FILTERED), "X1:x2 and X2:x1 filtered");
        assertEquals(2, f.sim.counters().dropped(DropCause.FILTERED), "global counter agrees");
    }

    @Test
    void sendingToAnEndpointOpensTheFilterForItAsAHolePunchDoes() {
        build(NatConfig.PORT_RESTRICTED_CONE);
        sendText(client, X1_X1, "open");
        f.sim.runFor(SECOND);
        InetSocketAddress mapped = atX1x1.last().from();
        sendText(x2x1, mapped, "too early");
        f.sim.runFor(SECOND);
        sendText(client, X2_X1, "punch");
        f.sim.runFor(SECOND);
        sendText(x2x1, mapped, "after punch");
        f.sim.runFor(SECOND);
        assertEquals(List.of("after punch"), atClient.arrivals.stream().map(SimFixture.Arrival::text).toList());
        assertEquals(mapped, atX2x1.last().from(), "the punch used the same (endpoint-independent) mapping");
    }

    @Test
    void unsolicitedDatagramToAnUnmappedPortIsDroppedAsNoMapping() {
        build(NatConfig.FULL_CONE);
        sendText(x1x1, address(NAT_IP, 1024), "unsolicited");
        f.sim.runFor(SECOND);
        assertEquals(0, atClient.size(), "nothing reached the client");
        assertEquals(1, nat.counters().dropped(DropCause.NO_MAPPING), "counted as NO_MAPPING at the NAT");
    }

    @Test
    void repliesArriveFromTheServersRealAddress() {
        build(NatConfig.SYMMETRIC);
        sendText(client, X2_X1, "hello");
        f.sim.runFor(SECOND);
        sendText(x2x1, atX2x1.last().from(), "reply");
        f.sim.runFor(SECOND);
        assertEquals(X2_X1, atClient.last().from(), "the client sees the server's address as source");
        assertEquals("reply", atClient.last().text(), "the reply's payload arrived intact");
        assertEquals(1, nat.counters().translatedInbound(), "one inbound translation");
    }
}
