package dev.pinhole.cli;

import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * The commands' {@code --identity FILE}: the node's long-term keys ({@link Identity}) from the key file, created
 * on first use, with failures as {@link ExitCodes#LOCAL_FILE} and a message that says what to fix.
 */
final class Identities {
    /** The {@code --identity} help of the commands that keep their identity in a file. */
    static final String OPTION_HELP = "Your node's key file, created on first use (see: pinhole id).%nDefault:"
            + " $XDG_CONFIG_HOME/pinhole/identity,%nelse ~/.config/pinhole/identity.";

    private Identities() {
    }

    /** The identity in the key file and whether this call created it. */
    record Loaded(Identity identity, Path file, boolean created) {
    }

    /** The key file's path: {@code file}, or the default path when it is null. */
    static Path fileOrDefault(Path file) {
        return file != null ? file : Identity.defaultPath();
    }

    /**
     * The identity in {@code file} (the default path when null), created if the file does not exist.
     *
     * @throws CliException with {@link ExitCodes#LOCAL_FILE} if the file cannot be read or written, group or
     *     others may access it, or it is malformed
     */
    static Loaded loadOrCreate(Path file) throws CliException {
        Path path = fileOrDefault(file);
        try {
            try {
                return new Loaded(Identity.load(path), path, false);
            } catch (NoSuchFileException missing) {
                try {
                    return new Loaded(Identity.create(path, new SecureRandom()), path, true);
                } catch (FileAlreadyExistsException raced) {
                    // Another pinhole process created it a moment ago: that one is ours too.
                    return new Loaded(Identity.load(path), path, false);
                }
            }
        } catch (AccessDeniedException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot read or create the identity file " + path
                    + ": permission denied on " + e.getFile(), e);
        } catch (FileSystemException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot read or create the identity file " + path + ": "
                    + e.getMessage(), e);
        } catch (IOException e) {
            // Identity's own messages name the file and the fix (the chmod, the malformed line).
            throw new CliException(ExitCodes.LOCAL_FILE, e.getMessage(), e);
        }
    }

    /**
     * The identity of a node started by a command: as {@link #loadOrCreate}, creating the file quietly (the
     * command's own output stays as it was; {@code pinhole id} and {@code -v} say where it is).
     */
    static Identity forNode(Path file) throws CliException {
        Loaded loaded = loadOrCreate(file);
        if (loaded.created() && Main.verbose()) {
            System.err.println("pinhole: created a new identity in " + loaded.file() + ", id "
                    + loaded.identity().id());
        }
        return loaded.identity();
    }
}
