package dev.pinhole.punch.node;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.punch.PathInfo;
import dev.pinhole.punch.PathKind;
import dev.pinhole.punch.rendezvous.PeerList;
import dev.pinhole.protocol.rendezvous.PeerNames;
import dev.pinhole.punch.PeerNotFoundException;
import dev.pinhole.punch.rendezvous.Registration;
import dev.pinhole.punch.rendezvous.RendezvousClient;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.rendezvous.RendezvousListener;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;
import dev.pinhole.punch.RendezvousUnreachableException;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.punch.traversal.CandidateGatherer;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.GatheredCandidates;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.punch.traversal.IceRole;
import dev.pinhole.punch.TraversalFailedException;
import dev.pinhole.punch.traversal.TraversalSession;
import dev.pinhole.reliability.Identity;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import dev.pinhole.reliability.connection.TransportEndpoint;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;

/**
 * The orchestration of one Pinhole node, driven through one {@link DatagramEndpoint} and its timers (docs/architecture.md, "The sans-IO
 * boundary", and principle 2): the same code runs on the real {@code UdpEventLoop} ({@link dev.pinhole.punch.PinholeNode}) and on
 * the simulator's endpoints.
 *
 * <h2>One socket</h2>
 * A {@link DatagramDemultiplexer} splits the socket's datagrams by their first byte (RFC 7983 §7):
 * STUN-kind datagrams are offered first to the running traversal sessions (connectivity checks, their
 * responses and keepalives), then to the {@link StunClient} (responses to gathering and rendezvous
 * requests), then to the {@link RendezvousClient} (the server's INTRODUCTION and MESSAGE requests);
 * Pinhole-kind datagrams (128–191) go to the {@link TransportEndpoint}. So registration, candidate
 * gathering, hole punching and the reliable stream all use the one NAT mapping the rendezvous server saw.
 *
 * <h2>Life of a connection</h2>
 * <ol>
 *   <li>{@link #start}: gather candidates (host addresses, and the server-reflexive address from STUN
 *       Binding requests to the rendezvous server and any other STUN servers, which also measures the NAT's
 *       mapping behaviour), then register the name with the host candidates and the NAT profile.</li>
 *   <li>{@link #connect}: ask the server for an introduction. A peer that is not registered yet is asked
 *       for again every {@value #CONNECT_RETRY_MS} ms until the connect timeout; then the last
 *       {@link PeerNotFoundException} ends the attempt.</li>
 *   <li>The server introduces both peers at the same moment; both run a {@link TraversalSession}
 *       (RFC 8445-style checks). This side asked, so it is CONTROLLING and nominates the pair.</li>
 *   <li>On nomination the controlling side opens a transport connection to the nominated remote address,
 *       from the same socket ({@link TransportEndpoint#connect}); the controlled side accepts it.</li>
 * </ol>
 * Steps 3 and 4, with the relay fallback and the move of a relayed connection to a direct path, are one
 * {@code PeerPaths} per introduction; this class keeps what all of them share.
 *
 * <h2>Matching an accepted connection to its introduction</h2>
 * The transport's handshake carries no name. An accepted connection is matched to the controlled
 * traversal whose nominated remote address is the connection's source address: that pair was validated
 * with the introduction's short-term credentials (RFC 8445 §7.2.2, MESSAGE-INTEGRITY), and the
 * transport's cookie proves the connection's source owns that address (docs/protocol.md §4), so the
 * connection comes from the introduced peer's socket. The handshake may arrive before this side has
 * nominated (the controlling side nominates first); such a connection is held, at most
 * {@value #MAX_UNMATCHED_CONNECTIONS} at a time, until a traversal nominates its address or the traversal
 * deadline passes, and then aborted. Connections from addresses no introduction led to are refused that way.
 *
 * <p>Every method runs on the endpoint's event loop; futures complete there; nothing is thread-safe.
 */
public final class NodeCore {
    /** How often {@link #connect} asks again for a peer that has not registered yet. */
    public static final int CONNECT_RETRY_MS = 500;
    /** Accepted transport connections waiting for their traversal to nominate; more are refused. */
    public static final int MAX_UNMATCHED_CONNECTIONS = 16;
    /** Application error code of the abort a connection gets whose key is not the one its introduction named. */
    static final long KEY_MISMATCH_ABORT_CODE = 0x6b6579;
    private long keyMismatches;

