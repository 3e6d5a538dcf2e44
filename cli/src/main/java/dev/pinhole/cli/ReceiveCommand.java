package dev.pinhole.cli;

import dev.pinhole.cli.transfer.Admission;
import dev.pinhole.cli.transfer.FileReceiver;
import dev.pinhole.cli.transfer.TransferException;
import dev.pinhole.cli.transfer.TransferListener;
import dev.pinhole.punch.KnownPeers;
import dev.pinhole.punch.PeerKeyChangedException;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.PinholeNode;
import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pinhole receive}: registers a name and receives files from peers that connect to it. */
@Command(name = "receive", mixinStandardHelpOptions = true,
        description = "Registers NAME at the rendezvous server and receives files into --out. Each file is"
            + " written as .NAME.pinhole-partial and renamed only after its SHA-256 matches the sender's; an"
            + " interrupted transfer resumes from the partial file on the next send.")
final class ReceiveCommand implements Callable<Integer>, Main.JsonOutput {
    @Option(names = "--id", required = true, paramLabel = "NAME", converter = CliArguments.PeerName.class,
            description = "Your name at the rendezvous server.")
    String id;

    @Option(names = "--rendezvous", required = true, paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "The rendezvous server.")
    InetSocketAddress rendezvous;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
            description = "Directory to write into (default: the current directory).")
    Path out;

    @Option(names = "--once", description = "Exit after the first transfer (exit code tells how it went).")
    boolean once;

    @Option(names = "--overwrite", description = "Replace existing files of the same name.")
    boolean overwrite;

    @Option(names = "--secret-file", paramLabel = "FILE", description = "The server's shared secret.")
    Path secretFile;

    @Option(names = "--identity", paramLabel = "FILE", description = Identities.OPTION_HELP)
    Path identityFile;

    @Option(names = "--bind", paramLabel = "IP:PORT", converter = Addresses.class, defaultValue = "0.0.0.0:0",
            description = "Local UDP address (default: ${DEFAULT-VALUE}).")
    InetSocketAddress bind;

    @Option(names = "--json", description = "Print one JSON object per transfer.")
    boolean json;

    @Option(names = "--from", paramLabel = "NAME|ID", description = "Accept only this sender (its name, or its"
            + " node id from `pinhole id` on its machine); others are refused before anything is written.")
    String from;

    @Option(names = "--yes", description = "Accept senders not in known_peers without asking (and record them)."
            + " Without it, an unknown sender is asked about on a terminal and refused otherwise.")
    boolean yes;

    @Mixin
    Trust.Options trust;

    @Mixin
    RelayTiming relayTiming;

    @Mixin
    Main.Verbosity verbosity;

    /**
     * Decides, before the session's HELLO is answered, whether this sender may send: refuses (throws) at once a
     * sender that --from excludes or whose key differs from the one known_peers holds; the returned admission
     * then shows the offer and, for a sender not seen before without --yes or a matching --from, asks on the
     * terminal (refusing when there is none). An accepted sender is recorded in known_peers before anything is
     * written.
     */
    private Admission admit(KnownPeers known, PeerConnection connection) throws CliException {
        String name = connection.peerName();
        String peerId = connection.peerId();
        String who = Trust.describe(connection);
        boolean chosen = false;
        if (from != null) {
            String fromId = Trust.idOrNull(from);
            chosen = fromId != null ? fromId.equals(peerId)
                    : java.text.Normalizer.normalize(from, java.text.Normalizer.Form.NFC).equals(name);
            if (!chosen) {
                throw new CliException(ExitCodes.PEER_NOT_TRUSTED, "refused a transfer from " + who + ", id " + peerId
                        + ": --from " + from + " accepts only " + (fromId != null ? "the node with that id" : from)
                        + "; nothing was written");
            }
        }
        // --from ID pins the key itself: it replaces what known_peers says.
        boolean pinned = chosen && Trust.idOrNull(from) != null;
        KnownPeers.Verdict verdict;
        try {
            verdict = known.check(name, peerId);
            if (verdict == KnownPeers.Verdict.CHANGED && !pinned && !trust.acceptNewKey) {
                throw new CliException(ExitCodes.PEER_NOT_TRUSTED, "refused a transfer: " + new PeerKeyChangedException(
                        name, known.idOf(name).orElseThrow(), peerId, false, known.file()).getMessage()
                        + "; nothing was written");
            }
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, e.getMessage(), e);
        }
        boolean ask = verdict == KnownPeers.Verdict.UNKNOWN && !yes && !chosen;
        java.io.Console console = System.console();
        if (ask && console == null) {
            throw new CliException(ExitCodes.PEER_NOT_TRUSTED, "refused a transfer from " + who + ", id " + peerId
                    + ": this sender is not in " + known.file() + " and there is no terminal to ask on; pass --yes to"
                    + " accept any sender, or --from " + name + " (or --from its id) to accept this one; nothing was"
                    + " written");
        }
        String status = switch (verdict) {
            case KNOWN -> "known";
            case UNKNOWN -> "not seen before";
            case CHANGED -> "new key accepted";
        };
        return (entryCount, totalBytes) -> {
            if (json) {
                System.out.println(Json.object().put("event", "offer").put("peer", name).put("peer_id", peerId)
                        .put("peer_fingerprint", Trust.fingerprint(peerId)).put("known", verdict.name().toLowerCase(
                                java.util.Locale.ROOT)).put("entries", entryCount).put("bytes", totalBytes));
                System.out.flush();
            } else {
                System.err.println("pinhole receive: " + who + " (" + status + ") offers " + entryCount
                        + " file(s), " + humanSize(totalBytes));
            }
            if (ask) {
                String answer = console.readLine("Accept %d file(s) (%s) from %s? [y/N] ", entryCount,
                        humanSize(totalBytes), who);
                if (answer == null || !(answer.strip().equalsIgnoreCase("y") || answer.strip().equalsIgnoreCase("yes"))) {
                    throw new TransferException(TransferException.Kind.NOT_TRUSTED, "refused the transfer from " + who
                            + ": not accepted; nothing was written");
                }
            }
            if (verdict != KnownPeers.Verdict.KNOWN) {
                try {
                    known.remember(name, peerId);
                } catch (IOException e) {
                    throw new TransferException(TransferException.Kind.LOCAL_IO, "cannot record " + who + " in "
                            + known.file() + ": " + e.getMessage(), e);
                }
            }
        };
    }

    static String humanSize(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes / 1024.0;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** Shows each file's name and size before it is written (stderr, or a JSON event), then the progress. */
    private final class Announcing implements TransferListener {
        private final PeerConnection connection;
        private final Progress progress;

        Announcing(PeerConnection connection, Progress progress) {
            this.connection = connection;
            this.progress = progress;
        }

        @Override
        public void started(long entryCount, long totalBytes) {
            progress.started(entryCount, totalBytes);
        }

        @Override
        public void fileStarted(String path, long size, long startOffset) {
            if (json) {
                System.out.println(Json.object().put("event", "file").put("peer", connection.peerName())
                        .put("path", path).put("size", size).put("start_offset", startOffset));
                System.out.flush();
            } else {
                System.err.println("pinhole receive: " + path + " (" + humanSize(size) + ") from "
                        + connection.peerName());
            }
            progress.fileStarted(path, size, startOffset);
        }

        @Override
        public void bytes(long count) {
            progress.bytes(count);
        }

        @Override
        public void fileFinished(String path, boolean verified, String detail) {
            progress.fileFinished(path, verified, detail);
        }
    }

    @Override
    public boolean json() {
        return json;
    }

    @Override
    // "try": the shutdown-hook resource is held for its scope, never referenced (Loops.closeOnShutdown).
    @SuppressWarnings("try")
    public Integer call() throws Exception {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new CliException(ExitCodes.LOCAL_FILE, "--out " + out + " is a file, not a directory");
        }
        if (!Files.isDirectory(out)) {
            throw new CliException(ExitCodes.LOCAL_FILE, "output directory " + out + " does not exist");
        }
        if (!Files.isWritable(out)) {
            throw new CliException(ExitCodes.LOCAL_FILE, "output directory " + out + " is not writable");
        }
        FileReceiver receiver;
        try {
            receiver = new FileReceiver(out, overwrite);
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot use output directory " + out + ": " + e, e);
        }
        KnownPeers known = trust.open();
        String secret = Loops.readSecret(secretFile);
        Identity identity = Identities.forNode(identityFile);
        java.util.concurrent.atomic.AtomicReference<PeerConnection> active = new java.util.concurrent.atomic.AtomicReference<>();
        try (PinholeNode node = Loops.openNode(id, identity, rendezvous, secret, bind, 0, UnaryOperator.identity(),
                null, relayTiming);
             AutoCloseable onSignal = Loops.closeOnShutdown("receive-shutdown", () -> {
                 // Ctrl-C or SIGTERM: tell the sender why the connection ends, then deregister.
                 PeerConnection open = active.get();
                 if (open != null) {
                     open.abort(Trust.CANCELLED_CODE);
                 }
                 node.close();
             })) {
            if (!json) {
                System.err.println("pinhole receive: registered as " + id + " at " + Addresses.format(rendezvous)
                        + ", writing to " + out.toAbsolutePath().normalize());
            } else {
                System.out.println(Json.object().put("event", "registered").put("id", id));
                System.out.flush();
            }
            while (true) {
                PeerConnection connection;
                try {
                    connection = node.accept();
                } catch (IOException e) {
                    throw Failures.toCli("waiting for a sender", e);
                }
                Progress progress = new Progress("receiving", json, System.err);
                active.set(connection);
                try (connection) {
                    Admission admission;
                    try {
                        admission = admit(known, connection);
                    } catch (CliException refused) {
                        connection.abort(Trust.REFUSED_CODE);
                        throw refused;
                    }
                    TransferReport report;
                    try {
                        report = Transfers.receive(connection, receiver, new Announcing(connection, progress),
                                admission);
                    } catch (TransferException e) {
                        if (e.kind() == TransferException.Kind.NOT_TRUSTED) {
                            connection.abort(Trust.REFUSED_CODE);
                        }
                        throw e;
                    }
                    progress.close(true);
                    report.print(System.out, json);
                    System.out.flush();
                    if (once) {
                        return ExitCodes.OK;
                    }
                } catch (IOException | CliException e) {
                    progress.close(false);
                    CliException failure = Failures.toCli("receiving", connection.peerName(), e);
                    if (once) {
                        throw failure;
                    }
                    System.err.println("pinhole: " + Failures.oneLine(failure.getMessage()));
                    if (json) {
                        System.out.println(Json.object().put("ok", false).put("exit_code", failure.exitCode())
                                .put("error", Failures.oneLine(failure.getMessage()))
                                .put("peer", connection.peerName()).put("peer_id", connection.peerId())
                                .put("peer_fingerprint", Trust.fingerprint(connection.peerId())));
                        System.out.flush();
                    }
                } finally {
                    active.set(null);
                }
            }
        }
    }
}
