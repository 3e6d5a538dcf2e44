package dev.pinhole.punch.netns;

import static dev.pinhole.punch.netns.LabAssertions.assertCompletes;
import static dev.pinhole.punch.netns.LabAssertions.intValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Loss (nft) and rate limits (tc tbf) on the link between nat-a and the router. */
@RequiresNetnsLab
class ImpairmentTest {
    private static final int PORT = 3478;
    private static NetnsLab lab;

    @BeforeAll
    static void buildLab() throws Exception {
        lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT).privateHost("alice", "nat-a")
                .publicHost("server")
                .build();
        lab.java("server", LabServer.class, Integer.toString(PORT));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void removeImpairments() throws Exception {
        lab.loss("nat-a", 0);
        lab.clearRateLimit("nat-a");
    }

    private static String server() {
        return Udp.format(lab.socketAddress("server", PORT));
    }

    @Test
    void totalLossStopsEverythingUntilItIsRemoved() throws Exception {
        lab.loss("nat-a", 100);
        LabProcess blocked = lab.java("alice", LabClient.class, "count", server(), "20", "0", "5");
        assertEquals(1, blocked.awaitExit(LabAssertions.EXIT_LIMIT),
                () -> "with 100 % loss the server should never answer\n" + lab.processLogs());
        lab.loss("nat-a", 0);
        LabProcess open = lab.java("alice", LabClient.class, "count", server(), "20", "0");
        assertCompletes(lab, open);
        assertEquals(20, intValue(lab, open, "ARRIVED"),
                () -> "without loss every datagram should arrive\n" + lab.processLogs());
    }

    @Test
    void partialLossDropsAboutItsShare() throws Exception {
        // Settle the path first (neighbour resolution, the NAT's conntrack entry): a burst sent into a cold
        // path waits on those (in one run none of the 200 arrived), and that is not the loss under test.
        assertCompletes(lab, lab.java("alice", LabClient.class, "count", server(), "1", "0"));
        lab.loss("nat-a", 30);
        LabProcess alice = lab.java("alice", LabClient.class, "count", server(), "200", "0");
        assertCompletes(lab, alice);
        int arrived = intValue(lab, alice, "ARRIVED");
        // Binomial(200, 0.7): mean 140, sd 6.5; outside 100..180 has probability below 1e-9.
        assertTrue(arrived > 100 && arrived < 180,
                () -> "with 30 % loss about 140 of 200 should arrive, " + arrived + " did\n" + lab.processLogs());
    }

    @Test
    void rateLimitDropsWhatExceedsTheBucketInBothDirections() throws Exception {
        // 100 datagrams of 500 B fit every socket buffer on the path, so without a limit all arrive.
        lab.rateLimit("nat-a", 100_000);
        // One direction at a time: an upload filling the bucket would drop the request for the download.
        LabProcess up = lab.java("alice", LabClient.class, "count", server(), "100", "500");
        assertCompletes(lab, up);
        LabProcess down = lab.java("alice", LabClient.class, "blast", server(), "100", "500");
        assertCompletes(lab, down);
        int upArrived = intValue(lab, up, "ARRIVED");
        int downReceived = intValue(lab, down, "RECEIVED");
        // 100 kbit/s drains ~25 datagrams/s after a 3 kB burst: a blast of 100 mostly overflows.
        assertTrue(upArrived > 0 && upArrived < 50, () -> "at 100 kbit/s the bucket's worth of an upload "
                + "burst of 100 should arrive and most should be dropped, " + upArrived + " arrived\n" + lab.processLogs());
        assertTrue(downReceived > 0 && downReceived < 50, () -> "at 100 kbit/s the bucket's worth of a download "
                + "burst of 100 should arrive and most should be dropped, " + downReceived + " arrived\n"
                + lab.processLogs());

        lab.clearRateLimit("nat-a");
        LabProcess upFree = lab.java("alice", LabClient.class, "count", server(), "100", "500");
        assertCompletes(lab, upFree);
        LabProcess downFree = lab.java("alice", LabClient.class, "blast", server(), "100", "500");
        assertCompletes(lab, downFree);
        assertEquals(100, intValue(lab, upFree, "ARRIVED"),
                () -> "without the limit the whole upload burst should arrive\n" + lab.processLogs());
        assertEquals(100, intValue(lab, downFree, "RECEIVED"),
                () -> "without the limit the whole download burst should arrive\n" + lab.processLogs());
    }
}
