package dev.pinhole.cli;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.node.NodeCore;
import dev.pinhole.punch.node.NodeSettings;
import dev.pinhole.punch.node.PeerLink;
import dev.pinhole.punch.rendezvous.PeerList;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.reliability.TransportConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Pinhole node for the commands: one UDP event loop running {@link NodeCore} (rendezvous, traversal,
 * transport on one socket), with blocking {@link LinkConnection}s for the application threads.
 */
final class CoreNode implements PeerNode {
    /** Registration: candidate gathering and REGISTER with their retransmissions. */
    private static final long REGISTER_WAIT_S = 60;
    /** Traversal and handshake after the peer registered (the traversal deadline is 10 s). */
    private static final long CONNECT_SLACK_S = 30;

    private final UdpEventLoop loop;
    private final NodeCore core;
    private final long connectTimeoutMs;
    private final LinkedBlockingQueue<PeerLink> incoming;

    private CoreNode(UdpEventLoop loop, NodeCore core, long connectTimeoutMs, LinkedBlockingQueue<PeerLink> incoming) {
        this.loop = loop;
        this.core = core;
        this.connectTimeoutMs = connectTimeoutMs;
        this.incoming = incoming;
    }

    static CoreNode open(Options options) throws CliException {
        UdpEventLoop loop = Loops.bind(options.bind(), "pinhole-" + options.name());
        try {
            DatagramEndpoint endpoint = options.lossFraction() > 0
                    ? new LossyEndpoint(loop, options.lossFraction(), options.lossSeed()) : loop;
            HostAddresses hosts = options.bind().getAddress().isAnyLocalAddress()
                    ? HostAddresses.system(HostAddresses.Filter.DEFAULT)
                    : HostAddresses.of(List.of(options.bind().getAddress()));
            RendezvousClientConfig.Builder rendezvousConfig = RendezvousClientConfig.builder()
                    .timing(ChatCommand.INTERACTIVE_TIMING);
            if (options.secret() != null) {
                rendezvousConfig.secret(options.secret());
            }
            NodeSettings settings = new NodeSettings(options.name(), options.rendezvous(), List.of(), hosts,
                    rendezvousConfig.build(), TraversalConfig.DEFAULT, TransportConfig.DEFAULT,
                    TimeUnit.MILLISECONDS.toNanos(Math.max(options.connectTimeoutMs(), 1)), SocketTtl.NONE,
                    ProbeSockets.NONE);
            loop.start();
            LinkedBlockingQueue<PeerLink> queue = new LinkedBlockingQueue<>();
            NodeCore core = loop.submit(() -> new NodeCore(endpoint, settings, new SecureRandom(), new NodeCore.Listener() {
                @Override
                public void onIncoming(PeerLink link) {
                    queue.add(link);
                }
            })).get(10, TimeUnit.SECONDS);
            CoreNode node = new CoreNode(loop, core, options.connectTimeoutMs(), queue);
            try {
                loop.submit(core::start).get(10, TimeUnit.SECONDS).get(REGISTER_WAIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw Failures.toCli("registering '" + options.name() + "' at " + Addresses.format(options.rendezvous()), e);
            }
            return node;
        } catch (CliException e) {
            loop.close();
            throw e;
        } catch (InterruptedException e) {
            loop.close();
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.SIGINT, "interrupted while starting the node", e);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            loop.close();
            throw Failures.toCli("starting the node", e);
        }
    }

    @Override
    public PeerConnection connect(String peerName) throws IOException, InterruptedException {
        CompletableFuture<PeerLink> future;
        try {
            future = loop.submit(() -> core.connect(peerName)).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot start connecting: " + e, e);
        }
        PeerLink link;
        try {
            link = future.get(connectTimeoutMs / 1000 + CONNECT_SLACK_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = Failures.unwrap(e);
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException(cause.toString(), cause);
        } catch (TimeoutException e) {
            throw new IOException("connecting to '" + peerName + "' did not finish in time");
        }
        return wrap(link);
    }

    @Override
    public PeerConnection accept() throws IOException, InterruptedException {
        return wrap(incoming.take());
    }

    private PeerConnection wrap(PeerLink link) throws IOException {
        try {
            return loop.submit(() -> new LinkConnection(loop, link)).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while taking over the connection");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot take over the connection: " + e, e);
        }
    }

    @Override
    public List<String> peers() throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        String after = null;
        try {
            do {
                String from = after;
                PeerList page = loop.submit(() -> core.listPeers(from)).get(10, TimeUnit.SECONDS)
                        .get(30, TimeUnit.SECONDS);
                names.addAll(page.names());
                after = page.hasMore() ? page.nextAfter() : null;
            } while (after != null);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot list the peers: " + e, e);
        }
        return names;
    }

    @Override
    public void close() {
        try {
            loop.submit(() -> {
                core.close();
                return null;
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // Closing anyway: the loop below goes with its socket.
        }
        loop.close();
    }
}
