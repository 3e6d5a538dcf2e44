package dev.pinhole.reliability.connection;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.wire.AckRanges;
import dev.pinhole.reliability.wire.FrameReader;
import dev.pinhole.reliability.wire.FrameVisitor;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * All Pinhole transport connections on one {@link DatagramEndpoint}: routes packets to connections by
 * destination connection id, answers INITIALs statelessly with a cookie (creating no state), creates a
 * server connection when a SHORT packet carries a CONFIRM with a valid cookie, keeps one timer per
 * connection armed at its next deadline, and flushes connections after every input.
 *
 * <p>Install it as the endpoint's receiver ({@link #attach}) or, when the socket is shared with STUN
 * and TURN, as the {@code TRANSPORT} route of core's {@code DatagramDemultiplexer} ({@link #create} and
 * {@code demux.route(PacketKind.TRANSPORT, endpoint)}). Malformed, unknown and spoofed packets are
 * counted and dropped; no exception escapes {@link #onDatagram}.
 *
 * <p>Everything runs on the endpoint's event loop; nothing here is thread-safe.
 */
public final class TransportEndpoint implements DatagramReceiver {
    /** Decides about a connection a client opened: returns its handler, or null to refuse it. */
    @FunctionalInterface
    public interface Acceptor {
        ConnectionHandler onAccept(Connection connection);
    }

    /** Counters of what the endpoint dropped or answered; read on the event loop. */
    public static final class Counters {
        long malformed;
        long unknownConnection;
        long invalidCookie;
        long initialsAnswered;
        long initialsIgnored;
        long refused;
        long accepted;

        /** Datagrams that were not well-formed Pinhole packets. */
        public long malformed() {
            return malformed;
        }

        /** SHORT or HANDSHAKE packets for no known connection, without a CONFIRM. */
        public long unknownConnection() {
            return unknownConnection;
        }

        /** CONFIRM frames whose cookie was forged, expired or issued to another address. */
        public long invalidCookie() {
            return invalidCookie;
        }

        /** INITIALs answered with a HANDSHAKE (statelessly). */
        public long initialsAnswered() {
            return initialsAnswered;
        }

        /** INITIALs not answered: not listening, or smaller than 1200 bytes. */
        public long initialsIgnored() {
            return initialsIgnored;
        }

        /** Connections created from a valid CONFIRM and refused by the acceptor. */
        public long refused() {
            return refused;
        }

        /** Connections created from a valid CONFIRM and accepted. */
        public long accepted() {
            return accepted;
        }
    }

    private final DatagramEndpoint endpoint;
    private final PacketSink sink;
    private final TransportConfig config;
    private final RandomGenerator random;
    private final HandshakeCookies cookies;
    private final TransportParameters localParams;
    private final Long2ObjectHashMap<Entry> connections = new Long2ObjectHashMap<>();
    /** Connections that ended with unread data; released when read to the end, or on {@link #close()}. */
    private final List<Connection> unreleased = new ArrayList<>();
    private final PacketHeader header = new PacketHeader();
    private final FrameReader reader = new FrameReader();
    private final HandshakeScan scan = new HandshakeScan();
    private final byte[] cookie = new byte[Frames.COOKIE_LENGTH];
    private final Counters counters = new Counters();
    private Acceptor acceptor;
    private boolean closed;

    private TransportEndpoint(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random) {
        this.endpoint = endpoint;
        this.sink = PacketSink.of(endpoint);
        this.config = config;
        this.random = random;
        this.cookies = new HandshakeCookies(random);
        this.localParams = new TransportParameters(config.maxDatagramSize(), config.receiveWindow(),
                config.idleTimeout().toMillis(), config.maxAckDelay().toMillis());
    }

    /**
     * An endpoint over {@code endpoint} that is not yet installed as its receiver: route the transport's
     * datagrams (first byte 128..191) to it, e.g. from a {@code DatagramDemultiplexer}.
     *
     * @param random source of connection ids, cookie secret and path challenges: a {@code SecureRandom}
     *               in production, a seeded generator in simulations
     */
    public static TransportEndpoint create(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random) {
        return new TransportEndpoint(endpoint, config, random);
    }

    /** An endpoint installed as {@code endpoint}'s only receiver. */
    public static TransportEndpoint attach(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random) {
        TransportEndpoint transport = create(endpoint, config, random);
        endpoint.receiver(transport);
        return transport;
    }

    /** Accept connections from now on; {@code acceptor} decides about each. Null stops accepting. */
    public void listen(Acceptor acceptor) {
        this.acceptor = acceptor;
    }

    /** Opens a connection to {@code remote}; the handler hears {@code EVENT_ESTABLISHED} or {@code EVENT_CLOSED}. */
    public Connection connect(InetSocketAddress remote, ConnectionHandler handler) {
        if (closed) {
            throw new IllegalStateException("transport endpoint is closed");
        }
        long nowNs = endpoint.clock().nanoTime();
        Connection connection = Connection.client(config, nowNs, newConnectionId(), remote, random,
                endpoint.allocator());
        Entry entry = new Entry(connection, handler);
        connections.put(connection.localCid(), entry);
        service(entry, nowNs);
        return connection;
    }

    /**
     * Runs a connection after its owner called one of its application methods outside a handler
     * callback (on the event loop): flushes what became sendable and re-arms its timer.
     */
    public void wake(Connection connection) {
        Entry entry = connections.get(connection.localCid());
        if (entry != null && entry.connection == connection) {
            service(entry, endpoint.clock().nanoTime());
        } else if (connection.isTerminated()) {
            releaseIfDone(connection);
        }
    }

    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        if (closed) {
            return;
        }
        if (!PacketHeader.isValid(datagram)) {
            counters.malformed++;
            return;
        }
        long nowNs = endpoint.clock().nanoTime();
        header.wrap(datagram, datagram.readerIndex());
        int type = header.type();
        if (type == PacketHeader.TYPE_INITIAL) {
            answerInitial(nowNs, datagram, sender);
            return;
        }
        Entry entry = connections.get(header.destinationCid());
        if (entry != null) {
            long before = entry.connection.malformedPackets();
            entry.connection.onPacket(nowNs, datagram, sender);
            counters.malformed += entry.connection.malformedPackets() - before;
            service(entry, nowNs);
            return;
        }
        if (type == PacketHeader.TYPE_SHORT) {
            acceptConfirm(nowNs, datagram, sender);
        } else {
            counters.unknownConnection++;
        }
    }

    /** Replies HANDSHAKE{HELLO_REPLY} to a well-formed INITIAL, keeping nothing (protocol sketch step 2). */
    private void answerInitial(long nowNs, ByteBuf datagram, InetSocketAddress sender) {
        if (acceptor == null || datagram.readableBytes() < Connection.INITIAL_PADDED_SIZE) {
            // Not listening, or an INITIAL too small to pay for the reply (anti-amplification, RFC 9000 §8.1).
            counters.initialsIgnored++;
            return;
        }
        if (!scanPayload(nowNs, datagram, sender) || !scan.hello) {
            counters.malformed++;
            return;
        }
        long serverCid = newConnectionId();
        cookies.issue(nowNs, sender, scan.clientCid, serverCid, scan.params, cookie);
        ByteBuf reply = endpoint.allocator().ioBuffer(128);
        PacketHeader.write(reply, PacketHeader.TYPE_HANDSHAKE, scan.clientCid, header.truncatedPacketNumber());
        Frames.writeHelloReply(reply, serverCid, localParams, cookie);
        counters.initialsAnswered++;
        endpoint.send(reply, sender);
    }

    /** A SHORT packet for no known connection: create the server connection if it carries a valid CONFIRM. */
    private void acceptConfirm(long nowNs, ByteBuf datagram, InetSocketAddress sender) {
        long serverCid = header.destinationCid();
        if (!scanPayload(nowNs, datagram, sender)) {
            counters.malformed++;
            return;
        }
        if (!scan.confirm || acceptor == null) {
            counters.unknownConnection++;
            return;
        }
        if (!scan.cookieValid) {
            counters.invalidCookie++;
            return;
        }
        Connection connection = Connection.server(config, nowNs, serverCid, scan.clientCid, scan.params, sender,
                random, endpoint.allocator());
        Entry entry = new Entry(connection, null);
        connections.put(serverCid, entry);
        ConnectionHandler handler = acceptor.onAccept(connection);
        if (handler == null) {
            counters.refused++;
            connection.refuse(nowNs);
        } else {
            counters.accepted++;
            entry.handler = handler;
        }
        connection.onPacket(nowNs, datagram, sender);
        service(entry, nowNs);
    }

    private boolean scanPayload(long nowNs, ByteBuf datagram, InetSocketAddress sender) {
        scan.reset(nowNs, sender, header.destinationCid());
        int readerIndex = datagram.readerIndex();
        datagram.readerIndex(readerIndex + PacketHeader.HEADER_LENGTH);
        try {
            return reader.read(datagram, scan) == FrameReader.OK;
        } finally {
            datagram.readerIndex(readerIndex);
        }
    }

    /** Picks the HELLO or CONFIRM out of a packet for no connection; ignores every other frame. */
    private final class HandshakeScan implements FrameVisitor {
        boolean hello;
        boolean confirm;
        boolean cookieValid;
        long clientCid;
        TransportParameters params;
        private long nowNs;
        private InetSocketAddress sender;
        private long serverCid;

        void reset(long nowNs, InetSocketAddress sender, long serverCid) {
            hello = false;
            confirm = false;
            cookieValid = false;
            params = null;
            this.nowNs = nowNs;
            this.sender = sender;
            this.serverCid = serverCid;
        }

        @Override
        public void onHello(long cid, TransportParameters p) {
            hello = true;
            clientCid = cid;
            params = p;
        }

        @Override
        public void onConfirm(long cid, TransportParameters p, ByteBuf cookieBytes, long timeBucket) {
            if (confirm) {
                return;
            }
            confirm = true;
            clientCid = cid;
            params = p;
            cookieValid = cookies.verify(nowNs, cookieBytes, sender, cid, serverCid, p);
        }

        @Override public void onPadding(int n) { }
        @Override public void onPing() { }
        @Override public void onAck(long largest, long ackDelayMicros, AckRanges ranges) { }
        @Override public void onStream(long offset, ByteBuf data, boolean fin) { }
        @Override public void onMaxData(long maxData) { }
        @Override public void onDataBlocked(long limit) { }
        @Override public void onReset(long errorCode) { }
        @Override public void onConnectionClose(long errorCode, String reason) { }
        @Override public void onPathChallenge(long data) { }
        @Override public void onPathResponse(long data) { }
        @Override public void onHelloReply(long cid, TransportParameters p, ByteBuf cookieBytes) { }
    }

    /** Flushes {@code entry}'s connection, tells its handler of events, and re-arms or forgets it. */
    private void service(Entry entry, long nowNs) {
        Connection connection = entry.connection;
        // Events first, so that data the handler writes in answer rides in the packets flushed next.
        for (int round = 0; round < 4; round++) {
            int events = connection.pollEvents();
            if (events == 0) {
                break;
            }
            if (entry.handler != null) {
                entry.handler.onEvents(connection, events);
            }
        }
        connection.flush(nowNs, sink);
        int late = connection.pollEvents();
        if (late != 0 && entry.handler != null) {
            entry.handler.onEvents(connection, late);
            connection.flush(nowNs, sink);
        }
        if (connection.isTerminated()) {
            forget(entry);
            return;
        }
        long deadlineNs = connection.nextDeadlineNs();
        if (deadlineNs < entry.armedNs) {
            TimerService timers = endpoint.timers();
            if (entry.timerId != TimerService.NO_TIMER) {
                timers.cancel(entry.timerId);
            }
            entry.armedNs = deadlineNs;
            entry.timerId = timers.schedule(deadlineNs, entry);
        }
    }

    private void forget(Entry entry) {
        if (entry.timerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(entry.timerId);
            entry.timerId = TimerService.NO_TIMER;
        }
        Connection connection = entry.connection;
        if (connections.get(connection.localCid()) == entry) {
            connections.remove(connection.localCid());
        }
        if (!releaseIfDone(connection)) {
            unreleased.add(connection);
        }
    }

    /** Releases a terminated connection's buffers unless the application still has data to read. */
    private boolean releaseIfDone(Connection connection) {
        if (connection.releaseIfDone()) {
            unreleased.remove(connection);
            return true;
        }
        return false;
    }

    /** One connection with its handler and its timer. */
    private final class Entry implements TimerHandler {
        final Connection connection;
        ConnectionHandler handler;
        long timerId = TimerService.NO_TIMER;
        long armedNs = Connection.NO_DEADLINE;

        Entry(Connection connection, ConnectionHandler handler) {
            this.connection = connection;
            this.handler = handler;
        }

        @Override
        public void onTimer(long nowNs, long id) {
            if (id != timerId) {
                return;
            }
            timerId = TimerService.NO_TIMER;
            armedNs = Connection.NO_DEADLINE;
            connection.onTimeout(nowNs);
            service(this, nowNs);
        }
    }

    private long newConnectionId() {
        long cid;
        do {
            cid = random.nextLong();
        } while (cid == 0 || connections.containsKey(cid));
        return cid;
    }

    /** The number of connections that can still receive packets. */
    public int connectionCount() {
        return connections.size();
    }

    public Counters counters() {
        return counters;
    }

    public DatagramEndpoint datagramEndpoint() {
        return endpoint;
    }

    public TransportConfig config() {
        return config;
    }

    /**
     * Aborts every connection (the peers hear CONNECTION_CLOSE), cancels all timers and releases every
     * buffer. The endpoint ignores datagrams afterwards.
     */
    public void close() {
        if (closed) {
            return;
        }
        long nowNs = endpoint.clock().nanoTime();
        List<Entry> entries = new ArrayList<>(connections.values());
        for (Entry entry : entries) {
            entry.connection.shutdown(nowNs, sink);
            int events = entry.connection.pollEvents();
            if (events != 0 && entry.handler != null) {
                entry.handler.onEvents(entry.connection, events);
            }
            forget(entry);
        }
        for (Connection connection : new ArrayList<>(unreleased)) {
            connection.release();
        }
        unreleased.clear();
        closed = true;
    }
}
