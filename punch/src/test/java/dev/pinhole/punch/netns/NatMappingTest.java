package dev.pinhole.punch.netns;

import static dev.pinhole.punch.netns.LabAssertions.assertCompletes;
import static dev.pinhole.punch.netns.LabAssertions.intValue;
import static dev.pinhole.punch.netns.LabAssertions.seen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UnicastTtl;
import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a server on the public segment sees of hosts behind the lab's NATs (RFC 4787 section 4.1). */
@RequiresNetnsLab
class NatMappingTest {
    private static final int PORT = 3478;
    private static final int SECOND_PORT = 3479;

    private static NetnsLab lab(NatMapping mapping) throws Exception {
        return NetnsLab.builder()
                .nat("nat-a", mapping).privateHost("alice", "nat-a")
                .publicHost("server").publicHost("server2")
                .build();
    }

    /** Three destinations: two ports of one server and a second server. */
    private static List<String> destinations(NetnsLab lab) {
        return List.of(Udp.format(lab.socketAddress("server", PORT)),
                Udp.format(lab.socketAddress("server", SECOND_PORT)),
                Udp.format(lab.socketAddress("server2", PORT)));
    }

    private static LabProcess startServers(NetnsLab lab) throws Exception {
        lab.java("server2", LabServer.class, Integer.toString(PORT));
        return lab.java("server", LabServer.class, Integer.toString(PORT), Integer.toString(SECOND_PORT));
    }

    @Test
    void masqueradeShowsTheNatAddressAndTheInsidePortToEveryDestination() throws Exception {
        try (NetnsLab lab = lab(NatMapping.ENDPOINT_INDEPENDENT)) {
            startServers(lab);
            List<String> destinations = destinations(lab);
            LabProcess alice = lab.java("alice", LabClient.class, args("who", "0", destinations));
            assertCompletes(lab, alice);
            InetSocketAddress expected = new InetSocketAddress(lab.address("nat-a"), intValue(lab, alice, "LOCAL"));
            Map<String, InetSocketAddress> seen = seen(alice);
            for (String destination : destinations) {
                assertEquals(expected, seen.get(destination), () -> "endpoint-independent, port-preserving mapping: "
                        + destination + " should see " + expected + ", saw " + seen + "\n" + lab.processLogs());
            }
        }
    }

    @Test
    void randomFullyGivesEachDestinationItsOwnPort() throws Exception {
        try (NetnsLab lab = lab(NatMapping.ADDRESS_AND_PORT_DEPENDENT)) {
            startServers(lab);
            List<String> destinations = destinations(lab);
            LabProcess alice = lab.java("alice", LabClient.class, args("who", "0", destinations));
            assertCompletes(lab, alice);
            Map<String, InetSocketAddress> seen = seen(alice);
            Set<Integer> ports = new HashSet<>();
            for (String destination : destinations) {
                InetSocketAddress mapped = seen.get(destination);
                assertEquals(lab.address("nat-a"), mapped == null ? null : mapped.getAddress(),
                        () -> destination + " should see the NAT's address; saw " + seen);
                ports.add(mapped.getPort());
            }
            // Three independent random ports from ~64k are all equal with probability ~2e-10.
            assertTrue(ports.size() > 1, () -> "address-and-port-dependent mapping: the three destinations "
                    + "should see different ports, saw " + seen + "\n" + lab.processLogs());
        }
    }

