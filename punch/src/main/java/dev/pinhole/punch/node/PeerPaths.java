package dev.pinhole.punch.node;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import dev.pinhole.punch.PathInfo;
import dev.pinhole.punch.PathKind;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.punch.traversal.PathOrigin;
import dev.pinhole.punch.TraversalFailedException;
import dev.pinhole.punch.traversal.TraversalListener;
import dev.pinhole.punch.traversal.TraversalPath;
import dev.pinhole.punch.traversal.TraversalSession;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.TransportEndpoint;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The paths of {@link NodeCore} to one introduced peer, from the introduction until the connection ends:
 * the {@link TraversalSession} that looks for a direct path (RFC 8445-style checks), the TURN relay it may
 * fall back to (RFC 8656), and the move of a relayed connection to a direct path found later (RFC 9000
 * §9). The controlling side opens the transport connection, on the nominated direct path or, once the
 * fallback delay passed without one, on the relay; the controlled side waits for the peer's, which
 * {@link NodeCore} matches to it by address. The link ({@link ConnectedPeer}) points back here, so that the
 * connection's path changes and its end reach its paths.
 *
 * <p>Confined to the node's event loop, as {@link NodeCore} is.
 */
final class PeerPaths implements TraversalListener {
    /**
     * How long an allocation is kept after its connection moved to a direct path or ended: the peer follows
     * a move once it validated our new address (one round trip, RFC 9000 §8.2), and an ending connection
     * still exchanges its last ACKs and CONNECTION_CLOSE (§10.2); until then those packets go through the
     * relay. Five seconds covers both even at the PTO backoff of a lossy path.
     */
    static final long RELAY_LINGER_NS = 5_000_000_000L;

    private final NodeCore core;
    private final DatagramEndpoint endpoint;
    private final NodeConfig nodeConfig;
    private final PathRouter router;
    private final NodeRelays relays;
    final Introduction introduction;
    final long startNs;
    final CompletableFuture<ConnectedPeer> outgoing;
    TraversalSession session;
    /** The nominated direct path, once the checks found one. */
    TraversalPath path;
    ConnectedPeer link;
    private boolean closed;
    /** Our allocation on the relay toward this peer; null if none is offered, configured or left. */
    TurnAllocation relay;
    private boolean relayReleased;
    /** The peer's relayed address, as it sent it through the rendezvous server. */
    private InetSocketAddress peerRelayed;
    /** The peer's relayed address when it came before our allocation. */
    private InetSocketAddress pendingPeerRelayed;
    /** Our allocation admits the peer's relayed address (RFC 8656 §9). */
    private boolean relayPermitted;
    /** The fallback delay passed without a direct path. */
    private boolean relayDue;
    /** Controlling: a connection was opened on the relay. Controlled: one is accepted from it. */
    boolean onRelay;
    /** Where the relay stands, in words, for a failure message. */
    private String relayState = "not tried";
    private TraversalFailedException directFailure;

    /**
     * @param outgoing completed with the link once its handshake completes, when this side asked for the
     *                 introduction (CONTROLLING); null when the peer asked (CONTROLLED)
     */
    PeerPaths(NodeCore core, Introduction introduction, long startNs, CompletableFuture<ConnectedPeer> outgoing) {
        this.core = core;
        this.endpoint = core.endpoint();
        this.nodeConfig = core.nodeConfig();
        this.router = core.router();
        this.relays = core.relays();
        this.introduction = introduction;
        this.startNs = startNs;
        this.outgoing = outgoing;
    }

