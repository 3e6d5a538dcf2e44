package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;

import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.NatConfig.MappingBehavior;
import dev.pinhole.protocol.nat.NatProfile.Mapping;
import dev.pinhole.protocol.nat.NatProfile.PortAllocation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CandidateGathererTest {
    private static final List<InetSocketAddress> SERVERS = PunchSim.STUN_SERVERS;
    private static final Set<InetAddress> HOST = Set.of(address("10.0.0.2", 0).getAddress());

    private static List<InetSocketAddress> mapped(String... addresses) {
        return Arrays.stream(addresses).map(a -> a == null ? null : address(a.split(":")[0],
                Integer.parseInt(a.split(":")[1]))).toList();
    }

    @Test
    void oneMappingForEveryServerIsEndpointIndependent() {
        NatProfile p = CandidateGatherer.analyse(SERVERS,
                mapped("203.0.113.1:4000", "203.0.113.1:4000", "203.0.113.1:4000", "203.0.113.1:4000"), HOST, 4000);
        assertEquals(Mapping.ENDPOINT_INDEPENDENT, p.mapping());
        assertEquals(PortAllocation.PRESERVING, p.portAllocation(), "external port equals the local one");
    }

    @Test
    void twoPortsOfOneServerSharingAMappingIsAddressDependent() {
        NatProfile p = CandidateGatherer.analyse(SERVERS,
                mapped("203.0.113.1:1024", "203.0.113.1:1024", "203.0.113.1:1025", "203.0.113.1:1026"), HOST, 4000);
        assertEquals(Mapping.ADDRESS_DEPENDENT, p.mapping());
        assertEquals(PortAllocation.SEQUENTIAL, p.portAllocation());
        assertEquals(1, p.portStep());
    }

    @Test
    void aNewMappingPerServerPortIsAddressAndPortDependentAndAConstantStepIsSequential() {
        NatProfile p = CandidateGatherer.analyse(SERVERS,
                mapped("203.0.113.1:5000", "203.0.113.1:5003", "203.0.113.1:5006", "203.0.113.1:5009"), HOST, 4000);
        assertEquals(Mapping.ADDRESS_AND_PORT_DEPENDENT, p.mapping());
        assertEquals(PortAllocation.SEQUENTIAL, p.portAllocation());
        assertEquals(3, p.portStep());
        assertTrue(p.predictable());
    }

    @Test
    void scatteredPortsAreRandomAllocation() {
        NatProfile p = CandidateGatherer.analyse(SERVERS,
                mapped("203.0.113.1:41000", "203.0.113.1:2211", "203.0.113.1:63000", "203.0.113.1:17"), HOST, 4000);
        assertEquals(PortAllocation.RANDOM, p.portAllocation());
        assertFalse(p.predictable());
    }

    @Test
    void theLocalAddressComingBackMeansNoNat() {
        NatProfile p = CandidateGatherer.analyse(SERVERS, mapped("10.0.0.2:4000", null, null, null), HOST, 4000);
        assertEquals(NatProfile.NO_NAT, p);
    }

    @Test
    void noAnswerAtAllLeavesEverythingUnknown() {
        assertEquals(NatProfile.UNKNOWN, CandidateGatherer.analyse(SERVERS, mapped(null, null, null, null), HOST, 4000));
    }

    @Test
    void stepNeedsConsistentSmallDifferences() {
        assertEquals(2, CandidateGatherer.step(List.of(100, 102, 104)));
        assertEquals(-1, CandidateGatherer.step(List.of(100, 99)));
        assertEquals(1, CandidateGatherer.step(List.of(100, 101, 103)), "other users of the NAT add to the step");
        assertEquals(0, CandidateGatherer.step(List.of(100, 5000)), "one large jump is no evidence of a sequence");
        assertEquals(1000, CandidateGatherer.step(List.of(100, 1100, 2100)), "a constant large step is");
        assertEquals(0, CandidateGatherer.step(List.of(100, 105, 103)), "direction changes");
        assertEquals(0, CandidateGatherer.step(List.of(100)));
    }

    @Test
    void selectsUpNonVirtualInterfacesIpv4FirstAndLoopbackOnlyAsALastResort() {
        InetAddress lan = address("192.168.1.5", 0).getAddress();
        InetAddress vpn = address("10.8.0.2", 0).getAddress();
        InetAddress down = address("172.16.0.1", 0).getAddress();
        InetAddress v6 = address("2001:db8::5", 0).getAddress();
        InetAddress linkLocal = address("fe80::1", 0).getAddress();
        InetAddress loop = address("127.0.0.1", 0).getAddress();
        List<HostAddresses.Interface> interfaces = List.of(
                new HostAddresses.Interface("lo", true, true, false, false, List.of(loop)),
                new HostAddresses.Interface("eth0", true, false, false, false, List.of(v6, linkLocal, lan)),
                new HostAddresses.Interface("tun0", true, false, false, true, List.of(vpn)),
                new HostAddresses.Interface("eth1", false, false, false, false, List.of(down)),
                new HostAddresses.Interface("eth0:1", true, false, true, false, List.of(down)));
        assertEquals(List.of(lan), HostAddresses.select(interfaces, HostAddresses.Filter.DEFAULT));
        assertEquals(List.of(lan, vpn, v6), HostAddresses.select(interfaces, new HostAddresses.Filter(true, true)));
        assertEquals(List.of(loop), HostAddresses.select(interfaces.subList(0, 1), HostAddresses.Filter.DEFAULT),
                "loopback when nothing else is up");
    }

    @Test
    void thisMachineHasAtLeastOneUsableHostAddress() throws IOException {
        List<InetAddress> found = HostAddresses.system(HostAddresses.Filter.DEFAULT).addresses();
        assertFalse(found.isEmpty(), "at least loopback");
        for (InetAddress a : found) {
            assertFalse(a.isLinkLocalAddress() || a.isAnyLocalAddress(), "usable: " + a);
        }
    }

    @Test
    void aWildcardSocketHasOneHostCandidatePerAddressWithFallingLocalPreference() throws IOException {
        List<Candidate> c = CandidateGatherer.hostCandidates(address("0.0.0.0", 4000),
                HostAddresses.of(List.of(address("192.168.1.5", 0).getAddress(), address("10.1.1.1", 0).getAddress())));
        assertEquals(2, c.size());
        assertEquals(address("192.168.1.5", 4000), c.get(0).address());
        assertTrue(c.get(0).priority() > c.get(1).priority(), "first interface preferred");
        assertEquals(CandidateType.HOST, c.get(1).type());
    }

    @ParameterizedTest
    @EnumSource(MappingBehavior.class)
    void gatheringInTheSimulatorMeasuresTheNatsMappingAndSequentialPorts(MappingBehavior mapping) {
        try (PunchSim world = PunchSim.withStunServers(3)) {
            Nat nat = world.nat("203.0.113.9", NatConfig.PORT_RESTRICTED_CONE.withMapping(mapping).withSequentialPorts(2));
            PunchSim.TraversalPeer peer = world.peer("p", nat.inside(), "10.0.0.2");
            peer.gather();
            world.runUntil(() -> peer.gathered.isDone(), 10 * SECOND);
            GatheredCandidates g = peer.gathered.join();
            assertEquals(CandidateType.HOST, g.candidates().get(0).type());
            assertEquals(address("10.0.0.2", PunchSim.PEER_PORT), g.candidates().get(0).address());
            Candidate reflexive = g.serverReflexive();
            assertNotNull(reflexive, "a server-reflexive candidate");
            assertEquals(address("10.0.0.2", PunchSim.PEER_PORT), reflexive.base(), "its base is the host candidate");
            assertEquals("203.0.113.9", reflexive.address().getAddress().getHostAddress());
            assertEquals(Mapping.valueOf(mapping.name()), g.nat().mapping(), "measured mapping");
            if (mapping != MappingBehavior.ENDPOINT_INDEPENDENT) {
                assertEquals(PortAllocation.SEQUENTIAL, g.nat().portAllocation());
                assertEquals(2, g.nat().portStep(), "measured step");
                int last = g.mappedAddresses().get(g.mappedAddresses().size() - 1).getPort();
                assertEquals(last, reflexive.address().getPort(), "the reflexive candidate is the newest mapping");
            }
        }
    }

    @Test
    void aPublicHostGetsNoReflexiveCandidate() {
        try (PunchSim world = PunchSim.withStunServers(4)) {
            PunchSim.TraversalPeer peer = world.peer("p", world.internet, "192.0.2.7");
            peer.gather();
            world.runUntil(() -> peer.gathered.isDone(), 10 * SECOND);
            assertEquals(NatProfile.NO_NAT, peer.gathered.join().nat());
            assertNull(peer.gathered.join().serverReflexive(), "the reflexive address equals the host one");
        }
    }

    @Test
    void unreachableServersLeaveHostCandidatesAndAnUnknownNat() {
        try (PunchSim world = PunchSim.withStunServers(5)) {
            Nat nat = world.nat("203.0.113.9", NatConfig.FULL_CONE);
            PunchSim.TraversalPeer peer = world.peer("p", nat.inside(), "10.0.0.2");
            peer.gathered = CandidateGatherer.gather(peer.stun, HostAddresses.of(List.of()),
                    List.of(address("198.51.100.99", 3478)), CandidateGatherer.DEFAULT_TIMING);
            world.runUntil(() -> peer.gathered.isDone(), 10 * SECOND);
            GatheredCandidates g = peer.gathered.join();
            assertEquals(1, g.candidates().size(), "host only: " + g.candidates());
            assertEquals(NatProfile.UNKNOWN, g.nat());
        }
    }
}
