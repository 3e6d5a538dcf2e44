package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code pinhole demo} as a real process: rendezvous server and two peers in one JVM over loopback UDP. */
class DemoProcessTest {
    @Test
    void demoTransfersAndVerifiesTheGeneratedFile() throws Exception {
        try (CliProcess demo = CliProcess.start("demo", "--size", "8MiB", "--json")) {
            String json = demo.awaitLine(JsonLine::isJsonObject, "the JSON summary");
            assertEquals(0, demo.exitCode(), demo.describe());
            assertEquals("true", JsonLine.field(json, "ok"), json);
            assertEquals(String.valueOf(8L << 20), JsonLine.field(json, "bytes"), json);
            assertTrue(JsonLine.field(json, "sha256").matches("[0-9a-f]{64}"), "hex SHA-256 in " + json);
            assertEquals("direct", JsonLine.field(json, "path"), json);
            for (String key : new String[] {"connect_ms", "seconds", "goodput_mbps", "retransmitted_packets"}) {
                assertTrue(JsonLine.field(json, key).matches("[0-9.]+"), key + " is a number in " + json);
            }
        }
    }

    @Test
    void demoWithInjectedLossStillVerifiesAndRetransmits() throws Exception {
        try (CliProcess demo = CliProcess.start("demo", "--loss", "0.05", "--size", "4MiB", "--json")) {
            String json = demo.awaitLine(JsonLine::isJsonObject, "the JSON summary");
            assertEquals(0, demo.exitCode(), demo.describe());
            assertEquals("true", JsonLine.field(json, "ok"), json);
            assertTrue(JsonLine.field(json, "sha256").matches("[0-9a-f]{64}"), "hex SHA-256 in " + json);
            assertTrue(Long.parseLong(JsonLine.field(json, "retransmitted_packets")) > 0,
                    "5% loss of about 3000 packets must cause retransmissions: " + json);
        }
    }

    @Test
    void relayedDemoRunsThroughTheBuiltInRelayAndVerifies() throws Exception {
        try (CliProcess demo = CliProcess.start("demo", "--relayed", "--size", "4MiB", "--json")) {
            String json = demo.awaitLine(JsonLine::isJsonObject, "the JSON summary");
            assertEquals(0, demo.exitCode(), demo.describe());
            assertEquals("true", JsonLine.field(json, "ok"), json);
            assertEquals("relayed", JsonLine.field(json, "path"), json);
            assertTrue(JsonLine.field(json, "via").startsWith("relay 127.0.0.1:"), "names the relay: " + json);
            assertTrue(JsonLine.field(json, "sha256").matches("[0-9a-f]{64}"), "hex SHA-256 in " + json);
        }
    }
}
