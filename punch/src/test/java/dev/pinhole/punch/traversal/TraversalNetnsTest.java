package dev.pinhole.punch.traversal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.netns.LabServer;
import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Traversal across real Linux NATs: alice behind one {@code MASQUERADE} NAT, bob behind another, a router
 * between them (the lab's usual topology, {@link NetnsLab#twoNats}; docs/lab.md), each peer a {@link TraversalLabPeer} JVM on
 * the real UDP driver. Skipped where network namespaces cannot be built (not root, no iptables).
 */
@RequiresNetnsLab
class TraversalNetnsTest {
    private static final int PORT = 3478;
    private static final int PRIMED_TRIALS = 5;
    private static final int UNPRIMED_TRIALS = 3;
    private static final Duration EXIT_LIMIT = Duration.ofSeconds(120);

    private NetnsLab lab;

    @BeforeEach
    void buildLab() throws Exception {
        lab = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT);
        lab.java("server", LabServer.class, Integer.toString(PORT));
    }

    @AfterEach
    void closeLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    /** Runs one trial per session name; returns each side's RESULT lines. */
    private List<String[]> trials(String prefix, String mode, int trials) throws Exception {
        String server = lab.socketAddress("server", PORT).getAddress().getHostAddress() + ":" + PORT;
        List<String[]> results = new ArrayList<>();
        for (int i = 0; i < trials; i++) {
            String session = prefix + i;
            LabProcess alice = lab.java("alice", TraversalLabPeer.class, server, "a", session, mode);
            LabProcess bob = lab.java("bob", TraversalLabPeer.class, server, "b", session, mode);
            assertEquals(0, alice.awaitExit(EXIT_LIMIT), () -> "alice exits cleanly\n" + lab.processLogs());
            assertEquals(0, bob.awaitExit(EXIT_LIMIT), () -> "bob exits cleanly\n" + lab.processLogs());
            String a = result(alice);
            String b = result(bob);
            if (!a.startsWith("RESULT CONNECTED") || !b.startsWith("RESULT CONNECTED")) {
                b += System.lineSeparator() + "conntrack nat-a:" + System.lineSeparator() + conntrack("nat-a")
                        + "conntrack nat-b:" + System.lineSeparator() + conntrack("nat-b");
            }
            results.add(new String[] {a, b});
        }
        return results;
    }

    /** The NAT's UDP connection-tracking table, for diagnosing a failed trial. */
    private String conntrack(String nat) {
        try {
            return lab.run(nat, "conntrack", "-L", "-p", "udp");
        } catch (IOException e) {
            return "(conntrack unavailable: " + e.getMessage() + ")" + System.lineSeparator();
        }
    }

    private String result(LabProcess process) {
        List<String> lines = process.outputLines("RESULT ");
        assertEquals(1, lines.size(), () -> process.describe() + " reports one result\n" + lab.processLogs());
        return lines.get(0);
    }

    @Test
    void primedTraversalConnectsTwoMasqueradeNatsEveryTime() throws Exception {
        List<String[]> results = trials("primed", "P", PRIMED_TRIALS);
        for (String[] r : results) {
            System.out.println("netns traversal, primed: alice " + r[0] + " | bob " + r[1]);
            assertTrue(r[0].startsWith("RESULT CONNECTED") && r[1].startsWith("RESULT CONNECTED"),
                    () -> "both sides connected and exchanged data: " + String.join(" / ", r) + "\n"
                            + lab.processLogs());
        }
    }

    @Test
    void unprimedTraversalIsMeasured() throws Exception {
        // Reported, not asserted: the conntrack clash (docs/lab.md) defeats an unprimed simultaneous punch on this
        // topology most of the time; the number goes into docs/nat-traversal.md.
        int connected = 0;
        for (String[] r : trials("naive", "N", UNPRIMED_TRIALS)) {
            System.out.println("netns traversal, unprimed: alice " + r[0] + " | bob " + r[1]);
            if (r[0].startsWith("RESULT CONNECTED") && r[1].startsWith("RESULT CONNECTED")) {
                connected++;
            }
        }
        System.out.println("netns traversal, unprimed: " + connected + " of " + UNPRIMED_TRIALS + " connected");
    }
}
