package dev.pinhole.reliability;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.net.LoopCalls;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.TransportEndpoint;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reliable connections over one UDP socket: opens connections to known addresses and accepts
 * connections from peers. Thread-safe; blocking calls have timeouts from the {@link TransportConfig}.
 *
 * <pre>{@code
 * // Server
 * try (ReliableTransport server = ReliableTransport.bind(new InetSocketAddress(4433), TransportConfig.DEFAULT)) {
 *     ReliableConnection c = server.accept(Duration.ofMinutes(1));
 *     c.inputStream().transferTo(System.out);
 * }
 * // Client
 * try (ReliableTransport client = ReliableTransport.bind(new InetSocketAddress(0), TransportConfig.DEFAULT);
 *      ReliableConnection c = client.connect(new InetSocketAddress("203.0.113.7", 4433))) {
 *     c.outputStream().write("hello".getBytes(StandardCharsets.UTF_8));
 * }
 * }</pre>
 *
 * <p>All protocol work happens on one event-loop thread ({@link UdpEventLoop}); application threads
 * only copy bytes into and out of bounded buffers. To share a socket with hole punching, create the
 * transport {@link #on(DatagramEndpoint, Executor, TransportConfig) on} an existing endpoint and route
 * Pinhole packets (first byte 128..191) to {@link #datagramReceiver()}.
 */
public final class ReliableTransport implements Closeable {
    /** Extra wall-clock time a blocking call waits beyond the protocol's own timeout for the loop to answer. */
    private static final long LOOP_GRACE_MS = 2_000;
    /** How long a setup call (install, open, listen) waits for the loop to run it. */
    private static final long LOOP_ANSWER_NS = TimeUnit.MILLISECONDS.toNanos(LOOP_GRACE_MS * 5);

    private final Executor loop;
    private final UdpEventLoop ownedLoop;
    private final TransportEndpoint endpoint;
    private final TransportConfig config;
    private final BlockingQueue<ReliableConnection> acceptQueue;
    private volatile boolean listening;
    private volatile boolean closed;

    private ReliableTransport(Executor loop, UdpEventLoop ownedLoop, TransportEndpoint endpoint, TransportConfig config) {
        this.loop = loop;
        this.ownedLoop = ownedLoop;
        this.endpoint = endpoint;
        this.config = config;
        this.acceptQueue = new ArrayBlockingQueue<>(config.acceptBacklog());
    }

    /**
     * Binds a new UDP socket at {@code local} (port 0 for any) with its own event-loop thread, which
     * {@link #close()} stops.
     *
     * @throws java.net.BindException if the address is in use
     */
    public static ReliableTransport bind(InetSocketAddress local, TransportConfig config) throws IOException {
        return bind(local, config, null);
    }

    /**
     * {@link #bind(InetSocketAddress, TransportConfig)} with {@code identity}'s static key for every handshake
     * (null: an ephemeral key, new for this transport): peers that pinned its {@link Identity#id()} connect.
     */
    public static ReliableTransport bind(InetSocketAddress local, TransportConfig config, Identity identity)
            throws IOException {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(config, "config");
        UdpEventLoop loop = UdpEventLoop.builder()
                .bind(local)
                .maxDatagramSize(Math.max(config.maxDatagramSize(), UdpEventLoop.DEFAULT_MAX_DATAGRAM_SIZE))
                .daemon(true)
                .build();
        try {
            TransportEndpoint endpoint = TransportEndpoint.attach(loop, config, new SecureRandom(), identity);
            ReliableTransport transport = new ReliableTransport(loop::execute, loop, endpoint, config);
            loop.start();
            return transport;
        } catch (RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    /**
     * A transport on a running (started) {@link UdpEventLoop} someone else owns, installed as the loop's
     * only receiver. {@link #close()} leaves the loop running.
     */
    public static ReliableTransport on(UdpEventLoop loop, TransportConfig config) throws IOException {
        return on(loop, config, null);
    }

    /** {@link #on(UdpEventLoop, TransportConfig)} with {@code identity} (null: an ephemeral one). */
    public static ReliableTransport on(UdpEventLoop loop, TransportConfig config, Identity identity)
            throws IOException {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(config, "config");
        TransportEndpoint endpoint = TransportEndpoint.create(loop, config, new SecureRandom(), identity);
        ReliableTransport transport = new ReliableTransport(loop::execute, null, endpoint, config);
        LoopCalls.await(LoopCalls.call(loop::execute, () -> {
            loop.receiver(endpoint);
            return null;
        }), LOOP_ANSWER_NS, new Waiting("install the transport on " + loop.localAddress()));
        return transport;
    }

    /**
     * A transport on an endpoint whose event loop runs tasks given to {@code loopExecutor}; it is not
     * installed as a receiver: route the endpoint's Pinhole packets (first byte 128..191, e.g. with core's
     * {@code DatagramDemultiplexer} and {@code PacketKind.TRANSPORT}) to {@link #datagramReceiver()}.
     */
    public static ReliableTransport on(DatagramEndpoint endpoint, Executor loopExecutor, TransportConfig config) {
        return on(endpoint, loopExecutor, config, null);
    }

    /** {@link #on(DatagramEndpoint, Executor, TransportConfig)} with {@code identity} (null: an ephemeral one). */
    public static ReliableTransport on(DatagramEndpoint endpoint, Executor loopExecutor, TransportConfig config,
                                       Identity identity) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(loopExecutor, "loopExecutor");
        Objects.requireNonNull(config, "config");
        return new ReliableTransport(loopExecutor, null,
                TransportEndpoint.create(endpoint, config, new SecureRandom(), identity), config);
    }

    /** The identity this transport's handshakes prove; peers pin its {@link Identity#id()}. */
    public Identity identity() {
        return endpoint.identity();
    }

    /** Where the endpoint's Pinhole packets must go when this transport shares a socket. */
    public DatagramReceiver datagramReceiver() {
        return endpoint;
    }

    public InetSocketAddress localAddress() {
        return endpoint.datagramEndpoint().localAddress();
    }

    public TransportConfig config() {
        return config;
    }

    /**
     * Opens a connection to {@code remote} and waits for the handshake (one round trip; at most
     * {@link TransportConfig#handshakeTimeout()}). Any peer key is accepted (Noise XX): the connection is
     * encrypted and its {@link ReliableConnection#peerId()} says whom it reached; check it, or use
     * {@link #connect(InetSocketAddress, String)} with the id you expect.
     *
     * @throws HandshakeFailedException if no Pinhole endpoint answered in time, or it refused
     */
    public ReliableConnection connect(InetSocketAddress remote) throws IOException {
        return connect(remote, (byte[]) null);
    }

    /**
     * Opens a connection to {@code remote} that succeeds only if the peer holds the key of node id
     * {@code peerId} (Noise IK): a peer with another key cannot complete the handshake, and the call fails
     * with {@link HandshakeFailedException} as if nothing answered.
     *
     * @throws IllegalArgumentException if {@code peerId} is not a node id
     */
    public ReliableConnection connect(InetSocketAddress remote, String peerId) throws IOException {
        return connect(remote, Identity.parseId(Objects.requireNonNull(peerId, "peerId")));
    }

    private ReliableConnection connect(InetSocketAddress remote, byte[] peerKey) throws IOException {
        Objects.requireNonNull(remote, "remote");
        checkOpen();
        BlockingStreams bridge = newBridge(remote);
        ReliableConnection connection = new ReliableConnection(bridge, localAddress(), config);
        LoopCalls.await(LoopCalls.call(loop, () -> {
            bridge.attach(endpoint.connect(remote, bridge, peerKey));
            return null;
        }), LOOP_ANSWER_NS, new Waiting("open a connection to " + remote));
        try {
            bridge.established.get(config.handshakeTimeout().toMillis() + LOOP_GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            bridge.requestAbort(0);
            throw new InterruptedIOException("interrupted while connecting to " + remote);
        } catch (ExecutionException e) {
            throw asIOException(e.getCause(), remote);
        } catch (TimeoutException e) {
            bridge.requestAbort(0);
            throw new HandshakeFailedException("the event loop did not complete the handshake with " + remote
                    + " in time", remote);
        }
        return connection;
    }

    /**
     * Waits up to {@code timeout} for a peer to open a connection. The first call starts accepting;
     * until then, INITIALs are not answered.
     *
     * @throws SocketTimeoutException if none arrived in time
     */
    public ReliableConnection accept(Duration timeout) throws IOException {
        checkOpen();
        startListening();
        try {
            ReliableConnection accepted = acceptQueue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (accepted == null) {
                checkOpen();
                throw new SocketTimeoutException("no connection to " + localAddress() + " within " + timeout);
            }
            return accepted;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while accepting on " + localAddress());
        }
    }

    /** Starts answering handshakes so that {@link #accept} finds connections waiting (up to the backlog). */
    public void listen() throws IOException {
        checkOpen();
        startListening();
    }

    private void startListening() throws IOException {
        if (listening) {
            return;
        }
        listening = true;
        LoopCalls.await(LoopCalls.call(loop, () -> {
            endpoint.listen(this::onAccept);
            return null;
        }), LOOP_ANSWER_NS, new Waiting("start accepting on " + localAddress()));
    }

    /** Loop thread: a peer opened a connection. */
    private BlockingStreams onAccept(Connection connection) {
        if (closed || acceptQueue.remainingCapacity() == 0) {
            return null;
        }
        BlockingStreams bridge = newBridge(connection.remoteAddress());
        bridge.attach(connection);
        ReliableConnection accepted = new ReliableConnection(bridge, localAddress(), config);
        acceptQueue.offer(accepted);
        return bridge;
    }

    private BlockingStreams newBridge(InetSocketAddress remote) {
        return new BlockingStreams(loop, endpoint::wake, endpoint.datagramEndpoint().clock()::nanoTime, remote);
    }

    /**
     * How a setup call that waited for the loop fails: with an {@link IOException} saying what could not be
     * done and why.
     *
     * @param what the call, as in "could not {@code what}"
     */
    private record Waiting(String what) implements LoopCalls.Failures {
        @Override
        public InterruptedIOException interrupted() {
            return new InterruptedIOException("interrupted while waiting to " + what);
        }

        @Override
        public IOException timedOut(long timeoutNs, TimeoutException timeout) {
            return new IOException("could not " + what + ": the event loop did not answer within "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms");
        }

        @Override
        public IOException failed(Throwable cause) {
            return new IOException("could not " + what + ": " + cause, cause);
        }
    }

    private static IOException asIOException(Throwable cause, InetSocketAddress remote) {
        if (cause instanceof IOException io) {
            return io;
        }
        return new IOException("connection to " + remote + " failed: " + cause, cause);
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("transport on " + localAddress() + " is closed");
        }
    }

    /**
     * Closes the transport: open connections are aborted (their peers see the connection end), waiting
     * accepts fail, and the event loop stops if this transport created it. Close connections first to
     * deliver their data.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            LoopCalls.call(loop, () -> {
                endpoint.close();
                return null;
            }).get(LOOP_GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // The loop is gone or stuck; closing it below is all that is left.
        } finally {
            acceptQueue.clear();
            if (ownedLoop != null) {
                ownedLoop.close();
            }
        }
    }

    @Override
    public String toString() {
        return "ReliableTransport{" + localAddress() + (closed ? ", closed" : "") + "}";
    }
}
