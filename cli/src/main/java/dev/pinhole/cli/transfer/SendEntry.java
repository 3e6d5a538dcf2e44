package dev.pinhole.cli.transfer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * One entry a sender offers: a file with its content source, or a directory.
 *
 * @param path relative '/'-separated path the receiver writes under its output directory
 * @param directory whether this is a directory entry (then size is 0 and content is null)
 * @param size file size in bytes
 * @param content opens the content from its first byte
 */
public record SendEntry(String path, boolean directory, long size, Content content) {
    /** Opens the bytes of a file entry from its start. */
    @FunctionalInterface
    public interface Content {
        InputStream open() throws IOException;
    }

    public SendEntry {
        Objects.requireNonNull(path, "path");
        if (size < 0) {
            throw new IllegalArgumentException("size " + size + " < 0");
        }
        if (!directory) {
            Objects.requireNonNull(content, "content");
        }
    }

    public static SendEntry file(String path, long size, Content content) {
        return new SendEntry(path, false, size, content);
    }

    public static SendEntry directory(String path) {
        return new SendEntry(path, true, 0, null);
    }

    /**
     * The entries for a file or a directory tree on disk: a file becomes one entry named after it; a
     * directory becomes its own entry followed by every directory and regular file under it, named
     * {@code dirName/relative/path}, in a stable (sorted) order. Symbolic links are not followed.
     */
    public static List<SendEntry> fromPath(Path source) throws IOException {
        Path fileName = source.toAbsolutePath().normalize().getFileName();
        if (fileName == null) {
            throw new IOException("cannot send " + source + ": it has no name (a root directory?)");
        }
        String base = fileName.toString();
        List<SendEntry> entries = new ArrayList<>();
        if (Files.isRegularFile(source)) {
            entries.add(fileEntry(base, source));
            return entries;
        }
        if (!Files.isDirectory(source)) {
            throw new IOException("cannot send " + source + ": no such file or directory");
        }
        try (Stream<Path> walk = Files.walk(source)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                String relative = source.relativize(p).toString().replace(p.getFileSystem().getSeparator(), "/");
                String name = relative.isEmpty() ? base : base + "/" + relative;
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    entries.add(directory(name));
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    entries.add(fileEntry(name, p));
                }
            }
        }
        return entries;
    }

    private static SendEntry fileEntry(String name, Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("cannot read " + file + ": permission denied");
        }
        return file(name, Files.size(file), () -> Files.newInputStream(file));
    }
}