    /**
     * Starts the relay beside the checks (docs/decisions/0005-relay-beside-the-checks-and-migration.md): allocate now, so the relay is ready when the
     * fallback delay passes; tell the peer our relayed address through the rendezvous server; admit its.
     */
    void startRelay() {
        TurnConfig config = relayConfig();
        if (config == null) {
            relayState = nodeConfig.relay().enabled()
                    ? "the rendezvous server offered none and none is configured" : "relaying is switched off";
            return;
        }
        // A NAT that maps per destination in sequence gives the allocation the very port the peer predicts
        // for its checks (RFC 4787 §4.2.1): then the allocation waits for the fallback delay.
        boolean deferred = introduction.localNat().predictable();
        relayState = deferred ? "not needed before the fallback delay" : "allocating on " + config.server();
        long nowNs = endpoint.clock().nanoTime();
        endpoint.timers().schedule(nowNs + nodeConfig.relay().fallbackDelayNs(), (firedNs, id) -> {
            relayDue = true;
            if (deferred) {
                allocate(config);
            } else {
                tryRelay();
            }
        });
        if (!deferred) {
            allocate(config);
        }
    }

    /** The TURN server to relay through toward this peer: the rendezvous server's offer, else the node's own. */
    private TurnConfig relayConfig() {
        RelayConfig relaySettings = nodeConfig.relay();
        if (!relaySettings.enabled()) {
            return null;
        }
        RelayOffer offer = introduction.relay();
        if (offer != null) {
            InetSocketAddress server = offer.server();
            if (server.getAddress().isAnyLocalAddress()) {
                // A server on the wildcard address offers its port; its IP is the one we reach it at.
                server = new InetSocketAddress(nodeConfig.rendezvous().getAddress(), server.getPort());
            }
            return TurnConfig.of(server, offer.username(), offer.password());
        }
        return relaySettings.turnServers().isEmpty() ? null : relaySettings.turnServers().get(0);
    }

    private void allocate(TurnConfig config) {
        if (closed || link != null || path != null) {
            return;
        }
        relayState = "allocating on " + config.server();
        TurnAllocation allocation;
        try {
            allocation = relays.acquire(config);
        } catch (IllegalStateException e) {
            relayState = "cannot allocate on " + config.server() + ": " + e.getMessage();
            return;
        }
        relay = allocation;
        allocation.allocated().whenComplete((active, failure) -> {
            if (closed || relay != allocation) {
                return;
            }
            if (failure != null) {
                relayState = "the allocation on " + config.server() + " failed: "
                        + NodeCore.unwrap(failure).getMessage();
                relay = null;
                relayReleased = true;
                if (directFailure != null && link == null) {
                    fail(directFailure);
                }
                return;
            }
            relayState = "waiting for the peer's relayed address";
            core.rendezvous().sendCandidate(introduction.peerName(),
                    Candidate.of(CandidateType.RELAYED, allocation.relayedAddress()))
                    .whenComplete((sent, error) -> {
                        if (error != null && !closed && !onRelay) {
                            relayState = "our relayed address did not reach the peer: "
                                    + NodeCore.unwrap(error).getMessage();
                        }
                    });
            if (pendingPeerRelayed != null) {
                InetSocketAddress early = pendingPeerRelayed;
                pendingPeerRelayed = null;
                onPeerRelayed(early);
            }
            tryRelay();
        });
    }

    /** The peer's relayed address arrived: admit it on our allocation and route to it through the relay. */
    void onPeerRelayed(InetSocketAddress address) {
        TurnAllocation allocation = relay;
        if (allocation == null && !relayReleased && !closed) {
            // Ours is deferred (or still to come): admit the peer's once ours exists.
            pendingPeerRelayed = address;
            return;
        }
        if (closed || allocation == null || relayReleased || peerRelayed != null) {
            return;
        }
        peerRelayed = address;
        router.viaRelay(address, allocation);
        allocation.allocated().thenCompose(active -> active.createPermission(address))
                .whenComplete((permitted, failure) -> {
                    if (closed || relay != allocation) {
                        return;
                    }
                    if (failure != null) {
                        relayState = "the relay refused a permission for the peer: "
                                + NodeCore.unwrap(failure).getMessage();
                        return;
                    }
                    relayPermitted = true;
                    relayState = "ready";
                    tryRelay();
                });
    }

