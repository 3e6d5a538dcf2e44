package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code pinhole --help} lists every command with a summary that stands on its own. */
class HelpProcessTest {
    @Test
    void theTopLevelHelpSummarisesEveryCommandInFull() throws Exception {
        try (CliProcess p = CliProcess.start("--help")) {
            assertEquals(0, p.exitCode(), p.describe());
            List<String> lines = new ArrayList<>(p.remainingStdout());
            Map<String, String> summaries = new LinkedHashMap<>();
            String current = null;
            boolean inCommands = false;
            for (String line : lines) {
                if (line.equals("Commands:")) {
                    inCommands = true;
                } else if (inCommands && line.isBlank()) {
                    break;
                } else if (inCommands && line.startsWith("  ") && !line.startsWith("   ")) {
                    String[] parts = line.strip().split("\\s+", 2);
                    current = parts[0];
                    summaries.put(current, parts.length > 1 ? parts[1] : "");
                } else if (inCommands && current != null) {
                    summaries.merge(current, " " + line.strip(), String::concat);
                }
            }
            assertEquals(List.of("demo", "rendezvous", "nat-type", "send", "receive", "chat", "id"),
                    new ArrayList<>(summaries.keySet()), "every command: " + p.describe());
            summaries.forEach((command, summary) -> {
                assertTrue(summary.endsWith("."), command + "'s summary is a whole sentence: " + summary);
                assertFalse(summary.endsWith(":"), command + "'s summary is not cut: " + summary);
            });
            assertTrue(summaries.get("chat").contains("send <user> <message>"), summaries.get("chat"));
        }
    }
}