    /** Application error code of the abort an unmatched connection gets. */
    public static final long UNMATCHED_ABORT_CODE = 0x504E_0001L;
    /** What the node tells its owner without being asked. */
    public interface Listener {
        /** A peer connected to us: its introduction, traversal and handshake completed. */
        void onIncoming(ConnectedPeer link);

        /** A peer's introduction reached us but traversal toward it failed; nothing to accept. */
        default void onIncomingFailed(String peerName, IOException cause) {
        }
    }

    private static final long MS = 1_000_000L;

    private final DatagramEndpoint endpoint;
    private final NodeConfig nodeConfig;
    private final Identity identity;
    private final RandomGenerator random;
    private final Listener listener;
    private final DatagramDemultiplexer demux = new DatagramDemultiplexer();
    private final StunClient stun;
    private final RendezvousClient rendezvous;
    private final TransportEndpoint transport;
    /** Sends the transport's datagrams to relayed peers through their allocation, to others directly. */
    private final PathRouter router;
    private final NodeRelays relays;
    /** One per introduction, oldest first, until it closes (its traversal failed or its connection ended). */
    private final List<PeerPaths> traversals = new ArrayList<>();
    /** Relayed candidates that arrived before their introduction, by peer name (bounded). */
    private final Map<String, Candidate> earlyCandidates = new LinkedHashMap<>();
    /** Controlled traversals that nominated a path, by remote address, waiting for the peer's handshake. */
    private final Map<InetSocketAddress, PeerPaths> expected = new HashMap<>();
    /** Accepted connections not yet matched to a traversal, by remote address. */
    private final Map<InetSocketAddress, ConnectedPeer> unmatched = new HashMap<>();
    private final Set<CompletableFuture<ConnectedPeer>> pendingConnects = new HashSet<>();
    /** Normalised names of the peers a connect is running for. */
    private final Set<String> connectingTo = new HashSet<>();
    /** Transports on birthday-probing sockets that carry a nominated path (the exception to docs/architecture.md's principle 2). */
    private final Map<DatagramEndpoint, TransportEndpoint> extraTransports = new IdentityHashMap<>();
    /** Links whose connection has not ended, told when {@link #close} ends them. */
    private final Set<ConnectedPeer> links = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Birthday sockets that carry a nominated path: the session handed them over, we close them. */
    private final Set<DatagramEndpoint> heldProbeSockets = Collections.newSetFromMap(new IdentityHashMap<>());
    private GatheredCandidates gathered;
    private Registration registration;
    private boolean closed;
    /** The close: completes when the DEREGISTER ended (see {@link #close()}). */
    private CompletableFuture<Boolean> closing;
    private long incomingFailed;
    private long unmatchedAborted;
    private long relayedConnections;
    private long migratedToDirect;

