package dev.pinhole.cli;

import dev.pinhole.cli.transfer.FileReceiver;
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
    @Option(names = "--id", required = true, paramLabel = "NAME", description = "Your name at the rendezvous server.")
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
        String secret = Loops.readSecret(secretFile);
        Identity identity = Identities.forNode(identityFile);
        try (PinholeNode node = Loops.openNode(id, identity, rendezvous, secret, bind, 0, UnaryOperator.identity());
             AutoCloseable onSignal = Loops.closeOnShutdown("receive-shutdown", node::close)) {
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
                try (connection) {
                    TransferReport report = Transfers.receive(connection, receiver, progress);
                    progress.close();
                    report.print(System.out, json);
                    System.out.flush();
                    if (once) {
                        return ExitCodes.OK;
                    }
                } catch (IOException e) {
                    progress.close();
                    CliException failure = Failures.toCli("receiving from '" + connection.peerName() + "'", e);
                    if (once) {
                        throw failure;
                    }
                    System.err.println("pinhole: " + Failures.oneLine(failure.getMessage()));
                    if (json) {
                        System.out.println(Json.object().put("ok", false).put("exit_code", failure.exitCode())
                                .put("error", Failures.oneLine(failure.getMessage())));
                    }
                }
            }
        }
    }
}
