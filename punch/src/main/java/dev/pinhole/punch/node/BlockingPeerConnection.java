package dev.pinhole.punch.node;

import dev.pinhole.punch.PathInfo;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.reliability.ConnectionClosedException;
import dev.pinhole.reliability.ConnectionException;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.connection.CloseReason;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The blocking {@link PeerConnection} over a {@link PeerLink}'s sans-IO connection (DESIGN.md principle 3):
 * application threads and the event loop meet at two bounded staging rings guarded by one monitor.
 *
 * <ul>
 *   <li><b>Receive:</b> on {@code EVENT_READABLE} the loop moves bytes from the connection's receive
 *       buffer into the receive ring until it is full; a reader takes them out. When the ring was full the
 *       reader asks the loop to pull again, so the connection's flow-control window (docs/protocol.md §7)
 *       opens only as fast as the application reads: back-pressure reaches the sender.</li>
 *   <li><b>Send:</b> a writer copies into the send ring and asks the loop to push; the loop moves bytes
 *       into the connection's send buffer as far as it has space, again on every {@code EVENT_WRITABLE}.
 *       A writer blocks while the ring is full.</li>
 * </ul>
 * The loop never waits for an application thread: it holds the monitor only to copy. Tasks are handed to
 * the loop outside the monitor, so a full task queue cannot deadlock against a loop task waiting for it.
 */
public final class BlockingPeerConnection implements PeerConnection, ConnectionHandler {
    /** Bytes staged in each direction between application threads and the loop. */
    public static final int STAGING_BYTES = 256 * 1024;

    private final PeerLink link;
    private final Connection connection;
    private final Executor loop;
    private final TransportConfig config;
    private final String peerName;
    private final PathInfo path;
    private final long connectMillis;
    private final Object lock = new Object();

    private final byte[] in = new byte[STAGING_BYTES];
    private int inHead;
    private int inCount;
    private boolean inEnd;
    private boolean pullStalled;

    private final byte[] out = new byte[STAGING_BYTES];
    private int outHead;
    private int outCount;
    private boolean outFinish;
    private boolean finishSent;
    private boolean pushScheduled;
    private boolean closeRequested;
    private boolean closeSent;

    private boolean ended;
    private CloseReason endReason;
    private boolean closed;

    private final InputStream inputStream = new In();
    private final OutputStream outputStream = new Out();
    private final Runnable pullTask = this::pullOnLoop;
    private final Runnable pushTask = this::pushOnLoop;

    /**
     * Wraps {@code link}; call on the event loop, then install it with {@code link.handler(this)}.
     *
     * @param loop runs tasks on the link's event loop
     */
    public BlockingPeerConnection(PeerLink link, Executor loop, TransportConfig config) {
        this.link = Objects.requireNonNull(link, "link");
        this.connection = link.connection();
        this.loop = Objects.requireNonNull(loop, "loop");
        this.config = Objects.requireNonNull(config, "config");
        this.peerName = link.peerName();
        this.path = link.path();
        this.connectMillis = TimeUnit.NANOSECONDS.toMillis(link.connectNs());
    }

    @Override
    public String peerName() {
        return peerName;
    }

    @Override
    public PathInfo path() {
        return path;
    }

    @Override
    public InputStream inputStream() {
        return inputStream;
    }

    @Override
    public OutputStream outputStream() {
        return outputStream;
    }

    @Override
    public long connectMillis() {
        return connectMillis;
    }

    // ------------------------------------------------------------------ event loop side

    @Override
    public void onEvents(Connection c, int events) {
        if ((events & Connection.EVENT_CLOSED) != 0) {
            // Before pulling: a reader must never see the end of the stream an abnormal end leaves behind
            // without also seeing why the connection ended.
            synchronized (lock) {
                ended = true;
                endReason = c.closeReason();
                lock.notifyAll();
            }
        }
        if ((events & (Connection.EVENT_READABLE | Connection.EVENT_CLOSED)) != 0) {
            pull();
        }
        if ((events & (Connection.EVENT_WRITABLE | Connection.EVENT_ESTABLISHED)) != 0) {
            push();
        }
    }

