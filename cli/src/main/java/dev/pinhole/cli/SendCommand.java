package dev.pinhole.cli;

import dev.pinhole.cli.transfer.SendEntry;
import dev.pinhole.punch.KnownPeers;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.PinholeNode;
import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pinhole send}: sends a file or directory to a named peer. */
@Command(name = "send", mixinStandardHelpOptions = true,
        description = "Registers NAME, waits for PEER to register (up to --timeout), punches a direct path,"
            + " sends FILE (a file or a directory tree) and exits 0 only after the receiver confirmed the"
            + " SHA-256 of what it wrote.")
final class SendCommand implements Callable<Integer>, Main.JsonOutput {
    @Parameters(index = "0", paramLabel = "FILE", description = "File or directory to send.")
    Path file;

    @Option(names = "--id", required = true, paramLabel = "NAME", converter = CliArguments.PeerName.class,
            description = "Your name at the rendezvous server.")
    String id;

    @Option(names = "--to", required = true, paramLabel = "PEER[@ID]",
            description = "The receiver's name; with @ID (its node id, from `pinhole id` on its machine) only that"
                + " key is accepted, and recorded in known_peers.")
    String to;

    @Mixin
    Trust.Options trust;

    @Mixin
    RelayTiming relayTiming;

    @Option(names = "--rendezvous", required = true, paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "The rendezvous server.")
    InetSocketAddress rendezvous;

    @Option(names = "--secret-file", paramLabel = "FILE", description = "The server's shared secret.")
    Path secretFile;

    @Option(names = "--identity", paramLabel = "FILE", description = Identities.OPTION_HELP)
    Path identityFile;

    @Option(names = "--bind", paramLabel = "IP:PORT", converter = Addresses.class, defaultValue = "0.0.0.0:0",
            description = "Local UDP address (default: ${DEFAULT-VALUE}).")
    InetSocketAddress bind;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            converter = CliArguments.PositiveSeconds.class,
            description = "How long to wait for the peer to register (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--json", description = "Print the summary as one JSON object.")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public boolean json() {
        return json;
    }

    @Override
    // "try": the shutdown-hook resource is held for its scope, never referenced (Loops.closeOnShutdown).
    @SuppressWarnings("try")
    public Integer call() throws Exception {
        Trust.Target target = Trust.Target.parse(to);
        if (target.name().equals(id)) {
            throw new CliException(ExitCodes.USAGE, "--to " + to + " names this sender itself (--id " + id
                    + "): a transfer needs another peer");
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new CliException(ExitCodes.LOCAL_FILE, "no such file or directory: " + file);
        }
        if (!Files.isReadable(file)) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot read " + file + ": permission denied");
        }
        List<SendEntry> entries;
        try {
            entries = SendEntry.fromPath(file);
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, e.getMessage(), e);
        }
        KnownPeers known = trust.open();
        String secret = Loops.readSecret(secretFile);
        Identity identity = Identities.forNode(identityFile);
        Progress progress = new Progress("sending", json, System.err);
        java.util.concurrent.atomic.AtomicReference<PeerConnection> active = new java.util.concurrent.atomic.AtomicReference<>();
        // With --accept-new-key the node checks nothing itself: a changed key is accepted and recorded below.
        try (PinholeNode node = Loops.openNode(id, identity, rendezvous, secret, bind, timeoutSeconds * 1000,
                UnaryOperator.identity(), trust.acceptNewKey ? null : known.file(), relayTiming);
             AutoCloseable onSignal = Loops.closeOnShutdown("send-shutdown", () -> {
                 // Ctrl-C or SIGTERM: tell the receiver why the connection ends, then deregister.
                 PeerConnection open = active.get();
                 if (open != null) {
                     open.abort(Trust.CANCELLED_CODE);
                 }
                 node.close();
             })) {
            PeerConnection connection;
            try {
                connection = node.connect(target.name(), target.pinnedId(), () -> waiting(target.name()));
                if (trust.acceptNewKey) {
                    // The node had no known-peers file to check or record with (a pinned id was checked by it).
                    acceptNewKey(known, connection);
                }
            } catch (IOException e) {
                throw Failures.connecting(target.name(), e);
            }
            active.set(connection);
            if (!json) {
                System.err.println("pinhole send: connected to " + Trust.describe(connection) + ", id "
                        + connection.peerId());
            }
            TransferReport report;
            try {
                report = Transfers.send("send", connection, entries, progress);
            } catch (IOException e) {
                progress.close(false);
                CliException failure = Failures.toCli("sending", target.name(), e);
                try {
                    connection.close();
                } catch (IOException closeFailure) {
                    failure.addSuppressed(closeFailure);
                }
                throw failure;
            }
            progress.close(true);
            active.set(null);
            try {
                connection.close();
            } catch (IOException e) {
                // The receiver confirmed every file's SHA-256 before this: that is the contract for exit 0.
                // Only the last goodbye (our FIN's acknowledgement) went missing.
                System.err.println("pinhole: note: the transfer is confirmed, but the connection did not close"
                        + " cleanly: " + Failures.oneLine(String.valueOf(e.getMessage())));
            }
            report.print(System.out, json);
        }
        return ExitCodes.OK;
    }

    /** Says, once, that the peer is not registered yet and how long this waits for it (node thread). */
    private void waiting(String peer) {
        if (json) {
            System.out.println(Json.object().put("event", "waiting").put("peer", peer)
                    .put("rendezvous", Addresses.format(rendezvous)).put("timeout_s", timeoutSeconds));
            System.out.flush();
        } else {
            System.err.println("pinhole send: waiting for " + peer + " to register at " + Addresses.format(rendezvous)
                    + " (up to " + timeoutSeconds + " s)...");
        }
    }

    /** --accept-new-key: records the key the peer proved, saying so when it replaces another one. */
    private static void acceptNewKey(KnownPeers known, PeerConnection connection) throws IOException {
        try {
            java.util.Optional<String> old = known.idOf(connection.peerName());
            if (old.isPresent() && !old.get().equals(connection.peerId())) {
                System.err.println("pinhole send: accepted a new key for " + connection.peerName() + ": fingerprint "
                        + Trust.fingerprint(old.get()) + " replaced by " + Trust.fingerprint(connection.peerId())
                        + " in " + known.file());
            }
            known.remember(connection.peerName(), connection.peerId());
        } catch (IOException e) {
            connection.abort(Trust.REFUSED_CODE);
            throw e;
        }
    }
}