    /**
     * Starts the connection on the relay once it is ready and, on the controlling side, the fallback delay
     * passed without a direct path. The controlled side accepts from the relay as soon as it is ready:
     * when to switch is the controlling side's call.
     */
    private void tryRelay() {
        if (closed || onRelay || link != null || !relayPermitted || relay == null || relayReleased
                || relay.state() != TurnAllocation.State.ACTIVE) {
            return;
        }
        if (outgoing != null) {
            if (!relayDue || path != null || outgoing.isDone()) {
                return;
            }
            onRelay = true;
            relayState = "carrying the connection";
            TransportEndpoint transport = core.transport();
            ConnectedPeer opened = new ConnectedPeer(core, transport, introduction.peerName(),
                    core.relayedPath(peerRelayed), startNs);
            opened.paths = this;
            opened.established = outgoing;
            link = opened;
            core.track(opened);
            core.countRelayedConnection();
            // Noise IK toward the key the introduction named: only its holder can complete the handshake.
            opened.connection(transport.connect(peerRelayed, opened, introduction.peerKey()));
            return;
        }
        onRelay = true;
        relayState = "waiting for the peer's connection through it";
        ConnectedPeer held = core.claimUnmatched(peerRelayed);
        if (held != null && core.deliver(held, this)) {
            return;
        }
        core.expect(peerRelayed, this);
    }

    @Override
    public void onConnected(TraversalPath nominated) {
        path = nominated;
        if (nominated.endpoint() != endpoint) {
            core.holdProbeSocket(nominated.endpoint());
        }
        if (link != null) {
            // The stream already runs on the relay: move it here (the controlling side moves, the other follows).
            migrateIfDirect();
            return;
        }
        if (outgoing != null) {
            if (outgoing.isDone()) {
                close();
                return;
            }
            // We asked for the introduction, so we open the transport connection on the nominated pair.
            TransportEndpoint onSocket = core.transportFor(nominated.endpoint());
            ConnectedPeer opened = new ConnectedPeer(core, onSocket, introduction.peerName(), pathInfo(), startNs);
            opened.paths = this;
            opened.established = outgoing;
            link = opened;
            core.track(opened);
            opened.connection(onSocket.connect(nominated.remote(), opened, introduction.peerKey()));
            return;
        }
        ConnectedPeer held = core.claimUnmatched(nominated.remote());
        if (held != null && core.deliver(held, this)) {
            return;
        }
        core.expect(nominated.remote(), this);
        long waitNs = nodeConfig.transportConfig().handshakeTimeout().toNanos();
        endpoint.timers().schedule(endpoint.clock().nanoTime() + waitNs, (firedNs, id) -> {
            if (link == null && core.stopExpecting(nominated.remote(), this)) {
                // The peer never opened the connection (its handshake failed or it gave up).
                close();
            }
        });
    }

    /**
     * Controlling side: moves a relayed connection to the nominated direct path (the check proved it
     * both ways, RFC 8445 §7.2.5), keeping connection ids, packet numbers and stream offsets, so no byte
     * is lost or repeated. Paths on a birthday socket stay relayed: the connection lives on the main one.
     */
    void migrateIfDirect() {
        if (closed || path == null || link == null || outgoing == null || path.endpoint() != endpoint) {
            return;
        }
        Connection connection = link.connection();
        if (connection == null || connection.remoteAddress().equals(path.remote())) {
            return;
        }
        if (connection.migrate(endpoint.clock().nanoTime(), path.remote())) {
            link.wake();
        }
    }

    /** The connection left the relay: keep the allocation a little, for packets the peer sent before it followed. */
    void leftRelay() {
        if (relay == null || relayReleased) {
            return;
        }
        core.countMigrationToDirect();
        relayState = "left for a direct path";
        releaseRelayLater();
    }

    /** Releases our use of the relay {@link #RELAY_LINGER_NS} from now; the route to the peer goes with it. */
    private void releaseRelayLater() {
        relayReleased = true;
        TurnAllocation allocation = relay;
        InetSocketAddress route = peerRelayed;
        endpoint.timers().schedule(endpoint.clock().nanoTime() + RELAY_LINGER_NS, (firedNs, id) -> {
            if (route != null && router.relayFor(route) == allocation) {
                router.forget(route);
            }
            relays.release(allocation);
        });
    }

