package dev.pinhole.punch.netns;

import static dev.pinhole.punch.netns.LabAssertions.assertCompletes;
import static dev.pinhole.punch.netns.LabAssertions.intValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.core.net.UnicastTtl;
import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link UnicastTtl} on a real path: alice - nat-a - router - server. Each hop decrements the
 * TTL, and a router discards a datagram it would have to forward with TTL 0 (RFC 791 section 3.2,
 * RFC 1812 section 5.3.1).
 */
@RequiresNetnsLab
class UnicastTtlTest {
    private static final int PORT = 3478;
    private static final int DATAGRAMS = 5;
    /** Linux's net.ipv4.ip_default_ttl in a fresh namespace. */
    private static final int DEFAULT_TTL = 64;
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

    private static LabProcess sendWithTtl(int ttl) throws Exception {
        LabProcess alice = lab.java("alice", LabClient.class, "ttl", Udp.format(lab.socketAddress("server", PORT)),
                Integer.toString(ttl), Integer.toString(DATAGRAMS));
        assertCompletes(lab, alice);
        assertEquals(ttl, intValue(lab, alice, "TTL-SET"), () -> "the socket should report the TTL just set\n"
                + lab.processLogs());
        assertEquals(DEFAULT_TTL, intValue(lab, alice, "TTL-RESET"),
                () -> "reset should restore the namespace's default TTL\n" + lab.processLogs());
        return alice;
    }

    @Test
    void aDatagramWithTtlTwoPassesTheNatAndDiesAtTheRouter() throws Exception {
        LabProcess alice = sendWithTtl(PunchPeer.PRIME_TTL);
        assertEquals(0, intValue(lab, alice, "ARRIVED"),
                () -> "no TTL-2 datagram should reach the server behind the router\n" + lab.processLogs());
    }

    @Test
    void aDatagramWithTtlThreeReachesTheServerBehindTheRouter() throws Exception {
        LabProcess alice = sendWithTtl(3);
        assertEquals(DATAGRAMS, intValue(lab, alice, "ARRIVED"),
                () -> "every TTL-3 datagram should reach the server\n" + lab.processLogs());
    }
}
