package dev.pinhole.punch.netns;

import static dev.pinhole.punch.netns.LabAssertions.assertCompletes;
import static dev.pinhole.punch.netns.LabAssertions.value;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Filtering of the lab's NATs (RFC 4787 section 5): conntrack lets in only datagrams from the exact
 * address and port an inside host sent to (address-and-port-dependent filtering).
 */
@RequiresNetnsLab
class NatFilteringTest {
    private static final int PORT = 3478;
    private static NetnsLab lab;

    @BeforeAll
    static void buildLab() throws Exception {
        lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT).privateHost("alice", "nat-a")
                .nat("nat-b", NatMapping.ADDRESS_AND_PORT_DEPENDENT).privateHost("bob", "nat-b")
                .publicHost("server").publicHost("direct")
                .build();
        lab.java("server", LabServer.class, Integer.toString(PORT));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    private static LabProcess unsolicitedProbe(String host) throws Exception {
        LabProcess probe = lab.java(host, LabClient.class, "unsolicited", Udp.format(lab.socketAddress("server", PORT)));
        assertCompletes(lab, probe);
        assertEquals("true", value(lab, probe, "FROM-SAME"),
                () -> host + " should get the reply from the port it wrote to\n" + lab.processLogs());
        return probe;
    }

    @Test
    void masqueradeDropsADatagramFromAServerPortTheHostNeverWroteTo() throws Exception {
        LabProcess alice = unsolicitedProbe("alice");
        assertEquals("false", value(lab, alice, "FROM-OTHER"),
                () -> "nat-a should filter the datagram from the server's other port\n" + lab.processLogs());
    }

    @Test
    void randomFullyMasqueradeDropsADatagramFromAServerPortTheHostNeverWroteTo() throws Exception {
        LabProcess bob = unsolicitedProbe("bob");
        assertEquals("false", value(lab, bob, "FROM-OTHER"),
                () -> "nat-b should filter the datagram from the server's other port\n" + lab.processLogs());
    }

    @Test
    void aHostWithoutNatReceivesTheDatagramFromTheOtherPort() throws Exception {
        // The control: the server does send from its other port, and without a NAT it arrives.
        LabProcess direct = unsolicitedProbe("direct");
        assertEquals("true", value(lab, direct, "FROM-OTHER"),
                () -> "a public host should receive the datagram from the server's other port\n" + lab.processLogs());
    }
}
