package dev.pinhole.punch.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NetnsLab;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reading the result lines of the lab mains, with every process log in the failure message. */
final class LabAssertions {
    /** A guard against a hung main, not an expectation of speed: the mains bound their own waits. */
    static final Duration EXIT_LIMIT = Duration.ofSeconds(120);

    private LabAssertions() {}

    /** Waits for {@code process} to exit and asserts it exited with 0. */
    static void assertCompletes(NetnsLab lab, LabProcess process) throws IOException, InterruptedException {
        int exit = process.awaitExit(EXIT_LIMIT);
        assertEquals(0, exit, () -> process.describe() + " should exit with 0, exited with " + exit
                + "; logs of lab " + lab.runId() + ":\n" + lab.processLogs());
    }

    /** The value after {@code key + " "} on the single line that starts with it. */
    static String value(NetnsLab lab, LabProcess process, String key) {
        List<String> lines = process.outputLines(key + " ");
        if (lines.size() != 1) {
            fail("expected one line starting with '" + key + " ' from " + process.describe() + ", got " + lines
                    + "; logs of lab " + lab.runId() + ":\n" + lab.processLogs());
        }
        return lines.get(0).substring(key.length() + 1).strip();
    }

    static int intValue(NetnsLab lab, LabProcess process, String key) {
        return Integer.parseInt(value(lab, process, key));
    }

    /** The mapped addresses a {@code LabClient who} run printed, keyed by the server queried. */
    static Map<String, InetSocketAddress> seen(LabProcess who) {
        Map<String, InetSocketAddress> seen = new LinkedHashMap<>();
        for (String line : who.outputLines("SEEN ")) {
            String[] f = line.split(" ");
            seen.put(f[1], Udp.parse(f[2]));
        }
        return seen;
    }
}
