package dev.pinhole.core.net;

import dev.pinhole.core.Platform;
import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.core.time.WheelTimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real driver of a node: one non-blocking UDP socket (servers may add more with {@link #openSocket})
 * and one event-loop thread that owns every piece
 * of protocol state of the node (DESIGN.md principles 2 and 3).
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
    private static final int SPINS_BEFORE_PARKING = 64;
    private static final long MIN_PARK_NS = TimeUnit.MICROSECONDS.toNanos(10);
    private static final long MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final Socket primary;
    /** The primary socket first, then those {@link #openSocket} added; replaced, never mutated. */
    private volatile Socket[] sockets;
    private final Selector selector;
    private final InetSocketAddress localAddress;
    private final int grantedReceiveBufferBytes;
    private final int grantedSendBufferBytes;
    private final int maxDatagramSize;
    private final int receiveBatchSize;
    private final long taskQueueTimeoutNs;
    private final String threadName;
    private final boolean daemon;
    private final ManyToOneConcurrentArrayQueue<Runnable> tasks;
    private final Clock clock = Clock.SYSTEM;
    private final WheelTimerService timers;
    private final LoopCounters counters = new LoopCounters();
    private final AtomicLong executeWaits = new AtomicLong();
    private final AtomicLong executeRejections = new AtomicLong();
    private final RateLimitedLog failureLog = new RateLimitedLog(LOG, TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS));
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final Consumer<Runnable> runTask = this::runTask;
    private final Consumer<SelectionKey> ignoreReadyKey = key -> { };
    private final Object lifecycleLock = new Object();

    private volatile Thread thread;
    private volatile boolean closed;
    /** Guarded by lifecycleLock. */
    private boolean resourcesReleased;

    /** Loop thread only (or the building thread before start). */
    /** A read buffer left over from a read that found no datagram; loop thread only. */
    private ByteBuf spareReadBuffer;
    private final int requestedReceiveBufferBytes;
    private final int requestedSendBufferBytes;

    private UdpEventLoop(Builder builder) throws IOException {
        Platform.requireAgronaAccess();
        this.maxDatagramSize = builder.maxDatagramSize;
        this.receiveBatchSize = builder.receiveBatchSize;
        this.taskQueueTimeoutNs = builder.taskQueueTimeout.toNanos();
        this.daemon = builder.daemon;
        this.tasks = new ManyToOneConcurrentArrayQueue<>(builder.taskQueueCapacity);
        this.timers = new WheelTimerService(clock.nanoTime(), this::onTimerFailure);

        this.requestedReceiveBufferBytes = builder.receiveBufferBytes;
        this.requestedSendBufferBytes = builder.sendBufferBytes;
        this.selector = Selector.open();
        final DatagramChannel openedChannel;
        try {
            openedChannel = openChannel(builder.bindAddress, selector, builder.receiveBufferBytes,
                builder.sendBufferBytes);
            this.localAddress = (InetSocketAddress) openedChannel.getLocalAddress();
            this.grantedReceiveBufferBytes = openedChannel.getOption(StandardSocketOptions.SO_RCVBUF);
            this.grantedSendBufferBytes = openedChannel.getOption(StandardSocketOptions.SO_SNDBUF);
        } catch (IOException | RuntimeException e) {
            closeQuietly(selector);
            throw e;
        }
        this.primary = new Socket(openedChannel, localAddress);
        this.sockets = new Socket[] {primary};
        this.threadName = builder.threadName != null ? builder.threadName : "pinhole-udp-" + localAddress.getPort();
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
     * that dies at the next router (LAB.md; {@link UnicastTtl}). Loop thread only; {@link #send} is
     * synchronous, so the TTL applies to exactly the datagrams sent in between.
     *
     * @throws IllegalStateException if the JVM lacks {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
     */
    public void unicastTtl(int ttl) throws IOException {
        checkOwner("unicastTtl");
        UnicastTtl.set(primary.channel, ttl);
    }

    /** Returns the primary socket to the system's default TTL. Loop thread only. */
    public void restoreUnicastTtl() throws IOException {
        checkOwner("restoreUnicastTtl");
        UnicastTtl.reset(primary.channel);
    }

    /**
     * As {@link #unicastTtl(int)}, for a socket {@link #openSocket} opened (birthday probing primes its
     * extra sockets' mappings the same way).
     */
    public void unicastTtl(DatagramEndpoint socket, int ttl) throws IOException {
        checkOwner("unicastTtl");
        UnicastTtl.set(ownSocket(socket).channel, ttl);
    }

    /** Returns a socket {@link #openSocket} opened to the system's default TTL. Loop thread only. */
    public void restoreUnicastTtl(DatagramEndpoint socket) throws IOException {
        checkOwner("restoreUnicastTtl");
        UnicastTtl.reset(ownSocket(socket).channel);
    }

    private Socket ownSocket(DatagramEndpoint socket) {
        for (Socket s : sockets) {
            if (s == socket) {
                return s;
            }
        }
        throw new IllegalArgumentException(socket + " is not an open socket of this loop");
    }

    /**
     * Opens one more UDP socket served by this loop's thread, with the same clock, timers, buffer sizes
     * and datagram limit. For servers that must answer from several addresses on one thread, such as an
     * RFC 5780 STUN server (two IPs times two ports, RFC 5780 §6); a peer node keeps to one socket
     * (DESIGN.md principle 2), except for the short-lived sockets of birthday probing. The socket closes
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
        final DatagramChannel opened = openChannel(bindAddress, selector, requestedReceiveBufferBytes,
            requestedSendBufferBytes);
        final Socket socket = new Socket(opened, (InetSocketAddress) opened.getLocalAddress());
        final Socket[] current = sockets;
        final Socket[] grown = java.util.Arrays.copyOf(current, current.length + 1);
        grown[current.length] = socket;
        sockets = grown;
        return socket;
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
        final Socket[] current = sockets;
        int index = -1;
        for (int i = 1; i < current.length; i++) {
            if (current[i] == socket) {
                index = i;
            }
        }
        if (index < 0) {
            if (socket == this || socket == primary) {
                throw new IllegalArgumentException("the primary socket closes with the loop, not with closeSocket");
            }
            if (socket instanceof Socket s && s.socketClosed) {
                return;
            }
            throw new IllegalArgumentException(socket + " was not opened by this loop's openSocket");
        }
        final Socket closing = current[index];
        final Socket[] shrunk = new Socket[current.length - 1];
        System.arraycopy(current, 0, shrunk, 0, index);
        System.arraycopy(current, index + 1, shrunk, index, current.length - index - 1);
        sockets = shrunk;
        closing.socketClosed = true;
        // Closing a registered channel only cancels its key; the port is released when the selector next
        // deregisters it, so select at once (ready keys are ignored, as in every select of this loop).
        closeQuietly(closing.channel);
        try {
            selector.selectNow(ignoreReadyKey);
        } catch (IOException e) {
            failureLog.warn("select after closing " + closing.localAddress + " failed", e, clock.nanoTime());
        }
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
        Objects.requireNonNull(task, "task");
        if (closed) {
            throw new RejectedExecutionException("event loop " + threadName + " is closed");
        }
        if (tasks.offer(task)) {
            wakeUpIfSleeping();
            return;
        }
        if (inEventLoop()) {
            executeRejections.incrementAndGet();
            throw new RejectedExecutionException("task queue of event loop " + threadName + " is full ("
                + tasks.capacity() + " tasks) and the caller is the event loop itself, which cannot wait "
                + "for its own queue to drain");
        }
        executeWaits.incrementAndGet();
        awaitSpaceAndOffer(task);
    }

    /**
     * Runs {@code task} on the loop thread and completes the returned future with its result or
     * exception. Rejected exactly as {@link #execute} is. Never wait for the future on the loop thread:
     * the task cannot run until the current one returns.
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        final CompletableFuture<T> future = new CompletableFuture<>();
        execute(new SubmittedTask<>(Objects.requireNonNull(task, "task"), future));
        if (closed) {
            // The loop may have drained the queue before this task arrived; never leave the caller waiting.
            future.completeExceptionally(new RejectedExecutionException("event loop " + threadName + " closed"));
        }
        return future;
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
            executeWaits.get(),
            executeRejections.get());
    }

    /** The receive buffer size the OS granted, in bytes. */
    public int receiveBufferBytes() {
        return grantedReceiveBufferBytes;
    }

    /** The send buffer size the OS granted, in bytes. */
    public int sendBufferBytes() {
        return grantedSendBufferBytes;
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
        selector.wakeup();
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
                tasks.drain(runTask, tasks.capacity());
                counters.add(LoopCounters.TIMERS_FIRED, timers.poll(clock.nanoTime()));
                boolean mayHaveMoreDatagrams = false;
                for (Socket socket : sockets) {
                    mayHaveMoreDatagrams |= socket.receiveBatch();
                }
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
     * Sleeps until the earliest timer, socket readiness or a wake-up. The flag {@code sleeping} is set
     * before the queue is checked for the last time and read by producers after they offered a task, so
     * that either the loop sees the task or the producer sees the flag and wakes the selector.
     */
    private void sleepUntilWork() throws IOException {
        final long deadlineNs = timers.nextDeadlineNs();
        sleeping.set(true);
        try {
            if (!tasks.isEmpty() || closed) {
                return;
            }
            if (deadlineNs == Long.MAX_VALUE) {
                selector.select(ignoreReadyKey);
                return;
            }
            final long delayNs = saturatedDelay(deadlineNs, clock.nanoTime());
            if (delayNs <= 0) {
                selector.selectNow(ignoreReadyKey);
            } else {
                // Round up: waking a fraction of a millisecond early would only cost another turn.
                selector.select(ignoreReadyKey, delayNs / 1_000_000 + (delayNs % 1_000_000 == 0 ? 0 : 1));
            }
        } finally {
            sleeping.lazySet(false);
        }
    }

    private void runTask(Runnable task) {
        if (closed) {
            rejectQueued(task); // close() was called by an earlier task of this batch or by another thread
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

    private void rejectQueued(Runnable task) {
        if (task instanceof SubmittedTask) {
            ((SubmittedTask<?>) task).reject(threadName);
        }
    }

    private void onTimerFailure(RuntimeException e) {
        counters.increment(LoopCounters.TIMER_EXCEPTIONS);
        failureLog.warn("timer handler on event loop " + threadName + " threw", e, clock.nanoTime());
    }

    private void wakeUpIfSleeping() {
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            selector.wakeup();
        }
    }

    private void awaitSpaceAndOffer(Runnable task) {
        final long startNs = System.nanoTime();
        long parkNs = MIN_PARK_NS;
        int spins = 0;
        while (true) {
            wakeUpIfSleeping();
            final long waitedNs = System.nanoTime() - startNs;
            if (waitedNs >= taskQueueTimeoutNs) {
                executeRejections.incrementAndGet();
                throw new RejectedExecutionException("task queue of event loop " + threadName + " stayed full ("
                    + tasks.capacity() + " tasks) for " + TimeUnit.NANOSECONDS.toMillis(taskQueueTimeoutNs)
                    + " ms: the loop is blocked or cannot keep up; tasks must not block the loop, or raise "
                    + "taskQueueCapacity or taskQueueTimeout");
            }
            if (spins < SPINS_BEFORE_PARKING) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, Math.min(parkNs, taskQueueTimeoutNs - waitedNs));
                parkNs = Math.min(parkNs * 2, MAX_PARK_NS);
            }
            if (closed) {
                throw new RejectedExecutionException(
                    "event loop " + threadName + " closed while waiting for queue space");
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new RejectedExecutionException("interrupted while waiting for space in the task queue of "
                    + "event loop " + threadName);
            }
            if (tasks.offer(task)) {
                wakeUpIfSleeping();
                return;
            }
        }
    }

    private void checkOwner(String operation) {
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
        Runnable task;
        while ((task = tasks.poll()) != null) {
            rejectQueued(task);
        }
        timers.clear();
        if (spareReadBuffer != null) {
            spareReadBuffer.release();
            spareReadBuffer = null;
        }
        closeQuietly(selector);
        for (Socket socket : sockets) {
            closeQuietly(socket.channel);
        }
    }

    /** Opens, sizes, binds and registers a non-blocking channel; closes it again on any failure. */
    private static DatagramChannel openChannel(InetSocketAddress bindAddress, Selector selector,
                                               int receiveBufferBytes, int sendBufferBytes) throws IOException {
        final DatagramChannel channel;
        if (bindAddress.getAddress() instanceof Inet4Address) {
            channel = DatagramChannel.open(StandardProtocolFamily.INET);
        } else if (bindAddress.getAddress() instanceof Inet6Address && !bindAddress.getAddress().isAnyLocalAddress()) {
            channel = DatagramChannel.open(StandardProtocolFamily.INET6);
        } else {
            channel = DatagramChannel.open(); // wildcard: dual-stack where the OS offers it
        }
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
            channel.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
            try {
                channel.bind(bindAddress);
            } catch (BindException e) {
                final BindException withAddress = new BindException("cannot bind a UDP socket to " + bindAddress
                    + ": " + e.getMessage() + " (is another process using the port?)");
                withAddress.initCause(e);
                throw withAddress;
            }
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            return channel;
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static long saturatedDelay(long deadlineNs, long nowNs) {
        final long delayNs = deadlineNs - nowNs;
        if (((deadlineNs ^ nowNs) & (deadlineNs ^ delayNs)) < 0) {
            return deadlineNs < nowNs ? -1 : Long.MAX_VALUE;
        }
        return delayNs;
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", closeable, e);
        }
    }

    /** One UDP socket of this loop: the primary one, or one {@link #openSocket} added. */
    private final class Socket implements DatagramEndpoint {
        private final DatagramChannel channel;
        private final InetSocketAddress localAddress;
        private DatagramReceiver receiver;
        /** Closed by {@link #closeSocket} before the loop. */
        private boolean socketClosed;

        Socket(DatagramChannel channel, InetSocketAddress localAddress) {
            this.channel = channel;
            this.localAddress = localAddress;
        }

        @Override
        public InetSocketAddress localAddress() {
            return localAddress;
        }

        @Override
        public boolean send(ByteBuf datagram, InetSocketAddress destination) {
            Objects.requireNonNull(datagram, "datagram");
            try {
                checkOwner("send");
                Objects.requireNonNull(destination, "destination");
                final int length = datagram.readableBytes();
                if (length > maxDatagramSize) {
                    counters.increment(LoopCounters.SEND_DROPS_OVERSIZE);
                    return false;
                }
                if (closed || socketClosed) {
                    counters.increment(LoopCounters.SEND_ERRORS);
                    return false;
                }
                final ByteBuffer payload = datagram.nioBufferCount() == 1
                    ? datagram.internalNioBuffer(datagram.readerIndex(), length)
                    : datagram.nioBuffer();
                final int written;
                try {
                    written = channel.send(payload, destination);
                } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
                    counters.increment(LoopCounters.SEND_ERRORS);
                    failureLog.warn("UDP send from " + localAddress + " to " + destination + " failed", e,
                        clock.nanoTime());
                    return false;
                }
                if (written == 0) {
                    counters.increment(LoopCounters.SEND_DROPS_BUFFER_FULL);
                    return false;
                }
                counters.increment(LoopCounters.DATAGRAMS_SENT);
                counters.add(LoopCounters.BYTES_SENT, written);
                return true;
            } finally {
                datagram.release();
            }
        }

        @Override
        public void receiver(DatagramReceiver receiver) {
            checkOwner("receiver");
            this.receiver = receiver;
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public TimerService timers() {
            return timers;
        }

        @Override
        public ByteBufAllocator allocator() {
            return Buffers.ALLOCATOR;
        }

        /** Reads up to receiveBatchSize datagrams; returns true if the batch was full (more may wait). */
        private boolean receiveBatch() {
            final int capacity = maxDatagramSize + 1;
            for (int i = 0; i < receiveBatchSize; i++) {
                if (closed || socketClosed) {
                    return false; // a receiver closed the loop or this socket: deliver nothing more
                }
                final ByteBuf buffer = spareReadBuffer != null
                    ? spareReadBuffer : Buffers.ALLOCATOR.directBuffer(capacity, capacity);
                spareReadBuffer = null;
                final ByteBuffer target = buffer.internalNioBuffer(0, capacity);
                final int startPosition = target.position();
                final SocketAddress sender;
                try {
                    sender = channel.receive(target);
                } catch (IOException e) {
                    spareReadBuffer = buffer;
                    counters.increment(LoopCounters.RECEIVE_ERRORS);
                    failureLog.warn("UDP receive on " + localAddress + " failed", e, clock.nanoTime());
                    return false;
                }
                if (sender == null) {
                    spareReadBuffer = buffer;
                    return false;
                }
                final int length = target.position() - startPosition;
                if (length > maxDatagramSize) {
                    spareReadBuffer = buffer; // truncated by the OS to our capacity: larger than allowed
                    counters.increment(LoopCounters.RECEIVE_DROPS_OVERSIZE);
                    continue;
                }
                buffer.setIndex(0, length);
                counters.increment(LoopCounters.DATAGRAMS_RECEIVED);
                counters.add(LoopCounters.BYTES_RECEIVED, length);
                deliver(buffer, (InetSocketAddress) sender);
            }
            return true;
        }

        private void deliver(ByteBuf datagram, InetSocketAddress sender) {
            final DatagramReceiver current = receiver;
            try {
                if (current == null) {
                    counters.increment(LoopCounters.RECEIVE_DROPS_NO_RECEIVER);
                } else {
                    current.onDatagram(datagram, sender);
                }
            } catch (RuntimeException e) {
                counters.increment(LoopCounters.RECEIVER_EXCEPTIONS);
                failureLog.warn("datagram receiver on " + localAddress + " threw", e, clock.nanoTime());
            } finally {
                try {
                    datagram.release();
                } catch (IllegalReferenceCountException e) {
                    counters.increment(LoopCounters.RECEIVER_EXCEPTIONS);
                    failureLog.warn("datagram receiver on " + localAddress
                        + " released a buffer it was only lent", e, clock.nanoTime());
                }
            }
        }
    }

    /** A task from {@link #submit}: completes its future with the callable's outcome. */
    private static final class SubmittedTask<T> implements Runnable {
        private final Callable<T> callable;
        private final CompletableFuture<T> future;

        SubmittedTask(Callable<T> callable, CompletableFuture<T> future) {
            this.callable = callable;
            this.future = future;
        }

        @Override
        public void run() {
            if (future.isDone()) {
                return; // rejected by a concurrent close()
            }
            try {
                future.complete(callable.call());
            } catch (Exception e) {
                future.completeExceptionally(e);
            } catch (Error e) {
                future.completeExceptionally(e);
                throw e;
            }
        }

        void reject(String threadName) {
            future.completeExceptionally(
                new RejectedExecutionException("event loop " + threadName + " closed before the task ran"));
        }
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
