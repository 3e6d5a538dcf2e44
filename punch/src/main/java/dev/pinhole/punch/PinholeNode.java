package dev.pinhole.punch;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.LoopCalls;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.core.net.UnicastTtl;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.node.RealPeerConnection;
import dev.pinhole.punch.node.NodeCore;
import dev.pinhole.punch.node.IntroducedKeyException;
import dev.pinhole.punch.node.NodeConfig;
import dev.pinhole.punch.node.RelayConfig;
import dev.pinhole.punch.node.ConnectedPeer;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.rendezvous.PeerList;
import dev.pinhole.punch.rendezvous.RendezvousClient;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.traversal.CandidateGatherer;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.CongestionControl;
import dev.pinhole.reliability.Identity;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * A Pinhole node: one UDP socket that registers a name at a rendezvous server and opens reliable byte
 * streams to other nodes by name, punching through the NATs between them.
 *
 * <pre>{@code
 * try (PinholeNode node = PinholeNode.builder()
 *         .name("alice")
 *         .rendezvous(new InetSocketAddress("203.0.113.1", 3478))
 *         .build();
 *      PeerConnection bob = node.connect("bob")) {
 *     bob.outputStream().write("hello bob".getBytes(StandardCharsets.UTF_8));
 *     bob.shutdownOutput();
 *     System.out.println(new String(bob.inputStream().readAllBytes(), StandardCharsets.UTF_8));
 * }
 * }</pre>
 * and on the other machine {@code node.accept()} returns the connection from alice.
 *
 * <h2>What happens</h2>
 * {@link Builder#build()} binds one UDP socket with one event-loop thread ({@code UdpEventLoop}), gathers
 * candidates (STUN Binding to the rendezvous server, which also tells this node's public address) and
 * registers the name; the registration is refreshed every 15 s, which also keeps the NAT mapping open.
 * {@link #connect} asks the server for an introduction to the peer (asking again while the peer is not
 * registered, up to the connect timeout); the server introduces both at once, both run RFC 8445-style
 * connectivity checks on that same socket, and on the nominated pair this node opens a Pinhole transport
 * connection (docs/protocol.md), which the peer {@link #accept}s. Registration, checks and the stream all
 * share the socket, so the NAT mapping the server saw is the one the peer reaches (docs/architecture.md, principle 2).
 * The protocol runs on the loop thread; the calls here block the calling thread only.
 *
 * <h2>Which connection is whose</h2>
 * The transport's handshake carries no name: an accepted connection belongs to the introduction whose
 * traversal nominated the connection's source address. That pair was validated with the introduction's
 * fresh credentials (RFC 8445 MESSAGE-INTEGRITY) and the handshake cookie proves the source owns the
 * address, so the name is the introduced peer's. A connection from any other address is never returned by
 * {@link #accept}; it is aborted once the traversal deadline passes. (Neither step authenticates against an
 * on-path attacker; the transport has no encryption yet, docs/protocol.md §10.)
 *
 * <h2>Identity</h2>
 * Every node holds an {@link Identity}, its long-term key pairs and the id printed from them:
 * {@link Builder#identity} gives one (for instance {@code Identity.loadOrCreate(Identity.defaultPath())}, as the
 * command line does), else the node makes an ephemeral one, new on every run. {@link #identity()} reports it.
 * The transport's handshake proves it to every peer, and {@link PeerConnection#peerId()} reports the key the
 * peer proved.
 *
 * <h2>Known peers</h2>
 * With {@link Builder#knownPeers} (a file like SSH's {@code known_hosts}, {@link KnownPeers}), {@link #connect}
 * and {@link #accept} remember the id each name proved the first time and refuse a different one later with a
 * {@link PeerKeyChangedException}, aborting the connection first; {@link #connect(String, String)} accepts
 * only the id the caller pinned. Without it nothing is checked: the caller reads {@link PeerConnection#peerId()}.
 *
 * <h2>Errors</h2>
 * All checked {@link IOException}s that say what to do:
 * {@link dev.pinhole.punch.RendezvousUnreachableException} (the server's address and how long
 * was waited), {@link dev.pinhole.punch.RendezvousAuthenticationException} (wrong secret),
 * {@link dev.pinhole.punch.NameTakenException},
 * {@link dev.pinhole.punch.PeerNotFoundException},
 * {@link dev.pinhole.punch.TraversalFailedException} (both NATs' behaviour, the pairs tried, and
 * that a relay is needed), {@link dev.pinhole.reliability.HandshakeFailedException},
 * {@link PeerKeyChangedException} (both fingerprints, and how to accept a new key).
 *
 * <p>Thread-safe: any thread may connect, accept and list peers at the same time.
 */
public final class PinholeNode implements Closeable {
    /** Added to the protocol's own deadlines before a blocked call gives up waiting for the loop. */
    private static final long FAILSAFE_MARGIN_NS = TimeUnit.SECONDS.toNanos(5);

    private final String name;
    private final Identity identity;
    private final UdpEventLoop loop;
    private final NodeCore core;
    private final NodeConfig nodeConfig;
    private final KnownPeers knownPeers;
    private final BlockingQueue<PeerConnection> incoming;
    private volatile boolean closed;

    private PinholeNode(Builder b) throws IOException {
        this.name = b.name;
        this.identity = b.identity != null ? b.identity : Identity.generate(new SecureRandom());
        this.knownPeers = b.knownPeers;
        TransportConfig transportConfig = b.transportConfig();
        RendezvousClientConfig.Builder rendezvousConfig = RendezvousClientConfig.builder().identity(identity);
        if (b.secret != null) {
            rendezvousConfig.secret(b.secret);
        }
        List<InetSocketAddress> stunServers = b.stunServers.isEmpty() ? List.of(b.rendezvous) : b.stunServers;
        this.incoming = new ArrayBlockingQueue<>(transportConfig.acceptBacklog());
        this.loop = UdpEventLoop.builder().bind(b.bind).threadName("pinhole-" + b.name).build();
        // Priming against the Linux conntrack clash (docs/lab.md) needs a unicast TTL, which needs
        // --add-opens java.base/sun.nio.ch=ALL-UNNAMED; without it the node punches unprimed.
        SocketTtl socketTtl = SocketTtl.of(loop);
        this.nodeConfig = new NodeConfig(b.name, b.rendezvous, stunServers,
                HostAddresses.system(HostAddresses.Filter.DEFAULT), rendezvousConfig.build(),
                TraversalConfig.DEFAULT.withDeadlineNs(b.traversalTimeout.toNanos()), transportConfig,
                b.connectTimeout.toNanos(), socketTtl, probeSocketsOn(loop), b.relay);
        try {
            DatagramEndpoint endpoint = Objects.requireNonNull(b.endpointFilter.apply(loop),
                    "endpointFilter returned null");
            this.core = new NodeCore(endpoint, nodeConfig, identity, new SecureRandom(), new NodeCore.Listener() {
                @Override
                public void onIncoming(ConnectedPeer link) {
                    accepted(link);
                }
            });
            loop.start();
            // A lone rendezvous server is asked first whether it is an RFC 5780 server with three more addresses.
            int bindingRounds = stunServers.size() == 1 ? 5 : stunServers.size();
            long waitNs = nodeConfig.rendezvousConfig().timing().timeoutNs()
                    + CandidateGatherer.DEFAULT_TIMING.timeoutNs() * bindingRounds + FAILSAFE_MARGIN_NS;
            LoopCalls.await(loop.submit(core::start).thenCompose(registered -> registered), waitNs,
                    new Waiting("registering '" + b.name + "' at " + b.rendezvous));
        } catch (IOException | RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    /** A builder; {@link Builder#name} and {@link Builder#rendezvous} are required. */
    /**
     * {@code name} as the rendezvous server will know it (Unicode NFC), checked against the rules for peer
     * names: 1 to 64 bytes of UTF-8, no whitespace, no control, format, private-use or unassigned characters.
     * A program can check what its user typed with it before it opens a node.
     *
     * @throws IllegalArgumentException naming the rule the name breaks
     */
    public static String checkName(String name) {
        return dev.pinhole.protocol.rendezvous.PeerNames.normalize(java.util.Objects.requireNonNull(name, "name"));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The name this node registered. */
    public String name() {
        return name;
    }

    /** This node's long-term keys and id: the one given to {@link Builder#identity}, else an ephemeral one. */
    public Identity identity() {
        return identity;
    }

    /** The address the node's socket is bound to (before any NAT). */
    public InetSocketAddress localAddress() {
        return loop.localAddress();
    }

    /**
     * Opens a reliable stream to the peer registered as {@code peerName}. Waits up to the connect timeout for
     * the peer to register, then punches (up to the traversal timeout) and runs the transport handshake.
     *
     * @throws dev.pinhole.punch.PeerNotFoundException if the peer did not register in time
     *     (the message lists who is registered)
     * @throws dev.pinhole.punch.TraversalFailedException if no direct path could be punched
     * @throws IOException for the other failures listed in the class comment, or if the node is closed
     */
    public PeerConnection connect(String peerName) throws IOException {
        return connect(peerName, null);
    }

    /**
     * As {@link #connect(String)}, but the peer must prove the key of {@code pinnedId} ({@link Identity#id()}, as
     * {@code pinhole id} prints it): any other key aborts the connection with a {@link PeerKeyChangedException},
     * whatever the known-peers file says. With a known-peers file, the pinned id is then recorded for the name
     * (replacing an older one: pinning is how a new key is accepted). A null {@code pinnedId} is
     * {@link #connect(String)}.
     *
     * @throws IllegalArgumentException if {@code pinnedId} is not a node id
     * @throws PeerKeyChangedException if the peer proved another key
     */
    public PeerConnection connect(String peerName, String pinnedId) throws IOException {
        return connect(peerName, pinnedId, null);
    }

    /**
     * As {@link #connect(String, String)}; {@code onWaiting} (if not null) runs once, on the node's thread, when
     * the rendezvous server answered that the peer is not registered yet and this call waits for it (up to the
     * connect timeout), so that a program can say so. It must return quickly.
     */
    public PeerConnection connect(String peerName, String pinnedId, Runnable onWaiting) throws IOException {
        Objects.requireNonNull(peerName, "peerName");
        if (pinnedId != null) {
            Identity.parseId(pinnedId);
        }
        ensureOpen();
        long waitNs = nodeConfig.connectTimeoutNs() + nodeConfig.traversalConfig().deadlineNs()
                + nodeConfig.transportConfig().handshakeTimeout().toNanos()
                + nodeConfig.rendezvousConfig().timing().timeoutNs() + FAILSAFE_MARGIN_NS;
        // The key to expect, if known: a pin, else the known-peers file's. An introduction naming another key
        // then stops the connect before any handshake reveals this node's key to that one.
        String expectedId = pinnedId != null ? pinnedId
                : knownPeers != null ? knownPeers.idOf(peerName).orElse(null) : null;
        byte[] expectedKey = expectedId == null ? null : Identity.parseId(expectedId);
        CompletableFuture<PeerConnection> connected = submit(() -> core.connect(peerName, expectedKey, onWaiting)
                .thenApply(this::wrap));
        PeerConnection connection;
        try {
            connection = LoopCalls.await(connected, waitNs, new Waiting("connecting to '" + peerName + "'"));
        } catch (IntroducedKeyException e) {
            throw new PeerKeyChangedException(peerName, expectedId.toLowerCase(java.util.Locale.ROOT),
                    Identity.idOf(e.introducedKey()), pinnedId != null, knownPeers == null ? null : knownPeers.file());
        } catch (IOException e) {
            // A connection established just after we gave up must not be left open.
            connected.thenAccept(c -> c.abort(0));
            throw e;
        }
        return verified(connection, pinnedId);
    }

    /**
     * Waits for the next peer that connects to this node. With a known-peers file, a peer whose name is recorded
     * with another key is aborted and this call throws {@link PeerKeyChangedException} (call it again for the
     * next peer); a name met for the first time is recorded.
     */
    public PeerConnection accept() throws IOException {
        while (true) {
            ensureOpen();
            PeerConnection next = poll(TimeUnit.SECONDS.toNanos(1));
            if (next != null) {
                return verified(next, null);
            }
        }
    }

    /**
     * Waits at most {@code timeout} for the next peer that connects to this node.
     *
     * @throws SocketTimeoutException if none connected in time
     */
    public PeerConnection accept(Duration timeout) throws IOException {
        long deadlineNs = System.nanoTime() + timeout.toNanos();
        while (true) {
            ensureOpen();
            long leftNs = deadlineNs - System.nanoTime();
            if (leftNs <= 0) {
                throw new SocketTimeoutException("no peer connected to '" + name + "' within " + timeout.toMillis()
                        + " ms");
            }
            PeerConnection next = poll(Math.min(leftNs, TimeUnit.SECONDS.toNanos(1)));
            if (next != null) {
                return verified(next, null);
            }
        }
    }

    /** The known-peers file {@link Builder#knownPeers} gave, if any. */
    public Optional<KnownPeers> knownPeers() {
        return Optional.ofNullable(knownPeers);
    }

    /**
     * The names registered at the rendezvous server, this node's included, in code-unit order. Only a server
     * started with allow-list answers; any other refuses with a {@link RendezvousException} (403).
     */
    public List<String> peers() throws IOException {
        ensureOpen();
        List<String> names = new ArrayList<>();
        String after = null;
        long waitNs = nodeConfig.rendezvousConfig().timing().timeoutNs() + FAILSAFE_MARGIN_NS;
        do {
            String from = after;
            PeerList page = LoopCalls.await(submit(() -> core.listPeers(from)), waitNs, new Waiting("listing peers"));
            names.addAll(page.names());
            after = page.nextAfter();
        } while (after != null);
        return names;
    }

    /**
     * Closes every connection (peers hear CONNECTION_CLOSE), ends the registration with a DEREGISTER so
     * that the name is free at once, and closes the socket and its thread. The socket stays open until
     * the server answers the DEREGISTER or its short transaction gives up
     * ({@link RendezvousClient#DEREGISTER_TIMING}, 1.25 s), so a close returns promptly even when the
     * server is gone. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            loop.submit(core::close).thenCompose(bye -> bye)
                .get(RendezvousClient.DEREGISTER_TIMING.timeoutNs() + FAILSAFE_MARGIN_NS, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            // The loop is gone or stuck: closing it below releases the socket anyway.
        } finally {
            loop.close();
            PeerConnection left;
            while ((left = incoming.poll()) != null) {
                left.abort(0);
            }
        }
    }

    @Override
    public String toString() {
        return "PinholeNode{" + name + " " + (closed ? "closed" : loop.localAddress()) + "}";
    }

    // ------------------------------------------------------------------ internals

    /**
     * On the caller's thread: checks the key {@code connection}'s peer proved against {@code pinnedId}, else
     * against the known-peers file, and records it there (trust on first use). A mismatch, or a known-peers file
     * that cannot be read or written, aborts the connection (code {@link PeerKeyChangedException#ABORT_CODE})
     * before it is returned.
     */
    private PeerConnection verified(PeerConnection connection, String pinnedId) throws IOException {
        String name = connection.peerName();
        String presented = connection.peerId();
        try {
            if (pinnedId != null) {
                if (!presented.equalsIgnoreCase(pinnedId)) {
                    throw new PeerKeyChangedException(name, pinnedId.toLowerCase(java.util.Locale.ROOT), presented,
                            true, knownPeers == null ? null : knownPeers.file());
                }
                if (knownPeers != null) {
                    knownPeers.remember(name, presented);
                }
                return connection;
            }
            if (knownPeers == null) {
                return connection;
            }
            switch (knownPeers.check(name, presented)) {
                case KNOWN -> {
                }
                case UNKNOWN -> knownPeers.remember(name, presented);
                case CHANGED -> throw new PeerKeyChangedException(name, knownPeers.idOf(name).orElseThrow(),
                        presented, false, knownPeers.file());
                default -> throw new IllegalStateException();
            }
            return connection;
        } catch (IOException | RuntimeException e) {
            connection.abort(PeerKeyChangedException.ABORT_CODE);
            throw e;
        }
    }

    /** On the loop: wraps an established link in a blocking connection and installs it as its handler. */
    private PeerConnection wrap(ConnectedPeer link) {
        return RealPeerConnection.attach(link, loop.localAddress(), loop::execute, nodeConfig.transportConfig());
    }

    /** On the loop: a peer connected. Beyond the accept backlog the connection is aborted. */
    private void accepted(ConnectedPeer link) {
        PeerConnection connection = wrap(link);
        if (closed || !incoming.offer(connection)) {
            connection.abort(0);
        }
    }

    private PeerConnection poll(long timeoutNs) throws IOException {
        try {
            return incoming.poll(timeoutNs, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while accepting on '" + name + "'");
        }
    }

    /**
     * Starts a loop call that answers with a future of its own. {@link UdpEventLoop#submit} rather than
     * {@link LoopCalls#call}: it also fails the future of a task still queued when the loop closes, so a
     * caller waits no longer than the close.
     */
    private <T> CompletableFuture<T> submit(Callable<CompletableFuture<T>> call) throws IOException {
        try {
            return loop.submit(call).thenCompose(f -> f);
        } catch (RejectedExecutionException e) {
            throw new IOException("node '" + name + "' is closed or overloaded: " + e.getMessage(), e);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("node '" + name + "' is closed");
        }
    }

    /**
     * How a blocked call of the node fails: with the checked exception the protocol produced, re-thrown on
     * the caller's thread, or with one that says which call the loop did not finish.
     *
     * @param what the call, as in "interrupted while {@code what}"
     */
    private record Waiting(String what) implements LoopCalls.Failures {
        @Override
        public InterruptedIOException interrupted() {
            return new InterruptedIOException("interrupted while " + what);
        }

        @Override
        public IOException timedOut(long timeoutNs, TimeoutException timeout) {
            return new IOException(what + " did not finish within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNs)
                    + " s although every protocol deadline had passed; the event loop may be overloaded", timeout);
        }

        @Override
        public IOException failed(Throwable cause) {
            if (cause instanceof IOException io) {
                // Re-thrown on the caller's thread, where the stack trace is useful; the message says it all.
                io.addSuppressed(new Exception("while " + what));
                return io;
            }
            if (cause instanceof RejectedExecutionException) {
                return new IOException(what + " failed: the node is closed", cause);
            }
            return new IOException(what + " failed: " + cause, cause);
        }
    }

    /**
     * The extra sockets of birthday probing's hard side (docs/nat-traversal.md): ephemeral ports on the node's
     * own IP, served by its loop, closed as soon as the traversal is done with them. They bypass
     * {@link Builder#endpointFilter}, which wraps the main socket only.
     */
    private static ProbeSockets probeSocketsOn(UdpEventLoop loop) {
        return new ProbeSockets() {
            @Override
            public DatagramEndpoint open() throws IOException {
                return loop.openSocket(new InetSocketAddress(loop.localAddress().getAddress(), 0));
            }

            @Override
            public void close(DatagramEndpoint socket) {
                loop.closeSocket(socket);
            }

            @Override
            public SocketTtl ttl(DatagramEndpoint socket) {
                return !UnicastTtl.available() ? SocketTtl.NONE : new SocketTtl() {
                    @Override
                    public void setTtl(int ttl) throws IOException {
                        loop.unicastTtl(socket, ttl);
                    }

                    @Override
                    public void restore() throws IOException {
                        loop.restoreUnicastTtl(socket);
                    }
                };
            }

            @Override
            public String toString() {
                return "ProbeSockets[" + loop.threadName() + "]";
            }
        };
    }

    /**
     * Configures a {@link PinholeNode}. Only the name and the rendezvous server are required; every other
     * setting has the default given at its setter.
     */
    public static final class Builder {
        private String name;
        private InetSocketAddress rendezvous;
        private String secret;
        private Identity identity;
        private InetSocketAddress bind = new InetSocketAddress(0);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration traversalTimeout = Duration.ofNanos(TraversalConfig.DEFAULT_DEADLINE_NS);
        private CongestionControl congestionControl;
        private Duration keepAlive;
        private TransportConfig transportConfig = TransportConfig.DEFAULT;
        private List<InetSocketAddress> stunServers = List.of();
        private UnaryOperator<DatagramEndpoint> endpointFilter = UnaryOperator.identity();
        private RelayConfig relay = RelayConfig.DEFAULT;
        private KnownPeers knownPeers;

        private Builder() {
        }

        /**
         * The known-peers file ({@link KnownPeers}; the command line uses {@link KnownPeers#defaultPath()}):
         * {@link PinholeNode#connect} and {@link PinholeNode#accept} then check the key each peer proves against
         * the one recorded for its name, record the key of a name met for the first time (trust on first use),
         * and refuse a different one with {@link PeerKeyChangedException}. Default: none, nothing is checked or
         * recorded (ephemeral use; {@link PeerConnection#peerId()} still says who the peer is).
         */
        public Builder knownPeers(Path file) {
            this.knownPeers = KnownPeers.at(file);
            return this;
        }

        /** Required: the name to register (NFC-normalised; see the rendezvous protocol for what is allowed). */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Required: the rendezvous server's address. */
        public Builder rendezvous(InetSocketAddress address) {
            this.rendezvous = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * The rendezvous server's shared secret: every request and answer then carries
         * MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6). Default: none.
         */
        public Builder secret(String secret) {
            this.secret = Objects.requireNonNull(secret, "secret");
            return this;
        }

        /**
         * The node's long-term keys ({@link Identity#loadOrCreate} keeps them in a file, so the node's id stays
         * the same across runs). Default: an ephemeral identity, {@link Identity#generate} with a new
         * {@link SecureRandom}, so the id changes on every run.
         */
        public Builder identity(Identity identity) {
            this.identity = Objects.requireNonNull(identity, "identity");
            return this;
        }

        /** The local address to bind the node's one socket to. Default: all interfaces, an ephemeral port. */
        public Builder bind(InetSocketAddress address) {
            this.bind = Objects.requireNonNull(address, "address");
            return this;
        }

        /** How long {@link #connect} waits for the peer to register. Default 30 s; zero asks once. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = nonNegative(timeout, "connectTimeout");
            return this;
        }

        /** The connectivity checks' deadline (RFC 8445-style). Default 10 s. */
        public Builder traversalTimeout(Duration timeout) {
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("traversalTimeout must be positive, was " + timeout);
            }
            this.traversalTimeout = timeout;
            return this;
        }

        /**
         * The transport's congestion controller. Default: the transport config's, BBR (decision 0006); CUBIC
         * (RFC 9438) yields more to TCP flows sharing a link.
         */
        public Builder congestionControl(CongestionControl congestionControl) {
            this.congestionControl = Objects.requireNonNull(congestionControl, "congestionControl");
            return this;
        }

        /**
         * The interval of the transport's keep-alive PINGs on an idle connection, which keep the NAT mappings
         * open. Default: the transport config's, 15 s (RFC 8445 §5.1.1.1, RFC 4787 REQ-5).
         */
        public Builder keepAlive(Duration interval) {
            this.keepAlive = nonNegative(interval, "keepAlive");
            return this;
        }

        /** Advanced: every transport setting ({@link TransportConfig#DEFAULT} by default). */
        public Builder transportConfig(TransportConfig config) {
            this.transportConfig = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Whether the node relays when no direct path is found in time. Default: on, through the relay the
         * rendezvous server offers (its built-in one), else through {@link #turnServer}. Off, a pair that
         * cannot punch fails with {@link dev.pinhole.punch.TraversalFailedException}.
         */
        public Builder relay(boolean enabled) {
            this.relay = relay.withEnabled(enabled);
            return this;
        }

        /**
         * How long the direct checks run alone before the connection starts on the relay; they go on after,
         * and a direct path found later takes the live stream over. Default 2.5 s
         * ({@link RelayConfig#DEFAULT_FALLBACK_DELAY}, where the choice is explained).
         */
        public Builder relayFallbackDelay(Duration delay) {
            this.relay = relay.withFallbackDelay(nonNegative(delay, "relayFallbackDelay"));
            return this;
        }

        /**
         * A TURN server of your own (RFC 8656, e.g. coturn) with long-term credentials, used when the
         * rendezvous server offers no relay. Default: none.
         */
        public Builder turnServer(InetSocketAddress server, String username, String password) {
            this.relay = relay.withTurnServers(List.of(TurnConfig.of(server, username, password)));
            return this;
        }

        /**
         * Advanced: STUN servers whose answers tell this node's NAT mapping behaviour (two ports of one IP,
         * then other IPs; the rendezvous server's RFC 5780 alternate addresses qualify). Default: the
         * rendezvous server alone, which gives the public address but not the behaviour. List the rendezvous
         * server's own address last: its mapping is then the newest, and a peer predicting this NAT's next
         * ports (sequential allocation, RFC 4787 §4.2.1) counts on from the address the server observed.
         */
        public Builder stunServers(List<InetSocketAddress> servers) {
            this.stunServers = List.copyOf(servers);
            return this;
        }

        /**
         * Advanced: wraps the node's socket as the protocol code sees it, for tests and loss injection.
         * Rendezvous, traversal and the transport send through the returned endpoint and receive through
         * the receiver it installs on the socket; so a wrapper must forward {@code receiver(...)} to the
         * socket (wrapping the receiver to filter what arrives) and give the socket's clock, timers and
         * allocator. Everything it does runs on the node's loop thread. Called once, in {@link #build()}.
         * Default: the identity function (the socket itself).
         */
        public Builder endpointFilter(UnaryOperator<DatagramEndpoint> filter) {
            this.endpointFilter = Objects.requireNonNull(filter, "filter");
            return this;
        }

        /**
         * Binds the socket, starts its thread, gathers candidates and registers the name; returns once the
         * server confirmed the registration.
         *
         * @throws dev.pinhole.punch.RendezvousUnreachableException if the server did not answer
         * @throws dev.pinhole.punch.RendezvousAuthenticationException if the secrets differ
         * @throws dev.pinhole.punch.NameTakenException if another node holds the name
         * @throws IOException if the socket cannot be bound
         * @throws IllegalStateException if the name or the rendezvous address is missing
         */
        public PinholeNode build() throws IOException {
            if (name == null) {
                throw new IllegalStateException("a name is required: builder().name(\"alice\")");
            }
            if (rendezvous == null) {
                throw new IllegalStateException("a rendezvous server is required: builder().rendezvous(address)");
            }
            return new PinholeNode(this);
        }

        private TransportConfig transportConfig() {
            TransportConfig.Builder b = transportConfig.toBuilder();
            if (congestionControl != null) {
                b.congestionControl(congestionControl);
            }
            if (keepAlive != null) {
                b.keepAliveInterval(keepAlive);
            }
            return b.build();
        }

        private static Duration nonNegative(Duration value, String what) {
            if (value.isNegative()) {
                throw new IllegalArgumentException(what + " must not be negative, was " + value);
            }
            return value;
        }
    }
}