    /** Our allocation is gone: a relayed stream moves to the direct path if there is one, else it fails. */
    void onRelayLost(TurnException cause) {
        relayState = "the relay at " + relay.server() + " went away: " + cause.getMessage();
        relayReleased = true;
        if (link != null) {
            migrateIfDirect();
        } else if (directFailure != null) {
            fail(directFailure);
        }
    }

    @Override
    public void onFailed(TraversalFailedException failure) {
        directFailure = failure;
        if (link != null) {
            // The stream runs on the relay; the checks for a direct path are over.
            session.close();
            return;
        }
        if (relay != null && !relayReleased) {
            // The relay is still being set up (or the peer's connection through it is on its way): it gets
            // one handshake timeout more, then the traversal fails with both stories.
            session.close();
            relayDue = true;
            tryRelay();
            long waitNs = nodeConfig.transportConfig().handshakeTimeout().toNanos();
            endpoint.timers().schedule(endpoint.clock().nanoTime() + waitNs, (firedNs, id) -> {
                if (link == null && !closed) {
                    fail(failure);
                }
            });
            return;
        }
        fail(failure);
    }

    private void fail(TraversalFailedException failure) {
        close();
        TraversalFailedException withRelay = relayState.equals("not tried") ? failure
                : new TraversalFailedException(failure.getMessage() + System.lineSeparator() + "Relay: "
                        + relayState + ".", failure.localNat(), failure.peerNat(), failure.pairs());
        if (outgoing != null) {
            outgoing.completeExceptionally(withRelay);
        } else {
            core.onIncomingFailed(introduction.peerName(), withRelay);
        }
    }

    /**
     * A datagram on one of this traversal's birthday sockets that is not a check: once a path on that
     * socket is nominated, the transport's packets (first byte 128–191) go to its transport.
     */
    void onProbeSocketDatagram(ByteBuf datagram, InetSocketAddress sender) {
        if (path != null && path.endpoint() != endpoint && !closed
                && DatagramDemultiplexer.classify(datagram) == PacketKind.TRANSPORT) {
            core.transportFor(path.endpoint()).onDatagram(datagram, sender);
        }
    }

    PathInfo pathInfo() {
        return new PathInfo(path.origin() == PathOrigin.RELAYED
                ? PathKind.RELAYED : PathKind.DIRECT, path.localBase(), path.remote(), describe(path));
    }

    /** The path a connection to {@code remote} runs on, as this traversal knows it. */
    PathInfo pathFor(InetSocketAddress remote) {
        if (remote.equals(peerRelayed) || router.relayFor(remote) != null) {
            return core.relayedPath(remote);
        }
        if (path != null && remote.equals(path.remote())) {
            return pathInfo();
        }
        return new PathInfo(PathKind.DIRECT, endpoint.localAddress(), remote,
                path == null ? "peer address" : describe(path) + ", then a new address of the peer");
    }

    void close() {
        if (closed) {
            return;
        }
        closed = true;
        session.close();
        core.forget(this);
        if (relay != null && !relayReleased) {
            // Not at once: the connection's last packets (its CONNECTION_CLOSE, our last ACKs) go out after
            // this, and the peer's come in, through the relay.
            releaseRelayLater();
        }
        if (path != null && path.endpoint() != endpoint) {
            // The session handed the path's birthday socket to us; close it and its transport on the next
            // turn, never from inside that transport's own callback.
            DatagramEndpoint socket = path.endpoint();
            endpoint.timers().schedule(endpoint.clock().nanoTime(), (firedNs, id) -> core.closeProbeSocket(socket));
        }
    }

    private static String describe(TraversalPath path) {
        return switch (path.origin()) {
            case HOST -> "host candidate";
            case SERVER_REFLEXIVE -> "server-reflexive candidate";
            case PEER_REFLEXIVE -> "peer-reflexive address";
            case PREDICTED -> "predicted port";
            case BIRTHDAY -> "birthday probe";
            case RELAYED -> "relay";
        };
    }
}
