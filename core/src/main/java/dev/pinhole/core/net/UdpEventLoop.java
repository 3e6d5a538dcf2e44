package dev.pinhole.core.net;

import dev.pinhole.core.Platform;
import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.core.time.WheelTimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real driver of a node: one non-blocking UDP socket (servers may add more with {@link #openSocket})
 * and one event-loop thread that owns every piece
 * of protocol state of the node (docs/architecture.md, principles 2 and 3).
 *
 * <h2>Threading</h2>
 * The loop thread runs, in turns: the tasks other threads handed to {@link #execute}, the timers that
 * are due, and up to {@code receiveBatchSize} datagrams from the socket. Then it sleeps in
 * {@link Selector#select(Consumer, long)} until the earliest timer deadline, until the socket is
 * readable, or until {@link #execute} wakes it; it never spins while idle. Every
 * {@link DatagramEndpoint} method, every {@link DatagramReceiver} and every timer handler runs on that
 * thread. From other threads, only {@link #execute}, {@link #submit}, {@link #stats}, {@link #close} and
 * the getters of configuration are allowed; {@link #send} and {@link #receiver} also work on the
 * building thread before {@link #start()}.
 *
 * <p>The loop coordinates two parts: the {@code TaskQueue}, through which other threads hand it tasks and
 * wake it, and the {@code SocketSet}, its sockets with their receivers and the selector it sleeps in. The
 * loop decides the order of the turn, when to sleep and when to close; the parts do the work.
 *
 * <h2>Buffers</h2>
 * Every datagram is read into a pooled direct buffer from {@link Buffers#ALLOCATOR} that is lent to the
 * receiver and released when the receiver returns. {@link #send} takes ownership of its buffer and
 * releases it on every path. Datagrams larger than {@code maxDatagramSize} are dropped and counted in
 * both directions (a read buffer has one spare byte to detect them). The loop thread is a Netty
 * {@link FastThreadLocalThread}: Netty 4.2 gives the pooled allocator's per-thread cache only to such
 * threads by default ({@code io.netty.allocator.useCacheForAllThreads=false}), and without that cache
 * every allocation leaves about 170 bytes of garbage behind (measured); with it, none.
 *
 * <h2>Back-pressure</h2>
 * The task queue is a bounded Agrona {@link ManyToOneConcurrentArrayQueue}. When it is full,
 * {@link #execute} on another thread waits for space (brief spinning, then parking with exponential
 * backoff up to 1 ms) until the {@code taskQueueTimeout} elapses, then throws
 * {@link RejectedExecutionException}. The loop thread itself cannot wait for its own queue: its
 * {@code execute} queues the task behind the others when there is room and is rejected at once when
 * there is none.
 *
 * <h2>Failures</h2>
 * A receiver, task or timer handler that throws a {@link RuntimeException} is counted, logged at most
 * once per 10 s, and the loop carries on. I/O errors on send and receive are
 * counted the same way, never thrown. (On Linux an unconnected UDP socket never reports ICMP port
 * unreachable, so a send to a closed port simply succeeds.) An {@link Error} ends the loop: it logs
 * the error and closes itself.
 */
public final class UdpEventLoop implements DatagramEndpoint, Closeable {
    /** Default socket buffer size requested from the OS, in bytes (the OS may grant less). */
    public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
    /**
     * Default largest datagram sent or received, in bytes: room above the 1,472-byte UDP payload of a
     * 1,500-byte Ethernet MTU (RFC 894; 20-byte IPv4 and 8-byte UDP headers).
     */
    public static final int DEFAULT_MAX_DATAGRAM_SIZE = 2048;
    /** The largest UDP payload over IPv4: 65,535 − 20 (IPv4 header) − 8 (UDP header) (RFC 768, RFC 791). */
    public static final int MAX_UDP_PAYLOAD = 65_507;
    /** Default bound of the cross-thread task queue (rounded up to a power of two). */
    public static final int DEFAULT_TASK_QUEUE_CAPACITY = 1024;
    /** Default time execute() waits for space in a full task queue. */
    public static final Duration DEFAULT_TASK_QUEUE_TIMEOUT = Duration.ofSeconds(5);
    /** Default number of datagrams read per turn before tasks and timers get their turn again. */
    public static final int DEFAULT_RECEIVE_BATCH_SIZE = 64;

    private static final Logger LOG = LoggerFactory.getLogger(UdpEventLoop.class);
    private static final long LOG_INTERVAL_SECONDS = 10;

    private final SocketSet sockets;
    private final DatagramEndpoint primary;
    private final InetSocketAddress localAddress;
    private final int maxDatagramSize;
    private final String threadName;
    private final boolean daemon;
    private final TaskQueue tasks;
    private final Clock clock = Clock.SYSTEM;
    private final WheelTimerService timers;
    private final LoopCounters counters = new LoopCounters();
    private final RateLimitedLog failureLog = new RateLimitedLog(LOG, TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS));
    private final Consumer<Runnable> runTask = this::runTask;
    private final Object lifecycleLock = new Object();

    private volatile Thread thread;
    private volatile boolean closed;
    /** Guarded by lifecycleLock. */
    private boolean resourcesReleased;

    private UdpEventLoop(Builder builder) throws IOException {
        Platform.requireAgronaAccess();
        this.maxDatagramSize = builder.maxDatagramSize;
        this.daemon = builder.daemon;
        this.timers = new WheelTimerService(clock.nanoTime(), this::onTimerFailure);
        this.sockets = new SocketSet(this, builder.bindAddress, builder.receiveBufferBytes, builder.sendBufferBytes,
            builder.maxDatagramSize, builder.receiveBatchSize, counters, failureLog);
        this.primary = sockets.primary();
        this.localAddress = primary.localAddress();
        this.threadName = builder.threadName != null ? builder.threadName : "pinhole-udp-" + localAddress.getPort();
        this.tasks = new TaskQueue(builder.taskQueueCapacity, builder.taskQueueTimeout.toNanos(), threadName,
            this::isClosed, sockets::wakeUp);
        final int grantedReceiveBufferBytes = sockets.grantedReceiveBufferBytes();
        final int grantedSendBufferBytes = sockets.grantedSendBufferBytes();
        if (grantedReceiveBufferBytes < builder.receiveBufferBytes
            || grantedSendBufferBytes < builder.sendBufferBytes) {
            LOG.info("UDP socket {}: asked for {} B receive and {} B send buffers, the OS granted {} B and {} B "
                    + "(on Linux raise net.core.rmem_max and net.core.wmem_max)", localAddress,
                builder.receiveBufferBytes, builder.sendBufferBytes, grantedReceiveBufferBytes, grantedSendBufferBytes);
        }
    }

    /** A builder with the defaults: wildcard address, ephemeral port, 4 MiB socket buffers. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the event-loop thread.
     *
     * @return this loop
     * @throws IllegalStateException if already started or closed
     */
    public UdpEventLoop start() {
        synchronized (lifecycleLock) {
            if (closed) {
                throw new IllegalStateException("event loop " + threadName + " is closed");
            }
            if (thread != null) {
                throw new IllegalStateException("event loop " + threadName + " is already started");
            }
            final Thread loopThread = new FastThreadLocalThread(this::run, threadName);
            loopThread.setDaemon(daemon);
            thread = loopThread;
            loopThread.start();
        }
        return this;
    }

    // ------------------------------------------------------------------ DatagramEndpoint

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        return primary.send(datagram, destination);
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        primary.receiver(receiver);
    }

    /**
     * Sends the following datagrams of the primary socket with IP TTL (IPv6 hop limit) {@code ttl}, until
     * {@link #restoreUnicastTtl()}. Hole punching between Linux NATs "primes" its own NAT with a datagram
     * that dies at the next router (docs/lab.md; {@link UnicastTtl}). Loop thread only; {@link #send} is
     * synchronous, so the TTL applies to exactly the datagrams sent in between.
     *
     * @throws IllegalStateException if the JVM lacks {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
     */
    public void unicastTtl(int ttl) throws IOException {
        checkOwner("unicastTtl");
        sockets.unicastTtl(primary, ttl);
    }

    /** Returns the primary socket to the system's default TTL. Loop thread only. */
    public void restoreUnicastTtl() throws IOException {
        checkOwner("restoreUnicastTtl");
        sockets.restoreUnicastTtl(primary);
    }

    /**
     * As {@link #unicastTtl(int)}, for a socket {@link #openSocket} opened (birthday probing primes its
     * extra sockets' mappings the same way).
     */
    public void unicastTtl(DatagramEndpoint socket, int ttl) throws IOException {
        checkOwner("unicastTtl");
        sockets.unicastTtl(socket, ttl);
    }

    /** Returns a socket {@link #openSocket} opened to the system's default TTL. Loop thread only. */
    public void restoreUnicastTtl(DatagramEndpoint socket) throws IOException {
        checkOwner("restoreUnicastTtl");
        sockets.restoreUnicastTtl(socket);
    }

    /**
     * Opens one more UDP socket served by this loop's thread, with the same clock, timers, buffer sizes
     * and datagram limit. For servers that must answer from several addresses on one thread, such as an
     * RFC 5780 STUN server (two IPs times two ports, RFC 5780 §6); a peer node keeps to one socket
     * (docs/architecture.md, principle 2), except for the short-lived sockets of birthday probing. The socket closes
     * with the loop, or earlier with {@link #closeSocket}. Call it before {@link #start()} or on the loop
     * thread.
     *
     * @throws java.net.BindException if the address is taken, with the address in the message
     */
    public DatagramEndpoint openSocket(InetSocketAddress bindAddress) throws IOException {
        Objects.requireNonNull(bindAddress, "bindAddress");
        checkOwner("openSocket");
        if (closed) {
            throw new IllegalStateException("event loop " + threadName + " is closed");
        }
        return sockets.open(bindAddress);
    }

    /**
     * Closes a socket {@link #openSocket} opened, before the loop closes: it receives nothing more, and sending
     * on it fails (counted as a send error). Idempotent. Call it on the loop thread, not from inside that
     * socket's own receiver (schedule it for the next turn instead).
     *
     * @throws IllegalArgumentException for the loop's primary socket or a socket of another loop
     */
    public void closeSocket(DatagramEndpoint socket) {
        Objects.requireNonNull(socket, "socket");
        checkOwner("closeSocket");
        sockets.close(socket);
    }

    @Override
    public Clock clock() {
        return clock;
    }

    /** The loop's timers; schedule and cancel only on the loop thread. */
    @Override
    public TimerService timers() {
        return timers;
    }

    @Override
    public ByteBufAllocator allocator() {
        return Buffers.ALLOCATOR;
    }

    // ------------------------------------------------------------------ cross-thread API

    /**
     * Runs {@code task} on the loop thread, after the tasks submitted before it by the same thread.
     * From another thread, waits while the queue is full (see the class comment).
     *
     * @throws RejectedExecutionException if the loop is closed, the queue stayed full for the whole
     *     {@code taskQueueTimeout}, the caller is the loop thread and the queue is full, or the caller
     *     was interrupted while waiting. A task passed concurrently with {@link #close()} may be dropped.
     */
    public void execute(Runnable task) {
        tasks.execute(task, inEventLoop());
    }

    /**
     * Runs {@code task} on the loop thread and completes the returned future with its result or
     * exception. Rejected exactly as {@link #execute} is. Never wait for the future on the loop thread:
     * the task cannot run until the current one returns.
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        return tasks.submit(task, inEventLoop());
    }

    /** Whether the calling thread is this loop's thread. */
    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    /** A snapshot of the counters; any thread, never disturbs the loop (see {@link EventLoopStats}). */
    public EventLoopStats stats() {
        return new EventLoopStats(
            counters.get(LoopCounters.DATAGRAMS_RECEIVED),
            counters.get(LoopCounters.BYTES_RECEIVED),
            counters.get(LoopCounters.DATAGRAMS_SENT),
            counters.get(LoopCounters.BYTES_SENT),
            counters.get(LoopCounters.SEND_DROPS_BUFFER_FULL),
            counters.get(LoopCounters.SEND_DROPS_OVERSIZE),
            counters.get(LoopCounters.SEND_ERRORS),
            counters.get(LoopCounters.RECEIVE_DROPS_OVERSIZE),
            counters.get(LoopCounters.RECEIVE_DROPS_NO_RECEIVER),
            counters.get(LoopCounters.RECEIVE_ERRORS),
            counters.get(LoopCounters.RECEIVER_EXCEPTIONS),
            counters.get(LoopCounters.TASK_EXCEPTIONS),
            counters.get(LoopCounters.TIMER_EXCEPTIONS),
            counters.get(LoopCounters.TASKS_RUN),
            counters.get(LoopCounters.TIMERS_FIRED),
            counters.get(LoopCounters.WAKE_UPS),
            tasks.waits(),
            tasks.rejections());
    }

    /** The receive buffer size the OS granted, in bytes. */
    public int receiveBufferBytes() {
        return sockets.grantedReceiveBufferBytes();
    }

    /** The send buffer size the OS granted, in bytes. */
    public int sendBufferBytes() {
        return sockets.grantedSendBufferBytes();
    }

    /** The largest datagram this loop sends or receives, in bytes. */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    /** The bound of the task queue (the configured capacity rounded up to a power of two). */
    public int taskQueueCapacity() {
        return tasks.capacity();
    }

    /** The name of the loop thread. */
    public String threadName() {
        return threadName;
    }

    /** Whether {@link #close()} was called or the loop ended. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Stops the loop and releases the socket, the selector, queued tasks (the futures of submitted ones
     * complete with {@link RejectedExecutionException}), pending timers and buffers. Idempotent and safe
     * from any thread. From another thread it returns once everything is released (or when the caller
     * is interrupted; the loop then finishes releasing on its own); from the loop thread it returns at
     * once and the loop releases everything when the current callback returns.
     */
    @Override
    public void close() {
        final Thread loopThread;
        synchronized (lifecycleLock) {
            closed = true;
            loopThread = thread;
        }
        if (loopThread == null) {
            releaseResources();
            return;
        }
        sockets.wakeUp();
        if (loopThread == Thread.currentThread()) {
            return;
        }
        try {
            loopThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ the loop

    private void run() {
        try {
            while (!closed) {
                counters.increment(LoopCounters.WAKE_UPS);
                tasks.drain(runTask);
                counters.add(LoopCounters.TIMERS_FIRED, timers.poll(clock.nanoTime()));
                final boolean mayHaveMoreDatagrams = sockets.receive();
                if (!mayHaveMoreDatagrams && !closed) {
                    sleepUntilWork();
                }
            }
        } catch (Throwable e) {
            LOG.error("event loop {} ended by an unexpected failure; closing it", threadName, e);
        } finally {
            closed = true;
            releaseResources();
        }
    }

    /**
     * Sleeps until the earliest timer, socket readiness or a wake-up. The loop announces its sleep to the
     * task queue before it checks the queue for the last time, so that a task offered meanwhile wakes it
     * (see {@link TaskQueue}).
     */
    private void sleepUntilWork() throws IOException {
        final long deadlineNs = timers.nextDeadlineNs();
        try {
            if (!tasks.announceSleep() || closed) {
                return;
            }
            if (deadlineNs == Long.MAX_VALUE) {
                sockets.select();
                return;
            }
            final long delayNs = saturatedDelay(deadlineNs, clock.nanoTime());
            if (delayNs <= 0) {
                sockets.selectNow();
            } else {
                // Round up: waking a fraction of a millisecond early would only cost another turn.
                sockets.select(delayNs / 1_000_000 + (delayNs % 1_000_000 == 0 ? 0 : 1));
            }
        } finally {
            tasks.awake();
        }
    }

    private void runTask(Runnable task) {
        if (closed) {
            tasks.reject(task); // close() was called by an earlier task of this batch or by another thread
            return;
        }
        counters.increment(LoopCounters.TASKS_RUN);
        try {
            task.run();
        } catch (RuntimeException e) {
            counters.increment(LoopCounters.TASK_EXCEPTIONS);
            failureLog.warn("task on event loop " + threadName + " threw", e, clock.nanoTime());
        }
    }

    private void onTimerFailure(RuntimeException e) {
        counters.increment(LoopCounters.TIMER_EXCEPTIONS);
        failureLog.warn("timer handler on event loop " + threadName + " threw", e, clock.nanoTime());
    }

    /** Throws unless the caller is the loop thread, or the loop has not started. */
    void checkOwner(String operation) {
        final Thread owner = thread;
        if (owner != null && owner != Thread.currentThread()) {
            throw new IllegalStateException(operation + "() must be called on the event loop thread " + threadName
                + " (or before start()); from other threads use execute()");
        }
    }

    private void releaseResources() {
        synchronized (lifecycleLock) {
            if (resourcesReleased) {
                return;
            }
            resourcesReleased = true;
        }
        tasks.rejectAll();
        timers.clear();
        sockets.release();
    }

    private static long saturatedDelay(long deadlineNs, long nowNs) {
        final long delayNs = deadlineNs - nowNs;
        if (((deadlineNs ^ nowNs) & (deadlineNs ^ delayNs)) < 0) {
            return deadlineNs < nowNs ? -1 : Long.MAX_VALUE;
        }
        return delayNs;
    }

    /** Configures and builds a {@link UdpEventLoop}; the socket is bound by {@link #build()}. */
    public static final class Builder {
        private InetSocketAddress bindAddress = new InetSocketAddress(0);
        private int taskQueueCapacity = DEFAULT_TASK_QUEUE_CAPACITY;
        private Duration taskQueueTimeout = DEFAULT_TASK_QUEUE_TIMEOUT;
        private int receiveBufferBytes = DEFAULT_SOCKET_BUFFER_BYTES;
        private int sendBufferBytes = DEFAULT_SOCKET_BUFFER_BYTES;
        private int maxDatagramSize = DEFAULT_MAX_DATAGRAM_SIZE;
        private int receiveBatchSize = DEFAULT_RECEIVE_BATCH_SIZE;
        private String threadName;
        private boolean daemon;

        private Builder() {
        }

        /** The local address and port to bind; port 0 picks an ephemeral port. Default: wildcard, port 0. */
        public Builder bind(InetSocketAddress address) {
            this.bindAddress = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Bound of the cross-thread task queue, rounded up to a power of two. Default 1024. */
        public Builder taskQueueCapacity(int tasks) {
            this.taskQueueCapacity = requireRange("taskQueueCapacity", tasks, 2, 1 << 24);
            return this;
        }

        /** How long execute() on another thread waits for space in a full queue. Default 5 s. */
        public Builder taskQueueTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("taskQueueTimeout must not be negative: " + timeout);
            }
            this.taskQueueTimeout = timeout;
            return this;
        }

        /** SO_RCVBUF to ask the OS for, in bytes. Default 4 MiB. */
        public Builder receiveBufferBytes(int bytes) {
            this.receiveBufferBytes = requireRange("receiveBufferBytes", bytes, 1, Integer.MAX_VALUE);
            return this;
        }

        /** SO_SNDBUF to ask the OS for, in bytes. Default 4 MiB. */
        public Builder sendBufferBytes(int bytes) {
            this.sendBufferBytes = requireRange("sendBufferBytes", bytes, 1, Integer.MAX_VALUE);
            return this;
        }

        /**
         * The largest datagram sent or received, in bytes, at most {@value UdpEventLoop#MAX_UDP_PAYLOAD}.
         * Default 2048.
         */
        public Builder maxDatagramSize(int bytes) {
            this.maxDatagramSize = requireRange("maxDatagramSize", bytes, 1, MAX_UDP_PAYLOAD);
            return this;
        }

        /** Datagrams read per turn before tasks and timers run again. Default 64. */
        public Builder receiveBatchSize(int datagrams) {
            this.receiveBatchSize = requireRange("receiveBatchSize", datagrams, 1, 1 << 16);
            return this;
        }

        /** Name of the loop thread. Default {@code pinhole-udp-<local port>}. */
        public Builder threadName(String name) {
            this.threadName = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Whether the loop thread is a daemon thread (does not keep the JVM alive). Default false. */
        public Builder daemon(boolean daemon) {
            this.daemon = daemon;
            return this;
        }

        /**
         * Binds the socket and builds the loop; {@link UdpEventLoop#start()} starts its thread.
         *
         * @throws IOException if the socket cannot be opened or bound
         * @throws IllegalStateException if the JVM lacks the flag Agrona's queue needs
         *     (see {@link Platform#requireAgronaAccess()})
         */
        public UdpEventLoop build() throws IOException {
            return new UdpEventLoop(this);
        }

        private static int requireRange(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + "]: " + value);
            }
            return value;
        }
    }
}
