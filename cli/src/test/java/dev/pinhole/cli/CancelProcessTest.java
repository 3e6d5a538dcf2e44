package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cancelling one side of a transfer (SIGTERM here, handled as Ctrl-C is): that side exits with the signal's
 * status, and the other hears why ("lee cancelled the transfer") and exits {@link ExitCodes#PEER_CANCELLED},
 * not with the code of a lost connection; a cancelled demo leaves no files.
 */
class CancelProcessTest {
    /** 128 + SIGTERM: the tests send SIGTERM (CliProcess.terminate says why), which the CLI handles as Ctrl-C. */
    private static final int SIGNAL_EXIT = 143;

    @TempDir
    Path dir;

    private Path bigFile() throws Exception {
        Path file = dir.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(1500L << 20);
        }
        return file;
    }

    private static String listeningAddress(CliProcess server) throws InterruptedException {
        String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    @Test
    void ctrlCOnTheSenderTellsTheReceiver() throws Exception {
        Path file = bigFile();
        Path out = Files.createDirectory(dir.resolve("out"));
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "kim", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "kim's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "lee", "--to", "kim",
                        "--rendezvous", address, "--bind", "127.0.0.1:0")) {
                    receiver.awaitLine(l -> l.contains("\"event\":\"file\""), "the file's announcement");
                    sender.terminate();
                    String failed = receiver.awaitLine(l -> l.contains("\"ok\":false"), "the receiver's failure");
                    assertEquals(ExitCodes.PEER_CANCELLED, receiver.exitCode(), receiver.describe());
                    assertTrue(JsonLine.field(failed, "error").contains("lee cancelled"), failed);
                    assertTrue(receiver.stderr().contains("lee cancelled the transfer"), receiver.describe());
                    assertEquals(SIGNAL_EXIT, sender.exitCode(), sender.describe());
                }
            }
        }
    }

    @Test
    void ctrlCOnTheReceiverTellsTheSender() throws Exception {
        Path file = bigFile();
        Path out = Files.createDirectory(dir.resolve("out"));
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "kim", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "kim's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "lee", "--to", "kim",
                        "--rendezvous", address, "--json", "--bind", "127.0.0.1:0")) {
                    receiver.awaitLine(l -> l.contains("\"event\":\"file\""), "the file's announcement");
                    receiver.terminate();
                    String failed = sender.awaitLine(l -> l.contains("\"ok\":false"), "the sender's failure");
                    assertEquals(ExitCodes.PEER_CANCELLED, sender.exitCode(), sender.describe());
                    assertTrue(JsonLine.field(failed, "error").contains("kim cancelled"), failed);
                    assertEquals(SIGNAL_EXIT, receiver.exitCode(), receiver.describe());
                }
            }
        }
    }

    @Test
    void ctrlCInTheDemoRemovesItsTemporaryFiles() throws Exception {
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        try (CliProcess demo = CliProcess.startWith(java.util.Map.of("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + tmp),
                "demo", "--size", "4GiB", "--json")) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CliProcess.MAX_WAIT_S);
            while (!hasPartialFile(tmp)) {
                assertTrue(System.nanoTime() < deadline, "no partial file appeared: " + demo.describe());
                Thread.sleep(50);
            }
            demo.terminate();
            assertEquals(SIGNAL_EXIT, demo.exitCode(), demo.describe());
            try (Stream<Path> left = Files.list(tmp)) {
                assertEquals(0, left.count(), "the demo's temporary directory is gone");
            }
        }
    }

    private static boolean hasPartialFile(Path tmp) throws Exception {
        try (Stream<Path> walk = Files.walk(tmp)) {
            return walk.anyMatch(p -> p.getFileName().toString().endsWith(".pinhole-partial"));
        }
    }
}
