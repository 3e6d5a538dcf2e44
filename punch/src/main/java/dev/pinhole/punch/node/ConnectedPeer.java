package dev.pinhole.punch.node;

import dev.pinhole.punch.PathInfo;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import dev.pinhole.reliability.connection.TransportEndpoint;
import java.util.concurrent.CompletableFuture;

/**
 * One transport connection to a named peer, as {@link NodeCore} hands it out: the sans-IO
 * {@link Connection}, the peer's name, the punched path, and the handler the owner installs to hear the
 * connection's events. Confined to the node's event loop.
 *
 * <p>Events that happen before the owner installs its handler ({@link #handler}) are kept and given to it
 * when it is installed, so none is lost between the handshake and the hand-over.
 */
public final class ConnectedPeer implements ConnectionHandler {
    private final NodeCore core;
    private final TransportEndpoint transport;
    private long startNs;
    private Connection connection;
    private String peerName;
    /** Written on the event loop, read by the application's threads. */
    private volatile PathInfo path;
    private long establishedNs = -1;
    private ConnectionHandler handler;
    private int pendingEvents;
    /** True while the transport is calling {@link #onEvents}: it flushes the connection afterwards. */
    private boolean inCallback;
    /** Completed with this link once the handshake completes (outgoing links only). */
    CompletableFuture<ConnectedPeer> established;
    /** The paths to the peer, whose traversal found this link's path; closed when the connection ends. */
    PeerPaths paths;

    ConnectedPeer(NodeCore core, TransportEndpoint transport, String peerName, PathInfo path, long startNs) {
        this.core = core;
        this.transport = transport;
        this.peerName = peerName;
        this.path = path;
        this.startNs = startNs;
    }

    void connection(Connection value) {
        this.connection = value;
    }

    /** Matches an accepted connection to the introduction whose traversal found its path. */
    void bind(String name, PathInfo pathInfo, PeerPaths owner) {
        this.peerName = name;
        this.path = pathInfo;
        this.paths = owner;
        this.startNs = owner.startNs;
    }

    void established(long nowNs) {
        this.establishedNs = nowNs;
    }

    public Connection connection() {
        return connection;
    }

    /** The peer's registered name; null for an accepted connection not yet matched to an introduction. */
    public String peerName() {
        return peerName;
    }

    /** The path the connection runs on now: it changes when a relayed connection moves to a direct path. */
    public PathInfo path() {
        return path;
    }

    void path(PathInfo value) {
        this.path = value;
    }

    /**
     * Nanoseconds from the start of the connect (or, when accepted, the introduction) until the handshake
     * completed; -1 before.
     */
    public long connectNs() {
        return establishedNs < 0 ? -1 : Math.max(0, establishedNs - startNs);
    }

    /**
     * Installs the owner's handler and gives it the events that happened so far. Call on the event loop;
     * the connection is flushed afterwards.
     */
    public void handler(ConnectionHandler value) {
        this.handler = value;
        int events = pendingEvents;
        pendingEvents = 0;
        if (events != 0 && value != null) {
            value.onEvents(connection, events);
        }
        if (!inCallback) {
            // Inside onEvents the transport flushes when the callback returns; waking it there would re-enter it.
            wake();
        }
    }

    /**
     * Runs the connection after the owner called one of its methods outside a handler callback (on the
     * event loop): sends what became sendable and re-arms its timer.
     */
    public void wake() {
        transport.wake(connection);
    }

    /** The current time of the node's clock. */
    public long nowNs() {
        return transport.datagramEndpoint().clock().nanoTime();
    }

    @Override
    public void onEvents(Connection c, int events) {
        boolean outer = !inCallback;
        inCallback = true;
        try {
            dispatch(c, events);
        } finally {
            if (outer) {
                inCallback = false;
            }
        }
    }

    private void dispatch(Connection c, int events) {
        if (connection == null) {
            connection = c;
        }
        if ((events & Connection.EVENT_CLOSED) != 0) {
            core.onLinkClosed(this);
        }
        if ((events & Connection.EVENT_PATH_CHANGED) != 0) {
            core.onPathChanged(this);
        }
        if ((events & Connection.EVENT_ESTABLISHED) != 0) {
            // Not from inside the transport's callback: a migration wakes the connection.
            transport.datagramEndpoint().timers().schedule(nowNs(), (firedNs, id) -> core.onEstablished(this));
        }
        CompletableFuture<ConnectedPeer> waiting = established;
        if (waiting != null && !waiting.isDone()) {
            if ((events & Connection.EVENT_ESTABLISHED) != 0) {
                establishedNs = nowNs();
                waiting.complete(this);
            } else if ((events & Connection.EVENT_CLOSED) != 0) {
                waiting.completeExceptionally(c.closeReason().toException(c.remoteAddress()));
                return;
            }
        }
        if (handler != null) {
            handler.onEvents(c, events);
        } else {
            pendingEvents |= events;
        }
    }

    @Override
    public String toString() {
        return "ConnectedPeer{" + peerName + " " + path + " " + connection + "}";
    }
}
