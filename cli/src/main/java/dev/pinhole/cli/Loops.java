package dev.pinhole.cli;

import dev.pinhole.core.net.UdpEventLoop;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Shared helpers of the commands: binding sockets and reading secrets, with errors a user can act on. */
final class Loops {
    private Loops() {
    }

    /** A bound (not yet started) event loop. */
    static UdpEventLoop bind(InetSocketAddress address, String threadName) throws CliException {
        try {
            return UdpEventLoop.builder().bind(address).threadName(threadName).daemon(true).build();
        } catch (BindException e) {
            throw new CliException(ExitCodes.PORT_IN_USE, "cannot listen on " + Addresses.format(address) + ": "
                    + e.getMessage() + " (is another process using the port, or is the address not on this host?)", e);
        } catch (IOException e) {
            throw new CliException(ExitCodes.PORT_IN_USE, "cannot open a UDP socket on "
                    + Addresses.format(address) + ": " + e.getMessage(), e);
        }
    }

    /** The shared secret: the file's first line, or null without a file. */
    static String readSecret(Path file) throws CliException {
        if (file == null) {
            return null;
        }
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new CliException(ExitCodes.LOCAL_FILE, "the secret file " + file + " is empty");
            }
            return text.lines().findFirst().orElse(text).strip();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "the secret file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot read the secret file " + file + ": " + e, e);
        }
    }

    static void closeAll(Iterable<? extends AutoCloseable> closeables) {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // Shutting down: a second failure adds nothing the user can act on.
            }
        }
    }
}
