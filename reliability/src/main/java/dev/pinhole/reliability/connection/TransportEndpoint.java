package dev.pinhole.reliability.connection;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.reliability.Identity;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.wire.ConfirmPrefix;
import dev.pinhole.reliability.wire.FrameReader;
import dev.pinhole.reliability.wire.FrameScanner;
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
 * All Pinhole transport connections on one {@link DatagramEndpoint}, under one static key (the node's
 * {@link Identity}): routes packets to connections by destination connection id, answers INITIALs
 * statelessly with the responder's Noise message and a sealed cookie (creating no state,
 * {@link ServerHandshakes}), creates a server connection when a CONFIRM packet returns a valid cookie and
 * finishes the handshake, keeps one timer per connection armed at its next deadline, and flushes
 * connections after every input.
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
        long handshakeFailures;
        long replayedConfirms;
        long initialsAnswered;
        long initialsIgnored;
        long initialsThrottled;
        long refused;
        long accepted;

        /** Datagrams that were not well-formed Pinhole packets. */
        public long malformed() {
            return malformed;
        }

        /** SHORT or HANDSHAKE packets for no known connection. */
        public long unknownConnection() {
            return unknownConnection;
        }

        /** CONFIRM packets whose cookie was forged, expired or issued to another address. */
        public long invalidCookie() {
            return invalidCookie;
        }

        /** HELLOs and CONFIRMs whose Noise message did not authenticate. */
        public long handshakeFailures() {
            return handshakeFailures;
        }

        /** CONFIRM packets for a connection id accepted before (replays), or beyond the replay memory. */
        public long replayedConfirms() {
            return replayedConfirms;
        }

        /** INITIALs answered with a HANDSHAKE (statelessly). */
        public long initialsAnswered() {
            return initialsAnswered;
        }

        /** INITIALs not answered: not listening, or smaller than 1200 bytes. */
        public long initialsIgnored() {
            return initialsIgnored;
        }

        /** INITIALs dropped because the endpoint answered its {@code handshakeRepliesPerSecond} already. */
        public long initialsThrottled() {
            return initialsThrottled;
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
    private final ServerHandshakes handshakes;
    private final NoiseKeyPair staticKey;
    private final Identity identity;
    private final TransportParameters localParams;
    private final Long2ObjectHashMap<Entry> connections = new Long2ObjectHashMap<>();
    /** Connections that ended with unread data; released when read to the end, or on {@link #close()}. */
    private final List<Connection> unreleased = new ArrayList<>();
    private final PacketHeader header = new PacketHeader();
    private final FrameReader reader = new FrameReader();
    private final HandshakeScan scan = new HandshakeScan();
    private final ConfirmPrefix confirmPrefix = new ConfirmPrefix();
    private final Counters counters = new Counters();
    private Acceptor acceptor;
    private boolean closed;

    private TransportEndpoint(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random,
                              Identity identity) {
        this.endpoint = endpoint;
        this.sink = PacketSink.of(endpoint);
        this.config = config;
        this.random = random;
        this.identity = identity != null ? identity : Identity.generate(HandshakeProtocol.secureRandom(random));
        this.staticKey = NoiseKeyPair.ofJdkKey(this.identity.x25519PrivateKey(), this.identity.x25519PublicKey());
        this.localParams = new TransportParameters(config.maxDatagramSize(), config.receiveWindow(),
                config.idleTimeout().toMillis(), config.maxAckDelay().toMillis());
        this.handshakes = new ServerHandshakes(staticKey, localParams, HandshakeProtocol.secureRandom(random));
    }

    /**
     * An endpoint over {@code endpoint} that is not yet installed as its receiver: route the transport's
     * datagrams (first byte 128..191) to it, e.g. from a {@code DatagramDemultiplexer}.
     *
     * @param random source of connection ids, cookie key, handshake ephemerals and path challenges: a
     *               {@code SecureRandom} in production, a seeded generator in simulations
     * @param identity the static key every handshake on this endpoint proves; null for an ephemeral one
     *                 drawn from {@code random}
     */
    public static TransportEndpoint create(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random,
                                           Identity identity) {
        return new TransportEndpoint(endpoint, config, random, identity);
    }

    /** {@link #create(DatagramEndpoint, TransportConfig, RandomGenerator, Identity)} with an ephemeral identity. */
    public static TransportEndpoint create(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random) {
        return new TransportEndpoint(endpoint, config, random, null);
    }

    /** An endpoint installed as {@code endpoint}'s only receiver. */
    public static TransportEndpoint attach(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random,
                                           Identity identity) {
        TransportEndpoint transport = create(endpoint, config, random, identity);
        endpoint.receiver(transport);
        return transport;
    }

    /** {@link #attach(DatagramEndpoint, TransportConfig, RandomGenerator, Identity)} with an ephemeral identity. */
    public static TransportEndpoint attach(DatagramEndpoint endpoint, TransportConfig config, RandomGenerator random) {
        return attach(endpoint, config, random, null);
    }

    /** The identity whose static key this endpoint's handshakes prove. */
    public Identity identity() {
        return identity;
    }

    /** Accept connections from now on; {@code acceptor} decides about each. Null stops accepting. */
    public void listen(Acceptor acceptor) {
        this.acceptor = acceptor;
    }

    /**
     * Opens a connection to {@code remote} that accepts whatever static key the peer proves (Noise XX; read
     * it from {@link Connection#peerStaticKey()} once established); the handler hears
     * {@code EVENT_ESTABLISHED} or {@code EVENT_CLOSED}.
     */
    public Connection connect(InetSocketAddress remote, ConnectionHandler handler) {
        return connect(remote, handler, null);
    }

    /**
     * Opens a connection to {@code remote} that succeeds only with the peer whose 32-byte X25519 static key is
     * {@code peerKey} (Noise IK; null for {@link #connect(InetSocketAddress, ConnectionHandler) any key}).
     * Another key never answers in a way the client accepts, so the connection ends with a handshake timeout.
     *
     * @throws IllegalArgumentException if {@code peerKey} is not 32 bytes or not a usable X25519 key
     */
    public Connection connect(InetSocketAddress remote, ConnectionHandler handler, byte[] peerKey) {
        if (closed) {
            throw new IllegalStateException("transport endpoint is closed");
        }
        if (peerKey != null && peerKey.length != Identity.KEY_BYTES) {
            throw new IllegalArgumentException("a peer key is " + Identity.KEY_BYTES + " bytes, was " + peerKey.length);
        }
        long nowNs = endpoint.clock().nanoTime();
        Connection connection = Connection.client(config, nowNs, newConnectionId(), remote, random,
                endpoint.allocator(), staticKey, peerKey);
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
        if (type == PacketHeader.TYPE_CONFIRM) {
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
        if (!scanPayload(datagram) || !scan.hello) {
            counters.malformed++;
            return;
        }
        if (!takeHandshakeToken(nowNs)) {
            counters.initialsThrottled++;
            return;
        }
        long serverCid = newConnectionId();
        ServerHandshakes.Reply answer = handshakes.reply(nowNs, sender, scan.clientCid, scan.params, scan.pattern,
                scan.noiseMessage, serverCid);
        if (answer == null) {
            counters.handshakeFailures++;
            return;
        }
        ByteBuf reply = endpoint.allocator().ioBuffer(256 + answer.cookie().length + answer.message().length);
        PacketHeader.write(reply, PacketHeader.TYPE_HANDSHAKE, scan.clientCid, header.truncatedPacketNumber());
        Frames.writeHelloReply(reply, serverCid, localParams, answer.cookie(), answer.message());
        counters.initialsAnswered++;
        endpoint.send(reply, sender);
    }

    /**
     * A token bucket of {@code handshakeRepliesPerSecond} tokens per second, as many at most: the Noise reply is
     * the one thing an unauthenticated datagram can make this endpoint compute at length.
     */
    private boolean takeHandshakeToken(long nowNs) {
        int rate = config.handshakeRepliesPerSecond();
        if (handshakeTokensAtNs == Long.MIN_VALUE) {
            handshakeTokens = rate;
        } else if (nowNs > handshakeTokensAtNs) {
            handshakeTokens = Math.min(rate, handshakeTokens + (nowNs - handshakeTokensAtNs) * 1e-9 * rate);
        }
        handshakeTokensAtNs = nowNs;
        if (handshakeTokens < 1) {
            return false;
        }
        handshakeTokens -= 1;
        return true;
    }

    private double handshakeTokens;
    private long handshakeTokensAtNs = Long.MIN_VALUE;

    /** A CONFIRM packet for no known connection: create the server connection if its cookie and handshake hold. */
    private void acceptConfirm(long nowNs, ByteBuf datagram, InetSocketAddress sender) {
        long serverCid = header.destinationCid();
        if (!confirmPrefix.parse(datagram)) {
            counters.malformed++;
            return;
        }
        if (acceptor == null) {
            counters.unknownConnection++;
            return;
        }
        ServerHandshakes.Accepted accepted = handshakes.confirm(nowNs, sender, serverCid,
                confirmPrefix.cookie(datagram), confirmPrefix.noiseMessage(datagram));
        if (accepted == null) {
            switch (handshakes.lastRefusal()) {
                case BAD_HANDSHAKE -> counters.handshakeFailures++;
                case REPLAYED, TOO_MANY -> counters.replayedConfirms++;
                default -> counters.invalidCookie++;
            }
            return;
        }
        Connection connection = Connection.server(config, nowNs, serverCid, sender, random, endpoint.allocator(),
                accepted);
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

    private boolean scanPayload(ByteBuf datagram) {
        scan.reset();
        int readerIndex = datagram.readerIndex();
        datagram.readerIndex(readerIndex + PacketHeader.HEADER_LENGTH);
        try {
            return reader.read(datagram, scan) == FrameReader.OK;
        } finally {
            datagram.readerIndex(readerIndex);
        }
    }

    /** Picks the HELLO out of an INITIAL; ignores every other frame. */
    private static final class HandshakeScan extends FrameScanner {
        boolean hello;
        long clientCid;
        TransportParameters params;
        int pattern;
        ByteBuf noiseMessage;

        void reset() {
            hello = false;
            params = null;
            noiseMessage = null;
        }

        @Override
        public void onHello(long cid, TransportParameters p, int helloPattern, ByteBuf message) {
            if (hello) {
                return;
            }
            hello = true;
            clientCid = cid;
            params = p;
            pattern = helloPattern;
            noiseMessage = message;
        }

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
