package dev.pinhole.cli;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.rendezvous.RendezvousServer;
import dev.pinhole.punch.rendezvous.RendezvousServerConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pinhole rendezvous}: the rendezvous server (with STUN, and RFC 5780 with --alt). */
@Command(name = "rendezvous", mixinStandardHelpOptions = true,
        description = {"Runs a rendezvous server until interrupted: peers register names here and are"
            + " introduced to each other; it answers STUN Binding requests on the same port, and with --alt"
            + " it is an RFC 5780 NAT behaviour discovery server.",
            "Prints 'listening on IP:PORT' once ready."})
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

    @Option(names = "--no-relay", description = "Do not relay traffic for peers that cannot punch. Accepted"
            + " for forward compatibility: this version has no built-in relay yet (it arrives with a later"
            + " release), so it never relays.")
    boolean noRelay;

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
        List<UdpEventLoop> loops = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        try {
            UdpEventLoop primary = Loops.bind(listen, "rendezvous");
            loops.add(primary);
            RendezvousServer server;
            if (alt == null) {
                primary.start();
                server = onLoop(primary, () -> RendezvousServer.listen(primary, config.build()));
            } else {
                if (alt.getAddress().equals(listen.getAddress()) || alt.getPort() == primary.localAddress().getPort()) {
                    throw new CliException(ExitCodes.USAGE, "--alt must differ from --listen in both IP and port"
                            + " (RFC 5780 needs two addresses and two ports)");
                }
                int port1 = primary.localAddress().getPort();
                UdpEventLoop altPort = Loops.bind(new InetSocketAddress(listen.getAddress(), alt.getPort()),
                        "rendezvous-alt-port");
                loops.add(altPort);
                UdpEventLoop altIp = Loops.bind(new InetSocketAddress(alt.getAddress(), port1), "rendezvous-alt-ip");
                loops.add(altIp);
                UdpEventLoop altBoth = Loops.bind(new InetSocketAddress(alt.getAddress(), altPort.localAddress().getPort()),
                        "rendezvous-alt-both");
                loops.add(altBoth);
                LoopBridge ap = new LoopBridge(primary, altPort);
                LoopBridge ai = new LoopBridge(primary, altIp);
                LoopBridge ab = new LoopBridge(primary, altBoth);
                for (UdpEventLoop loop : loops) {
                    loop.start();
                }
                server = onLoop(primary, () -> RendezvousServer.listenRfc5780(primary, ap, ai, ab, config.build()));
            }
            String where = Addresses.format(server.localAddress());
            String other = alt == null ? null : Addresses.format(loops.get(3).localAddress());
            System.out.println("pinhole rendezvous: listening on " + where
                    + (other == null ? "" : " (RFC 5780 other address " + other + ")")
                    + (secret == null ? "" : " (shared secret required)"));
            if (json) {
                System.out.println(Json.object().put("event", "listening").put("address", where)
                        .put("other_address", other).put("secret", secret != null).put("relay", false));
            }
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                Loops.closeAll(loops);
                stopped.countDown();
            }, "rendezvous-shutdown"));
            stopped.await();
            return ExitCodes.OK;
        } catch (CliException e) {
            Loops.closeAll(loops);
            throw e;
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
