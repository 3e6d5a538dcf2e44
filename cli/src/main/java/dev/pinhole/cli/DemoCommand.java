package dev.pinhole.cli;

import dev.pinhole.core.net.FirewalledEndpoint;
import dev.pinhole.core.net.LossyEndpoint;
import dev.pinhole.cli.transfer.FileReceiver;
import dev.pinhole.cli.transfer.SendEntry;
import dev.pinhole.cli.transfer.TransferListener;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.PinholeNode;
import dev.pinhole.reliability.Identity;
import dev.pinhole.server.PinholeServer;
import dev.pinhole.server.PinholeServerException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pinhole demo}: a rendezvous server and two peers on loopback in one process; one peer sends a
 * generated file to the other over a punched Pinhole connection, and both verify its SHA-256.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs a rendezvous server and two peers (alice, bob) on loopback in this process;"
            + " alice sends bob a generated file of --size bytes over a punched, reliable UDP connection.",
            "Prints the path, the time to connect, goodput, retransmissions and the SHA-256 both verified."})
final class DemoCommand implements Callable<Integer>, Main.JsonOutput {
    private static final long RECEIVER_WAIT_S = 60;
    /** How long alice waits for bob to register (both register before she connects). */
    private static final long CONNECT_TIMEOUT_MS = 10_000;
    /** With --relayed, the relay does not limit the rate: the demo measures the path, not the relay's policy. */
    private static final long UNLIMITED_RELAY_BYTES_PER_SECOND = 10_000_000_000L;

    @Option(names = "--size", paramLabel = "BYTES", defaultValue = "256MiB", converter = Sizes.class,
            description = "Size of the generated file, e.g. 8MiB, 1GiB (default: ${DEFAULT-VALUE}).")
    long size;

