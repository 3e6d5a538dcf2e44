package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rendezvous, receive --once and send as three real processes on loopback. */
class TransferProcessTest {
    @TempDir
    Path dir;

    private static String listeningAddress(CliProcess server) throws InterruptedException {
        String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    @Test
    void fileSentThroughThreeProcessesArrivesWithTheHashBothSidesReport() throws Exception {
        byte[] content = new byte[1_500_000];
        new SplittableRandom(0xF11E).nextBytes(content);
        Path file = Files.write(dir.resolve("payload.bin"), content);
        Path out = Files.createDirectory(dir.resolve("out"));
        Path secret = Files.writeString(dir.resolve("secret"), "correct horse battery staple\n");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0",
                "--secret-file", secret.toString())) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--secret-file", secret.toString(), "--json", "--bind",
                    "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "alice", "--to", "bob",
                        "--rendezvous", address, "--secret-file", secret.toString(), "--json", "--bind",
                        "127.0.0.1:0")) {
                    String sent = sender.awaitLine(JsonLine::isJsonObject, "the sender's summary");
                    assertEquals(0, sender.exitCode(), sender.describe());
                    String got = receiver.awaitLine(l -> l.contains("\"ok\""), "the receiver's summary");
                    assertEquals(0, receiver.exitCode(), receiver.describe());
                    String expected = HexFormat.of().formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(content));
                    assertEquals("true", JsonLine.field(sent, "ok"), sent);
                    assertEquals(expected, JsonLine.field(sent, "sha256"), "sender's hash: " + sent);
                    assertEquals(expected, JsonLine.field(got, "sha256"), "receiver's hash: " + got);
                    assertEquals(String.valueOf(content.length), JsonLine.field(sent, "bytes"), sent);
                    assertEquals("direct", JsonLine.field(sent, "path"), sent);
                    assertArrayEquals(content, Files.readAllBytes(out.resolve("payload.bin")), "received file");
                    try (var left = Files.list(out)) {
                        assertFalse(left.anyMatch(p -> p.getFileName().toString().endsWith(".pinhole-partial")),
                                "no partial file left");
                    }
                }
            }
        }
    }

    @Test
    void sendingToAnUnregisteredPeerNamesThePeerButNoRegisteredOne() throws Exception {
        Path file = Files.writeString(dir.resolve("note.txt"), "hi");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "carol", "--rendezvous", address,
                    "--out", dir.toString(), "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "carol's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "alice", "--to", "dave",
                        "--rendezvous", address, "--timeout", "1", "--bind", "127.0.0.1:0")) {
                    int code = sender.exitCode();
                    // The line saying it waits, then the failure.
                    String err = sender.stderr().strip().lines().filter(l -> !l.startsWith("pinhole send: waiting for"))
                            .collect(java.util.stream.Collectors.joining("\n"));
                    assertEquals(ExitCodes.PEER_NOT_FOUND, code, sender.describe());
                    assertEquals(1, err.lines().count(), "one line: " + err);
                    assertTrue(err.contains("dave"), "names the peer: " + err);
                    assertFalse(err.contains("carol"), "the server reveals no registered name: " + err);
                    assertFalse(err.contains("Exception"), "no exception name: " + err);
                }
            }
        }
    }

    @Test
    void sendResumesFromThePartialFileTheReceiverKept() throws Exception {
        byte[] content = new byte[2_000_000];
        new SplittableRandom(0x2E5).nextBytes(content);
        Path file = Files.write(dir.resolve("resume.bin"), content);
        Path out = Files.createDirectory(dir.resolve("out"));
        int kept = 1_234_567;
        Files.write(out.resolve(".resume.bin.pinhole-partial"), java.util.Arrays.copyOf(content, kept));
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "erin", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--from", "frank", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "erin's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "frank", "--to", "erin",
                        "--rendezvous", address, "--json", "--bind", "127.0.0.1:0")) {
                    String sent = sender.awaitLine(JsonLine::isJsonObject, "the sender's summary");
                    assertEquals(0, sender.exitCode(), sender.describe());
                    assertEquals(0, receiver.exitCode(), receiver.describe());
                    assertEquals(String.valueOf(kept), JsonLine.field(sent, "resumed_bytes"), sent);
                    assertEquals(String.valueOf(content.length - kept), JsonLine.field(sent, "bytes_on_wire"), sent);
                    assertArrayEquals(content, Files.readAllBytes(out.resolve("resume.bin")), "resumed file");
                }
            }
        }
    }

    @Test
    void aReceiverThatRefusedTheOnlyFileFailsAndClaimsNoVerification() throws Exception {
        Path file = Files.writeString(dir.resolve("keep.txt"), "new");
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "old");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "gina", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "gina's registration");
                try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "hugo", "--to", "gina",
                        "--rendezvous", address, "--bind", "127.0.0.1:0")) {
                    assertEquals(ExitCodes.TRANSFER_FAILED, sender.exitCode(), sender.describe());
                    assertEquals(ExitCodes.TRANSFER_FAILED, receiver.exitCode(), receiver.describe());
                    String said = String.join("\n", receiver.remainingStdout()) + receiver.stderr();
                    assertFalse(said.contains("verified") || said.contains("\"ok\":true"),
                            "the receiver verified nothing: " + said);
                    assertTrue(said.contains("keep.txt"), "the receiver names what it refused: " + said);
                    assertEquals("old", Files.readString(out.resolve("keep.txt")), "existing file untouched");
                }
            }
        }
    }

    @Test
    void aSenderWaitingForItsPeerSaysSoInTextAndJson() throws Exception {
        Path file = Files.writeString(dir.resolve("wait.txt"), "hi");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "alice", "--to", "nobody",
                    "--rendezvous", address, "--timeout", "2", "--json", "--bind", "127.0.0.1:0")) {
                String waiting = sender.awaitLine(l -> l.contains("\"waiting\""), "the waiting event");
                assertEquals("nobody", JsonLine.field(waiting, "peer"), waiting);
                assertEquals(address, JsonLine.field(waiting, "rendezvous"), waiting);
                assertEquals(ExitCodes.PEER_NOT_FOUND, sender.exitCode(), sender.describe());
            }
            try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "alice", "--to", "nobody",
                    "--rendezvous", address, "--timeout", "2", "--bind", "127.0.0.1:0")) {
                assertEquals(ExitCodes.PEER_NOT_FOUND, sender.exitCode(), sender.describe());
                assertTrue(sender.stderr().contains("waiting for nobody to register at " + address),
                        "says it waits: " + sender.stderr());
            }
        }
    }

    @Test
    void aKilledReceiverStillRegisteredIsReportedAsNotAnswering() throws Exception {
        Path file = Files.writeString(dir.resolve("dead.txt"), "hi");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start("receive", "--id", "ghost", "--rendezvous", address,
                    "--out", dir.toString(), "--yes", "--json", "--bind", "127.0.0.1:0")) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "ghost's registration");
                receiver.kill();
            }
            try (CliProcess sender = CliProcess.start("send", file.toString(), "--id", "alice", "--to", "ghost",
                    "--rendezvous", address, "--bind", "127.0.0.1:0")) {
                int code = sender.exitCode();
                String err = sender.stderr();
                assertEquals(ExitCodes.TRAVERSAL_FAILED, code, sender.describe());
                assertTrue(err.contains("ghost did not answer"), "names the silent peer: " + err);
                assertFalse(err.contains("NAT traversal failed"), "not blamed on the NATs: " + err);
            }
        }
    }
}
