package dev.pinhole.cli.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns a sender's relative path into a file under the output directory, or refuses it. */
final class SafePaths {
    private SafePaths() {
    }

    /**
     * Resolves {@code path} under {@code root}. Refused: empty paths, absolute paths, backslashes, NUL,
     * empty, "." or ".." segments, and partial-file names (a sender must not plant a fake partial file).
     */
    static Path resolve(Path root, String path) throws TransferException {
        if (path.isEmpty() || path.startsWith("/") || path.indexOf('\\') >= 0 || path.indexOf('\0') >= 0
                || (path.length() > 1 && path.charAt(1) == ':')) {
            throw refused(path, "it is empty or absolute");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw refused(path, "it has an empty, '.' or '..' segment");
            }
            if (segment.endsWith(TransferProtocol.PARTIAL_SUFFIX)) {
                throw refused(path, "it ends in " + TransferProtocol.PARTIAL_SUFFIX);
            }
        }
        Path resolved = root.resolve(path).normalize();
        if (!resolved.startsWith(root) || resolved.equals(root)) {
            throw refused(path, "it leaves the output directory");
        }
        return resolved;
    }

    /**
     * Checks that {@code path} stays inside the root even after following symbolic links: its nearest
     * existing ancestor (itself if it exists) must really be inside. Called before creating directories,
     * so that a link inside the output directory cannot make us create anything outside it.
     */
    static void checkInside(Path root, Path path) throws IOException {
        Path existing = path;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !existing.toRealPath().startsWith(root)) {
            throw refused(root.relativize(path).toString(), "it leads out of the output directory through a link");
        }
    }

    private static TransferException refused(String path, String why) {
        return new TransferException(TransferException.Kind.PROTOCOL,
                "refused path \"" + path.replace("\0", "\\0") + "\" from the sender: " + why);
    }
}