    @Option(names = "--loss", paramLabel = "FRACTION", defaultValue = "0",
            description = "Drop this fraction of the transport's datagrams on both peers' sockets, in both"
                + " directions, e.g. 0.05 (default: 0). Rendezvous and STUN datagrams are not dropped.")
    double loss;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the file content and the loss pattern (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--relayed", description = "Forbid direct datagrams between the two peers (each may reach"
            + " only the rendezvous server and its relay), so the transfer runs through the built-in relay, here"
            + " without its per-allocation rate limit.")
    boolean relayed;

    @Option(names = "--identity", paramLabel = "FILE", description = "alice's key file (created if missing)."
            + " Default: both peers get new ephemeral identities, and no file is read or written.")
    Path identityFile;

    @Option(names = "--json", description = "Print the summary as one JSON object.")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public boolean json() {
        return json;
    }

    @Override
    public Integer call() throws Exception {
        if (!(loss >= 0 && loss < 0.5)) {
            throw new CliException(ExitCodes.USAGE, "--loss must be a fraction in [0, 0.5), got " + loss);
        }
        Identity aliceIdentity = identityFile == null ? null : Identities.forNode(identityFile);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Path outDir;
        try {
            outDir = Files.createTempDirectory("pinhole-demo-");
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot create a temporary directory: " + e, e);
        }
        // Ctrl-C (or SIGTERM) mid-transfer: the JVM runs this hook and then halts, so the partial file goes too.
        AutoCloseable onSignal = Loops.closeOnShutdown("demo-cleanup", () -> deleteTreeWhileWritten(outDir));
        PinholeServer.Builder serverBuilder = PinholeServer.builder().listen(new InetSocketAddress(loopback, 0))
                // The built-in relay on loopback next to the server, as `pinhole rendezvous` runs it, so that
                // every introduction offers it.
                .relayListen(new InetSocketAddress(loopback, 0)).relayIp(loopback)
                .relayRate(relayed ? UNLIMITED_RELAY_BYTES_PER_SECOND : null)
                .software("pinhole-demo").threadName("demo-rendezvous");
        try (PinholeServer server = startServer(serverBuilder)) {
            InetSocketAddress rendezvous = server.rendezvousAddress();
            InetSocketAddress relay = server.relayAddress();
            if (!json) {
                System.out.printf(Locale.ROOT, "pinhole demo: rendezvous on %s; alice sends bob %s%s%s%n",
                        Addresses.format(rendezvous), humanSize(size),
                        loss > 0 ? String.format(Locale.ROOT, " with %.1f%% datagram loss", loss * 100) : "",
                        relayed ? " through the relay on " + Addresses.format(relay) : "");
            }
            InetSocketAddress any = new InetSocketAddress(loopback, 0);
            Set<InetSocketAddress> servers = Set.of(rendezvous, relay);
            try (PinholeNode bob = Loops.openNode("bob", null, rendezvous, null, any, CONNECT_TIMEOUT_MS,
                    socketOf(seed * 31 + 1, servers));
                 PinholeNode alice = Loops.openNode("alice", aliceIdentity, rendezvous, null, any, CONNECT_TIMEOUT_MS,
                         socketOf(seed * 31 + 2, servers))) {
                FileReceiver receiver = new FileReceiver(outDir, false);
                CompletableFuture<TransferReport> received = CompletableFuture.supplyAsync(() -> {
                    try (PeerConnection connection = bob.accept()) {
                        return Transfers.receive(connection, receiver, TransferListener.NONE);
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                }, r -> new Thread(r, "demo-bob").start());
                Progress progress = new Progress("alice -> bob", json, System.err);
                TransferReport sent;
                try (PeerConnection connection = alice.connect("bob")) {
                    String name = "demo-" + size + ".bin";
                    sent = Transfers.send("demo", connection,
                            List.of(SendEntry.file(name, size, () -> new GeneratedContent(seed, size))), progress);
                } catch (IOException e) {
                    progress.close(false);
                    CliException failure = Failures.toCli("sending from alice to bob", e);
                    throw failure;
                }
                progress.close(true);
                TransferReport got;
                try {
                    got = received.get(RECEIVER_WAIT_S, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    CliException failure = Failures.toCli("receiving at bob", e);
                    throw failure;
                }
                if (!got.summary().sha256().equals(sent.summary().sha256())) {
                    throw new CliException(ExitCodes.TRANSFER_FAILED, "bob verified " + got.summary().sha256()
                            + " but alice sent " + sent.summary().sha256());
                }
                sent.print(System.out, json);
                return ExitCodes.OK;
            }
        } finally {
            onSignal.close();
            deleteTree(outDir);
        }
    }

    /** Deletes {@code root} while the receiving thread may still create a file in it: again until it is gone. */
    private static void deleteTreeWhileWritten(Path root) {
        for (int attempt = 0; attempt < 40 && Files.exists(root); attempt++) {
            deleteTree(root);
            if (Files.exists(root)) {
                try {
                    Thread.sleep(25);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static PinholeServer startServer(PinholeServer.Builder builder) throws CliException {
        try {
            return builder.build();
        } catch (PinholeServerException e) {
            if (e.reason() == PinholeServerException.Reason.BIND_FAILED && e.getCause() instanceof IOException io) {
                throw Loops.bindFailure(e.address(), io);
            }
            throw new CliException(ExitCodes.INTERNAL, e.getMessage(), e);
        }
    }

    /**
     * Each peer's socket as its protocol sees it: with --loss, a {@link LossyEndpoint} seeded per peer; with
     * --relayed, behind a {@link FirewalledEndpoint} that lets datagrams out only to {@code servers}.
     */
    private UnaryOperator<DatagramEndpoint> socketOf(long lossSeed, Set<InetSocketAddress> servers) {
        return endpoint -> {
            DatagramEndpoint socket = relayed ? new FirewalledEndpoint(endpoint, servers::contains) : endpoint;
            return loss > 0 ? new LossyEndpoint(socket, loss, lossSeed, true) : socket;
        };
    }

    static String humanSize(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20)).replace(".0 ", " ");
        }
        return bytes + " bytes";
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // A leftover file in the temporary directory is harmless.
        }
    }
}
