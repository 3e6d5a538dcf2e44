package dev.pinhole.punch.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsEnvironment;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fixture itself: the topology it promises, and that nothing outlives it. */
@RequiresNetnsLab
class NetnsLabTest {
    private static NetnsEnvironment.Tools tools() {
        return NetnsEnvironment.probe().tools();
    }

    @Test
    void buildsTheDescribedTopologyWithRouterNatsAndHosts() throws Exception {
        try (NetnsLab lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT).privateHost("alice", "nat-a")
                .privateHost("carol", "nat-a")
                .nat("nat-b", NatMapping.ADDRESS_AND_PORT_DEPENDENT).privateHost("bob", "nat-b")
                .publicHost("server").publicHost("direct")
                .build()) {
            assertEquals(List.of("router", "nat-a", "alice", "carol", "nat-b", "bob", "server", "direct"), lab.nodes());
            assertEquals(InetAddress.getByName("192.0.2.1"), lab.address("router"));
            assertEquals(InetAddress.getByName("203.0.113.2"), lab.address("nat-a"));
            assertEquals(InetAddress.getByName("198.51.100.2"), lab.address("nat-b"));
            assertEquals(InetAddress.getByName("10.0.1.1"), lab.lanAddress("nat-a"));
            assertEquals(InetAddress.getByName("10.0.1.2"), lab.address("alice"));
            assertEquals(InetAddress.getByName("10.0.1.3"), lab.address("carol"));
            assertEquals(InetAddress.getByName("10.0.2.2"), lab.address("bob"));
            assertEquals(InetAddress.getByName("192.0.2.2"), lab.address("server"));
            assertEquals(InetAddress.getByName("192.0.2.3"), lab.address("direct"));

            assertTrue(lab.run("alice", "ip", "-o", "-4", "addr", "show", "dev", "eth0").contains("10.0.1.2/24"),
                    "alice's eth0 should carry 10.0.1.2/24");
            assertTrue(lab.run("alice", "ip", "route", "show", "default").contains("via 10.0.1.1"),
                    "alice's default route should go through nat-a");
            assertTrue(lab.run("nat-a", "ip", "route", "show", "default").contains("via 203.0.113.1"),
                    "nat-a's default route should go to the router");
            assertEquals("", lab.run("router", "ip", "route", "show", "default").strip(),
                    "the router must have no default route: nothing may leave the lab");
            assertEquals("1", lab.run("router", "cat", "/proc/sys/net/ipv4/ip_forward").strip(),
                    "the router should forward");
            String natA = lab.run("nat-a", lab.iptables(), "-w", "-t", "nat", "-S", "POSTROUTING");
            String natB = lab.run("nat-b", lab.iptables(), "-w", "-t", "nat", "-S", "POSTROUTING");
            assertTrue(natA.contains("-o wan -j MASQUERADE") && !natA.contains("random-fully"),
                    () -> "nat-a should masquerade without --random-fully: " + natA);
            assertTrue(natB.contains("-o wan -j MASQUERADE --random-fully"),
                    () -> "nat-b should masquerade with --random-fully: " + natB);
            assertTrue(lab.run("nat-a", "ip", "-o", "link", "show", "master", "lan").contains("to-carol"),
                    "carol should be a port of nat-a's LAN bridge");

            LabProcess addresses = lab.exec("bob", List.of("ip", "-o", "-4", "addr", "show"));
            assertEquals(0, addresses.awaitExit(LabAssertions.EXIT_LIMIT), addresses::output);
            assertTrue(addresses.output().contains("10.0.2.2/24") && !addresses.output().contains("10.0.1."),
                    () -> "exec should run in bob's namespace and capture its output, got " + addresses.output());
        }
    }

    @Test
    void closeKillsItsProcessesAndRemovesEveryNamespaceEvenWhenTheTestFails() throws Exception {
        NetnsLab lab = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT);
        String runId = lab.runId();
        LabProcess server;
        try (lab) {
            List<String> namespaces = NetnsLab.namespacesStartingWith(runId);
            assertEquals(6, namespaces.size(), () -> "one namespace per node, got " + namespaces);
            server = lab.java("server", LabServer.class, "3478");
            assertThrows(AssertionError.class, () -> {
                try (NetnsLab inner = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT,
                        NatMapping.ADDRESS_AND_PORT_DEPENDENT)) {
                    inner.java("server", LabServer.class, "3478");
                    throw new AssertionError("a test failing inside the lab");
                }
            });
        }
        assertFalse(server.isAlive(), "close() should stop the lab's processes");
        assertEquals(List.of(), NetnsLab.namespacesStartingWith(runId), "no namespace of the lab should remain");
        assertEquals(List.of(), NetnsLab.namespacesStartingWith(
                        NetnsEnvironment.NAMESPACE_PREFIX + ProcessHandle.current().pid() + "-"),
                "no namespace of this run should remain, the failed inner lab's included");
        System.out.println("netns lab: two NATs, two hosts and a server built in " + lab.buildTime().toMillis()
                + " ms, torn down in " + lab.teardownTime().orElseThrow().toMillis() + " ms");
    }

    @Test
    void aBuildThatFailsHalfwayRemovesWhatItCreated() throws Exception {
        // This JVM's namespaces only: another run on the machine may build labs meanwhile.
        String thisRun = NetnsEnvironment.NAMESPACE_PREFIX + ProcessHandle.current().pid() + "-";
        List<String> before = NetnsLab.namespacesStartingWith(thisRun);
        IOException failure = assertThrows(IOException.class, () -> NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT).privateHost("alice", "nat-a")
                .publicHost("server")
                .failAfterCommands(12)
                .build());
        assertTrue(failure.getMessage().contains("failure injected"), failure::getMessage);
        assertEquals(before, NetnsLab.namespacesStartingWith(thisRun),
                "a failed build should leave no namespace behind");
    }

    @Test
    void labsOpenAtTheSameTimeGetDistinctNamespaces() throws Exception {
        try (NetnsLab first = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT);
             NetnsLab second = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT)) {
            assertNotEquals(first.runId(), second.runId());
            assertNotEquals(first.namespace("alice"), second.namespace("alice"));
            assertEquals(first.address("alice"), second.address("alice"), "the same plan gives the same addresses");
            assertEquals(6, NetnsLab.namespacesStartingWith(first.runId()).size());
            assertEquals(6, NetnsLab.namespacesStartingWith(second.runId()).size());
        }
    }

    @Test
    void theSweepRemovesNamespacesOfDeadRunsAndKeepsThoseOfLiveOnes() throws Exception {
        Process finished = new ProcessBuilder("true").start();
        finished.waitFor();
        long deadPid = finished.pid();
        // The JVM that forked this one: alive, and started before the namespace "it" creates below.
        long livePid = ProcessHandle.current().parent().orElseThrow().pid();
        Instant thisRunStarted = ProcessHandle.current().info().startInstant().orElseThrow();
        // Both created before this JVM started, as a previous or concurrent run's namespaces are.
        String earlier = Long.toString(thisRunStarted.minusSeconds(60).toEpochMilli(), 36);
        String justBefore = Long.toString(thisRunStarted.minusMillis(1).toEpochMilli(), 36);
        String later = Long.toString(Instant.now().plusSeconds(60).toEpochMilli(), 36);
        String stale = "phl-" + deadPid + "-" + earlier + "-1-router";
        String liveOwner = "phl-" + livePid + "-" + justBefore + "-1-router";
        String newerThanThisRun = "phl-" + deadPid + "-" + later + "-1-router";
        List<String> created = new ArrayList<>();
        try {
            for (String name : List.of(stale, liveOwner, newerThanThisRun)) {
                NetnsEnvironment.run(List.of(tools().ip().toString(), "netns", "add", name));
                created.add(name);
            }
            // Other dead runs' leftovers may go too; these three are what this test decides.
            List<String> removed = NetnsEnvironment.sweepStale(tools().ip());
            assertTrue(removed.contains(stale) && !removed.contains(liveOwner) && !removed.contains(newerThanThisRun),
                    () -> "only the namespace of a dead, earlier run should be swept, swept " + removed);
            assertEquals(List.of(), NetnsLab.namespacesStartingWith(stale));
            assertEquals(List.of(liveOwner), NetnsLab.namespacesStartingWith(liveOwner));
            assertEquals(List.of(newerThanThisRun), NetnsLab.namespacesStartingWith(newerThanThisRun));
        } finally {
            for (String name : created) {
                if (!NetnsLab.namespacesStartingWith(name).isEmpty()) {
                    NetnsEnvironment.deleteNamespace(tools().ip(), name);
                }
            }
        }
    }

    @Test
    void rejectsNodeNamesThatWouldNotFitAnInterfaceName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NetnsLab.builder().publicHost("a-very-long-name"));
        assertTrue(e.getMessage().contains("interface name"), e::getMessage);
        assertThrows(IllegalArgumentException.class, () -> NetnsLab.builder().privateHost("alice", "nat-x"));
        assertThrows(IllegalArgumentException.class, () -> NetnsLab.builder().publicHost("router"));
    }
}
