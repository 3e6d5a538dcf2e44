package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to real processes: a non-zero exit code and one line on stderr, never a stack trace. */
class CliBadInputTest {
    @TempDir
    Path dir;

    private static void assertOneCleanLine(CliProcess p, int expectedCode) throws InterruptedException {
        int code = p.exitCode();
        String err = p.stderr().strip();
        assertEquals(expectedCode, code, "exit code of " + p.describe());
        assertEquals(1, err.lines().count(), "exactly one line on stderr from " + p.describe());
        assertTrue(err.startsWith("pinhole: "), "the line names the program: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no exception or stack trace: " + err);
    }

    @Test
    void badAddressSyntaxIsAUsageError() throws Exception {
        try (CliProcess p = CliProcess.start("send", "x", "--id", "a", "--to", "b", "--rendezvous", "127.0.0.1:99999")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
            assertTrue(p.stderr().contains("127.0.0.1:99999"), "the line quotes the bad address: " + p.stderr());
        }
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "localhost")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
        }
    }

    @Test
    void nonPositiveRegistrationQuotasAreUsageErrors() throws Exception {
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--no-relay",
                "--max-per-address", "0")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
            assertTrue(p.stderr().contains("--max-per-address"), "names the option: " + p.stderr());
        }
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--no-relay",
                "--max-per-prefix", "-3")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
            assertTrue(p.stderr().contains("--max-per-prefix"), "names the option: " + p.stderr());
        }
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--max-per-prefix", "many")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
        }
    }

    @Test
    void unknownOptionIsAUsageError() throws Exception {
        try (CliProcess p = CliProcess.start("demo", "--sise", "1")) {
            assertOneCleanLine(p, ExitCodes.USAGE);
        }
    }

    @Test
    void missingFileToSendIsALocalFileError() throws Exception {
        try (CliProcess p = CliProcess.start("send", dir.resolve("absent.bin").toString(), "--id", "a", "--to", "b",
                "--rendezvous", "127.0.0.1:9")) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
            assertTrue(p.stderr().contains("absent.bin"), "the line names the file: " + p.stderr());
        }
    }

    @Test
    void missingOutputDirectoryIsALocalFileError() throws Exception {
        try (CliProcess p = CliProcess.start("receive", "--id", "r", "--rendezvous", "127.0.0.1:9",
                "--out", dir.resolve("nowhere").toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
        }
    }

    @Test
    void refusedIdentityFileIsALocalFileErrorBeforeAnyNetworking() throws Exception {
        Path malformed = Files.writeString(dir.resolve("malformed-identity"), "not an identity\n");
        Files.setPosixFilePermissions(malformed, PosixFilePermissions.fromString("rw-------"));
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        try (CliProcess p = CliProcess.start("send", file.toString(), "--id", "a", "--to", "b",
                "--rendezvous", "127.0.0.1:9", "--identity", malformed.toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
            assertTrue(p.stderr().contains("line 1"), "names the line: " + p.stderr());
        }
        try (CliProcess p = CliProcess.start("id", "--identity", dir.resolve("leaky").toString())) {
            assertEquals(0, p.exitCode(), p.describe());
        }
        Files.setPosixFilePermissions(dir.resolve("leaky"), PosixFilePermissions.fromString("rw-rw----"));
        try (CliProcess p = CliProcess.start("receive", "--id", "r", "--rendezvous", "127.0.0.1:9",
                "--out", dir.toString(), "--identity", dir.resolve("leaky").toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
            assertTrue(p.stderr().contains("chmod 600"), "says how to fix it: " + p.stderr());
        }
        try (CliProcess p = CliProcess.start("chat", "--id", "c", "--rendezvous", "127.0.0.1:9",
                "--identity", malformed.toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
        }
    }

    @Test
    void unwritableOutputDirectoryIsALocalFileError() throws Exception {
        Path readOnly = Files.createDirectory(dir.resolve("ro"));
        assertTrue(readOnly.toFile().setWritable(false, false), "could not make the directory read-only");
        try {
            // As root, permissions do not bind: a regular file given as --out must then fail just as cleanly.
            Path out = Files.isWritable(readOnly) ? Files.writeString(dir.resolve("plain-file"), "x") : readOnly;
            try (CliProcess p = CliProcess.start("receive", "--id", "r", "--rendezvous", "127.0.0.1:9",
                    "--out", out.toString())) {
                assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
            }
        } finally {
            readOnly.toFile().setWritable(true, false);
        }
    }

    @Test
    void portInUseIsReported() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:" + taken.getLocalPort())) {
                assertOneCleanLine(p, ExitCodes.PORT_IN_USE);
            }
        }
    }

    @Test
    void missingSecretFileIsALocalFileError() throws Exception {
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0",
                "--secret-file", dir.resolve("no-secret").toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
        }
    }

    @Test
    void aTurnSecretEqualToTheSharedSecretIsAUsageError() throws Exception {
        // Every peer knows the shared secret: as the TURN server's key it would let any of them mint credentials.
        Path secret = java.nio.file.Files.writeString(dir.resolve("secret"), "one secret for both, 32 bytes long\n");
        try (CliProcess p = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--secret-file", secret.toString(),
                "--turn-server", "127.0.0.1:3478", "--turn-secret-file", secret.toString())) {
            assertOneCleanLine(p, ExitCodes.USAGE);
        }
    }

    @Test
    void unreachableStunServerIsReported() throws Exception {
        int closedPort;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            closedPort = s.getLocalPort();
        }
        try (CliProcess p = CliProcess.start("nat-type", "--stun", "127.0.0.1:" + closedPort)) {
            assertOneCleanLine(p, ExitCodes.RENDEZVOUS_UNREACHABLE);
        }
    }

    @Test
    void unreachableRendezvousServerIsReportedAsJsonAndOneLine() throws Exception {
        int closedPort;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            closedPort = s.getLocalPort();
        }
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        try (CliProcess p = CliProcess.start("send", file.toString(), "--id", "a", "--to", "b",
                "--rendezvous", "127.0.0.1:" + closedPort, "--bind", "127.0.0.1:0", "--json")) {
            String json = p.awaitLine(JsonLine::isJsonObject, "the JSON failure line");
            assertEquals("false", JsonLine.field(json, "ok"), json);
            assertEquals(String.valueOf(ExitCodes.RENDEZVOUS_UNREACHABLE), JsonLine.field(json, "exit_code"), json);
            assertOneCleanLine(p, ExitCodes.RENDEZVOUS_UNREACHABLE);
        }
    }

    @Test
    void badNamesSelfTargetsAndTimeoutsAreUsageErrors() throws Exception {
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        String[][] lines = {
            {"send", file.toString(), "--id", "", "--to", "b", "--rendezvous", "127.0.0.1:9"},
            {"send", file.toString(), "--id", "a b", "--to", "b", "--rendezvous", "127.0.0.1:9"},
            {"send", file.toString(), "--id", "a", "--to", "b c", "--rendezvous", "127.0.0.1:9"},
            {"send", file.toString(), "--id", "a", "--to", "", "--rendezvous", "127.0.0.1:9"},
            {"send", file.toString(), "--id", "a", "--to", "a", "--rendezvous", "127.0.0.1:9"},
            {"send", file.toString(), "--id", "a", "--to", "b", "--rendezvous", "127.0.0.1:9", "--timeout", "-5"},
            {"send", file.toString(), "--id", "a", "--to", "b", "--rendezvous", "127.0.0.1:9", "--timeout", "0"},
            {"receive", "--id", "", "--rendezvous", "127.0.0.1:9", "--out", dir.toString()},
            {"receive", "--id", "a b", "--rendezvous", "127.0.0.1:9", "--out", dir.toString()},
            {"chat", "--id", "a\tb", "--rendezvous", "127.0.0.1:9"},
            {"chat", "--id", "", "--rendezvous", "127.0.0.1:9"},
        };
        for (String[] line : lines) {
            try (CliProcess p = CliProcess.start(line)) {
                assertOneCleanLine(p, ExitCodes.USAGE);
                String err = p.stderr();
                assertTrue(err.contains("--id") || err.contains("--to") || err.contains("--timeout"),
                        "names the option: " + err);
            }
        }
        try (CliProcess p = CliProcess.start("send", file.toString(), "--id", "a", "--to", "a", "--rendezvous",
                "127.0.0.1:9", "--json")) {
            assertEquals(ExitCodes.USAGE, p.exitCode(), p.describe());
            assertTrue(p.stderr().contains("itself"), "says why: " + p.stderr());
        }
    }

    @Test
    void outputPathThatIsAFileIsNamedAsSuch() throws Exception {
        Path plain = Files.writeString(dir.resolve("plain"), "x");
        try (CliProcess p = CliProcess.start("receive", "--id", "r", "--rendezvous", "127.0.0.1:9",
                "--out", plain.toString())) {
            assertOneCleanLine(p, ExitCodes.LOCAL_FILE);
            assertTrue(p.stderr().contains("is a file, not a directory"), "names the cause: " + p.stderr());
        }
    }

    @Test
    void withJsonEveryErrorIsAJsonLineAndAddressesHaveNoSlash() throws Exception {
        Path file = Files.writeString(dir.resolve("f.txt"), "x");
        // A usage error picocli finds while parsing, one the command finds, and one from the network.
        String[][] lines = {
            {"send", file.toString(), "--id", "a", "--to", "b", "--rendezvous", "127.0.0.1:9", "--timeout", "x",
                "--json"},
            {"receive", "--id", "a b", "--rendezvous", "127.0.0.1:9", "--json"},
            {"send", file.toString(), "--id", "a", "--rendezvous", "127.0.0.1:9", "--json"},
            {"send", file.toString(), "--id", "a", "--to", "a", "--rendezvous", "127.0.0.1:9", "--json"},
            {"receive", "--id", "r", "--rendezvous", "127.0.0.1:9", "--out", file.toString(), "--json"},
        };
        for (String[] line : lines) {
            try (CliProcess p = CliProcess.start(line)) {
                int code = p.exitCode();
                java.util.List<String> out = p.remainingStdout();
                assertEquals(1, out.size(), "one JSON line: " + p.describe());
                assertTrue(JsonLine.isJsonObject(out.get(0)), p.describe());
                assertEquals("false", JsonLine.field(out.get(0), "ok"), p.describe());
                assertEquals(String.valueOf(code), JsonLine.field(out.get(0), "exit_code"), p.describe());
            }
        }
        try (CliProcess p = CliProcess.start("send", file.toString(), "--id", "a", "--to", "b",
                "--rendezvous", "localhost:9", "--json")) {
            assertEquals(ExitCodes.RENDEZVOUS_UNREACHABLE, p.exitCode(), p.describe());
            String json = p.remainingStdout().get(0);
            assertTrue(json.contains("rendezvous server 127.0.0.1:9 "), "the address as IP:PORT: " + json);
            assertFalse(p.stderr().contains("/127.0.0.1"), "no Java-style address: " + p.stderr());
        }
    }
}
