package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownPeersTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private static String newId() {
        return Identity.generate(RANDOM).id();
    }

    private boolean posix() {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    @Test
    void aMissingFileKnowsNobodyAndTheFirstRememberCreatesItWithMode0600InA0700Directory() throws IOException {
        Path file = dir.resolve("config").resolve("pinhole").resolve("known_peers");
        KnownPeers known = KnownPeers.at(file);
        String bob = newId();
        assertEquals(Optional.empty(), known.idOf("bob"));
        assertEquals(KnownPeers.Verdict.UNKNOWN, known.check("bob", bob));
        assertFalse(Files.exists(file), "reading creates nothing");

        known.remember("bob", bob);
        assertEquals(Optional.of(bob), known.idOf("bob"));
        assertEquals(KnownPeers.Verdict.KNOWN, known.check("bob", bob));
        assertEquals(KnownPeers.Verdict.KNOWN, known.check("bob", bob.toUpperCase(Locale.ROOT)), "either case");
        assertEquals(KnownPeers.Verdict.CHANGED, known.check("bob", newId()));
        if (posix()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
        }
        String text = Files.readString(file);
        assertTrue(text.contains("bob " + bob + " first-seen "), text);
        try (var left = Files.list(file.getParent())) {
            assertEquals(List.of(file), left.toList(), "no temporary file left");
        }
    }

    @Test
    void parsingToleratesCommentsBlankLinesCaseWhitespaceAndCrlfAndKeepsThemOnUpdate() throws IOException {
        String alice = newId();
        String bob = newId();
        Path file = dir.resolve("known_peers");
        Files.writeString(file, "# my peers\r\n\r\n  alice\t" + alice.toUpperCase(Locale.ROOT)
                + "   laptop, met 2026-01-01\r\nbob " + bob + "\n");
        if (posix()) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        KnownPeers known = KnownPeers.at(file);
        assertEquals(Map.of("alice", alice, "bob", bob), known.entries());

        String carol = newId();
        known.remember("carol", carol);
        String newBob = newId();
        known.remember("bob", newBob);
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals("# my peers", lines.get(0).strip());
        assertTrue(lines.get(2).contains("laptop, met 2026-01-01"), "alice's comment kept: " + lines);
        assertTrue(lines.get(3).startsWith("bob " + newBob), "bob replaced in place: " + lines);
        assertTrue(lines.get(4).startsWith("carol " + carol), "carol appended: " + lines);
        assertEquals(5, lines.size(), String.valueOf(lines));

        assertTrue(known.forget("alice"));
        assertFalse(known.forget("alice"));
        assertEquals(Map.of("bob", newBob, "carol", carol), known.entries());
        if (posix()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)),
                    "a rewrite is a new file with mode 0600");
        }
    }

    @Test
    void badLinesFailEveryReadWithAMessageNamingTheFileAndTheLine() throws IOException {
        String id = newId();
        Map<String, String> cases = Map.of(
                "# ok\nbob\n", "line 2",
                "bob " + id + "\nalice not-an-id\n", "line 2",
                "bob " + id + "\nbob " + newId() + "\n", "line 2: 'bob' is already on line 1",
                "\n\nb\u0000b " + id + "\n", "line 3",
                "bob " + id.substring(1) + "\n", "line 1");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path file = Files.writeString(dir.resolve("bad"), c.getKey());
            IOException e = assertThrows(KnownPeersFileException.class, () -> KnownPeers.at(file).idOf("bob"),
                    c.getKey());
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(c.getValue()),
                    "'" + c.getKey() + "': " + e.getMessage());
            assertThrows(IOException.class, () -> KnownPeers.at(file).remember("carol", newId()),
                    "a damaged file is not rewritten");
        }
    }

    @Test
    void aFileTooLargeOrWritableByOthersIsRefused() throws IOException {
        Path big = dir.resolve("big");
        Files.write(big, new byte[KnownPeers.MAX_BYTES + 1]);
        IOException tooBig = assertThrows(IOException.class, () -> KnownPeers.at(big).entries());
        assertTrue(tooBig.getMessage().contains("larger than"), tooBig.getMessage());
        if (posix()) {
            Path open = Files.writeString(dir.resolve("open"), "bob " + newId() + "\n");
            Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-rw-rw-"));
            IOException e = assertThrows(IOException.class, () -> KnownPeers.at(open).idOf("bob"));
            assertTrue(e.getMessage().contains("chmod 600 " + open), e.getMessage());
        }
    }

    @Test
    void invalidNamesAndIdsAreRefusedBeforeAnythingIsWritten() {
        KnownPeers known = KnownPeers.at(dir.resolve("known_peers"));
        assertThrows(IllegalArgumentException.class, () -> known.remember("two words", newId()));
        assertThrows(IllegalArgumentException.class, () -> known.remember("bob", "abc"));
        assertFalse(Files.exists(dir.resolve("known_peers")));
    }

    @Test
    void theDefaultFileLivesNextToTheIdentity() {
        assertEquals(Path.of("/xdg/pinhole/known_peers"), KnownPeers.defaultPath(Map.of("XDG_CONFIG_HOME", "/xdg")));
        assertEquals(Path.of("/home/u/.config/pinhole/known_peers"),
                KnownPeers.defaultPath(Map.of("XDG_CONFIG_HOME", "relative", "HOME", "/home/u")));
    }

    @Test
    void theChangedKeyMessageGivesBothFingerprintsTheRiskAndTheWayToAcceptTheNewKey() {
        String old = newId();
        String presented = newId();
        Path file = dir.resolve("known_peers");
        String changed = new PeerKeyChangedException("bob", old, presented, false, file).getMessage();
        assertTrue(changed.contains(Identity.fingerprintOf(Identity.parseId(old))), changed);
        assertTrue(changed.contains(Identity.fingerprintOf(Identity.parseId(presented))), changed);
        assertTrue(changed.contains("impersonating") && changed.contains("reinstalled"), changed);
        assertTrue(changed.contains("--accept-new-key") && changed.contains(file.toString()), changed);
        String pinned = new PeerKeyChangedException("bob", old, presented, true, null).getMessage();
        assertTrue(pinned.contains("not the pinned id") && pinned.contains("impersonating"), pinned);
    }
}
