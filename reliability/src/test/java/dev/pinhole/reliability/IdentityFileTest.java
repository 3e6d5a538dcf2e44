package dev.pinhole.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Identity}'s key file: creation with its modes, loading, and the files it refuses. */
class IdentityFileTest {
    private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);

    @TempDir
    Path dir;

    @BeforeEach
    void posixOnly() {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
                "the modes are POSIX file modes");
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void createdFileIs0600InA0700DirectoryAndLoadsAsTheSameIdentity() throws Exception {
        Path file = dir.resolve("config").resolve("pinhole").resolve("identity");
        Identity created = Identity.loadOrCreate(file);
        assertEquals("rw-------", mode(file));
        assertEquals("rwx------", mode(file.getParent()));
        assertEquals("rwx------", mode(file.getParent().getParent()), "every directory it created");
        List<String> lines = Files.readAllLines(file);
        assertEquals(3, lines.size(), lines.toString());
        assertEquals("pinhole-identity v1", lines.get(0));
        assertTrue(lines.get(1).matches("x25519 [A-Za-z0-9+/]{43}="), lines.get(1));
        assertTrue(lines.get(2).matches("ed25519 [A-Za-z0-9+/]{43}="), lines.get(2));
        try (Stream<Path> left = Files.list(file.getParent())) {
            assertEquals(List.of(file), left.toList(), "no temporary file left");
        }

        Identity loaded = Identity.loadOrCreate(file);
        assertEquals(created, loaded);
        assertEquals(created.id(), loaded.id());
        assertEquals(created.id(), Identity.load(file).id());
        assertTrue(Identity.verify(created.ed25519PublicKey(), new byte[] {1}, loaded.sign(new byte[] {1})));
    }

    @Test
    void createRefusesAnExistingFileAndLoadAMissingOne() throws Exception {
        Path file = dir.resolve("identity");
        assertThrows(NoSuchFileException.class, () -> Identity.load(file));
        Identity first = Identity.create(file, new SecureRandom());
        assertThrows(FileAlreadyExistsException.class, () -> Identity.create(file, new SecureRandom()));
        assertEquals(first, Identity.load(file), "the refused create left the file alone");
    }

    @Test
    void processesCreatingAtOnceAgreeOnOneIdentity() throws Exception {
        Path file = dir.resolve("shared").resolve("identity");
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<Identity>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(threads.submit((Callable<Identity>) () -> Identity.loadOrCreate(file)));
            }
            List<Identity> identities = new ArrayList<>();
            for (Future<Identity> result : results) {
                identities.add(result.get());
            }
            Identity onDisk = Identity.load(file);
            for (Identity identity : identities) {
                assertEquals(onDisk, identity);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void groupOrWorldAccessibleFileIsRefusedWithTheChmod() throws Exception {
        Path file = dir.resolve("identity");
        Identity.create(file, new SecureRandom());
        for (String leaky : new String[] {"rw-r-----", "rw----r--", "rw--w----", "rw-rw-rw-"}) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(leaky));
            IOException refused = assertThrows(IOException.class, () -> Identity.loadOrCreate(file), leaky);
            assertTrue(refused.getMessage().contains("chmod 600 " + file), refused.getMessage());
            assertTrue(refused.getMessage().contains("group or others"), refused.getMessage());
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        IOException refused = assertThrows(IOException.class, () -> Identity.load(file));
        assertTrue(refused.getMessage().contains("mode 0640"), refused.getMessage());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
        Identity.load(file);
    }

    @Test
    void symbolicLinkIsFollowedAndItsTargetChecked() throws Exception {
        Path target = dir.resolve("real-identity");
        Identity identity = Identity.create(target, new SecureRandom());
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        assertEquals(identity, Identity.loadOrCreate(link));
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        assertThrows(IOException.class, () -> Identity.load(link));

        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        IOException refused = assertThrows(IOException.class, () -> Identity.loadOrCreate(dangling));
        assertTrue(refused.getMessage().contains("symbolic link to a missing file"), refused.getMessage());
        assertTrue(Files.isSymbolicLink(dangling), "the link is left alone");
    }

    @Test
    void malformedFilesAreRefusedNamingTheLine() throws Exception {
        assertMalformed("", 1, "expected 'pinhole-identity v1'");
        assertMalformed("-----BEGIN PRIVATE KEY-----\n", 1, "expected 'pinhole-identity v1'");
        assertMalformed("pinhole-identity v2\n", 1, "unsupported version");
        assertMalformed("pinhole-identity v1\n", 2, "found the end of the file");
        assertMalformed("pinhole-identity v1\ned25519 " + KEY + "\nx25519 " + KEY + "\n", 2, "expected 'x25519");
        assertMalformed("pinhole-identity v1\nx25519 " + KEY + "\n", 3, "found the end of the file");
        assertMalformed("pinhole-identity v1\nx25519 not*base64\ned25519 " + KEY + "\n", 2, "not base64");
        assertMalformed("pinhole-identity v1\nx25519 AAAA\ned25519 " + KEY + "\n", 2, "3 bytes, not 32");
        assertMalformed("pinhole-identity v1\nx25519 " + KEY + "\ned25519 " + KEY + " extra\n", 3,
                "expected 'ed25519");
        assertMalformed("pinhole-identity v1\nx25519 " + KEY + "\ned25519 " + KEY + "\n\nmore\n", 5,
                "unexpected text");
        assertMalformed("x".repeat(5000), 1, "larger than 4096 bytes");
    }

    @Test
    void wellFormedFileWrittenByHandLoadsWithCrLfAndTrailingBlankLines() throws Exception {
        Path file = write("pinhole-identity v1\r\nx25519 " + KEY + "\r\ned25519 " + KEY + "\r\n\r\n");
        Identity identity = Identity.load(file);
        assertEquals(Identity.fromPrivateKeys(new byte[32], new byte[32]), identity);
    }

    @Test
    void directoryIsNotAnIdentityFile() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        IOException refused = assertThrows(IOException.class, () -> Identity.loadOrCreate(sub));
        assertTrue(refused.getMessage().contains("not a regular file"), refused.getMessage());
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsReportedAsSuch() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("config"), "x");
        Path file = notADirectory.resolve("pinhole").resolve("identity");
        IOException refused = assertThrows(IOException.class, () -> Identity.loadOrCreate(file));
        assertTrue(refused.getMessage().toLowerCase(java.util.Locale.ROOT).contains("not a directory"),
                refused.getMessage());
        IOException notCreated = assertThrows(IOException.class, () -> Identity.create(file, new SecureRandom()));
        assertFalse(notCreated instanceof FileAlreadyExistsException, "that would mean: load the file, "
                + notCreated);
        IOException parentIsAFile = assertThrows(IOException.class,
                () -> Identity.create(notADirectory.resolve("identity"), new SecureRandom()));
        assertFalse(parentIsAFile instanceof FileAlreadyExistsException, parentIsAFile.toString());
    }

    @Test
    void defaultPathFollowsXdgThenHome() {
        assertEquals(Path.of("/cfg/pinhole/identity"),
                Identity.defaultPath(Map.of("XDG_CONFIG_HOME", "/cfg", "HOME", "/home/u")));
        assertEquals(Path.of("/home/u/.config/pinhole/identity"),
                Identity.defaultPath(Map.of("XDG_CONFIG_HOME", "", "HOME", "/home/u")), "empty XDG_CONFIG_HOME");
        assertEquals(Path.of("/home/u/.config/pinhole/identity"),
                Identity.defaultPath(Map.of("XDG_CONFIG_HOME", "relative/cfg", "HOME", "/home/u")),
                "a relative XDG_CONFIG_HOME is ignored, as the XDG specification says");
        assertEquals(Path.of("/home/u/.config/pinhole/identity"), Identity.defaultPath(Map.of("HOME", "/home/u")));
        assertEquals(Path.of(System.getProperty("user.home"), ".config", "pinhole", "identity"),
                Identity.defaultPath(Map.of()), "no HOME: the JVM's user.home");
        assertNotEquals(null, Identity.defaultPath());
    }

    private void assertMalformed(String content, int line, String problem) throws IOException {
        Path file = write(content);
        IOException refused = assertThrows(IOException.class, () -> Identity.loadOrCreate(file), content);
        assertTrue(refused.getMessage().contains("line " + line + ":"), refused.getMessage());
        assertTrue(refused.getMessage().contains(problem), refused.getMessage());
        assertTrue(refused.getMessage().contains(file.toString()), refused.getMessage());
    }

    private Path write(String content) throws IOException {
        Path file = Files.createTempFile(dir, "identity", "", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
        return Files.writeString(file, content);
    }
}