    private void pullOnLoop() {
        pull();
        link.wake();
    }

    private void pushOnLoop() {
        push();
        link.wake();
    }

    /** Moves received bytes into the receive ring (on the loop). */
    private void pull() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            while (inCount < in.length && !inEnd) {
                int tail = (inHead + inCount) % in.length;
                int n = connection.read(in, tail, Math.min(in.length - inCount, in.length - tail));
                if (n > 0) {
                    inCount += n;
                } else {
                    if (n < 0) {
                        inEnd = true;
                    }
                    break;
                }
            }
            pullStalled = inCount == in.length && !inEnd;
            lock.notifyAll();
        }
    }

    /** Moves staged bytes into the connection's send buffer, then FIN or close when asked (on the loop). */
    private void push() {
        synchronized (lock) {
            pushScheduled = false;
            if (connection.state() != Connection.State.ESTABLISHED || connection.closeReason() != null) {
                return;
            }
            while (outCount > 0) {
                int n = connection.write(out, outHead, Math.min(outCount, out.length - outHead));
                if (n == 0) {
                    break;
                }
                outHead = (outHead + n) % out.length;
                outCount -= n;
                lock.notifyAll();
            }
            if (outCount == 0 && outFinish && !finishSent) {
                connection.finish();
                finishSent = true;
            }
            if (outCount == 0 && closeRequested && !closeSent) {
                closeSent = true;
                connection.close(link.nowNs());
            }
        }
    }

    // ------------------------------------------------------------------ application side

    private int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        boolean wakeLoop;
        int n;
        synchronized (lock) {
            long deadlineNs = deadline(config.readTimeout().toNanos());
            while (inCount == 0) {
                if (ended && !endReason.graceful()) {
                    // After an abnormal end the transport drops unread data; say why rather than "end of stream".
                    throw endReason.toException(connection.remoteAddress());
                }
                if (inEnd) {
                    return -1;
                }
                if (closed) {
                    throw new IOException("the connection to " + peerName + " was closed by this side");
                }
                if (ended) {
                    return -1;
                }
                await(deadlineNs, "read", config.readTimeout().toMillis());
            }
            n = Math.min(len, inCount);
            int first = Math.min(n, in.length - inHead);
            System.arraycopy(in, inHead, b, off, first);
            System.arraycopy(in, 0, b, off + first, n - first);
            inHead = (inHead + n) % in.length;
            inCount -= n;
            wakeLoop = pullStalled;
            pullStalled = false;
        }
        if (wakeLoop) {
            runOnLoop(pullTask);
        }
        return n;
    }

    private void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            boolean wakeLoop;
            synchronized (lock) {
                long deadlineNs = deadline(config.writeTimeout().toNanos());
                while (true) {
                    checkWritable();
                    if (outCount < out.length) {
                        break;
                    }
                    await(deadlineNs, "write", config.writeTimeout().toMillis());
                }
                int n = Math.min(len, out.length - outCount);
                int tail = (outHead + outCount) % out.length;
                int first = Math.min(n, out.length - tail);
                System.arraycopy(b, off, out, tail, first);
                System.arraycopy(b, off + first, out, 0, n - first);
                outCount += n;
                off += n;
                len -= n;
                wakeLoop = !pushScheduled;
                pushScheduled = true;
            }
            if (wakeLoop) {
                runOnLoop(pushTask);
            }
        }
    }

    private void checkWritable() throws IOException {
        if (closed || closeRequested) {
            throw new IOException("the connection to " + peerName + " was closed by this side");
        }
        if (outFinish) {
            throw new IOException("the output to " + peerName + " was shut down");
        }
        if (ended) {
            ConnectionException why = endReason.toException(connection.remoteAddress());
            throw why != null ? why : new ConnectionClosedException("the connection to " + peerName
                    + " has ended: both sides finished their streams", connection.remoteAddress());
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        boolean wakeLoop;
        synchronized (lock) {
            if (outFinish) {
                return;
            }
            if (ended && !endReason.graceful()) {
                throw endReason.toException(connection.remoteAddress());
            }
            outFinish = true;
            wakeLoop = !pushScheduled;
            pushScheduled = true;
        }
        if (wakeLoop) {
            runOnLoop(pushTask);
        }
    }

    @Override
    public ConnectionStats stats() throws IOException {
        CompletableFuture<ConnectionStats> stats;
        try {
            stats = CompletableFuture.supplyAsync(connection::stats, loop);
        } catch (RejectedExecutionException e) {
            throw new IOException("the node of the connection to " + peerName + " is closed", e);
        }
        try {
            return stats.get(config.closeTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the connection's statistics");
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot read the statistics of the connection to " + peerName + ": " + e, e);
        }
    }

    @Override
    public void abort(long code) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            lock.notifyAll();
        }
        try {
            loop.execute(() -> {
                connection.abort(link.nowNs(), code);
                link.wake();
            });
        } catch (RejectedExecutionException e) {
            // The node is closed: its transport already aborted every connection.
        }
    }

    @Override
    public void close() throws IOException {
        boolean wakeLoop;
        synchronized (lock) {
            if (closed || closeRequested) {
                return;
            }
            closeRequested = true;
            outFinish = true;
            wakeLoop = !pushScheduled;
            pushScheduled = true;
        }
        if (wakeLoop && !runQuietly(pushTask)) {
            markClosed();
            return;
        }
        long timeoutNs = config.closeTimeout().toNanos();
        boolean interrupted = false;
        synchronized (lock) {
            long deadlineNs = System.nanoTime() + timeoutNs;
            while (!ended) {
                long leftNs = deadlineNs - System.nanoTime();
                if (leftNs <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, leftNs);
                } catch (InterruptedException e) {
                    interrupted = true;
                    break;
                }
            }
        }
        boolean gaveUp;
        synchronized (lock) {
            gaveUp = !ended;
        }
        markClosed();
        if (gaveUp) {
            // Staged bytes could not even reach the transport within the close timeout: the peer stopped
            // reading. Abort rather than leave the connection behind.
            runQuietly(() -> {
                connection.abort(link.nowNs(), 0);
                link.wake();
            });
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while closing the connection to " + peerName);
        }
    }

    private void markClosed() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
    }

    private void runOnLoop(Runnable task) throws IOException {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            throw new IOException("the node of the connection to " + peerName + " is closed: " + e.getMessage(), e);
        }
    }

    private boolean runQuietly(Runnable task) {
        try {
            loop.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private static long deadline(long timeoutNs) {
        return timeoutNs == 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutNs;
    }

    /** Waits on the monitor until notified or {@code deadlineNs}; throws when the deadline passed. */
    private void await(long deadlineNs, String operation, long timeoutMs) throws IOException {
        try {
            if (deadlineNs == Long.MAX_VALUE) {
                lock.wait();
                return;
            }
            long leftNs = deadlineNs - System.nanoTime();
            if (leftNs <= 0) {
                throw new SocketTimeoutException(operation + " on the connection to " + peerName + " timed out after "
                        + timeoutMs + " ms");
            }
            TimeUnit.NANOSECONDS.timedWait(lock, leftNs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(operation + " on the connection to " + peerName + " was interrupted");
        }
    }

    @Override
    public String toString() {
        return "PeerConnection{" + peerName + " " + path + "}";
    }

    private final class In extends InputStream {
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException {
            int n = BlockingPeerConnection.this.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return BlockingPeerConnection.this.read(b, off, len);
        }

        @Override
        public int available() {
            synchronized (lock) {
                return inCount;
            }
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            BlockingPeerConnection.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            BlockingPeerConnection.this.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            shutdownOutput();
        }
    }
}
