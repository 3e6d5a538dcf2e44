package dev.pinhole.punch;

import dev.pinhole.protocol.rendezvous.PeerNames;
import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.Normalizer;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The peers this machine has met, by name, with the node id each one proved: Pinhole's {@code known_hosts}.
 *
 * <h2>The file</h2>
 * UTF-8 text, one peer a line:
 * <pre>
 * # comment lines and blank lines are ignored
 * NAME ID [anything after the id is a comment, e.g. the date the peer was first seen]
 * bob  kq3v...52 base32 characters... first-seen 2026-12-08
 * </pre>
 * NAME is a rendezvous name (NFC, no whitespace), ID a node id ({@link Identity#id()}, 52 characters of
 * {@code a-z2-7}, either case). A name appears at most once; a line that breaks these rules makes every
 * read fail with a {@link KnownPeersFileException} naming the file and the line, so that a damaged file is never
 * silently taken for "peer unknown". The file is at most {@value #MAX_BYTES} bytes.
 *
 * <h2>Writing</h2>
 * {@link #remember} and {@link #forget} read the file, change the one line, and write the whole file under a
 * temporary name in the same directory (created with mode 0600, forced to disk), then rename it over the old
 * one atomically: a reader sees the old file or the new one, never a part. Comments and other lines are kept
 * as they were. Missing parent directories are created with mode 0700. A file that group or others may write
 * is refused (the message gives the {@code chmod}): whoever can write it can make this machine trust any key.
 * Two processes updating the file at the same moment may lose one of the two updates (the last rename wins);
 * each update is whole.
 *
 * <p>Every call reads the file afresh, so an edit by hand or by another process counts at once. Thread-safe.
 */
public final class KnownPeers {
    /** The default file's name in the configuration directory. */
    public static final String FILE_NAME = "known_peers";
    /** A larger file is refused: about 8,000 peers at 120 bytes a line. */
    public static final int MAX_BYTES = 1 << 20;

    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS_WRITE = EnumSet.of(
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);

    private final Path file;

    private KnownPeers(Path file) {
        this.file = file;
    }

    /** The known peers kept in {@code file}; nothing is read or created until the first call. */
    public static KnownPeers at(Path file) {
        return new KnownPeers(Objects.requireNonNull(file, "file").toAbsolutePath());
    }

    /** {@link #defaultPath(Map)} of this process's environment. */
    public static Path defaultPath() {
        return defaultPath(System.getenv());
    }

    /**
     * {@code known_peers} next to the default identity file: {@code $XDG_CONFIG_HOME/pinhole/known_peers} when
     * that variable is an absolute path, else {@code $HOME/.config/pinhole/known_peers}.
     */
    public static Path defaultPath(Map<String, String> environment) {
        return Identity.defaultPath(environment).resolveSibling(FILE_NAME);
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** What the file says about a name and the id a peer presented. */
    public enum Verdict {
        /** The name is in the file with this id. */
        KNOWN,
        /** The name is not in the file. */
        UNKNOWN,
        /** The name is in the file with another id. */
        CHANGED
    }

    /**
     * Compares {@code id} with the one the file holds for {@code name}.
     *
     * @throws KnownPeersFileException if the file cannot be read or is malformed (the message names the line)
     */
    public synchronized Verdict check(String name, String id) throws IOException {
        Optional<String> known = idOf(name);
        if (known.isEmpty()) {
            return Verdict.UNKNOWN;
        }
        return known.get().equals(canonicalId(id)) ? Verdict.KNOWN : Verdict.CHANGED;
    }

    /** The id the file holds for {@code name}, or empty. A missing file holds nothing. */
    public synchronized Optional<String> idOf(String name) throws IOException {
        String key = canonicalName(name);
        for (Line line : read()) {
            if (key.equals(line.name)) {
                return Optional.of(line.id);
            }
        }
        return Optional.empty();
    }

    /** Every name in the file with its id, in file order. */
    public synchronized Map<String, String> entries() throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        for (Line line : read()) {
            if (line.name != null) {
                all.put(line.name, line.id);
            }
        }
        return Collections.unmodifiableMap(all);
    }

    /**
     * Records {@code name → id}, replacing the line of a name already in the file (a new key accepted) or
     * appending a line with today's date. Creates the file (mode 0600) and its directories (0700) if missing.
     *
     * @throws IllegalArgumentException if the name or the id is not valid
     * @throws KnownPeersFileException if the file cannot be read, is malformed, or cannot be written
     */
    public synchronized void remember(String name, String id) throws IOException {
        String key = canonicalName(name);
        String value = canonicalId(id);
        List<Line> lines = new ArrayList<>(read());
        String text = key + " " + value + " first-seen " + LocalDate.now(ZoneOffset.UTC);
        boolean replaced = false;
        for (int i = 0; i < lines.size(); i++) {
            if (key.equals(lines.get(i).name)) {
                if (lines.get(i).id.equals(value)) {
                    return;
                }
                lines.set(i, new Line(text, key, value));
                replaced = true;
            }
        }
        if (!replaced) {
            if (lines.isEmpty()) {
                lines.add(new Line("# pinhole known peers: NAME ID [comment]; see docs/security.md", null, null));
            }
            lines.add(new Line(text, key, value));
        }
        write(lines);
    }

    /**
     * Removes the line of {@code name}; the next connection to that name is then a first meeting again.
     *
     * @return whether the file had the name
     */
    public synchronized boolean forget(String name) throws IOException {
        String key = canonicalName(name);
        List<Line> lines = new ArrayList<>(read());
        if (!lines.removeIf(l -> key.equals(l.name))) {
            return false;
        }
        write(lines);
        return true;
    }

    @Override
    public String toString() {
        return "KnownPeers{" + file + "}";
    }

    // ------------------------------------------------------------------ internals

    /** One line as read: its text, and the name and id it holds (both null for a comment or blank line). */
    private record Line(String text, String name, String id) {
    }

    private static String canonicalName(String name) {
        String normalized = Normalizer.normalize(Objects.requireNonNull(name, "name"), Normalizer.Form.NFC);
        String problem = PeerNames.problem(normalized);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return normalized;
    }

    /** The id in lowercase, checked ({@link Identity#parseId}'s message says what a valid id looks like). */
    static String canonicalId(String id) {
        Identity.parseId(Objects.requireNonNull(id, "id"));
        return id.toLowerCase(java.util.Locale.ROOT);
    }

    private List<Line> read() throws IOException {
        try {
            return readLines();
        } catch (KnownPeersFileException e) {
            throw e;
        } catch (IOException e) {
            throw new KnownPeersFileException(file, "cannot read known-peers file " + file + ": " + e, e);
        }
    }

    private List<Line> readLines() throws IOException {
        PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        byte[] bytes;
        try {
            if (posix != null) {
                var attributes = posix.readAttributes();
                if (!attributes.isRegularFile()) {
                    throw new KnownPeersFileException(file, "known-peers file " + file + " is not a regular file");
                }
                if (attributes.permissions().stream().anyMatch(GROUP_OR_OTHERS_WRITE::contains)) {
                    throw new KnownPeersFileException(file, "known-peers file " + file + " may be written by group or others, who"
                            + " could make this machine trust any key; run: chmod 600 " + file);
                }
            }
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
        } catch (NoSuchFileException missing) {
            return List.of();
        } catch (AccessDeniedException e) {
            throw new KnownPeersFileException(file, "cannot read known-peers file " + file + ": permission denied", e);
        }
        if (bytes.length > MAX_BYTES) {
            throw new KnownPeersFileException(file, "known-peers file " + file + " is larger than " + MAX_BYTES
                    + " bytes; is it the right file?");
        }
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new KnownPeersFileException(file, "known-peers file " + file + " is not UTF-8 text", e);
        }
        return parse(file, content);
    }

    /** The lines of {@code content}. */
    private static List<Line> parse(Path file, String content) throws IOException {
        List<Line> lines = new ArrayList<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        int number = 0;
        for (String raw : content.split("\\R", -1)) {
            number++;
            String text = raw.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                lines.add(new Line(raw, null, null));
                continue;
            }
            String[] fields = text.split("\\s+", 3);
            if (fields.length < 2) {
                throw malformed(file, number, "expected 'NAME ID', found only '" + abbreviate(text) + "'");
            }
            String name = Normalizer.normalize(fields[0], Normalizer.Form.NFC);
            String problem = PeerNames.problem(name);
            if (problem != null) {
                throw malformed(file, number, problem);
            }
            String id;
            try {
                id = canonicalId(fields[1]);
            } catch (IllegalArgumentException e) {
                throw malformed(file, number, e.getMessage());
            }
            Integer earlier = seen.putIfAbsent(name, number);
            if (earlier != null) {
                throw malformed(file, number, "'" + name + "' is already on line " + earlier
                        + "; keep one line per name");
            }
            lines.add(new Line(raw, name, id));
        }
        // split(-1) gives one empty string after the final newline: not a line of its own.
        while (!lines.isEmpty() && lines.get(lines.size() - 1).name == null
                && lines.get(lines.size() - 1).text.isBlank()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static IOException malformed(Path file, int line, String problem) {
        return new KnownPeersFileException(file, "known-peers file " + file + " line " + line + ": " + problem
                + " (each line is 'NAME ID [comment]'; fix or delete the line)");
    }

    private void write(List<Line> lines) throws IOException {
        try {
            writeLines(lines);
        } catch (KnownPeersFileException e) {
            throw e;
        } catch (IOException e) {
            throw new KnownPeersFileException(file, "cannot write known-peers file " + file + ": " + e, e);
        }
    }

    private void writeLines(List<Line> lines) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Line line : lines) {
            text.append(line.text).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new KnownPeersFileException(file, "known-peers file " + file + " would grow beyond " + MAX_BYTES
                    + " bytes; remove peers you no longer use");
        }
        boolean posix = file.getFileSystem().supportedFileAttributeViews().contains("posix");
        Path directory = file.getParent();
        try {
            if (posix) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
            } else {
                Files.createDirectories(directory);
            }
        } catch (FileAlreadyExistsException e) {
            throw new KnownPeersFileException(file, "cannot create the directory of known-peers file " + file + ": " + e.getFile()
                    + " exists and is not a directory", e);
        }
        Path target = file;
        if (Files.isSymbolicLink(file)) {
            // Keep the link: replace the file it names.
            target = file.toRealPath();
        }
        FileAttribute<?>[] mode = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
        Path temporary = Files.createTempFile(target.getParent(), ".known_peers-", ".tmp", mode);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                ByteBuffer content = ByteBuffer.wrap(bytes);
                while (content.hasRemaining()) {
                    channel.write(content);
                }
                channel.force(true);
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
        if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new KnownPeersFileException(file, "known-peers file " + file + " vanished while it was written");
        }
    }
}
