package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig.MappingBehavior;
import dev.pinhole.sim.NatConfig.PortAllocation;
import dev.pinhole.sim.SimFixture.Inbox;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 4787 §4.2.1 port assignment: preservation, sequential with a step, random; never overloading. */
class NatPortAllocationTest {
    private static final String SERVER_IP = "198.51.100.1";

    /**
     * Sends from each (inside host, port) in turn to server ports 7000, 7001, ... (one per sender) and
     * returns the external ports the server saw, in order.
     */
    private static List<Integer> externalPorts(SimFixture f, NatConfig config, String[] insideHosts, int[] localPorts,
            int destinations) {
        SimHost server = f.sim.internet().addHost(SERVER_IP);
        List<Inbox> inboxes = new ArrayList<>();
        for (int d = 0; d < destinations; d++) {
            inboxes.add(Inbox.on(server.bind(7000 + d)));
        }
        Nat nat = f.sim.internet().addNat("203.0.113.5", config);
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < insideHosts.length; i++) {
            SimHost host = nat.inside().host(insideHosts[i]);
            if (host == null) {
                host = nat.inside().addHost(insideHosts[i]);
            }
            SimEndpoint ep = host.bind(localPorts[i]);
            for (int d = 0; d < destinations; d++) {
                Inbox inbox = inboxes.get(d);
                int before = inbox.size();
                sendText(ep, address(SERVER_IP, 7000 + d), "x");
                f.sim.runFor(SECOND);
                if (inbox.size() > before) {
                    ports.add(inbox.last().from().getPort());
                } else {
                    ports.add(-1);
                }
            }
        }
        return ports;
    }

    @Test
    void preservingKeepsTheInternalPortAndMovesToTheNextFreeOneWhenTaken() {
        try (SimFixture f = new SimFixture(1)) {
            List<Integer> ports = externalPorts(f, NatConfig.LINUX_MASQUERADE,
                    new String[] {"10.0.0.2", "10.0.0.3", "10.0.0.4"}, new int[] {4000, 4000, 4001}, 1);
            assertEquals(List.of(4000, 4001, 4002), ports,
                    "first keeps 4000; second 4000 is taken so 4001; third's 4001 is taken so 4002");
        }
    }

    @Test
    void sequentialAllocatesFromTheBottomOfTheRangeOneByOne() {
        try (SimFixture f = new SimFixture(1)) {
            NatConfig config = NatConfig.SYMMETRIC.withPortAllocation(PortAllocation.SEQUENTIAL);
            List<Integer> ports = externalPorts(f, config, new String[] {"10.0.0.2"}, new int[] {4000}, 4);
            assertEquals(List.of(1024, 1025, 1026, 1027), ports, "one new mapping per destination, in sequence");
        }
    }

    @Test
    void sequentialWithAStepSkipsThatManyPortsAndWrapsWithinTheRange() {
        try (SimFixture f = new SimFixture(1)) {
            NatConfig config = NatConfig.SYMMETRIC.withSequentialPorts(5).withPortRange(2000, 2010);
            List<Integer> ports = externalPorts(f, config, new String[] {"10.0.0.2"}, new int[] {4000}, 4);
            assertEquals(List.of(2000, 2005, 2010, 2004), ports,
                    "step 5 in an 11-port range: 2000, 2005, 2010, then (2010 + 5) wraps to 2004");
        }
    }

    @Test
    void randomAllocationPicksDistinctPortsInTheRangeReproduciblyFromTheSeed() {
        NatConfig config = NatConfig.SYMMETRIC.withPortRange(20_000, 29_999);
        List<Integer> first;
        try (SimFixture f = new SimFixture(42)) {
            first = externalPorts(f, config, new String[] {"10.0.0.2"}, new int[] {4000}, 20);
        }
        for (int port : first) {
            assertTrue(port >= 20_000 && port <= 29_999, "port " + port + " within 20000-29999");
        }
        assertEquals(20, new HashSet<>(first).size(), "20 distinct ports: " + first);
        int ascendingSteps = 0;
        for (int i = 1; i < first.size(); i++) {
            if (first.get(i) == first.get(i - 1) + 1) {
                ascendingSteps++;
            }
        }
        assertTrue(ascendingSteps < 3, "random ports are not a sequence: " + first);
        try (SimFixture again = new SimFixture(42)) {
            assertEquals(first, externalPorts(again, config, new String[] {"10.0.0.2"}, new int[] {4000}, 20),
                    "same seed, same ports");
        }
        try (SimFixture other = new SimFixture(43)) {
            assertNotEquals(first, externalPorts(other, config, new String[] {"10.0.0.2"}, new int[] {4000}, 20),
                    "another seed, other ports");
        }
    }

    @Test
    void natDropsRatherThanOverloadsWhenThePortRangeIsExhausted() {
        try (SimFixture f = new SimFixture(1)) {
            NatConfig config = NatConfig.SYMMETRIC.withPortAllocation(PortAllocation.SEQUENTIAL)
                    .withMapping(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT).withPortRange(5000, 5001);
            List<Integer> ports = externalPorts(f, config, new String[] {"10.0.0.2"}, new int[] {4000}, 3);
            assertEquals(List.of(5000, 5001, -1), ports, "two ports, then nothing (REQ-3 a: no port overloading)");
            assertEquals(1, f.sim.counters().dropped(DropCause.PORT_EXHAUSTED), "the third datagram was dropped");
        }
    }

    @Test
    void expiredMappingsGiveTheirPortsBack() {
        try (SimFixture f = new SimFixture(1)) {
            NatConfig config = NatConfig.SYMMETRIC.withPortAllocation(PortAllocation.SEQUENTIAL)
                    .withPortRange(5000, 5001).withMappingTimeoutNs(10 * SECOND);
            SimHost server = f.sim.internet().addHost(SERVER_IP);
            Inbox inbox = Inbox.on(server.bind(7000));
            SimEndpoint ep = f.sim.internet().addNat("203.0.113.5", config).inside().addHost("10.0.0.2").bind(4000);
            for (int d = 0; d < 2; d++) {
                sendText(ep, address(SERVER_IP, 7000 + d), "fill");
            }
            f.sim.runFor(11 * SECOND);
            sendText(ep, address(SERVER_IP, 7000), "again");
            f.sim.runFor(SECOND);
            assertEquals(5000, inbox.last().from().getPort(), "an expired mapping's port is allocated again");
            assertEquals(0, f.sim.counters().dropped(DropCause.PORT_EXHAUSTED), "no exhaustion");
        }
    }
}
