package dev.pinhole.cli;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.rendezvous.PeerList;
import dev.pinhole.punch.rendezvous.RendezvousClient;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.RendezvousException;
import dev.pinhole.punch.rendezvous.RendezvousListener;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pinhole chat}: short text messages between registered peers, relayed by the rendezvous server's
 * MESSAGE method (the server retransmits each to the peer until it is acknowledged).
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        // The first line is the summary `pinhole --help` lists: it must stand alone.
        description = {"Registers NAME and chats through the rendezvous server: type 'send <user> <message>',"
                + " 'getu' or 'exit' on stdin; received messages print as '<user>: <message>'.",
            "Commands on stdin:",
            "  send <user> <message>   send a message to a registered user",
            "  getu                    list the registered users (if the server runs with --allow-list)",
            "  exit                    leave (end of input also leaves)",
            "Received messages print as '<user>: <message>'."})
final class ChatCommand implements Callable<Integer> {
    /** Shorter than RFC 8489's 39.5 s so an interactive user hears of an unreachable server in seconds. */
    static final StunTransactionConfig INTERACTIVE_TIMING = new StunTransactionConfig(250_000_000L, 6, 8);
    private static final long WAIT_S = 30;

    @Option(names = "--id", required = true, paramLabel = "NAME", converter = CliArguments.PeerName.class,
            description = "Your name.")
    String id;

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

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public Integer call() throws Exception {
        String secret = Loops.readSecret(secretFile);
        // The name is bound to this identity's key at the rendezvous server: a restarted chat with the same
        // identity file takes its name back at once, and no other key can take it while it is registered.
        RendezvousClientConfig.Builder config = RendezvousClientConfig.builder().timing(INTERACTIVE_TIMING)
                .identity(Identities.forNode(identityFile));
        if (secret != null) {
            config.secret(secret);
        }
        try (UdpEventLoop loop = Loops.bind(bind, "chat")) {
            loop.start();
            RendezvousClient client = await(loop.submit(() -> RendezvousClient.listen(loop, rendezvous, config.build())
                    .listener(new RendezvousListener() {
                        @Override
                        public void onMessage(String fromPeer, String text) {
                            System.out.println(fromPeer + ": " + text);
                        }

                        @Override
                        public void onRegistrationLost(RendezvousException cause) {
                            System.err.println("pinhole: registration lost: " + Failures.oneLine(String.valueOf(cause.getMessage())));
                        }
                    })), "starting");
            AutoCloseable onSignal = Loops.closeOnShutdown("chat-shutdown", () -> Loops.closeClient(loop, client));
            try {
                await(onLoop(loop, () -> client.register(id, List.of())), "registering '" + id + "'");
                System.out.println("registered as " + id + " at " + Addresses.format(rendezvous)
                        + "; commands: send <user> <message> | getu | exit");
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    String trimmed = line.strip();
                    if (trimmed.isEmpty()) {
                        continue;
                    }
                    String[] parts = trimmed.split("\\s+", 3);
                    switch (parts[0]) {
                        case "exit" -> {
                            return ExitCodes.OK;
                        }
                        case "getu" -> {
                            try {
                                System.out.println("users: " + String.join(", ", users(loop, client)));
                            } catch (CliException e) {
                                // 403 unless the server runs with --allow-list: it reveals no names.
                                System.err.println("pinhole: " + Failures.oneLine(String.valueOf(e.getMessage())));
                            }
                        }
                        case "send" -> {
                            if (parts.length < 3) {
                                System.err.println("usage: send <user> <message>");
                                continue;
                            }
                            try {
                                await(onLoop(loop, () -> client.sendMessage(parts[1], parts[2])), "sending");
                                System.out.println("sent to " + parts[1]);
                            } catch (CliException e) {
                                System.err.println("pinhole: " + Failures.oneLine(String.valueOf(e.getMessage())));
                            } catch (IllegalArgumentException e) {
                                System.err.println("pinhole: " + Failures.oneLine(String.valueOf(e.getMessage())));
                            }
                        }
                        default -> System.err.println("unknown command '" + parts[0]
                                + "': send <user> <message> | getu | exit");
                    }
                }
                return ExitCodes.OK;
            } finally {
                onSignal.close();
                Loops.closeClient(loop, client);
            }
        }
    }

    private static List<String> users(UdpEventLoop loop, RendezvousClient client) throws CliException {
        List<String> names = new ArrayList<>();
        String after = null;
        do {
            String from = after;
            PeerList page = await(onLoop(loop, () -> client.listPeers(from)), "listing users");
            names.addAll(page.names());
            after = page.hasMore() ? page.nextAfter() : null;
        } while (after != null);
        return names;
    }

    /** Runs {@code call} on the loop and flattens the future it returns. */
    private static <T> CompletableFuture<T> onLoop(UdpEventLoop loop, Callable<CompletableFuture<T>> call) {
        return loop.submit(call).thenCompose(f -> f);
    }

    private static <T> T await(CompletableFuture<T> future, String doing) throws CliException {
        try {
            return future.get(WAIT_S, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw Failures.toCli(doing, e);
        }
    }
}
