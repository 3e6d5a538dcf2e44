package dev.pinhole.cli;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pinhole rendezvous}: the rendezvous server (with STUN, and RFC 5780 with --alt), and by default
 * the built-in TURN relay whose credentials every introduction offers ({@link BuiltInRelay}).
 */
@Command(name = "rendezvous", mixinStandardHelpOptions = true,
        description = {"Runs a rendezvous server until interrupted: peers register names here and are"
            + " introduced to each other; it answers STUN Binding requests on the same port, and with --alt"
            + " it is an RFC 5780 NAT behaviour discovery server. Unless --no-relay, it also runs a TURN relay"
            + " (RFC 8656) for peers that cannot punch, and every introduction offers it with credentials"
            + " valid for 24 hours.",
            "Prints 'listening on IP:PORT' once ready (with ', relay on IP:PORT' when relaying)."})
final class RendezvousCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Address to listen on (UDP), e.g. 0.0.0.0:3478.")
    InetSocketAddress listen;

    @Option(names = "--alt", paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Second IP address and port for RFC 5780: the server also listens on"
                + " IP1:PORT2, IP2:PORT1 and IP2:PORT2.")
    InetSocketAddress alt;

    @Option(names = "--secret-file", paramLabel = "FILE",
            description = "Shared secret (first line) peers must prove with MESSAGE-INTEGRITY-SHA256.")
    Path secretFile;

    @Option(names = "--no-relay", description = "Do not run the built-in relay and offer none: peers that"
            + " cannot punch fail to connect.")
    boolean noRelay;

    @Option(names = "--relay-listen", paramLabel = "IP:PORT", converter = Addresses.class,
            description = "Address the relay listens on (UDP). Default: --listen's IP, port --listen's + 1"
                + " (an ephemeral port when --listen's is 0).")
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

    @Option(names = "--json", description = "Print the ready line as JSON too.")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public Integer call() throws Exception {
        String secret = Loops.readSecret(secretFile);
        RendezvousServerConfig.Builder config = RendezvousServerConfig.builder().software("pinhole");
        if (secret != null) {
            config.secret(secret);
        }
        UdpEventLoop loop = Loops.bind(listen, "rendezvous");
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            BuiltInRelay relay = null;
            InetSocketAddress offered = null;
            if (turnServer != null) {
                offered = turnServer;
                config.relay(turnServer, externalTurnSecret());
            } else if (!noRelay) {
                relay = openRelay(loop, secret);
                offered = relay.offeredAddress();
                config.relay(offered, relay.restSecret());
            }
            RendezvousServer server;
            String other = null;
            if (alt == null) {
                loop.start();
                startRelay(loop, relay);
                server = onLoop(loop, () -> RendezvousServer.listen(loop, config.build()));
            } else {
                int port1 = loop.localAddress().getPort();
                if (alt.getAddress().equals(listen.getAddress()) || alt.getPort() == port1) {
                    throw new CliException(ExitCodes.USAGE, "--alt must differ from --listen in both IP and port"
                            + " (RFC 5780 needs two addresses and two ports)");
                }
                // RFC 5780 §6: one server answering from IP1:PORT1, IP1:PORT2, IP2:PORT1 and IP2:PORT2, all
                // four sockets on the loop's one thread.
                DatagramEndpoint altPort = Loops.openSocket(loop, new InetSocketAddress(listen.getAddress(),
                        alt.getPort()));
                int port2 = altPort.localAddress().getPort();
                DatagramEndpoint altIp = Loops.openSocket(loop, new InetSocketAddress(alt.getAddress(), port1));
                DatagramEndpoint altBoth = Loops.openSocket(loop, new InetSocketAddress(alt.getAddress(), port2));
                other = Addresses.format(altBoth.localAddress());
                loop.start();
                startRelay(loop, relay);
                server = onLoop(loop, () -> RendezvousServer.listenRfc5780(loop, altPort, altIp, altBoth,
                        config.build()));
            }
            String where = Addresses.format(server.localAddress());
            String relayWhere = offered == null ? null : Addresses.format(offered);
            System.out.println("pinhole rendezvous: listening on " + where
                    + (other == null ? "" : " (RFC 5780 other address " + other + ")")
                    + (secret == null ? "" : " (shared secret required)")
                    + (relayWhere == null ? "" : ", relay on " + relayWhere));
            if (json) {
                Json line = Json.object().put("event", "listening").put("address", where)
                        .put("other_address", other).put("secret", secret != null);
                System.out.println(relayWhere == null ? line.put("relay", false) : line.put("relay", relayWhere));
            }
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                loop.close();
                stopped.countDown();
            }, "rendezvous-shutdown"));
            stopped.await();
            return ExitCodes.OK;
        } catch (CliException e) {
            loop.close();
            throw e;
        }
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
        if (secret.length < RendezvousServerConfig.MIN_REST_SECRET_BYTES) {
            throw new CliException(ExitCodes.USAGE, "the TURN secret in " + turnSecretFile + " has " + secret.length
                    + " bytes; use at least " + RendezvousServerConfig.MIN_REST_SECRET_BYTES);
        }
        return secret;
    }

    /**
     * The relay's socket on {@code loop}, before it starts: --relay-listen, or --listen's IP with the next
     * port; the offered IP from --relay-ip or {@link BuiltInRelay#defaultRelayIp}. The REST secret is the
     * shared secret's bytes when it has at least 16, else random per run: only this process issues
     * credentials, so the secret never needs to leave it.
     */
    private BuiltInRelay openRelay(UdpEventLoop loop, String secret) throws CliException {
        InetSocketAddress where = relayListen;
        if (where == null) {
            int port = listen.getPort() == 0 || listen.getPort() == 65_535 ? 0 : listen.getPort() + 1;
            where = new InetSocketAddress(listen.getAddress(), port);
        }
        InetAddress offered;
        if (relayIp != null) {
            offered = relayIp;
        } else {
            offered = BuiltInRelay.defaultRelayIp(where.getAddress().isAnyLocalAddress() ? listen.getAddress()
                    : where.getAddress());
            if (offered == null) {
                throw new CliException(ExitCodes.USAGE, "cannot tell which address peers reach the relay at:"
                        + " this host has no non-loopback IPv4 address; pass --relay-ip IP or --no-relay");
            }
        }
        if (offered.isAnyLocalAddress()) {
            throw new CliException(ExitCodes.USAGE, "--relay-ip must be a specific address, not "
                    + offered.getHostAddress() + " (peers send to it)");
        }
        return BuiltInRelay.open(loop, where, offered,
                secret == null ? null : secret.getBytes(StandardCharsets.UTF_8), relayRate, "pinhole");
    }

    private static void startRelay(UdpEventLoop loop, BuiltInRelay relay) throws CliException, InterruptedException {
        if (relay != null) {
            onLoop(loop, relay::start);
        }
    }

    private static <T> T onLoop(UdpEventLoop loop, Callable<T> task) throws CliException, InterruptedException {
        try {
            return loop.submit(task).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new CliException(ExitCodes.INTERNAL, "the server did not start: " + e.getMessage(), e);
        }
    }
}