    /**
     * A node on {@code endpoint}, installed as its receiver. Nothing is sent before {@link #start}.
     *
     * @param identity the node's long-term keys: every transport handshake proves its static key
     * @param random source of transport connection ids and cookie secret, transaction ids and ICE
     *               tie-breakers: a {@code SecureRandom} in production, a seeded generator in simulations
     */
    public NodeCore(DatagramEndpoint endpoint, NodeConfig nodeConfig, Identity identity, RandomGenerator random,
                    Listener listener) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.identity = Objects.requireNonNull(identity, "identity");
        this.nodeConfig = Objects.requireNonNull(nodeConfig, "nodeConfig");
        this.random = Objects.requireNonNull(random, "random");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.stun = new StunClient(endpoint, StunTransactionConfig.DEFAULT, random);
        RendezvousClientConfig rendezvousConfig = nodeConfig.rendezvousConfig();
        if (rendezvousConfig.identity() == null) {
            rendezvousConfig = rendezvousConfig.withIdentity(identity);
        } else if (!rendezvousConfig.identity().equals(identity)) {
            // The key the name is bound to must be the key the transport proves, or every introduction lies.
            throw new IllegalArgumentException("the rendezvous client's identity " + rendezvousConfig.identity().id()
                    + " is not the node's " + identity.id());
        }
        this.rendezvous = new RendezvousClient(stun, nodeConfig.rendezvous(), rendezvousConfig);
        this.rendezvous.listener(new RendezvousListener() {
            @Override
            public void onIntroduction(Introduction introduction) {
                onIntroduced(introduction);
            }

            @Override
            public void onCandidate(String fromPeer, Candidate candidate) {
                onPeerCandidate(fromPeer, candidate);
            }
        });
        this.router = new PathRouter(endpoint);
        this.transport = TransportEndpoint.create(router, nodeConfig.transportConfig(), random, identity);
        this.transport.listen(connection -> onAccept(transport, connection));
        TurnClient turn = new TurnClient(stun, random);
        this.relays = new NodeRelays(turn, router, transport, this::onRelayLost);
        demux.route(PacketKind.STUN, (datagram, sender) -> onStun(turn, datagram, sender));
        demux.route(PacketKind.CHANNEL_DATA, turn);
        demux.route(PacketKind.TRANSPORT, transport);
        endpoint.receiver(demux);
    }

    // ------------------------------------------------------------------ registration

    /**
     * Gathers this socket's candidates and registers the name with them; completes with the registration
     * or fails with the rendezvous client's exception (unreachable, name taken, wrong secret).
     */
    public CompletableFuture<Registration> start() {
        List<InetSocketAddress> configured = nodeConfig.stunServers().isEmpty()
                ? List.of(nodeConfig.rendezvous()) : nodeConfig.stunServers();
        CompletableFuture<List<InetSocketAddress>> servers = configured.equals(List.of(nodeConfig.rendezvous()))
                ? stun.binding(nodeConfig.rendezvous(), BindingRequest.DEFAULT.withTiming(CandidateGatherer.DEFAULT_TIMING))
                        .thenApply(this::stunServersFrom)
                : CompletableFuture.completedFuture(configured);
        return servers
                .thenCompose(list -> CandidateGatherer.gather(stun, nodeConfig.hosts(), list,
                        CandidateGatherer.DEFAULT_TIMING))
                .thenCompose(candidates -> {
                    gathered = candidates;
                    List<Candidate> hosts = new ArrayList<>();
                    for (Candidate c : candidates.candidates()) {
                        if (c.type() == CandidateType.HOST && hosts.size() < RendezvousProtocol.MAX_HOST_CANDIDATES) {
                            hosts.add(c);
                        }
                    }
                    return rendezvous.register(nodeConfig.name(), hosts, candidates.nat());
                })
                .thenApply(registered -> {
                    registration = registered;
                    return registered;
                });
    }

    /**
     * The STUN servers to gather against when only the rendezvous server is known: if it is an RFC 5780
     * server (its Binding answer names an OTHER-ADDRESS, §7.4), its four addresses, so that the node learns
     * its NAT's mapping behaviour and port allocation (which port prediction, birthday probing and the
     * failure diagnostics need), ordered as the gatherer wants them: two ports of one IP, then the other IP.
     * The rendezvous address comes first because its mapping already exists (this Binding made it), so the
     * gatherer sees the NAT's mappings in the order they were made. Otherwise the rendezvous server alone:
     * the public address, no behaviour.
     *
     * <p>A peer predicting this NAT's next ports counts from the address the rendezvous server observed,
     * three mappings older than the newest here; see docs/nat-traversal.md ("Port prediction").
     */
    private List<InetSocketAddress> stunServersFrom(BindingOutcome outcome) {
        InetSocketAddress primary = nodeConfig.rendezvous();
        if (outcome instanceof BindingOutcome.Failed failed) {
            // Silence from the one server there is: gathering and registering would only wait again.
            throw new CompletionException(new RendezvousUnreachableException(primary, "Binding",
                    failed.requestsSent(), failed.elapsedNs()));
        }
        if (outcome instanceof BindingOutcome.Success success && success.otherAddress() != null) {
            InetSocketAddress other = success.otherAddress();
            if (!other.getAddress().equals(primary.getAddress()) && other.getPort() != primary.getPort()) {
                return List.of(primary, new InetSocketAddress(primary.getAddress(), other.getPort()),
                        new InetSocketAddress(other.getAddress(), primary.getPort()), other);
            }
        }
        return List.of(primary);
    }

    /** The registration, or null before {@link #start} completed. */
    public Registration registration() {
        return registration;
    }

    /** What candidate gathering found, or null before it completed. */
    public GatheredCandidates gathered() {
        return gathered;
    }

    /** One page of the rendezvous server's directory. */
    public CompletableFuture<PeerList> listPeers(String after) {
        return after == null ? rendezvous.listPeers() : rendezvous.listPeers(after);
    }

    // ------------------------------------------------------------------ outgoing

    /**
     * Connects to {@code peerName}: introduction (waiting up to the connect timeout for the peer to
     * register), traversal, then the transport handshake on the nominated pair. Completes with the link once
     * the handshake completed; fails with {@link PeerNotFoundException}, {@link TraversalFailedException},
     * {@link dev.pinhole.reliability.HandshakeFailedException} or another {@link IOException}.
     */
    public CompletableFuture<ConnectedPeer> connect(String peerName) {
        return connect(peerName, null);
    }

    /**
     * {@link #connect(String)} toward a peer whose key the caller already knows (pinned, or recorded on an
     * earlier meeting): if the introduction names another key, the connect fails with
     * {@link IntroducedKeyException} before any handshake.
     *
     * @param expectedKey the peer's 32-byte X25519 key, or null to take the introduction's
     */
    public CompletableFuture<ConnectedPeer> connect(String peerName, byte[] expectedKey) {
        return connect(peerName, expectedKey, null);
    }

    /**
     * As {@link #connect(String, byte[])}; {@code onWaiting} (if not null) runs once, on the loop thread, when the
     * server answered that the peer is not registered yet and the connect waits for it to register.
     */
    public CompletableFuture<ConnectedPeer> connect(String peerName, byte[] expectedKey, Runnable onWaiting) {
        CompletableFuture<ConnectedPeer> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IOException("the node is closed"));
            return result;
        }
        String key;
        try {
            key = PeerNames.normalize(peerName);
        } catch (IllegalArgumentException e) {
            result.completeExceptionally(
                    new IOException("'" + peerName + "' is not a valid peer name: " + e.getMessage()));
            return result;
        }
        if (key.equals(Normalizer.normalize(nodeConfig.name(), Normalizer.Form.NFC))) {
            result.completeExceptionally(
                    new IOException("'" + peerName + "' is this node's own name; connect to another peer"));
            return result;
        }
        if (connectingTo.contains(key)) {
            // The rendezvous client would hand both calls one introduction, hence one traversal's credentials.
            result.completeExceptionally(new IOException("a connection to '" + peerName
                    + "' is already being opened; wait for it before opening another"));
            return result;
        }
        long startNs = endpoint.clock().nanoTime();
        connectingTo.add(key);
        pendingConnects.add(result);
        result.whenComplete((link, error) -> {
            pendingConnects.remove(result);
            connectingTo.remove(key);
        });
        askForIntroduction(peerName, expectedKey == null ? null : expectedKey.clone(), startNs,
                startNs + nodeConfig.connectTimeoutNs(), result, onWaiting);
        return result;
    }

    private void askForIntroduction(String peerName, byte[] expectedKey, long startNs, long deadlineNs,
            CompletableFuture<ConnectedPeer> result, Runnable onWaiting) {
        if (result.isDone()) {
            return;
        }
        CompletableFuture<Introduction> introduced;
        try {
            introduced = rendezvous.connect(peerName);
        } catch (IllegalArgumentException | IllegalStateException e) {
            result.completeExceptionally(new IOException("cannot connect to '" + peerName + "': " + e.getMessage(), e));
            return;
        }
        introduced.whenComplete((told, error) -> {
            if (result.isDone()) {
                return;
            }
            if (error == null) {
                Introduction introduction = introductionFilter.apply(told);
                byte[] namedKey = introduction.peerKey();
                if (expectedKey != null && namedKey != null && !Arrays.equals(expectedKey, namedKey)) {
                    result.completeExceptionally(new IntroducedKeyException(peerName, namedKey));
                    return;
                }
                startTraversal(introduction, startNs, result);
                return;
            }
            Throwable cause = unwrap(error);
            long nowNs = endpoint.clock().nanoTime();
            if (cause instanceof PeerNotFoundException && nowNs + CONNECT_RETRY_MS * MS < deadlineNs) {
                if (onWaiting != null) {
                    try {
                        onWaiting.run();
                    } catch (RuntimeException e) {
                        // The caller's notice only: the connect goes on waiting.
                    }
                }
                endpoint.timers().schedule(nowNs + CONNECT_RETRY_MS * MS,
                        (firedNs, id) -> askForIntroduction(peerName, expectedKey, startNs, deadlineNs, result, null));
            } else {
                result.completeExceptionally(cause);
            }
        });
    }

    // ------------------------------------------------------------------ incoming

    private void onIntroduced(Introduction told) {
        if (closed || told.role() != IceRole.CONTROLLED) {
            return;
        }
        startTraversal(introductionFilter.apply(told), endpoint.clock().nanoTime(), null);
    }

    private ConnectionHandler onAccept(TransportEndpoint acceptedOn, Connection connection) {
        if (closed) {
            return null;
        }
        InetSocketAddress remote = connection.remoteAddress();
        long nowNs = endpoint.clock().nanoTime();
        ConnectedPeer link = new ConnectedPeer(this, acceptedOn, null, router.relayFor(remote) != null
                ? relayedPath(remote) : new PathInfo(PathKind.DIRECT, endpoint.localAddress(), remote, "unmatched"),
                nowNs);
        link.connection(connection);
        link.established(nowNs);
        PeerPaths paths = expected.remove(remote);
        if (paths != null) {
            links.add(link);
            // Hand it over on the next turn: the transport has not yet processed the connection's first packet
            // nor installed the handler we return, so the owner must not touch the connection from in here.
            endpoint.timers().schedule(nowNs, (firedNs, id) -> deliver(link, paths));
            return link;
        }
        if (unmatched.size() >= MAX_UNMATCHED_CONNECTIONS || unmatched.containsKey(remote)) {
            return null;
        }
        links.add(link);
        unmatched.put(remote, link);
        endpoint.timers().schedule(nowNs + nodeConfig.traversalConfig().deadlineNs(), (firedNs, id) -> {
            if (unmatched.get(remote) == link) {
                unmatched.remove(remote);
                unmatchedAborted++;
                connection.abort(firedNs, UNMATCHED_ABORT_CODE);
                link.wake();
            }
        });
        return link;
    }

    /**
     * An accepted connection reached the peer whose paths expected it: it is theirs, and the owner's, if its
     * handshake proved the key the introduction named. Otherwise someone else (at the peer's address, or
     * through the relay) connected: it is aborted and counted, and false returned.
     */
    boolean deliver(ConnectedPeer link, PeerPaths paths) {
        if (closed) {
            return false;
        }
        byte[] expectedKey = paths.introduction.peerKey();
        if (expectedKey != null && !Arrays.equals(expectedKey, link.connection().peerStaticKey())) {
            keyMismatches++;
            links.remove(link);
            link.connection().abort(endpoint.clock().nanoTime(), KEY_MISMATCH_ABORT_CODE);
            link.wake();
            return false;
        }
        link.bind(paths.introduction.peerName(), paths.pathFor(link.connection().remoteAddress()), paths);
        paths.link = link;
        if (paths.onRelay && router.relayFor(link.connection().remoteAddress()) != null) {
            relayedConnections++;
        }
        listener.onIncoming(link);
        return true;
    }

    // ------------------------------------------------------------------ traversal

    /**
     * Tests only: what the rendezvous server's introductions become before the node acts on them, to play a
     * server that lies (swaps keys) without a second server implementation.
     */
    void introductionFilter(UnaryOperator<Introduction> filter) {
        this.introductionFilter = Objects.requireNonNull(filter, "filter");
    }

    private UnaryOperator<Introduction> introductionFilter = UnaryOperator.identity();

    private void startTraversal(Introduction introduction, long startNs, CompletableFuture<ConnectedPeer> outgoing) {
        if (gathered == null) {
            IOException notStarted = new IOException("introduced to '" + introduction.peerName()
                    + "' before this node's candidates were gathered");
            if (outgoing != null) {
                outgoing.completeExceptionally(notStarted);
            }
            return;
        }
        PeerPaths paths = new PeerPaths(this, introduction, startNs, outgoing);
        traversals.add(paths);
        paths.session = TraversalSession.builder(endpoint, introduction, gathered.candidates())
                .config(nodeConfig.traversalConfig())
                .random(random)
                .socketTtl(nodeConfig.socketTtl())
                .probeSockets(nodeConfig.probeSockets())
                .passThrough(paths::onProbeSocketDatagram)
                .listener(paths)
                .start();
        paths.startRelay();
        Candidate early = earlyCandidates.remove(introduction.peerName());
        if (early != null) {
            paths.onPeerRelayed(early.address());
        }
    }

    /** A peer sent us its relayed address through the rendezvous server (trickle). */
    private void onPeerCandidate(String fromPeer, Candidate candidate) {
        if (closed || candidate.type() != CandidateType.RELAYED) {
            return;
        }
        for (int i = traversals.size() - 1; i >= 0; i--) {
            PeerPaths t = traversals.get(i);
            if (t.introduction.peerName().equals(fromPeer)) {
                t.onPeerRelayed(candidate.address());
                return;
            }
        }
        if (earlyCandidates.size() >= MAX_UNMATCHED_CONNECTIONS) {
            earlyCandidates.remove(earlyCandidates.keySet().iterator().next());
        }
        earlyCandidates.put(fromPeer, candidate);
    }

    /** A TURN allocation in use is gone: links on it move to a direct path if one was found, or fail. */
    private void onRelayLost(TurnAllocation allocation, TurnException cause) {
        for (PeerPaths t : new ArrayList<>(traversals)) {
            if (t.relay == allocation) {
                t.onRelayLost(cause);
            }
        }
    }

    PathInfo relayedPath(InetSocketAddress remote) {
        TurnAllocation allocation = router.relayFor(remote);
        String via = allocation == null ? "relay" : "relay " + allocation.server().getAddress().getHostAddress()
                + ":" + allocation.server().getPort() + " (TURN)";
        return new PathInfo(PathKind.RELAYED, endpoint.localAddress(), remote, via);
    }

    /** The link's connection changed its remote address (migration or rebinding): update its path. */
    void onPathChanged(ConnectedPeer link) {
        Connection connection = link.connection();
        PeerPaths paths = link.paths;
        if (connection == null || paths == null) {
            return;
        }
        link.path(paths.pathFor(connection.remoteAddress()));
        if (router.relayFor(connection.remoteAddress()) == null) {
            paths.leftRelay();
        }
    }

    /** The link's handshake completed: a direct path nominated meanwhile takes it over now. */
    void onEstablished(ConnectedPeer link) {
        PeerPaths paths = link.paths;
        if (paths != null) {
            paths.migrateIfDirect();
        }
    }

    /** The transport for a nominated path's socket: the main one, or one created for a birthday socket. */
    TransportEndpoint transportFor(DatagramEndpoint socket) {
        if (socket == endpoint) {
            return transport;
        }
        TransportEndpoint extra = extraTransports.get(socket);
        if (extra == null) {
            TransportEndpoint created = TransportEndpoint.create(socket, nodeConfig.transportConfig(), random, identity);
            created.listen(connection -> onAccept(created, connection));
            extraTransports.put(socket, created);
            extra = created;
        }
        return extra;
    }

    /** The connection of {@code link} ended: stop the traversal's keepalives. */
    void onLinkClosed(ConnectedPeer link) {
        links.remove(link);
        PeerPaths paths = link.paths;
        if (paths != null) {
            paths.close();
        }
    }

    private void onStun(TurnClient turn, ByteBuf datagram, InetSocketAddress sender) {
        for (int i = 0; i < traversals.size(); i++) {
            if (traversals.get(i).session.onDatagram(datagram, sender)) {
                return;
            }
        }
        if (!stun.handle(datagram, sender) && !turn.handleStun(datagram, sender)) {
            rendezvous.handle(datagram, sender);
        }
    }

    // ------------------------------------------------------------------ for the peers' paths

    NodeConfig nodeConfig() {
        return nodeConfig;
    }

    PathRouter router() {
        return router;
    }

    NodeRelays relays() {
        return relays;
    }

    /** A link opened toward a peer: {@link #close} ends it if its connection has not ended by then. */
    void track(ConnectedPeer link) {
        links.add(link);
    }

    /** The accepted connection from {@code remote} held for its traversal, now claimed by it; or null. */
    ConnectedPeer claimUnmatched(InetSocketAddress remote) {
        return unmatched.remove(remote);
    }

    /** {@code paths} waits for the peer's handshake from {@code remote}: a connection from there is theirs. */
    void expect(InetSocketAddress remote, PeerPaths paths) {
        expected.put(remote, paths);
    }

    /** {@code paths} stops waiting for a handshake from {@code remote}; false if it no longer waited for one. */
    boolean stopExpecting(InetSocketAddress remote, PeerPaths paths) {
        if (expected.get(remote) != paths) {
            return false;
        }
        expected.remove(remote);
        return true;
    }

    /** A traversal handed over the birthday socket of its nominated path: ours to close, at the latest on close. */
    void holdProbeSocket(DatagramEndpoint socket) {
        heldProbeSockets.add(socket);
    }

    void countRelayedConnection() {
        relayedConnections++;
    }

    void countMigrationToDirect() {
        migratedToDirect++;
    }

    /** Traversal toward a peer that introduced itself failed: the owner hears of it. */
    void onIncomingFailed(String peerName, TraversalFailedException cause) {
        incomingFailed++;
        listener.onIncomingFailed(peerName, cause);
    }

    /** {@code paths} closed: no datagram, candidate or accepted connection goes to it any more. */
    void forget(PeerPaths paths) {
        traversals.remove(paths);
        expected.values().removeIf(t -> t == paths);
    }

    /** Closes a birthday socket that carried a nominated path, and its transport, if it is still held. */
    void closeProbeSocket(DatagramEndpoint socket) {
        if (!heldProbeSockets.remove(socket)) {
            return;
        }
        TransportEndpoint extra = extraTransports.remove(socket);
        if (extra != null) {
            extra.close();
        }
        nodeConfig.probeSockets().close(socket);
    }

    // ------------------------------------------------------------------ state and shutdown

    /** Traversal sessions running (checking, or keeping a nominated pair alive). */
    public int traversalCount() {
        return traversals.size();
    }

    /** Introductions from peers whose traversal failed. */
    public long incomingFailed() {
        return incomingFailed;
    }

    /** Accepted connections that no traversal claimed before the deadline and were aborted. */
    public long unmatchedAborted() {
        return unmatchedAborted;
    }

    /**
     * Accepted connections whose handshake proved another key than the one the rendezvous server's
     * introduction named for that peer: aborted, never handed to the application.
     */
    public long keyMismatches() {
        return keyMismatches;
    }

    /** Connections that started on a relay. */
    public long relayedConnections() {
        return relayedConnections;
    }

    /** Relayed connections that moved to a direct path. */
    public long migratedToDirect() {
        return migratedToDirect;
    }

    /** TURN allocations being made or in use. */
    public List<TurnAllocation> relayAllocations() {
        return relays.allocations();
    }

    public TransportEndpoint transport() {
        return transport;
    }

    public RendezvousClient rendezvous() {
        return rendezvous;
    }

    public DatagramDemultiplexer demultiplexer() {
        return demux;
    }

    public DatagramEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Stops everything: pending connects fail, traversal sessions stop, the registration ends with a
     * DEREGISTER (so the name is free at once), and every transport connection is aborted (peers hear
     * CONNECTION_CLOSE). The STUN client stays open until the DEREGISTER is answered or gives up, within
     * {@link RendezvousClient#DEREGISTER_TIMING}; the returned future tells when, so that the socket is
     * closed only after it. Idempotent.
     *
     * @return completes (never exceptionally) when the DEREGISTER ended: true if the server freed the name
     */
    public CompletableFuture<Boolean> close() {
        if (closed) {
            return closing;
        }
        closed = true;
        IOException cause = new IOException("the node was closed");
        for (CompletableFuture<ConnectedPeer> pending : new ArrayList<>(pendingConnects)) {
            pending.completeExceptionally(cause);
        }
        for (PeerPaths paths : new ArrayList<>(traversals)) {
            paths.close();
        }
        expected.clear();
        unmatched.clear();
        for (DatagramEndpoint socket : new ArrayList<>(heldProbeSockets)) {
            closeProbeSocket(socket);
        }
        rendezvous.close();
        transport.close();
        relays.close();
        CompletableFuture<Boolean> bye = rendezvous.deregistration();
        closing = bye.handle((freed, failure) -> failure == null && freed);
        closing.whenComplete((freed, failure) -> stun.close());
        // The transport ended every connection without telling their handlers: tell them, so that blocked
        // application calls return.
        for (ConnectedPeer link : new ArrayList<>(links)) {
            Connection connection = link.connection();
            if (connection != null && connection.closeReason() != null) {
                link.onEvents(connection, Connection.EVENT_CLOSED);
            }
        }
        links.clear();
        return closing;
    }

    /** The failure inside a future's {@link CompletionException} wrappers. */
    static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