    @Test
    void twoHostsBehindOneNatShareItsAddressAndReachEachOtherDirectlyOnTheLan() throws Exception {
        try (NetnsLab lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT)
                .privateHost("alice", "nat-a").privateHost("carol", "nat-a")
                .publicHost("server").build()) {
            lab.java("server", LabServer.class, Integer.toString(PORT));
            lab.java("carol", LabServer.class, Integer.toString(PORT));
            String server = Udp.format(lab.socketAddress("server", PORT));
            String carolOnTheLan = Udp.format(lab.socketAddress("carol", PORT));
            // Fixed, distinct inside ports: two ephemeral ones could collide and lose port preservation.
            LabProcess alice = lab.java("alice", LabClient.class, "who", "40001", server, carolOnTheLan);
            LabProcess carol = lab.java("carol", LabClient.class, "who", "40002", server);
            assertCompletes(lab, alice);
            assertCompletes(lab, carol);
            assertEquals(new InetSocketAddress(lab.address("nat-a"), 40001), seen(alice).get(server),
                    () -> "the server should see alice as the NAT's address with her port\n" + lab.processLogs());
            assertEquals(new InetSocketAddress(lab.address("nat-a"), 40002), seen(carol).get(server),
                    () -> "the server should see carol as the NAT's address with her port\n" + lab.processLogs());
            assertEquals(new InetSocketAddress(lab.address("alice"), 40001), seen(alice).get(carolOnTheLan),
                    () -> "carol should see alice's private address: the LAN path bypasses the NAT\n"
                            + lab.processLogs());
        }
    }

    @Test
    void aHostOnThePublicSegmentIsSeenAsItself() throws Exception {
        try (NetnsLab lab = lab(NatMapping.ENDPOINT_INDEPENDENT)) {
            startServers(lab);
            String server = Udp.format(lab.socketAddress("server", PORT));
            LabProcess direct = lab.java("server2", LabClient.class, "who", "0", server);
            assertCompletes(lab, direct);
            InetSocketAddress expected = new InetSocketAddress(lab.address("server2"), intValue(lab, direct, "LOCAL"));
            assertEquals(expected, seen(direct).get(server),
                    () -> "no NAT on the path: the server should see the host's own address\n" + lab.processLogs());
        }
    }

    /**
     * Linux's endpoint-independent mapping holds only until a clash. When an inbound datagram has
     * already claimed the reply tuple an outgoing flow needs (the simultaneous-punch trap, see
     * {@link UnicastTtl}), conntrack remaps that flow to a random port; and because NAT reuses
     * the mapping of the newest flow from the same inside socket, every later destination of that
     * socket gets the random port too, while the server it registered with still sees the old one.
     * A failed punch therefore poisons its socket's mapping for as long as the stale entries live
     * (30 s unreplied, refreshed by our own retries): retry from a fresh socket.
     */
    @Test
    void afterAClashTheNatGivesNewDestinationsTheRemappedPort() throws Exception {
        try (NetnsLab lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT).privateHost("alice", "nat-a")
                .nat("nat-b", NatMapping.ENDPOINT_INDEPENDENT).privateHost("bob", "nat-b")
                .publicHost("server").publicHost("server2")
                .build()) {
            startServers(lab);
            String server = Udp.format(lab.socketAddress("server", PORT));
            String server2 = Udp.format(lab.socketAddress("server2", PORT));
            String bobPort = "45000";
            InetSocketAddress bobMapped = new InetSocketAddress(lab.address("nat-b"), Integer.parseInt(bobPort));

            LabProcess registered = lab.java("bob", LabClient.class, "who", bobPort, server);
            assertCompletes(lab, registered);
            assertEquals(bobMapped, seen(registered).get(server),
                    () -> "before any clash the server should see bob's own port\n" + lab.processLogs());

            // alice's datagram reaches nat-b first, unsolicited: nat-b records it (and refuses it).
            LabProcess alice = lab.java("alice", LabClient.class, "knock", "0", Udp.format(bobMapped));
            assertCompletes(lab, alice);
            String aliceMapped = lab.address("nat-a").getHostAddress() + ":" + intValue(lab, alice, "LOCAL");
            // bob now writes to alice from the same port: its reply tuple is taken, so nat-b remaps it.
            LabProcess clash = lab.java("bob", LabClient.class, "knock", bobPort, aliceMapped);
            assertCompletes(lab, clash);

            LabProcess after = lab.java("bob", LabClient.class, "who", bobPort, server, server2);
            assertCompletes(lab, after);
            Map<String, InetSocketAddress> seen = seen(after);
            assertEquals(bobMapped, seen.get(server),
                    () -> "the existing flow to the server should keep its mapping\n" + lab.processLogs());
            assertEquals(lab.address("nat-b"), seen.get(server2).getAddress());
            assertNotEquals(bobMapped.getPort(), seen.get(server2).getPort(),
                    () -> "a new destination should get the clash's random port, not bob's own; saw " + seen
                            + "\n" + lab.processLogs());
        }
    }

    private static String[] args(String mode, String localPort, List<String> destinations) {
        String[] args = new String[2 + destinations.size()];
        args[0] = mode;
        args[1] = localPort;
        for (int i = 0; i < destinations.size(); i++) {
            args[2 + i] = destinations.get(i);
        }
        return args;
    }
}
