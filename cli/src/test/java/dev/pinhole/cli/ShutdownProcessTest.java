package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A receiver stopped by SIGTERM frees its name at the rendezvous server at once: its shutdown hook closes
 * the node, whose DEREGISTER leaves before the process exits, so the next receiver with that name registers
 * immediately instead of being refused ("taken") for 45 s.
 */
class ShutdownProcessTest {
    /** What the JVM exits with after SIGTERM (128 + 15), which the hook leaves unchanged. */
    private static final int SIGTERM_EXIT = 143;

    @TempDir
    Path dir;

    @Test
    void aReceiverStoppedBySigtermFreesItsNameForTheNextAtOnce() throws Exception {
        Path out = Files.createDirectory(dir.resolve("out"));
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            String address = line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
            CliProcess first = CliProcess.start("receive", "--id", "frank", "--rendezvous", address,
                    "--out", out.toString(), "--json", "--bind", "127.0.0.1:0");
            try {
                first.awaitLine(l -> l.contains("\"registered\""), "the first receiver's registration");
            } finally {
                // CliProcess.close is Process.destroy(), SIGTERM on Linux: the JVM runs its shutdown hooks.
                first.close();
            }
            assertEquals(SIGTERM_EXIT, first.exitCode(), first.describe());
            // A name still held would be refused with 409 at once and receive would exit: waiting for the
            // registration line then fails at once instead of waiting out the 45 s lifetime.
            try (CliProcess second = CliProcess.start("receive", "--id", "frank", "--rendezvous", address,
                    "--out", out.toString(), "--json", "--bind", "127.0.0.1:0")) {
                second.awaitLine(l -> l.contains("\"registered\""), "the second receiver's registration");
                assertFalse(second.stderr().contains("taken"), second.describe());
            }
        }
    }
}
