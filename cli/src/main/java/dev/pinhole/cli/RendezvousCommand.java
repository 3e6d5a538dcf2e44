package dev.pinhole.cli;

import dev.pinhole.server.PinholeServer;
import dev.pinhole.server.PinholeServerException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pinhole rendezvous}: the rendezvous server (with STUN, and RFC 5780 with --alt), and by default
 * the built-in TURN relay whose credentials every introduction offers: argument parsing and output over
 * {@link PinholeServer}.
 */
@Command(name = "rendezvous", mixinStandardHelpOptions = true,
        description = {"Runs a rendezvous server until interrupted: peers register names here and are"
            + " introduced to each other; it answers STUN Binding requests on the same port, and with --alt"
            + " it is an RFC 5780 NAT behaviour discovery server. Unless --no-relay, it also runs a TURN relay"
            + " (RFC 8656) for peers that cannot punch, and every introduction offers it with credentials"
            + " that admit new allocations for 10 minutes and let each peer relay only to the peer it is"
            + " introduced to.",
            "Once ready, prints one line per socket it listens on (the rendezvous and STUN socket, with --alt"
                + " the three more RFC 5780 sockets, and the relay's), then 'listening on IP:PORT' (with"
                + " ', relay on IP:PORT' when relaying)."})
final class RendezvousCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Address to listen on (UDP), e.g. 0.0.0.0:3478.")
    InetSocketAddress listen;

    @Option(names = "--alt", paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Second IP address and port for RFC 5780: the server also listens on"
                + " IP1:PORT2, IP2:PORT1 and IP2:PORT2.")
    InetSocketAddress alt;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Shared secret (first line) peers must prove with MESSAGE-INTEGRITY-SHA256, on top of"
                + " the key each name is bound to (admission control).")
    Path secretFile;

    @Option(names = "--no-relay", description = "Do not run the built-in relay and offer none: peers that"
            + " cannot punch fail to connect.")
    boolean noRelay;

    @Option(names = "--relay-listen", paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Address the relay listens on (UDP). Default: --listen's IP and the port after every"
                + " port the server uses: --listen's + 1, or with --alt the higher of --listen's and --alt's"
                + " ports + 1 (3478 and 3479: 3480); an ephemeral port when either is 0.")
    InetSocketAddress relayListen;

    @Option(names = "--relay-ip", paramLabel = "IP",
            description = "Address peers are told to reach the relay at (offers and relayed addresses)."
                + " Default: the relay's listening IP (--relay-listen, else --listen), or for 0.0.0.0 the first"
                + " non-loopback IPv4 address of this host."
                + " A public address in front of this host (1:1 NAT) also works with a specific --relay-listen.")
    InetAddress relayIp;

    @Option(names = "--relay-rate", paramLabel = "BYTES_PER_SECOND",
            description = "Relayed bytes per second per allocation, both directions together (default: 2000000).")
    Long relayRate;

    @Option(names = "--turn-server", paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "Offer this TURN server (e.g. coturn) instead of running the built-in relay. It must"
                + " accept TURN REST credentials made with --turn-secret-file's secret (coturn:"
                + " --use-auth-secret --static-auth-secret=SECRET).")
    InetSocketAddress turnServer;

    @Option(names = "--turn-secret-file", paramLabel = "FILE",
            description = "The TURN server's REST secret (first line), with --turn-server.")
    Path turnSecretFile;

    @Option(names = "--max-per-address", paramLabel = "N",
            description = "Live registrations one source address may hold: an IPv4 address, or an IPv6 /64"
                + " (default: " + PinholeServer.DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS + "). Nodes behind"
                + " one NAT share its address.")
    Integer maxPerAddress;

    @Option(names = "--max-per-prefix", paramLabel = "N",
            description = "Live registrations one network may hold: an IPv4 /24, or an IPv6 /56 (default: "
                + PinholeServer.DEFAULT_MAX_REGISTRATIONS_PER_PREFIX + ").")
    Integer maxPerPrefix;

    @Option(names = "--allow-list",
            description = "Let peers list the registered names (chat's getu). Default: listing is refused"
                + " (403), so the server reveals no names.")
    boolean allowList;

    @Option(names = "--json", description = "Print the ready line as JSON too, with every socket's address.")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public Integer call() throws Exception {
        if (maxPerAddress != null && maxPerAddress < 1) {
            throw new CliException(ExitCodes.USAGE, "--max-per-address must be positive, got " + maxPerAddress);
        }
        if (maxPerPrefix != null && maxPerPrefix < 1) {
            throw new CliException(ExitCodes.USAGE, "--max-per-prefix must be positive, got " + maxPerPrefix);
        }
        String secret = Loops.readSecret(secretFile);
        PinholeServer.Builder builder = PinholeServer.builder().listen(listen).alternate(alt).secret(secret)
                .software("pinhole").threadName("rendezvous")
                .maxRegistrationsPerAddress(maxPerAddress).maxRegistrationsPerPrefix(maxPerPrefix)
                .allowList(allowList);
        if (turnServer != null) {
            byte[] turnSecret = externalTurnSecret();
            if (secret != null && java.util.Arrays.equals(turnSecret, secret.getBytes(StandardCharsets.UTF_8))) {
                throw new CliException(ExitCodes.USAGE, "--turn-secret-file holds the same secret as --secret-file:"
                        + " every peer knows the shared secret, so the TURN server needs a secret of its own");
            }
            builder.externalRelay(turnServer, turnSecret);
        } else if (noRelay) {
            builder.builtInRelay(false);
        } else {
            if (relayIp != null && relayIp.isAnyLocalAddress()) {
                throw new CliException(ExitCodes.USAGE, "--relay-ip must be a specific address, not "
                        + relayIp.getHostAddress() + " (peers send to it)");
            }
            if (relayRate != null && relayRate <= 0) {
                throw new CliException(ExitCodes.USAGE, "--relay-rate must be positive, got " + relayRate);
            }
            builder.relayListen(relayListen).relayIp(relayIp).relayRate(relayRate);
        }
        PinholeServer server;
        try {
            server = builder.build();
        } catch (PinholeServerException e) {
            throw toCli(e);
        }
        String where = Addresses.format(server.rendezvousAddress());
        String other = server.alternateAddress() == null ? null : Addresses.format(server.alternateAddress());
        String relayWhere = server.relayAddress() == null ? null : Addresses.format(server.relayAddress());
        for (PinholeServer.ListeningSocket socket : server.sockets()) {
            System.out.println("pinhole rendezvous: udp " + Addresses.format(socket.address()) + " "
                    + label(socket, server));
        }
        System.out.println("pinhole rendezvous: listening on " + where
                + (other == null ? "" : " (RFC 5780 other address " + other + ")")
                + (secret == null ? "" : " (shared secret required)")
                + (relayWhere == null ? "" : ", relay on " + relayWhere));
        if (json) {
            Json line = Json.object().put("event", "listening").put("address", where)
                    .put("other_address", other).put("secret", secret != null);
            line = relayWhere == null ? line.put("relay", false) : line.put("relay", relayWhere);
            for (PinholeServer.ListeningSocket socket : server.sockets()) {
                line.put(socket.role().key(), Addresses.format(socket.address()));
            }
            System.out.println(line);
        }
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "rendezvous-shutdown"));
        stopped.await();
        return ExitCodes.OK;
    }

    /** What a socket of the ready output is for. */
    private static String label(PinholeServer.ListeningSocket socket, PinholeServer server) {
        return switch (socket.role()) {
            case RENDEZVOUS -> "rendezvous and STUN" + (server.alternateAddress() == null ? "" : " (RFC 5780 IP1:PORT1)");
            case ALTERNATE_PORT -> "RFC 5780 IP1:PORT2 (alternate port)";
            case ALTERNATE_IP -> "RFC 5780 IP2:PORT1 (alternate address)";
            case OTHER_ADDRESS -> "RFC 5780 IP2:PORT2 (OTHER-ADDRESS)";
            case RELAY -> "TURN relay" + (server.relayAddress() == null || server.relayAddress().equals(socket.address())
                    ? "" : " (peers are told " + Addresses.format(server.relayAddress()) + ")");
        };
    }

    /** A socket's description with the option its address comes from: "RFC 5780 ... (IP1:PORT2, --listen's IP, --alt's port)". */
    private String withOption(PinholeServer.SocketRole role) {
        String description = role.description();
        return description.endsWith(")") ? description.substring(0, description.length() - 1) + ", " + option(role) + ")"
                : description + " (" + option(role) + ")";
    }

    /** The option a socket's address comes from. */
    private String option(PinholeServer.SocketRole role) {
        return switch (role) {
            case RENDEZVOUS -> "--listen";
            case ALTERNATE_PORT -> "--listen's IP, --alt's port";
            case ALTERNATE_IP -> "--alt's IP, --listen's port";
            case OTHER_ADDRESS -> "--alt";
            case RELAY -> relayListen != null ? "--relay-listen" : "the relay's default, --listen's IP";
        };
    }

    /**
     * A socket that could not be bound: {@link ExitCodes#PORT_IN_USE}, naming the socket and the option it
     * comes from, and for a collision with one of the server's own sockets, that one too.
     */
    private CliException bindFailure(PinholeServerException e) {
        if (e.role() == null) {
            return Loops.bindFailure(e.address(), e.getCause() instanceof IOException io ? io : e);
        }
        String message = e.getMessage().replace(e.role().description(), withOption(e.role()));
        if (e.bindProblem() == PinholeServerException.BindProblem.IN_USE_ELSEWHERE) {
            message = message.replace("another socket on this host (another process) has", "another process is using");
        }
        if (e.bindProblem() == PinholeServerException.BindProblem.HELD_BY_THIS_SERVER) {
            PinholeServer.SocketRole other = e.heldBy().role();
            message = message.replace("own " + other.description(), "own " + withOption(other));
            boolean wildcard = e.heldBy().address().getAddress().isAnyLocalAddress()
                    || e.address().getAddress().isAnyLocalAddress();
            if (wildcard && alt != null) {
                message += "; with --alt, give --listen a specific IP (RFC 5780 answers from each address)";
            } else if (e.role() == PinholeServer.SocketRole.RELAY || other == PinholeServer.SocketRole.RELAY) {
                message += "; give the relay another port with --relay-listen";
            }
        }
        return new CliException(ExitCodes.PORT_IN_USE, message, e);
    }

    /** The secret of --turn-server, checked against the other relay options. */
    private byte[] externalTurnSecret() throws CliException {
        if (noRelay) {
            throw new CliException(ExitCodes.USAGE, "--turn-server offers a relay and --no-relay offers none:"
                    + " choose one");
        }
        if (turnSecretFile == null) {
            throw new CliException(ExitCodes.USAGE, "--turn-server needs --turn-secret-file: the TURN server's"
                    + " REST secret, with which this server makes each peer's credentials");
        }
        byte[] secret = Loops.readSecret(turnSecretFile).getBytes(StandardCharsets.UTF_8);
        if (secret.length < PinholeServer.MIN_REST_SECRET_BYTES) {
            throw new CliException(ExitCodes.USAGE, "the TURN secret in " + turnSecretFile + " has " + secret.length
                    + " bytes; use at least " + PinholeServer.MIN_REST_SECRET_BYTES);
        }
        return secret;
    }

    /** The server's failure in this command's terms: its options, and the exit codes users script against. */
    private CliException toCli(PinholeServerException e) {
        return switch (e.reason()) {
            case BIND_FAILED -> bindFailure(e);
            case ALTERNATE_NOT_DISTINCT -> new CliException(ExitCodes.USAGE, "--alt must differ from --listen in"
                    + " both IP and port (RFC 5780 needs two addresses and two ports)");
            case NO_RELAY_IP -> new CliException(ExitCodes.USAGE, "cannot tell which address peers reach the relay"
                    + " at: this host has no non-loopback IPv4 address; pass --relay-ip IP or --no-relay");
            case INTERFACES_UNAVAILABLE -> new CliException(ExitCodes.INTERNAL, "cannot list the network interfaces"
                    + " to choose the relay address: " + e.getCause().getMessage() + "; pass --relay-ip IP or"
                    + " --no-relay", e);
            case RELAY_IP_NOT_LOCAL -> new CliException(ExitCodes.USAGE, "--relay-ip " + relayIp.getHostAddress()
                    + " is not an address of this host: also pass --relay-listen with a local IP to bind the relay"
                    + " sockets to");
            case START_FAILED -> new CliException(ExitCodes.INTERNAL, e.getMessage(), e);
        };
    }
}
