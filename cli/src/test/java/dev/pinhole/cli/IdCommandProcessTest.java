package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pinhole id} as a real process with its own configuration directory. */
class IdCommandProcessTest {
    private static final String ID = "[a-z2-7]{52}";
    private static final String FINGERPRINT = "[a-z2-7]{4}(-[a-z2-7]{4}){3}";

    @TempDir
    Path dir;

    /** Runs {@code pinhole id} to its end and returns its stdout lines, checking it exited 0. */
    private static List<String> run(CliProcess p) throws InterruptedException {
        List<String> lines = p.remainingStdout();
        assertEquals(0, p.exitCode(), p.describe());
        return lines;
    }

    private static String field(List<String> lines, String name) {
        return lines.stream().filter(l -> l.startsWith(name + ":")).findFirst()
                .map(l -> l.substring(name.length() + 1).strip()).orElse("(no " + name + " line in " + lines + ")");
    }

    @Test
    void idCreatesTheIdentityOnceAndPrintsTheSameIdEveryTime() throws Exception {
        Path config = dir.resolve("config");
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", config.toString());
        Path file = config.resolve("pinhole").resolve("identity");
        String firstId;
        try (CliProcess first = CliProcess.startWith(env, "id")) {
            List<String> lines = run(first);
            firstId = field(lines, "id");
            assertTrue(firstId.matches(ID), "a 52-character base32 id: " + lines);
            assertTrue(field(lines, "fingerprint").matches(FINGERPRINT), "a grouped fingerprint: " + lines);
            assertEquals(file.toString(), field(lines, "file"), lines.toString());
            assertTrue(first.stderr().contains("created a new identity in " + file), first.describe());
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        try (CliProcess second = CliProcess.startWith(env, "id", "--json")) {
            List<String> lines = run(second);
            String json = lines.stream().filter(JsonLine::isJsonObject).findFirst().orElseThrow();
            assertEquals("true", JsonLine.field(json, "ok"), json);
            assertEquals(firstId, JsonLine.field(json, "id"), "the same id the second time: " + json);
            assertTrue(JsonLine.field(json, "fingerprint").matches(FINGERPRINT), json);
            assertEquals("false", JsonLine.field(json, "created"), json);
            assertFalse(second.stderr().contains("created"), "nothing created the second time: " + second.describe());
        }
        try (CliProcess explicit = CliProcess.start("id", "--identity", file.toString())) {
            assertEquals(firstId, field(run(explicit), "id"), "--identity names the same file");
        }
    }

    @Test
    void withoutXdgConfigHomeTheIdentityIsUnderHomeDotConfig() throws Exception {
        Path home = Files.createDirectory(dir.resolve("home"));
        try (CliProcess p = CliProcess.startWith(Map.of("XDG_CONFIG_HOME", "", "HOME", home.toString()), "id")) {
            List<String> lines = run(p);
            assertEquals(home.resolve(".config/pinhole/identity").toString(), field(lines, "file"), lines.toString());
        }
        assertTrue(Files.isRegularFile(home.resolve(".config/pinhole/identity")));
    }

    @Test
    void identityFileOthersCanReadIsRefusedWithTheChmodToRun() throws Exception {
        Path file = dir.resolve("identity");
        try (CliProcess create = CliProcess.start("id", "--identity", file.toString())) {
            run(create);
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        try (CliProcess p = CliProcess.start("id", "--identity", file.toString())) {
            assertEquals(ExitCodes.LOCAL_FILE, p.exitCode(), p.describe());
            String err = p.stderr().strip();
            assertEquals(1, err.lines().count(), "one line: " + err);
            assertTrue(err.startsWith("pinhole: ") && err.contains("chmod 600 " + file), err);
            assertFalse(err.contains("Exception"), err);
        }
    }

    @Test
    void malformedIdentityFileIsRefusedNamingTheLineAlsoAsJson() throws Exception {
        Path file = dir.resolve("identity");
        Files.writeString(file, "pinhole-identity v1\nx25519 nonsense\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        try (CliProcess p = CliProcess.start("id", "--identity", file.toString(), "--json")) {
            String json = p.awaitLine(JsonLine::isJsonObject, "the JSON failure line");
            assertEquals(ExitCodes.LOCAL_FILE, p.exitCode(), p.describe());
            assertEquals("false", JsonLine.field(json, "ok"), json);
            assertEquals(String.valueOf(ExitCodes.LOCAL_FILE), JsonLine.field(json, "exit_code"), json);
            assertTrue(p.stderr().contains("line 2"), p.describe());
        }
    }

    @Test
    void demoGivesAliceTheIdentityFileItIsGivenAndCreatesItQuietly() throws Exception {
        Path file = dir.resolve("alice-identity");
        try (CliProcess demo = CliProcess.start("demo", "--size", "64KiB", "--json", "--identity", file.toString())) {
            String json = demo.awaitLine(JsonLine::isJsonObject, "the JSON summary");
            assertEquals(0, demo.exitCode(), demo.describe());
            assertEquals("true", JsonLine.field(json, "ok"), json);
            assertFalse(demo.stderr().contains("identity"), "the demo's output is as it was: " + demo.describe());
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (CliProcess id = CliProcess.start("id", "--identity", file.toString())) {
            assertTrue(field(run(id), "id").matches(ID));
        }
    }

    @Test
    void topLevelHelpListsTheIdCommand() throws Exception {
        try (CliProcess p = CliProcess.start("--help")) {
            List<String> lines = run(p);
            assertTrue(lines.stream().anyMatch(l -> l.strip().startsWith("id ")), "an 'id' line in " + lines);
        }
    }
}
