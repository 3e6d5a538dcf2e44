package dev.pinhole.reliability;

import dev.pinhole.reliability.connection.CloseReason;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The event-loop half of a {@link ReliableConnection}: moves bytes between the application's two
 * {@link ByteRing}s and the sans-IO {@link Connection}, and publishes the connection's fate to the
 * application threads through volatile fields. Every method but the {@code request*} ones and the
 * getters runs on the loop thread.
 *
 * <p>Bytes are copied once on each side of a ring: application array to ring (application thread),
 * ring to send buffer (loop); receive buffer to ring (loop), ring to application array (application
 * thread). The rings bound what is held between the threads; flow control bounds the rest.
 */
final class BlockingStreams implements ConnectionHandler {
    /** Ring between the application and the loop in each direction: 1 MiB. */
    static final int RING_BYTES = 1 << 20;

    final ByteRing outbound = new ByteRing(RING_BYTES);
    final ByteRing inbound = new ByteRing(RING_BYTES);
    final CompletableFuture<Void> established = new CompletableFuture<>();
    /** Completed when the peer acknowledged everything written, FIN included. */
    final CompletableFuture<Void> outputAcknowledged = new CompletableFuture<>();
    /** Completed when the connection ended, with its close reason. */
    final CompletableFuture<CloseReason> ended = new CompletableFuture<>();

    private final Executor loop;
    /** Runs the connection after the bridge used it outside a handler callback (flush, re-arm its timer). */
    private final Consumer<Connection> wake;
    /** The loop's clock, in nanoseconds. */
    private final LongSupplier nowNs;
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    private final Runnable pumpTask = this::pumpFromApplication;

    /** Loop thread only. */
    private Connection connection;
    private boolean finished;
    private boolean closeStarted;

    private volatile InetSocketAddress peer;
    /** The peer's static key the handshake authenticated; null before it finished. */
    private volatile byte[] peerKey;
    /** The failure every read and write throws from now on; null while the connection is fine. */
    private volatile ConnectionException failure;
    /** The peer's FIN and every byte before it are in {@link #inbound}. */
    private volatile boolean inputEnded;
    /** The connection ended gracefully: no more bytes can be written. */
    private volatile boolean outputEnded;
    /** The loop stopped filling {@link #inbound} because it was full. */
    private volatile boolean inboundStalled;
    private volatile boolean outputShutdownRequested;
    private volatile boolean closeRequested;
    private volatile long abortCode = -1;

    BlockingStreams(Executor loop, Consumer<Connection> wake, LongSupplier nowNs, InetSocketAddress peer) {
        this.loop = loop;
        this.wake = wake;
        this.nowNs = nowNs;
        this.peer = peer;
    }

