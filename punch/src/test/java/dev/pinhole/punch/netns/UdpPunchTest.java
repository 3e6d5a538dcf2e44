package dev.pinhole.punch.netns;

import static dev.pinhole.punch.netns.LabAssertions.assertCompletes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Simultaneous UDP hole punching between alice (behind nat-a) and bob (behind nat-b), two plain
 * MASQUERADE NATs with the router between them, introduced by the {@link LabServer} (see
 * {@link PunchPeer} for the exchange).
 */
@RequiresNetnsLab
class UdpPunchTest {
    private static final int PORT = 3478;
    private static final int TRIALS = 5;

    /**
     * A fresh lab per test: a failed naive punch leaves conntrack state that remaps the failing
     * socket's port, and a later trial that happened to get the same ephemeral port would inherit it
     * (see NatMappingTest#afterAClashTheNatGivesNewDestinationsTheRemappedPort).
     */
    private NetnsLab lab;

    @BeforeEach
    void buildLab() throws Exception {
        lab = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT);
        lab.java("server", LabServer.class, Integer.toString(PORT));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    /** Runs the trials on both sides; returns how many connected in both directions. */
    private int punch(String sessionPrefix, char mode) throws Exception {
        String server = Udp.format(lab.socketAddress("server", PORT));
        String modes = String.valueOf(mode).repeat(TRIALS);
        LabProcess alice = lab.java("alice", PunchPeer.class, server, "a", sessionPrefix, modes);
        LabProcess bob = lab.java("bob", PunchPeer.class, server, "b", sessionPrefix, modes);
        assertCompletes(lab, alice);
        assertCompletes(lab, bob);
        List<String> aliceTrials = alice.outputLines("TRIAL ");
        List<String> bobTrials = bob.outputLines("TRIAL ");
        assertEquals(TRIALS, aliceTrials.size(), () -> "alice should report every trial\n" + lab.processLogs());
        assertEquals(TRIALS, bobTrials.size(), () -> "bob should report every trial\n" + lab.processLogs());
        int connected = 0;
        for (int i = 0; i < TRIALS; i++) {
            if (aliceTrials.get(i).contains("result=CONNECTED") && bobTrials.get(i).contains("result=CONNECTED")) {
                connected++;
            }
        }
        return connected;
    }

    @Test
    void ttlPrimedPunchConnectsBothWaysEveryTime() throws Exception {
        int connected = punch("primed", 'P');
        System.out.println("netns punch: TTL-primed " + connected + " of " + TRIALS + " connected both ways");
        assertEquals(TRIALS, connected, () -> "every TTL-primed punch should connect both ways\n" + lab.processLogs());
    }

    @Test
    void naivePunchSuccessIsMeasured() throws Exception {
        // Reported, not asserted: a naive punch connected 0 of 10 times on this topology when first measured
        // (the conntrack clash, docs/lab.md).
        int connected = punch("naive", 'N');
        System.out.println("netns punch: naive " + connected + " of " + TRIALS + " connected both ways");
    }
}
