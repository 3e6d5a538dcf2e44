package dev.pinhole.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The key file of an {@link Identity}: three lines of ASCII text,
 * <pre>
 * pinhole-identity v1
 * x25519 &lt;base64 of the 32-byte X25519 private key&gt;
 * ed25519 &lt;base64 of the 32-byte Ed25519 seed&gt;
 * </pre>
 * Only the private keys are stored: the public keys are derived on load, so the file cannot hold a public key
 * that does not match. Text rather than PKCS#8 so that a person can see what the file is and which version.
 *
 * <p>On POSIX file systems the file is created with mode 0600 from the start (never written and then
 * narrowed) and a file that group or others may access is refused, as ssh refuses such a private key. A
 * symbolic link is followed, and its target must pass the same checks: the link itself has no mode of its
 * own that matters. Elsewhere (Windows) there is no mode to check, and the user profile's ACLs protect it.
 */
final class IdentityFile {
    static final String HEADER = "pinhole-identity v1";
    /** The file is about 120 bytes; a larger one is some other file given by mistake. */
    private static final int MAX_BYTES = 4096;
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private IdentityFile() {
    }

    static Identity read(Path file) throws IOException {
        PosixFileAttributeView posix = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (posix != null) {
            // Reading the attributes first also tells a missing file (NoSuchFileException) from a bad one.
            PosixFileAttributes attributes = posix.readAttributes();
            if (!attributes.isRegularFile()) {
                throw new IOException("identity file " + file + " is not a regular file");
            }
            Set<PosixFilePermission> mode = attributes.permissions();
            if (mode.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new IOException("identity file " + file + " holds private keys but group or others may access"
                        + " it (mode " + octal(mode) + "); run: chmod 600 " + file);
            }
        } else if (!Files.isRegularFile(file)) {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            throw new IOException("identity file " + file + " is not a regular file");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (AccessDeniedException e) {
            throw new IOException("cannot read identity file " + file + ": permission denied", e);
        }
        if (bytes.length > MAX_BYTES) {
            throw malformed(file, 1, "the file is larger than " + MAX_BYTES + " bytes; an identity file starts with '"
                    + HEADER + "'");
        }
        List<String> lines = new String(bytes, StandardCharsets.UTF_8).lines().map(String::strip).toList();
        String first = lines.isEmpty() ? "" : lines.get(0);
        if (!first.equals(HEADER)) {
            throw malformed(file, 1, first.startsWith("pinhole-identity ")
                    ? "unsupported version '" + first + "', this program reads '" + HEADER + "'"
                    : "expected '" + HEADER + "'");
        }
        byte[] x25519 = key(file, lines, 2, "x25519");
        byte[] ed25519 = key(file, lines, 3, "ed25519");
        for (int i = 3; i < lines.size(); i++) {
            if (!lines.get(i).isEmpty()) {
                throw malformed(file, i + 1, "unexpected text after the ed25519 line");
            }
        }
        return Identity.fromPrivateKeys(x25519, ed25519);
    }

    static void write(Path file, byte[] x25519Private, byte[] ed25519Seed) throws IOException {
        Path target = file.toAbsolutePath();
        if (Files.isSymbolicLink(target) && !Files.exists(target)) {
            // Renaming onto the link would replace it rather than create the file it names.
            throw new IOException("identity file " + file + " is a symbolic link to a missing file; remove the"
                    + " link or point it at an existing identity file");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(file.toString());
        }
        boolean posix = target.getFileSystem().supportedFileAttributeViews().contains("posix");
        Path directory = target.getParent();
        try {
            if (posix) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
            } else {
                Files.createDirectories(directory);
            }
        } catch (FileAlreadyExistsException e) {
            // A file where a directory should be: not the "identity file exists" that callers retry on.
            throw new IOException("cannot create the directory of identity file " + file + ": " + e.getFile()
                    + " exists and is not a directory", e);
        }
        FileAttribute<?>[] mode = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
        Path temporary = Files.createTempFile(directory, ".identity-", ".tmp", mode);
        try {
            String text = HEADER + "\n"
                    + "x25519 " + Base64.getEncoder().encodeToString(x25519Private) + "\n"
                    + "ed25519 " + Base64.getEncoder().encodeToString(ed25519Seed) + "\n";
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                ByteBuffer content = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
                while (content.hasRemaining()) {
                    channel.write(content);
                }
                // On disk before it has its name: a crash leaves no file, or a whole one.
                channel.force(true);
            }
            publish(temporary, target);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Gives the complete temporary file its name. A hard link, unlike a rename, fails if the name exists, so
     * of two processes creating the identity at once one wins and the other loads the winner's. Where hard
     * links are not supported, an atomic rename, after one more check for the file.
     */
    private static void publish(Path temporary, Path target) throws IOException {
        try {
            Files.createLink(target, temporary);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (UnsupportedOperationException | FileSystemException e) {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(target.toString());
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static byte[] key(Path file, List<String> lines, int lineNumber, String name) throws IOException {
        String expected = "expected '" + name + " <base64 of 32 bytes>'";
        if (lines.size() < lineNumber) {
            throw malformed(file, lineNumber, expected + ", found the end of the file");
        }
        String[] parts = lines.get(lineNumber - 1).split("\\s+");
        if (parts.length != 2 || !parts[0].equals(name)) {
            throw malformed(file, lineNumber, expected);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
            throw malformed(file, lineNumber, "the " + name + " key is not base64 (" + e.getMessage() + ")");
        }
        if (key.length != Identity.KEY_BYTES) {
            throw malformed(file, lineNumber, "the " + name + " key is " + key.length + " bytes, not "
                    + Identity.KEY_BYTES);
        }
        return key;
    }

    private static IOException malformed(Path file, int line, String problem) {
        return new IOException("identity file " + file + " is malformed at line " + line + ": " + problem);
    }

    private static String octal(Set<PosixFilePermission> mode) {
        int bits = 0;
        for (PosixFilePermission p : mode) {
            // The enum runs OWNER_READ .. OTHERS_EXECUTE, i.e. from bit 8 down to bit 0.
            bits |= 1 << (8 - p.ordinal());
        }
        return String.format(Locale.ROOT, "0%03o", bits);
    }
}
