package dev.pinhole.cli;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.PathInfo;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.punch.node.PeerLink;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.connection.CloseReason;
import dev.pinhole.reliability.connection.Connection;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Blocking streams over a {@link PeerLink} whose connection lives on the node's event loop: two bounded
 * byte rings under one monitor; the loop moves bytes between the rings and the connection on its events
 * and whenever the application made room or queued data.
 */
final class LinkConnection implements PeerConnection {
    private static final int RING_BYTES = 1 << 20;
    private static final long CLOSE_WAIT_MS = 15_000;

    private final UdpEventLoop loop;
    private final PeerLink link;
    private final byte[] inRing = new byte[RING_BYTES];
    private final byte[] outRing = new byte[RING_BYTES];
    /** Loop-side copy buffer. */
    private final byte[] scratch = new byte[64 * 1024];
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    private int inHead;
    private int inCount;
    private boolean inEof;
    private int outHead;
    private int outCount;
    private boolean finishRequested;
    private boolean finished;
    private boolean terminated;
    private IOException failure;

    private final InputStream input = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return readBytes(b, off, len);
        }
    };

    private final OutputStream output = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            writeBytes(b, off, len);
        }

        @Override
        public void close() throws IOException {
            shutdownOutput();
        }
    };

    /** Call on the event loop: installs the handler. */
    LinkConnection(UdpEventLoop loop, PeerLink link) {
        this.loop = loop;
        this.link = link;
        link.handler((connection, events) -> pump(connection, events));
    }

    private void pump(Connection c, int events) {
        synchronized (this) {
            // Inbound: as much as the ring has room for; the rest waits in the connection (its window).
            while (inCount < RING_BYTES && !inEof) {
                int space = RING_BYTES - inCount;
                int n = c.read(scratch, 0, Math.min(space, scratch.length));
                if (n < 0) {
                    inEof = true;
                    break;
                }
                if (n == 0) {
                    break;
                }
                int tail = (inHead + inCount) % RING_BYTES;
                int first = Math.min(n, RING_BYTES - tail);
                System.arraycopy(scratch, 0, inRing, tail, first);
                System.arraycopy(scratch, first, inRing, 0, n - first);
                inCount += n;
            }
            // Outbound: as much as the connection's send buffer takes.
            if (c.state() == Connection.State.ESTABLISHED && !finished) {
                while (outCount > 0) {
                    int contiguous = Math.min(outCount, RING_BYTES - outHead);
                    int n = c.write(outRing, outHead, contiguous);
                    if (n == 0) {
                        break;
                    }
                    outHead = (outHead + n) % RING_BYTES;
                    outCount -= n;
                }
                if (outCount == 0 && finishRequested) {
                    c.finish();
                    finished = true;
                }
            }
            if ((events & Connection.EVENT_CLOSED) != 0 || c.isTerminated() || c.closeReason() != null) {
                CloseReason reason = c.closeReason();
                if (reason != null && !reason.graceful() && failure == null) {
                    failure = reason.toException(c.remoteAddress());
                }
                terminated = c.isTerminated() || (events & Connection.EVENT_CLOSED) != 0;
                if (failure == null && !inEof && terminated) {
                    inEof = true;
                }
            }
            notifyAll();
        }
    }

    private void schedulePump() {
        if (pumpScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(() -> {
                    pumpScheduled.set(false);
                    Connection c = link.connection();
                    if (c != null) {
                        pump(c, 0);
                        link.wake();
                    }
                });
            } catch (RuntimeException e) {
                pumpScheduled.set(false);
                synchronized (this) {
                    if (failure == null) {
                        failure = new IOException("the node's event loop is closed", e);
                    }
                    notifyAll();
                }
            }
        }
    }

    private int readBytes(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int n;
        synchronized (this) {
            while (inCount == 0 && !inEof && failure == null) {
                waitInterruptibly();
            }
            if (inCount == 0) {
                if (failure != null) {
                    throw failure;
                }
                return -1;
            }
            n = Math.min(len, inCount);
            int first = Math.min(n, RING_BYTES - inHead);
            System.arraycopy(inRing, inHead, b, off, first);
            System.arraycopy(inRing, 0, b, off + first, n - first);
            inHead = (inHead + n) % RING_BYTES;
            inCount -= n;
        }
        schedulePump();
        return n;
    }

    private void writeBytes(byte[] b, int off, int len) throws IOException {
        int written = 0;
        while (written < len) {
            synchronized (this) {
                while (outCount == RING_BYTES && failure == null && !terminated) {
                    waitInterruptibly();
                }
                if (failure != null) {
                    throw failure;
                }
                if (terminated || finishRequested) {
                    throw new IOException("write after the connection's output was shut down");
                }
                int n = Math.min(len - written, RING_BYTES - outCount);
                int tail = (outHead + outCount) % RING_BYTES;
                int first = Math.min(n, RING_BYTES - tail);
                System.arraycopy(b, off + written, outRing, tail, first);
                System.arraycopy(b, off + written + first, outRing, 0, n - first);
                outCount += n;
                written += n;
            }
            schedulePump();
        }
    }

    private void waitInterruptibly() throws InterruptedIOException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on the connection");
        }
    }

    @Override
    public String peerName() {
        return link.peerName();
    }

    @Override
    public PathInfo path() {
        return link.path();
    }

    @Override
    public InputStream inputStream() {
        return input;
    }

    @Override
    public OutputStream outputStream() {
        return output;
    }

    @Override
    public void shutdownOutput() {
        synchronized (this) {
            finishRequested = true;
        }
        schedulePump();
    }

    @Override
    public ConnectionStats stats() throws IOException {
        try {
            return loop.submit(() -> link.connection().stats()).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the connection's counters");
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            throw new IOException("cannot read the connection's counters: " + e, e);
        }
    }

    @Override
    public long connectMillis() {
        return Math.max(0, link.connectNs() / 1_000_000);
    }

    @Override
    public void abort(long code) {
        try {
            loop.execute(() -> {
                link.connection().abort(link.nowNs(), code);
                link.wake();
            });
        } catch (RuntimeException ignored) {
            // The loop is closed: the connection is gone already.
        }
    }

    /** Finishes the output, waits until it is all handed to the connection, then closes gracefully. */
    @Override
    public void close() throws IOException {
        shutdownOutput();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        synchronized (this) {
            while (!finished && failure == null && !terminated && System.nanoTime() < deadline) {
                try {
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        try {
            loop.execute(() -> {
                Connection c = link.connection();
                if (c != null) {
                    c.close(link.nowNs());
                    link.wake();
                }
            });
        } catch (RuntimeException ignored) {
            return;
        }
        synchronized (this) {
            while (!terminated && failure == null && System.nanoTime() < deadline) {
                try {
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
    }
}
