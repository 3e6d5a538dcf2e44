package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sender's progress bar on a pseudo-terminal (script(1)) when its receiver is killed mid-transfer. */
class ProgressTerminalProcessTest {
    @TempDir
    Path dir;

    @Test
    void aKilledReceiverLeavesTheSendersBarWhereTheBytesGotNotAtTheEnd() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "needs script(1) for a pseudo-terminal");
        Path file = dir.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(1500L << 20);
        }
        Path out = Files.createDirectory(dir.resolve("out"));
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            String address = line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
            try (CliProcess receiver = CliProcess.start("receive", "--id", "kim", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "kim's registration");
                try (CliProcess sender = CliProcess.startInTerminal("send", file.toString(), "--id", "lee", "--to",
                        "kim", "--rendezvous", address, "--bind", "127.0.0.1:0")) {
                    receiver.awaitLine(l -> l.contains("\"event\":\"file\""), "the file's announcement");
                    receiver.kill();
                    int code = sender.exitCode();
                    List<String> shown = sender.remainingStdout();
                    String all = String.join("\n", shown);
                    assertEquals(ExitCodes.INTERRUPTED, code, sender.describe());
                    assertTrue(shown.stream().anyMatch(l -> l.startsWith("sending ") && l.contains("/1500 MiB")
                            && l.contains("stopped")), "the bar, in MiB, says it stopped: " + all);
                    assertFalse(all.contains("100%") || all.contains("1500/1500"), "never a full bar: " + all);
                }
            }
        }
    }
}
