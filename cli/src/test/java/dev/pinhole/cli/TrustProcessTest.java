package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.KnownPeers;
import dev.pinhole.reliability.Identity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may send to whom, with real processes on loopback: --from, the refusal of an unknown sender without a
 * terminal, --yes, the peer ids in JSON, and --to NAME@ID. Each process has its own identity and known-peers
 * file in the test's directory, so nothing here touches the files the other process tests share.
 */
class TrustProcessTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private static String listeningAddress(CliProcess server) throws InterruptedException {
        String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    /** A key file for {@code who}, created now so that the test knows its id. */
    private Identity identity(String who) throws Exception {
        return Identity.create(dir.resolve("identity-" + who), RANDOM);
    }

    private String[] own(String who, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(List.of("--identity", dir.resolve("identity-" + who).toString(),
                "--known-peers", knownPeers(who).toString(), "--bind", "127.0.0.1:0"));
        return all.toArray(String[]::new);
    }

    private Path knownPeers(String who) {
        return dir.resolve("known_peers-" + who);
    }

    private Path outDir() throws Exception {
        return Files.createDirectory(dir.resolve("out"));
    }

    private static long filesIn(Path out) throws Exception {
        try (var files = Files.list(out)) {
            return files.count();
        }
    }

    @Test
    void fromRefusesAnotherSenderAndWritesNothing() throws Exception {
        identity("bob");
        identity("mallory");
        Path out = outDir();
        Path file = Files.writeString(dir.resolve("note.txt"), "hello");
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--from", "alice", "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("mallory", "send", file.toString(), "--id", "mallory",
                        "--to", "bob", "--rendezvous", address))) {
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, receiver.exitCode(), receiver.describe());
                    String said = receiver.stderr();
                    assertTrue(said.contains("mallory") && said.contains("--from alice"), said);
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, sender.exitCode(), sender.describe());
                    assertTrue(sender.stderr().contains("refused this sender"), sender.describe());
                    assertEquals(0, filesIn(out), "nothing written");
                    assertEquals(Optional.empty(), KnownPeers.at(knownPeers("bob")).idOf("mallory"), "not recorded");
                }
            }
        }
    }

    @Test
    void anUnknownSenderIsRefusedWithoutATerminalUnlessYesAndJsonShowsBothIds() throws Exception {
        Identity bob = identity("bob");
        Identity alice = identity("alice");
        Path out = outDir();
        byte[] content = new byte[100_000];
        RANDOM.nextBytes(content);
        Path file = Files.write(dir.resolve("data.bin"), content);
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address))) {
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, receiver.exitCode(), receiver.describe());
                    String said = receiver.stderr();
                    assertTrue(said.contains("--yes") && said.contains("--from alice")
                            && said.contains(alice.fingerprint()), said);
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, sender.exitCode(), sender.describe());
                    assertEquals(0, filesIn(out), "nothing written");
                }
            }
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address, "--json"))) {
                    String offer = receiver.awaitLine(l -> l.contains("\"offer\""), "the offer event");
                    assertEquals(alice.id(), JsonLine.field(offer, "peer_id"), offer);
                    assertEquals(alice.fingerprint(), JsonLine.field(offer, "peer_fingerprint"), offer);
                    assertEquals("1", JsonLine.field(offer, "entries"), offer);
                    String fileEvent = receiver.awaitLine(l -> l.contains("\"event\":\"file\""), "the file event");
                    assertEquals("data.bin", JsonLine.field(fileEvent, "path"), fileEvent);
                    String got = receiver.awaitLine(l -> l.contains("\"ok\""), "the receiver's summary");
                    assertEquals(0, receiver.exitCode(), receiver.describe());
                    assertEquals("true", JsonLine.field(got, "ok"), got);
                    assertEquals(alice.id(), JsonLine.field(got, "peer_id"), got);
                    String sent = sender.awaitLine(JsonLine::isJsonObject, "the sender's summary");
                    assertEquals(0, sender.exitCode(), sender.describe());
                    assertEquals(bob.id(), JsonLine.field(sent, "peer_id"), sent);
                    assertEquals(bob.fingerprint(), JsonLine.field(sent, "peer_fingerprint"), sent);
                    assertArrayEquals(content, Files.readAllBytes(out.resolve("data.bin")));
                    assertEquals(Optional.of(alice.id()), KnownPeers.at(knownPeers("bob")).idOf("alice"),
                            "bob records alice");
                    assertEquals(Optional.of(bob.id()), KnownPeers.at(knownPeers("alice")).idOf("bob"),
                            "alice records bob");
                }
            }
        }
    }

    @Test
    void sendToAWrongPinnedIdOrAChangedKeyFailsWithExit9AndAcceptNewKeyRecordsTheNewOne() throws Exception {
        Identity bob = identity("bob");
        identity("alice");
        Path out = outDir();
        Path file = Files.writeString(dir.resolve("note.txt"), "hello");
        String wrong = Identity.generate(RANDOM).id();
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--yes", "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob@" + wrong, "--rendezvous", address))) {
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, sender.exitCode(), sender.describe());
                    String said = sender.stderr();
                    assertTrue(said.contains("not the pinned id") && said.contains(bob.fingerprint()), said);
                }
                assertEquals(0, filesIn(out), "nothing written");
                // alice's file says bob has another key: refused, then accepted with --accept-new-key.
                KnownPeers.at(knownPeers("alice")).remember("bob", wrong);
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address))) {
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, sender.exitCode(), sender.describe());
                    String said = sender.stderr();
                    assertTrue(said.contains("has changed") && said.contains("--accept-new-key"), said);
                }
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address, "--accept-new-key"))) {
                    assertEquals(0, sender.exitCode(), sender.describe());
                }
                assertEquals(Optional.of(bob.id()), KnownPeers.at(knownPeers("alice")).idOf("bob"), "new key recorded");
                try (CliProcess sender = CliProcess.start(own("alice", "send", dir.resolve("note.txt").toString(),
                        "--id", "alice", "--to", "bob@" + bob.id(), "--rendezvous", address))) {
                    // The file exists now at bob's: the transfer is refused (exit 1), but the key was accepted.
                    assertEquals(ExitCodes.TRANSFER_FAILED, sender.exitCode(), sender.describe());
                    assertTrue(sender.stderr().contains(bob.fingerprint()), "names the receiver's fingerprint: "
                            + sender.describe());
                }
            }
        }
        try (CliProcess bad = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                "--to", "bob@nonsense", "--rendezvous", "127.0.0.1:9"))) {
            assertEquals(ExitCodes.USAGE, bad.exitCode(), bad.describe());
        }
    }

    @Test
    void aReceiverRefusesASenderWhoseKeyChangedEvenWithYesAndFromItsIdAcceptsIt() throws Exception {
        identity("bob");
        Identity alice = identity("alice");
        Path out = outDir();
        Path file = Files.writeString(dir.resolve("note.txt"), "hello");
        String old = Identity.generate(RANDOM).id();
        KnownPeers.at(knownPeers("bob")).remember("alice", old);
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--yes", "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address))) {
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, receiver.exitCode(), receiver.describe());
                    String said = receiver.stderr();
                    assertTrue(said.contains("has changed") && said.contains(alice.fingerprint())
                            && said.contains(Identity.fingerprintOf(Identity.parseId(old))), said);
                    assertEquals(ExitCodes.PEER_NOT_TRUSTED, sender.exitCode(), sender.describe());
                    assertEquals(0, filesIn(out), "nothing written");
                    assertEquals(Optional.of(old), KnownPeers.at(knownPeers("bob")).idOf("alice"), "unchanged");
                }
            }
            try (CliProcess receiver = CliProcess.start(own("bob", "receive", "--id", "bob", "--rendezvous", address,
                    "--out", out.toString(), "--once", "--from", alice.id().toUpperCase(java.util.Locale.ROOT),
                    "--json"))) {
                receiver.awaitLine(l -> l.contains("\"registered\""), "bob's registration");
                try (CliProcess sender = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", address))) {
                    assertEquals(0, receiver.exitCode(), receiver.describe());
                    assertEquals(0, sender.exitCode(), sender.describe());
                    assertEquals("hello", Files.readString(out.resolve("note.txt")));
                    assertEquals(Optional.of(alice.id()), KnownPeers.at(knownPeers("bob")).idOf("alice"),
                            "--from ID pinned and recorded the new key");
                }
            }
        }
    }

    @Test
    void aMalformedKnownPeersFileStopsSendAndReceiveWithExit7NamingTheLine() throws Exception {
        identity("alice");
        Files.writeString(knownPeers("alice"), "# peers\nbob not-an-id\n");
        Path file = Files.writeString(dir.resolve("note.txt"), "hello");
        try (CliProcess send = CliProcess.start(own("alice", "send", file.toString(), "--id", "alice", "--to", "bob",
                "--rendezvous", "127.0.0.1:9"));
             CliProcess receive = CliProcess.start(own("alice", "receive", "--id", "alice", "--rendezvous",
                "127.0.0.1:9", "--out", dir.toString()))) {
            for (CliProcess p : List.of(send, receive)) {
                assertEquals(ExitCodes.LOCAL_FILE, p.exitCode(), p.describe());
                assertTrue(p.stderr().contains(knownPeers("alice") + " line 2"), p.describe());
            }
        }
    }
}