    /** Any thread: runs {@code task} on the loop; the future fails if the loop is gone. */
    <T> CompletableFuture<T> onLoop(Supplier<T> task) {
        try {
            return CompletableFuture.supplyAsync(task, loop);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Loop thread only: the connection this bridge serves. */
    Connection connection() {
        return connection;
    }

    /** Loop thread: attaches the connection this bridge serves. */
    void attach(Connection connection) {
        this.connection = connection;
        this.peer = connection.remoteAddress();
        this.peerKey = connection.peerStaticKey();
    }

    // ------------------------------------------------------------------ application side (any thread)

    /** Asks the loop to move bytes now; deduplicated so that at most one task is queued. */
    void requestPump() {
        if (pumpScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(pumpTask);
            } catch (RejectedExecutionException e) {
                pumpScheduled.set(false);
                fail(new ConnectionClosedException("the transport of the connection to " + peer
                        + " is closed", peer));
            }
        }
    }

    /** Called after the application took bytes from {@link #inbound}: refill it if the loop waits for room. */
    void afterRead() {
        if (inboundStalled && inbound.space() >= inbound.capacity() / 2) {
            inboundStalled = false;
            requestPump();
        }
    }

    void requestShutdownOutput() {
        outputShutdownRequested = true;
        requestPump();
    }

    void requestClose() {
        outputShutdownRequested = true;
        closeRequested = true;
        requestPump();
    }

    void requestAbort(long code) {
        abortCode = code;
        requestPump();
    }

    ConnectionException failure() {
        return failure;
    }

    boolean inputEnded() {
        return inputEnded;
    }

    boolean outputEnded() {
        return outputEnded;
    }

    boolean outputShutdownRequested() {
        return outputShutdownRequested;
    }

    InetSocketAddress peer() {
        return peer;
    }

    /** The peer's authenticated static key (not a copy: callers must not change it), or null. */
    byte[] peerKey() {
        return peerKey;
    }

    /** Records a failure seen outside the loop (the loop itself is gone) and wakes every waiter. */
    private void fail(ConnectionException e) {
        if (failure == null) {
            failure = e;
        }
        outbound.wakeAll();
        inbound.wakeAll();
        established.completeExceptionally(e);
    }

    // ------------------------------------------------------------------ loop side

    private void pumpFromApplication() {
        pumpScheduled.set(false);
        if (connection == null) {
            return;
        }
        pump();
        wake.accept(connection);
    }

    @Override
    public void onEvents(Connection c, int events) {
        if (connection == null) {
            attach(c);
        }
        if ((events & Connection.EVENT_ESTABLISHED) != 0) {
            peer = c.remoteAddress();
            peerKey = c.peerStaticKey();
            established.complete(null);
        }
        if ((events & Connection.EVENT_PATH_CHANGED) != 0) {
            peer = c.remoteAddress();
        }
        if ((events & Connection.EVENT_OUTPUT_ACKNOWLEDGED) != 0) {
            outputAcknowledged.complete(null);
        }
        if ((events & Connection.EVENT_WRITABLE) != 0) {
            // The peer acknowledged more (or buffer space was freed): progress a lingering close waits on.
            progress++;
        }
        pump();
    }

    /** Counts the events that show the peer acknowledging data; a close that sees it grow keeps waiting. */
    long progress() {
        return progress;
    }

    private volatile long progress;

    /** Moves what can move in both directions and publishes state changes. */
    private void pump() {
        Connection c = connection;
        long code = abortCode;
        if (code >= 0 && c.closeReason() == null) {
            c.abort(nowNs.getAsLong(), code);
        }
        if (c.closeReason() == null && c.state() == Connection.State.ESTABLISHED) {
            drainOutbound(c);
            if (closeRequested && !closeStarted && outbound.available() == 0) {
                closeStarted = true;
                c.close(nowNs.getAsLong());
            } else if (outputShutdownRequested && !finished && outbound.available() == 0) {
                finished = true;
                c.finish();
            }
        }
        CloseReason reason = c.closeReason();
        if (reason == null || reason.graceful()) {
            // After an abnormal end the received data is gone: no end-of-stream, the failure is what reads see.
            fillInbound(c);
        }
        if (reason != null) {
            onEnded(c, reason);
        }
    }

    private void drainOutbound(Connection c) {
        while (outbound.available() > 0) {
            int room = c.writableBytes();
            if (room == 0) {
                return;
            }
            int n = Math.min(room, outbound.readableContiguous());
            int written = c.write(outbound.readableArray(), outbound.readableOffset(), n);
            outbound.consumed(written);
            if (written < n) {
                return;
            }
        }
    }

    private void fillInbound(Connection c) {
        if (inputEnded) {
            return;
        }
        while (true) {
            int room = inbound.writableContiguous();
            if (room == 0) {
                inboundStalled = c.readableBytes() > 0 || !c.inputFinished();
                return;
            }
            int n = c.read(inbound.writableArray(), inbound.writableOffset(), room);
            if (n < 0) {
                inputEnded = true;
                inbound.wakeAll();
                return;
            }
            if (n == 0) {
                return;
            }
            inbound.produced(n);
        }
    }

    private void onEnded(Connection c, CloseReason reason) {
        if (ended.isDone()) {
            return;
        }
        if (reason.graceful()) {
            outputEnded = true;
            if (!c.finReceived()) {
                failure = new ConnectionClosedException(peer + " closed the connection before finishing its"
                        + " stream", peer);
            }
        } else {
            failure = reason.toException(peer);
        }
        established.completeExceptionally(failure != null ? failure
                : new ConnectionClosedException("connection to " + peer + " closed", peer));
        outbound.wakeAll();
        inbound.wakeAll();
        ended.complete(reason);
    }
}
