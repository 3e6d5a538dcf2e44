package dev.pinhole.punch.node;

import dev.pinhole.punch.PathInfo;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.ReliableConnection;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.connection.AttachedConnections;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The blocking {@link PeerConnection} over a {@link ConnectedPeer}'s sans-IO connection (docs/architecture.md, principle 3):
 * the streams, half-close, abort, close and statistics are reliability's {@link ReliableConnection}
 * attached to the link; this class adds what punching knows about the connection: the peer's name, the
 * punched path and how long connecting took.
 */
public final class RealPeerConnection implements PeerConnection {
    private final ReliableConnection connection;
    private final String peerName;
    private final ConnectedPeer link;
    private final long connectMillis;
    private final InputStream inputStream;

    private RealPeerConnection(ReliableConnection connection, ConnectedPeer link) {
        this.connection = connection;
        this.peerName = link.peerName();
        this.link = link;
        this.connectMillis = TimeUnit.NANOSECONDS.toMillis(link.connectNs());
        this.inputStream = new NamedTimeouts(connection.inputStream());
    }

    /**
     * Wraps {@code link} and installs the blocking streams as its handler. Call on the event loop.
     *
     * @param localAddress the address of the node's socket
     * @param loop runs tasks on the link's event loop
     */
    public static RealPeerConnection attach(ConnectedPeer link, InetSocketAddress localAddress, Executor loop,
            TransportConfig config) {
        Objects.requireNonNull(link, "link");
        ReliableConnection connection = AttachedConnections.attach(link.connection(), new AttachedConnections.Owner() {
            @Override
            public void handler(ConnectionHandler handler) {
                link.handler(handler);
            }

            @Override
            public void wake() {
                link.wake();
            }

            @Override
            public long nowNs() {
                return link.nowNs();
            }
        }, localAddress, loop, config);
        return new RealPeerConnection(connection, link);
    }

    @Override
    public String peerName() {
        return peerName;
    }

    @Override
    public String peerId() {
        return connection.peerId();
    }

    @Override
    public PathInfo path() {
        return link.path();
    }

    @Override
    public InputStream inputStream() {
        return inputStream;
    }

    @Override
    public OutputStream outputStream() {
        return connection.outputStream();
    }

    @Override
    public long connectMillis() {
        return connectMillis;
    }

    @Override
    public void shutdownOutput() throws IOException {
        connection.shutdownOutput();
    }

    @Override
    public ConnectionStats stats() throws IOException {
        return connection.stats();
    }

    @Override
    public void abort(long code) {
        connection.abort(code);
    }

    @Override
    public void close() throws IOException {
        connection.close();
    }

    @Override
    public String toString() {
        return "PeerConnection{" + peerName + " " + link.path() + "}";
    }

    /** Names the peer in a read timeout: the transport knows only its address. */
    private final class NamedTimeouts extends FilterInputStream {
        NamedTimeouts(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (SocketTimeoutException e) {
                throw named(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (SocketTimeoutException e) {
                throw named(e);
            }
        }

        private SocketTimeoutException named(SocketTimeoutException e) {
            SocketTimeoutException named = new SocketTimeoutException("reading from " + peerName + ": " + e.getMessage());
            named.initCause(e);
            return named;
        }
    }
}
