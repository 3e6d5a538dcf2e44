package dev.pinhole.reliability;

import dev.pinhole.reliability.connection.AttachedConnections;
import dev.pinhole.reliability.connection.CloseReason;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A reliable, ordered, bidirectional byte stream to one peer, with blocking streams for application
 * threads. Made by {@link ReliableTransport#connect} or {@link ReliableTransport#accept}, or by
 * {@link #attach} around a connection another component opened (hole punching hands its connections over
 * this way).
 *
 * <pre>{@code
 * try (ReliableConnection c = transport.connect(new InetSocketAddress("203.0.113.7", 4433))) {
 *     c.outputStream().write(request);
 *     c.shutdownOutput();                       // FIN: the peer reads end-of-stream after the request
 *     byte[] reply = c.inputStream().readAllBytes();
 * }                                             // close() waits until the peer acknowledged everything
 * }</pre>
 *
 * <p>Writes return once their bytes are handed to the transport (they block while its buffers are
 * full: back-pressure); reads block until data, end of stream, or failure. A failure of the connection
 * (peer gone, reset, idle timeout) makes every blocked and later read and write throw the same
 * {@link ConnectionException}. Thread-safe in the usual stream sense: one reader thread and one writer
 * thread at a time.
 *
 * <p>Memory: a connection holds at most {@link TransportConfig#sendBufferSize()} bytes written but not
 * yet acknowledged, {@link TransportConfig#receiveWindow()} bytes received but not yet read, and 1 MiB
 * in each direction between the application threads and the event loop.
 */
public final class ReliableConnection implements Closeable {
    private final BlockingStreams bridge;
    private final InetSocketAddress localAddress;
    private final TransportConfig config;
    private final Input input = new Input();
    private final Output output = new Output();
    private volatile boolean closed;
    private volatile boolean failureReported;

    ReliableConnection(BlockingStreams bridge, InetSocketAddress localAddress, TransportConfig config) {
        this.bridge = bridge;
        this.localAddress = localAddress;
        this.config = config;
    }

    static {
        AttachedConnections.register(ReliableConnection::attach);
    }

    /** {@link AttachedConnections#attach}: blocking streams over a connection another component drives. */
    private static ReliableConnection attach(Connection connection, AttachedConnections.Owner owner,
            InetSocketAddress localAddress,
            Executor loop, TransportConfig config) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(config, "config");
        BlockingStreams bridge = new BlockingStreams(loop, c -> owner.wake(), owner::nowNs,
                connection.remoteAddress());
        bridge.attach(connection);
        ReliableConnection attached = new ReliableConnection(bridge, localAddress, config);
        owner.handler(bridge);
        return attached;
    }

    BlockingStreams bridge() {
        return bridge;
    }

    /** The stream of bytes the peer writes; {@code read} returns -1 after the peer's {@code shutdownOutput}. */
    public InputStream inputStream() {
        return input;
    }

    /**
     * The stream of bytes to the peer. Its {@code close()} is {@link #shutdownOutput()} (a half-close:
     * reading goes on); {@code flush()} does nothing, as written bytes are already with the transport.
     */
    public OutputStream outputStream() {
        return output;
    }

    /** The peer's address (it changes if the peer's NAT rebinds and the new path is validated). */
    public InetSocketAddress remoteAddress() {
        return bridge.peer();
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /**
     * The peer's node id ({@link Identity#id()}): its static key, which the handshake proved the peer holds.
     * Everything read from this connection comes from that key's holder, and everything written goes only
     * to it.
     */
    public String peerId() {
        return Base32.encode(bridge.peerKey());
    }

    /** The peer's 32-byte X25519 static key (a copy); {@link #peerId()} is its printable form. */
    public byte[] peerKey() {
        return bridge.peerKey().clone();
    }

    /**
     * Ends the outgoing stream after the bytes written so far (FIN). The peer reads them and then
     * end-of-stream; this side can go on reading. Idempotent; does not wait.
     */
    public void shutdownOutput() throws IOException {
        checkOpen();
        bridge.requestShutdownOutput();
    }

    /**
     * Aborts the connection at once: buffered data is dropped, and the peer's reads and writes fail with
     * {@link ConnectionResetException} carrying {@code code}. Local reads and writes fail too. Does not wait.
     *
     * @param code an application error code, 0 to 2^62 - 1
     */
    public void abort(long code) {
        if (code < 0 || code > (1L << 62) - 1) {
            throw new IllegalArgumentException("abort code must be in [0, 2^62), got " + code);
        }
        bridge.requestAbort(code);
    }

    /**
     * Closes gracefully: ends the outgoing stream, stops reading (data still arriving is discarded), and
     * waits for the peer to acknowledge everything written: as long as it keeps acknowledging, and at most
     * {@link TransportConfig#closeTimeout()} after it acknowledged anything new (a stall, not a clock: a slow
     * path delivering a large send buffer is waited for, as TCP's close waits).
     * The connection then lingers in the background until the peer has finished its stream too (or the
     * close timeout passed), and ends with CONNECTION_CLOSE.
     *
     * @throws ConnectionException if written data could not be delivered (the connection failed or
     *     the close timeout passed first), unless a read or write already threw that failure
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        bridge.requestClose();
        // A read or write blocked in another thread stops now, not when the connection ends.
        bridge.inbound.wakeAll();
        bridge.outbound.wakeAll();
        CloseReason reason = null;
        CompletableFuture<Object> done = CompletableFuture.anyOf(bridge.outputAcknowledged, bridge.ended);
        long seen = -1;
        try {
            // The transport ends the linger a close timeout after the last progress; this thread waits in
            // slices of that length plus a margin and stops only when a whole slice brought no progress.
            while (seen != bridge.progress()) {
                seen = bridge.progress();
                try {
                    done.get(config.closeTimeout().toMillis() + 2_000, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException stillWaiting) {
                    // Loop if the peer acknowledged something meanwhile.
                }
            }
            reason = bridge.ended.getNow(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while closing the connection to " + remoteAddress());
        } catch (ExecutionException e) {
            reason = bridge.ended.getNow(null);
        }
        if (reason != null && !reason.graceful() && !failureReported && !bridge.outputAcknowledged.isDone()
                && !(reason instanceof CloseReason.LocalAbort)) {
            throw reason.toException(remoteAddress());
        }
    }

    /** A snapshot of the connection's counters, taken on its event loop. */
    public ConnectionStats stats() throws IOException {
        CompletableFuture<ConnectionStats> stats = bridge.onLoop(() -> bridge.connection().stats());
        try {
            return stats.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading connection statistics");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("could not read statistics of the connection to " + remoteAddress(), e);
        }
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new ConnectionClosedException("connection to " + remoteAddress() + " is closed", remoteAddress());
        }
    }

    private IOException reportFailure(ConnectionException e) {
        failureReported = true;
        return e;
    }

    private static long deadlineNs(Duration timeout) {
        return timeout.isZero() ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
    }

    private final class Input extends InputStream {
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException {
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkOpen();
            if (len == 0) {
                return 0;
            }
            ByteRing ring = bridge.inbound;
            long deadlineNs = deadlineNs(config.readTimeout());
            while (true) {
                int n = ring.read(b, off, len);
                if (n > 0) {
                    bridge.afterRead();
                    return n;
                }
                if (bridge.inputEnded()) {
                    return -1;
                }
                ConnectionException failure = bridge.failure();
                if (failure != null) {
                    throw reportFailure(failure);
                }
                if (!ring.awaitData(deadlineNs, () -> bridge.inputEnded() || bridge.failure() != null || closed)) {
                    if (ring.available() > 0 || bridge.inputEnded() || bridge.failure() != null) {
                        continue;
                    }
                    checkOpen();
                    throw new SocketTimeoutException("no data from " + remoteAddress() + " within the read timeout "
                            + config.readTimeout());
                }
            }
        }

        @Override
        public int available() {
            return bridge.inbound.available();
        }

        /** Stops reading: like {@link ReliableConnection#close()} for the whole connection. */
        @Override
        public void close() throws IOException {
            ReliableConnection.this.close();
        }
    }

    private final class Output extends OutputStream {
        private final byte[] one = new byte[1];

        @Override
        public void write(int b) throws IOException {
            one[0] = (byte) b;
            write(one, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            checkOpen();
            if (bridge.outputShutdownRequested()) {
                throw new ConnectionClosedException("output to " + remoteAddress() + " was shut down", remoteAddress());
            }
            ByteRing ring = bridge.outbound;
            long deadlineNs = deadlineNs(config.writeTimeout());
            while (len > 0) {
                checkWritable();
                int n = ring.write(b, off, len);
                if (n > 0) {
                    off += n;
                    len -= n;
                    bridge.requestPump();
                    continue;
                }
                if (!ring.awaitSpace(deadlineNs, () -> bridge.failure() != null || bridge.outputEnded() || closed)) {
                    checkWritable();
                    if (ring.space() > 0) {
                        continue;
                    }
                    throw new SocketTimeoutException("the transport to " + remoteAddress() + " accepted no data"
                            + " within the write timeout " + config.writeTimeout());
                }
            }
        }

        private void checkWritable() throws IOException {
            checkOpen();
            ConnectionException failure = bridge.failure();
            if (failure != null) {
                throw reportFailure(failure);
            }
            if (bridge.outputEnded()) {
                throw new ConnectionClosedException("connection to " + remoteAddress() + " has ended", remoteAddress());
            }
        }

        @Override
        public void flush() {
        }

        /** Half-closes: {@link ReliableConnection#shutdownOutput()}. */
        @Override
        public void close() throws IOException {
            if (!closed) {
                shutdownOutput();
            }
        }
    }

    @Override
    public String toString() {
        return "ReliableConnection{" + localAddress() + " <-> " + remoteAddress() + (closed ? ", closed" : "") + "}";
    }

    /** The sans-IO connection behind this one; loop thread only. */
    Connection connectionOnLoop() {
        return bridge.connection();
    }
}
