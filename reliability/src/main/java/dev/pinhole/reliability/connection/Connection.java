package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.cc.CongestionController;
import dev.pinhole.reliability.cc.CongestionControllers;
import dev.pinhole.reliability.cc.Pacer;
import dev.pinhole.reliability.crypto.PacketProtection;
import dev.pinhole.reliability.noise.NoiseKeyPair;
import dev.pinhole.reliability.recovery.AckTracker;
import dev.pinhole.reliability.recovery.LossDetector;
import dev.pinhole.reliability.recovery.RttEstimator;
import dev.pinhole.reliability.recovery.SentPacket;
import dev.pinhole.reliability.recovery.SentPacketLog;
import dev.pinhole.reliability.wire.AckRanges;
import dev.pinhole.reliability.wire.ConfirmPrefix;
import dev.pinhole.reliability.wire.FrameReader;
import dev.pinhole.reliability.wire.FrameScanner;
import dev.pinhole.reliability.wire.FrameVisitor;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.PacketNumbers;
import dev.pinhole.reliability.wire.TransportParameters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * One Pinhole transport connection as a poll-style sans-IO state machine (docs/architecture.md, "The
 * sans-IO boundary"): it is fed
 * received packets ({@link #onPacket}), timer expiries ({@link #onTimeout}) and application calls
 * ({@link #write}, {@link #read}, {@link #finish}, {@link #close}, {@link #abort}); it answers with
 * datagrams ({@link #flush} into a {@link PacketSink}), the time it next needs to run
 * ({@link #nextDeadlineNs()}) and events ({@link #pollEvents()}). It never reads a clock, owns no
 * socket and starts no thread; every method must be called on one thread, the owner's event loop.
 *
 * <p>The protocol is QUIC (RFC 9000/9002) reduced to one bidirectional stream, with a Noise handshake and
 * QUIC's packet protection; see docs/protocol.md. Handshake: the client sends INITIAL{HELLO + the first
 * Noise message} until a HANDSHAKE{HELLO_REPLY + the responder's message} authenticates, then sends every
 * packet as a CONFIRM packet (whose clear prefix returns the cookie, and for XX carries the last Noise
 * message, which lets the stateless server create its connection) until one is acknowledged. Every packet
 * after the handshake is sealed ({@link PacketKeys}); one that fails to open is counted and dropped before
 * it can change anything. After that: STREAM data with retransmission of lost frames (RFC
 * 9000 §13.3), loss detection and congestion control ({@link LossDetector}), pacing, flow control
 * (MAX_DATA / DATA_BLOCKED, §4), path validation on a peer address change (§8.2, §9) with the 3x
 * anti-amplification limit (§8), the idle timeout (§10.1) with keep-alive PINGs, and closing
 * (CONNECTION_CLOSE, §10.2).
 *
 * <p>After every call the owner should {@link #flush} (which sends what is due) and re-arm its one timer
 * at {@link #nextDeadlineNs()}; {@link TransportEndpoint} does that.
 */
public final class Connection {
    /** Which side opened the connection. */
    public enum Role { CLIENT, SERVER }

    /** Life cycle (RFC 9000 §10): closing = we sent CONNECTION_CLOSE; draining = the peer did. */
    public enum State { HANDSHAKE, ESTABLISHED, CLOSING, DRAINING, CLOSED }

    /** Event bit: the handshake completed and data can be written. */
    public static final int EVENT_ESTABLISHED = 1;
    /** Event bit: stream data or the end of the stream can be read. */
    public static final int EVENT_READABLE = 1 << 1;
    /** Event bit: send buffer space was freed. */
    public static final int EVENT_WRITABLE = 1 << 2;
    /** Event bit: the connection ended; {@link #closeReason()} says why. */
    public static final int EVENT_CLOSED = 1 << 3;
    /** Event bit: the peer's address changed and the new path was validated. */
    public static final int EVENT_PATH_CHANGED = 1 << 4;
    /** Event bit: the peer acknowledged the end of the stream and every byte before it. */
    public static final int EVENT_OUTPUT_ACKNOWLEDGED = 1 << 5;

    // Control frames a packet carried, as SentPacket.controlFrames bits.
    static final int CF_PING = 1;
    static final int CF_MAX_DATA = 1 << 1;
    static final int CF_DATA_BLOCKED = 1 << 2;
    static final int CF_RESET = 1 << 3;
    static final int CF_CONFIRM = 1 << 4;
    static final int CF_PATH_CHALLENGE = 1 << 5;
    static final int CF_PATH_RESPONSE = 1 << 6;

    /** No deadline. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** RFC 9002 §6.2.2: PTO before any RTT sample, 333 ms + 4 * 333/2 ms, used for INITIAL retransmission. */
    static final long INITIAL_PTO_NS = RttEstimator.INITIAL_RTT_NS + 4 * (RttEstimator.INITIAL_RTT_NS / 2);
    /** RFC 9000 §8.2.4: abandon path validation after max(3 PTO, 6 * kInitialRtt). */
    static final long PATH_VALIDATION_MIN_NS = 6 * RttEstimator.INITIAL_RTT_NS;
    /** RFC 9000 §10.2: closing and draining last three PTOs. */
    static final int CLOSE_PTO_MULTIPLIER = 3;
    /** RFC 9000 §14: the size INITIAL packets are padded to, so the reply can never be larger. */
    static final int INITIAL_PADDED_SIZE = TransportConfig.MIN_DATAGRAM_SIZE;
    /** Reported ack delays are capped at a day before conversion (the loss detector caps them further). */
    private static final long MAX_ACK_DELAY_MICROS = 86_400_000_000L;
    /** Unprompted repetitions of CONNECTION_CLOSE while closing. */
    private static final int CLOSE_REPEATS = 2;
    /** Packets sent in one flush before yielding the event loop to other work. */
    static final int MAX_PACKETS_PER_FLUSH = 128;
    private static final int MAX_INITIAL_ATTEMPTS = 256;
    /** The longest pause between INITIAL retransmissions (4 s). */
    static final long MAX_INITIAL_RETRY_NS = 4_000_000_000L;
    /** Pause after the socket refused a datagram (its send buffer was full). */
    private static final long SEND_BLOCKED_BACKOFF_NS = RttEstimator.GRANULARITY_NS;

    private final Role role;
    private final long localCid;
    private long remoteCid;
    private final TransportConfig config;
    private final TransportParameters localParams;
    private final RandomGenerator random;
    private State state;

    private TransportParameters peerParams;
    private int maxDatagramSize;
    private long idleTimeoutNs;
    private final long keepAliveNs;
    private final long connectionTimeoutNs;

    // Paths (RFC 9000 §8-9).
    private InetSocketAddress remote;
    /** The address {@link #migrate} moved away from: packets still arriving from it start no validation. */
    private InetSocketAddress retiredRemote;
    private final PathValidator paths = new PathValidator();

    // Receiving.
    private final AckTracker ackTracker;
    private final StreamReceiver receiver;
    private final FrameReader frameReader = new FrameReader();
    private final FrameHandler frameHandler = new FrameHandler();
    private final HelloReplyScan helloReplyScan = new HelloReplyScan();
    private final PacketHeader header = new PacketHeader();
    private final AckRanges ackRanges = new AckRanges();
    private long[] ackPairs = new long[2 * AckRanges.DEFAULT_CAPACITY];

    // Sending.
    private final RttEstimator rtt = new RttEstimator();
    private final SentPacketLog sentLog = new SentPacketLog();
    private final StreamSender sender;
    private final StreamSender.Chunk chunk = new StreamSender.Chunk();
    private CongestionController congestion;
    private LossDetector loss;
    private Pacer pacer;
    private long dataBlockedAt = -1;
    private int pendingControl;
    private int probesPending;
    private long pacingDeadlineNs = NO_DEADLINE;
    private long flushAgainNs = NO_DEADLINE;
    private long lastAckSentNs;
    private long lastAckElicitingSentNs;
    private boolean ackElicitingSentSinceReceive;

    // Client handshake.
    private final long[] initialSentNs = new long[MAX_INITIAL_ATTEMPTS];
    private int initialAttempts;
    private long nextInitialNs = NO_DEADLINE;
    private final long handshakeDeadlineNs;
    private ClientHandshake handshake;
    private byte[] cookie;
    private byte[] finalMessage;
    private int confirmPrefixLength;
    private boolean confirmed;
    private boolean helloReplied;

    // Packet protection, from the handshake on.
    private PacketKeys keys;
    private byte[] peerStatic;
    private final ConfirmPrefix confirmPrefix = new ConfirmPrefix();
    /** Header length of the packet being built: the header, plus the CONFIRM prefix while unconfirmed. */
    private int buildingHeaderLength;

    // Timers.
    private long lastReceivedNs;
    private long idleStartNs;

    // Closing.
    private CloseReason closeReason;
    private long closeErrorCode;
    private String closeReasonText = "";
    private long resetCode = -1;
    private boolean closeFramePending;
    private long closeDeadlineNs = NO_DEADLINE;
    private long lastCloseSentNs;
    private long closeStartNs;
    private long closeRepeatNs = NO_DEADLINE;
    private int closeRepeatsLeft;
    private boolean closeRequested;
    private long lingerDeadlineNs = NO_DEADLINE;

    private int events;
    private boolean outputAcknowledgedReported;

    // Statistics.
    private long packetsSent;
    private long packetsReceived;
    private long packetsRetransmitted;
    private long malformedPackets;
    private long handshakeFailures;
    private long duplicatePackets;
    private long bytesDelivered;

    // Per-packet context for the frame handler.
    private boolean closingScan;
    private long packetNowNs;
    private InetSocketAddress packetFrom;

    private Connection(Role role, TransportConfig config, long nowNs, long localCid, InetSocketAddress remote,
                       RandomGenerator random, ByteBufAllocator allocator) {
        this.role = role;
        this.config = config;
        this.localCid = localCid;
        this.remote = remote;
        this.random = random;
        long maxAckDelayMs = config.maxAckDelay().toMillis();
        this.localParams = new TransportParameters(config.maxDatagramSize(), config.receiveWindow(),
                config.idleTimeout().toMillis(), maxAckDelayMs);
        this.maxDatagramSize = config.maxDatagramSize();
        this.idleTimeoutNs = config.idleTimeout().toNanos();
        this.keepAliveNs = config.keepAliveInterval().toNanos();
        this.connectionTimeoutNs = config.connectionTimeout().toNanos();
        this.ackTracker = new AckTracker(config.maxAckDelay().toNanos());
        this.receiver = new StreamReceiver(allocator, config.receiveWindow());
        this.sender = new StreamSender(allocator, config.sendBufferSize(), 0);
        this.lastReceivedNs = nowNs;
        this.idleStartNs = nowNs;
        this.lastAckElicitingSentNs = nowNs;
        this.handshakeDeadlineNs = nowNs + config.handshakeTimeout().toNanos();
    }

    /**
     * A client connection that starts its handshake with {@code remote} at the next {@link #flush}.
     *
     * @param localStatic this node's static key pair
     * @param peerKey the server's 32-byte X25519 static key if known (Noise IK: only that key is accepted),
     *                else null (Noise XX: any key, which {@link #peerStaticKey()} then reports)
     * @throws IllegalArgumentException if {@code peerKey} is not a usable X25519 public key
     */
    static Connection client(TransportConfig config, long nowNs, long localCid, InetSocketAddress remote,
                             RandomGenerator random, ByteBufAllocator allocator,
                             NoiseKeyPair localStatic, byte[] peerKey) {
        Connection c = new Connection(Role.CLIENT, config, nowNs, localCid, remote, random, allocator);
        c.handshake = new ClientHandshake(localStatic, peerKey, localCid, c.localParams,
                HandshakeProtocol.secureRandom(random));
        c.state = State.HANDSHAKE;
        c.nextInitialNs = nowNs;
        return c;
    }

    /**
     * A server connection created from a CONFIRM whose cookie and handshake were valid (the client proved its
     * address and finished the Noise handshake), established at once.
     */
    static Connection server(TransportConfig config, long nowNs, long localCid, InetSocketAddress remote,
                             RandomGenerator random, ByteBufAllocator allocator, ServerHandshakes.Accepted accepted) {
        Connection c = new Connection(Role.SERVER, config, nowNs, localCid, remote, random, allocator);
        c.remoteCid = accepted.clientCid();
        c.confirmed = true;
        c.peerStatic = accepted.peerStatic();
        c.keys = new PacketKeys(accepted.sendSecret(), accepted.receiveSecret());
        c.establish(nowNs, accepted.clientParams());
        return c;
    }

    private void establish(long nowNs, TransportParameters params) {
        peerParams = params;
        maxDatagramSize = Math.min(config.maxDatagramSize(), params.maxDatagramSize());
        long peerIdleNs = Duration.ofMillis(params.idleTimeoutMs()).toNanos();
        // RFC 9000 §10.1: the effective idle timeout is the smaller of the two, zero meaning none.
        if (idleTimeoutNs == 0 || (peerIdleNs != 0 && peerIdleNs < idleTimeoutNs)) {
            idleTimeoutNs = peerIdleNs;
        }
        sender.peerMaxData(params.initialMaxData());
        congestion = CongestionControllers.create(config.congestionControl(), maxDatagramSize);
        pacer = new Pacer(maxDatagramSize);
        loss = new LossDetector(sentLog, rtt, congestion, params.maxAckDelayMs() * 1_000_000L, new RecoveryListener());
        state = State.ESTABLISHED;
        idleStartNs = nowNs;
        events |= EVENT_ESTABLISHED | EVENT_WRITABLE;
    }

    // ------------------------------------------------------------------------------------------------
    // Input: packets

    /**
     * Processes one received packet whose header {@link PacketHeader#isValid} accepted and whose
     * destination connection id is this connection's. Malformed packets are counted and dropped; nothing
     * throws on any input. The buffer is only read during the call.
     */
    public void onPacket(long nowNs, ByteBuf packet, InetSocketAddress from) {
        header.wrap(packet, packet.readerIndex());
        int type = header.type();
        if (state == State.CLOSED || state == State.DRAINING) {
            return;
        }
        if (type == PacketHeader.TYPE_HANDSHAKE) {
            onHandshakePacket(nowNs, packet, from);
            return;
        }
        boolean confirmPacket = type == PacketHeader.TYPE_CONFIRM && role == Role.SERVER;
        if ((type != PacketHeader.TYPE_SHORT && !confirmPacket) || keys == null) {
            malformedPackets++;
            return;
        }
        int headerLength = PacketHeader.HEADER_LENGTH;
        if (confirmPacket) {
            if (!confirmPrefix.parse(packet)) {
                malformedPackets++;
                return;
            }
            headerLength = confirmPrefix.protectedHeaderLength(packet);
        }
        if (!open(nowNs, packet, headerLength)) {
            return;
        }
        long packetNumber = keys.openedPacketNumber();
        if (ackTracker.isDuplicate(packetNumber)) {
            // RFC 9000 §12.3: a replayed or duplicated packet authenticates again, but does nothing twice.
            duplicatePackets++;
            return;
        }
        if (state == State.CLOSING) {
            onPacketWhileClosing(nowNs, packet, headerLength);
            return;
        }
        boolean newLargest = packetNumber > ackTracker.largestReceived();
        packetNowNs = nowNs;
        packetFrom = from;
        int result = readFrames(packet, headerLength);
        if (result != FrameReader.OK) {
            malformedPackets++;
            return;
        }
        if (!ackTracker.onPacketReceived(packetNumber, frameReader.ackEliciting(), nowNs)) {
            return;
        }
        keys.afterOpen(nowNs, rtt.probeTimeoutNs(peerMaxAckDelayNs()));
        packetsReceived++;
        lastReceivedNs = nowNs;
        idleStartNs = nowNs;
        ackElicitingSentSinceReceive = false;
        onPacketFrom(nowNs, from, packet.readableBytes(), newLargest);
        afterInput(nowNs);
    }

    /** RFC 9000 §9.3: a non-probing packet from a new address, if it is the newest, starts path validation. */
    private void onPacketFrom(long nowNs, InetSocketAddress from, int size, boolean newLargest) {
        if (from.equals(remote) || from.equals(retiredRemote) || state != State.ESTABLISHED) {
            return;
        }
        long validationTimeNs = Math.max(CLOSE_PTO_MULTIPLIER * rtt.probeTimeoutNs(peerMaxAckDelayNs()),
                PATH_VALIDATION_MIN_NS);
        paths.onPacketFromNewAddress(nowNs, from, size, newLargest, validationTimeNs);
    }

    /**
     * Opens a protected packet in place; false (the packet counted and dropped) if it does not authenticate.
     * Only the integrity limit, which forgeries cannot reach in any realistic time, ends the connection.
     */
    private boolean open(long nowNs, ByteBuf packet, int headerLength) {
        int result = keys.open(packet, headerLength, ackTracker.largestReceived());
        if (result >= 0) {
            return true;
        }
        if (result == PacketProtection.OPEN_INTEGRITY_LIMIT_REACHED && state == State.ESTABLISHED) {
            enterClosing(nowNs, TransportErrors.AEAD_LIMIT_REACHED, "too many packets failed authentication",
                    new CloseReason.ProtocolError(TransportErrors.AEAD_LIMIT_REACHED,
                            "too many packets failed authentication"));
        }
        return false;
    }

    private void onHandshakePacket(long nowNs, ByteBuf packet, InetSocketAddress from) {
        if (role != Role.CLIENT || state != State.HANDSHAKE) {
            // A late reply to a retransmitted INITIAL: the first one won.
            return;
        }
        long attempt = header.truncatedPacketNumber();
        packetNowNs = nowNs;
        packetFrom = from;
        helloReplied = false;
        int readerIndex = packet.readerIndex();
        packet.readerIndex(readerIndex + PacketHeader.HEADER_LENGTH);
        int result;
        try {
            // Only HELLO_REPLY counts: nothing else in an unprotected packet may touch the connection.
            result = frameReader.read(packet, helloReplyScan);
        } finally {
            packet.readerIndex(readerIndex);
        }
        if (result != FrameReader.OK) {
            malformedPackets++;
            return;
        }
        if (!helloReplied) {
            // A reply that did not authenticate: forged, damaged, or from a server without the expected key.
            handshakeFailures++;
            return;
        }
        if (attempt < initialAttempts) {
            // The reply echoes the INITIAL's number, so the handshake yields an unambiguous RTT sample.
            rtt.onSample(nowNs - initialSentNs[(int) attempt], 0);
        }
        packetsReceived++;
        lastReceivedNs = nowNs;
        idleStartNs = nowNs;
        nextInitialNs = NO_DEADLINE;
        pendingControl |= CF_CONFIRM;
        establish(nowNs, peerParams);
    }

    private void onPacketWhileClosing(long nowNs, ByteBuf packet, int headerLength) {
        // RFC 9000 §10.2.1: answer with CONNECTION_CLOSE again, rate-limited to two per PTO. The peer's
        // probes are at least a PTO apart, so each of them is answered.
        if (nowNs - lastCloseSentNs >= rtt.probeTimeoutNs(peerMaxAckDelayNs()) / 2) {
            closeFramePending = true;
        }
        packetNowNs = nowNs;
        closingScan = true;
        try {
            readFrames(packet, headerLength);
        } finally {
            closingScan = false;
        }
    }

    /**
     * Reads the frames after the header by moving the packet's reader index past it for the call (no
     * slice object per packet); the index is restored afterwards.
     */
    private int readFrames(ByteBuf packet, int headerLength) {
        int readerIndex = packet.readerIndex();
        packet.readerIndex(readerIndex + headerLength);
        try {
            return frameReader.read(packet, frameHandler);
        } finally {
            packet.readerIndex(readerIndex);
        }
    }

    /** Checks whether the connection is done after input or an application call. */
    private void afterInput(long nowNs) {
        if (state != State.ESTABLISHED) {
            return;
        }
        if (receiver.maxDataUpdateDue()) {
            pendingControl |= CF_MAX_DATA;
        }
        if (sender.finishRequested() && sender.allAcked() && receiver.finReceived()
                && (receiver.finished() || closeRequested)) {
            enterClosing(nowNs, TransportErrors.NO_ERROR, "", new CloseReason.Graceful());
        }
    }

    /** Receives the frames of one packet; fields packetNowNs and packetFrom give its context. */
    private final class FrameHandler implements FrameVisitor {
        @Override
        public void onPadding(int n) {
        }

        @Override
        public void onPing() {
        }

        @Override
        public void onAck(long largest, long ackDelayMicros, AckRanges ranges) {
            if (closingScan || loss == null) {
                return;
            }
            int n = ranges.size();
            for (int i = 0; i < n; i++) {
                ackPairs[2 * i] = ranges.high(i);
                ackPairs[2 * i + 1] = ranges.low(i);
            }
            long ackedBefore = sender.bytesAcked();
            // Delays beyond a day are nonsense; capping keeps the product from overflowing.
            long ackDelayNs = Math.min(ackDelayMicros, MAX_ACK_DELAY_MICROS) * 1_000L;
            if (!loss.onAckReceived(packetNowNs, ackPairs, n, ackDelayNs)) {
                malformedPackets++;
                return;
            }
            if (sender.bytesAcked() != ackedBefore) {
                events |= EVENT_WRITABLE;
                if (lingerDeadlineNs != NO_DEADLINE) {
                    // The close timeout bounds a stall, not the close: while the peer keeps acknowledging what
                    // was written before close(), the linger goes on (as TCP's close does).
                    lingerDeadlineNs = packetNowNs + config.closeTimeout().toNanos();
                }
            }
            if (!outputAcknowledgedReported && sender.finishRequested() && sender.allAcked()) {
                outputAcknowledgedReported = true;
                events |= EVENT_OUTPUT_ACKNOWLEDGED;
            }
        }

        @Override
        public void onStream(long offset, ByteBuf data, boolean fin) {
            if (closingScan) {
                return;
            }
            long error = receiver.onStream(offset, data, fin);
            if (error != TransportErrors.NO_ERROR) {
                protocolError(packetNowNs, error, error == TransportErrors.FLOW_CONTROL_ERROR
                        ? "stream data beyond the advertised MAX_DATA" : "stream data beyond its final size");
                return;
            }
            if (receiver.readable() > 0 || receiver.finReadable()) {
                events |= EVENT_READABLE;
            }
        }

        @Override
        public void onMaxData(long maxData) {
            if (closingScan) {
                return;
            }
            sender.peerMaxData(maxData);
        }

        @Override
        public void onDataBlocked(long limit) {
            if (closingScan) {
                return;
            }
            // RFC 9000 §4.1: the peer is blocked; if we can give more credit than it has, say so now.
            if (receiver.maxData() > limit) {
                pendingControl |= CF_MAX_DATA;
            }
        }

        @Override
        public void onReset(long errorCode) {
            if (closingScan) {
                return;
            }
            resetCode = errorCode;
        }

        @Override
        public void onConnectionClose(long errorCode, String reason) {
            onPeerClose(packetNowNs, errorCode, reason);
        }

        @Override
        public void onPathChallenge(long data) {
            if (closingScan) {
                return;
            }
            paths.onChallenge(data, packetFrom);
        }

        @Override
        public void onPathResponse(long data) {
            if (closingScan) {
                return;
            }
            InetSocketAddress validated = paths.onResponse(data);
            if (validated != null) {
                // RFC 9000 §9.3: the new address answered; send everything there from now on. The RTT and
                // congestion state are kept: a NAT rebinding changes the address, not the path.
                retiredRemote = remote;
                remote = validated;
                events |= EVENT_PATH_CHANGED;
            }
        }

        @Override
        public void onHello(long clientCid, TransportParameters params, int pattern, ByteBuf noiseMessage) {
        }

        @Override
        public void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookieBytes,
                                 ByteBuf noiseMessage) {
            // A HELLO_REPLY inside a protected packet means nothing: the handshake is over.
        }
    }

    /**
     * Reads the server's HANDSHAKE packet, which is not protected: only its HELLO_REPLY is looked at, and only
     * once the Noise message in it authenticates; every other frame in it is ignored, so a forged HANDSHAKE
     * packet can neither close nor otherwise change a connection.
     */
    private final class HelloReplyScan extends FrameScanner {
        @Override
        public void onHelloReply(long serverCid, TransportParameters params, ByteBuf cookieBytes,
                                 ByteBuf noiseMessage) {
            if (state != State.HANDSHAKE || helloReplied) {
                return;
            }
            byte[] presented = ByteBufUtil.getBytes(cookieBytes);
            if (!handshake.onReply(serverCid, params, presented, noiseMessage)) {
                return;
            }
            helloReplied = true;
            remoteCid = serverCid;
            peerParams = params;
            cookie = presented;
            finalMessage = handshake.finalMessage();
            confirmPrefixLength = ConfirmPrefix.length(cookie, finalMessage);
            peerStatic = handshake.peerStatic();
            byte[][] secrets = handshake.takeSecrets();
            keys = new PacketKeys(secrets[0], secrets[1]);
            handshake = null;
        }
    }

    private void onPeerClose(long nowNs, long errorCode, String reason) {
        if (state == State.DRAINING || state == State.CLOSED) {
            return;
        }
        CloseReason why;
        if (resetCode >= 0) {
            why = new CloseReason.PeerReset(resetCode, reason);
        } else if (errorCode == TransportErrors.NO_ERROR) {
            // The peer finished. Our side is fine if we finished writing; its side if its FIN arrived.
            why = sender.finishRequested() && receiver.finReceived()
                    ? new CloseReason.Graceful() : new CloseReason.ClosedByPeerEarly();
        } else if (errorCode == TransportErrors.CONNECTION_REFUSED && !confirmed) {
            why = new CloseReason.Refused(reason);
        } else {
            why = new CloseReason.PeerReset(errorCode, reason);
        }
        boolean wasClosing = state == State.CLOSING;
        setCloseReason(why);
        // RFC 9000 §10.2.2: drain for three PTOs, sending nothing.
        state = State.DRAINING;
        closeFramePending = false;
        closeDeadlineNs = wasClosing ? closeDeadlineNs : nowNs + closePeriodNs();
    }

    private void protocolError(long nowNs, long code, String reason) {
        enterClosing(nowNs, code, reason, new CloseReason.ProtocolError(code, reason));
    }

    // ------------------------------------------------------------------------------------------------
    // Input: time

    /** Runs the timers that are due at {@code nowNs}; early calls are harmless. */
    public void onTimeout(long nowNs) {
        if (nowNs >= flushAgainNs) {
            flushAgainNs = NO_DEADLINE;
        }
        switch (state) {
            case CLOSED -> {
                return;
            }
            case CLOSING, DRAINING -> {
                if (nowNs >= closeDeadlineNs) {
                    state = State.CLOSED;
                } else if (state == State.CLOSING && nowNs >= closeRepeatNs) {
                    closeFramePending = true;
                    closeRepeatNs = --closeRepeatsLeft > 0 ? nowNs + 2 * (closeRepeatNs - closeStartNs) : NO_DEADLINE;
                }
                return;
            }
            case HANDSHAKE -> {
                if (nowNs >= handshakeDeadlineNs) {
                    terminate(new CloseReason.HandshakeTimeout(config.handshakeTimeout(), initialAttempts, false));
                }
                return;
            }
            case ESTABLISHED -> {
            }
        }
        if (idleTimeoutNs > 0 && nowNs >= idleDeadlineNs()) {
            // RFC 9000 §10.1: silently close; the peer is gone or will time out too.
            terminate(new CloseReason.IdleTimeout(Duration.ofNanos(idleTimeoutNs)));
            return;
        }
        long failNs = failureDeadlineNs();
        if (nowNs >= failNs) {
            if (!confirmed) {
                terminate(new CloseReason.HandshakeTimeout(config.handshakeTimeout(), initialAttempts, true));
            } else {
                terminate(new CloseReason.AckTimeout(Duration.ofNanos(nowNs - loss.awaitingAckSinceNs()),
                        loss.ptoCount()));
            }
            return;
        }
        keys.onTimeout(nowNs);
        if (nowNs >= lingerDeadlineNs) {
            lingerDeadlineNs = NO_DEADLINE;
            enterClosing(nowNs, TransportErrors.NO_ERROR, "",
                    sender.allAcked() ? new CloseReason.Graceful()
                            : new CloseReason.ClosedLocally(" before the peer acknowledged everything written"
                            + " (close timeout " + config.closeTimeout() + ")"));
            return;
        }
        if (loss.onTimeout(nowNs) == LossDetector.TimeoutAction.SEND_PROBE) {
            // RFC 9002 §6.2.4: one ack-eliciting probe, even beyond the congestion window.
            probesPending = 1;
        }
        if (keepAliveDue() && nowNs >= keepAliveDeadlineNs()) {
            pendingControl |= CF_PING;
        }
        paths.onTimeout(nowNs);
        if (nowNs >= pacingDeadlineNs) {
            pacingDeadlineNs = NO_DEADLINE;
        }
        afterInput(nowNs);
    }

    private long idleDeadlineNs() {
        // RFC 9000 §10.1: at least three PTOs, so that probes have a chance before the connection gives up.
        long ptoNs = loss == null ? INITIAL_PTO_NS : rtt.probeTimeoutNs(peerMaxAckDelayNs());
        return idleStartNs + Math.max(idleTimeoutNs, CLOSE_PTO_MULTIPLIER * ptoNs);
    }

    /** A keep-alive PING is only for a quiet connection: nothing in flight and no PING queued yet. */
    private boolean keepAliveDue() {
        return keepAliveNs > 0 && loss.ackElicitingInFlight() == 0 && (pendingControl & CF_PING) == 0;
    }

    private long keepAliveDeadlineNs() {
        return Math.max(lastReceivedNs, lastAckElicitingSentNs) + keepAliveNs;
    }

    private long failureDeadlineNs() {
        long since = loss.awaitingAckSinceNs();
        if (since == LossDetector.NO_DEADLINE) {
            return NO_DEADLINE;
        }
        if (!confirmed) {
            // The server never acknowledged our CONFIRM: give up at the handshake deadline (or, for a
            // reply that came late, a quarter connection timeout after the first CONFIRM).
            return Math.max(handshakeDeadlineNs, since + connectionTimeoutNs / 4);
        }
        return since + connectionTimeoutNs;
    }

    private long peerMaxAckDelayNs() {
        return peerParams == null ? 0 : peerParams.maxAckDelayMs() * 1_000_000L;
    }

    private long closePeriodNs() {
        long ptoNs = loss == null ? INITIAL_PTO_NS : rtt.probeTimeoutNs(peerMaxAckDelayNs());
        return CLOSE_PTO_MULTIPLIER * ptoNs;
    }

    /** The earliest time {@link #onTimeout} (then {@link #flush}) must run; {@link #NO_DEADLINE} if never. */
    public long nextDeadlineNs() {
        switch (state) {
            case CLOSED -> {
                return NO_DEADLINE;
            }
            case CLOSING, DRAINING -> {
                if (closeFramePending) {
                    return Long.MIN_VALUE;
                }
                return state == State.CLOSING ? Math.min(closeDeadlineNs, closeRepeatNs) : closeDeadlineNs;
            }
            case HANDSHAKE -> {
                return Math.min(nextInitialNs, handshakeDeadlineNs);
            }
            case ESTABLISHED -> {
            }
        }
        long deadline = Math.min(loss.timerDeadlineNs(), failureDeadlineNs());
        if (idleTimeoutNs > 0) {
            deadline = Math.min(deadline, idleDeadlineNs());
        }
        if (keepAliveDue()) {
            deadline = Math.min(deadline, keepAliveDeadlineNs());
        }
        deadline = Math.min(deadline, ackTracker.ackDeadlineNs());
        deadline = Math.min(deadline, pacingDeadlineNs);
        deadline = Math.min(deadline, flushAgainNs);
        deadline = Math.min(deadline, lingerDeadlineNs);
        deadline = Math.min(deadline, keys.deadlineNs());
        return Math.min(deadline, paths.deadlineNs());
    }

    // ------------------------------------------------------------------------------------------------
    // Application calls (on the event loop)

    /**
     * Queues up to {@code length} bytes for sending; returns how many fit into the send buffer (0 when
     * full: wait for {@link #EVENT_WRITABLE}).
     *
     * @throws IllegalStateException if the stream was finished or the connection is not established
     */
    public int write(byte[] src, int offset, int length) {
        if (state != State.ESTABLISHED || closeReason != null) {
            throw new IllegalStateException("write on a connection that is " + state);
        }
        if (sender.finishRequested()) {
            throw new IllegalStateException("write after the stream was finished");
        }
        return sender.write(src, offset, length);
    }

    /** Bytes that {@link #write} would accept now. */
    public int writableBytes() {
        return state == State.ESTABLISHED && !sender.finishRequested() ? sender.space() : 0;
    }

    /** Ends the outgoing stream after the bytes written so far (FIN; half-close). Idempotent. */
    public void finish() {
        if (state == State.ESTABLISHED || state == State.HANDSHAKE) {
            sender.finish();
        }
    }

    /**
     * Copies up to {@code length} received bytes in order into {@code dst}.
     *
     * @return bytes copied; 0 if none are available yet; -1 at the end of the stream (FIN read)
     */
    public int read(byte[] dst, int offset, int length) {
        int n = receiver.read(dst, offset, length);
        if (n > 0) {
            bytesDelivered += n;
            if (receiver.maxDataUpdateDue()) {
                pendingControl |= CF_MAX_DATA;
            }
        }
        if (n < 0) {
            if (state == State.ESTABLISHED) {
                afterInput(lastReceivedNs);
            } else if (isTerminated()) {
                receiver.release();
            }
        }
        return n;
    }

    /** In-order bytes {@link #read} can return now. */
    public int readableBytes() {
        return receiver.readable();
    }

    /**
     * Closes gracefully: finishes the stream, discards further received data, and ends the connection
     * once the peer has acknowledged everything written and finished its own stream, or when the peer has
     * acknowledged nothing new for the close timeout (a stall: as long as acknowledgements arrive, the
     * written data is still being delivered and the close waits for it).
     */
    public void close(long nowNs) {
        if (state == State.HANDSHAKE) {
            terminate(new CloseReason.ClosedLocally(" during the handshake"));
            return;
        }
        if (state != State.ESTABLISHED || closeRequested) {
            return;
        }
        closeRequested = true;
        sender.finish();
        receiver.discard();
        lingerDeadlineNs = nowNs + config.closeTimeout().toNanos();
        if (receiver.maxDataUpdateDue()) {
            pendingControl |= CF_MAX_DATA;
        }
        afterInput(nowNs);
    }

    /**
     * Moves the connection to {@code validatedRemote}, a path the caller has already proved works both ways
     * (an ICE connectivity check, RFC 8445 §7.2.5, on the same sockets): from now on every packet goes
     * there. This is the active side of RFC 9000 §9.2 migration; the peer sees our packets arrive from a
     * new address and validates it (§9.3) before it moves too. Until then its packets keep arriving on the
     * old path; they are accepted and, unlike packets from any other new address, start no validation back
     * toward the old path. RTT and congestion state are kept: both are re-learnt within a few round trips,
     * and a reset would stall a stream that moves precisely because the new path is better.
     * A PING goes out at once so that the peer learns the new address without waiting for data.
     *
     * @return false if the connection is not established (nothing changed)
     */
    public boolean migrate(long nowNs, InetSocketAddress validatedRemote) {
        Objects.requireNonNull(validatedRemote, "validatedRemote");
        if (state != State.ESTABLISHED) {
            return false;
        }
        if (!validatedRemote.equals(remote)) {
            retiredRemote = remote;
            remote = validatedRemote;
            events |= EVENT_PATH_CHANGED;
            pendingControl |= CF_PING;
        }
        return true;
    }

    /** Aborts at once: RESET and CONNECTION_CLOSE go out; the peer's reads and writes fail with {@code code}. */
    public void abort(long nowNs, long code) {
        if (state == State.HANDSHAKE) {
            terminate(new CloseReason.LocalAbort(code));
            return;
        }
        if (state != State.ESTABLISHED) {
            return;
        }
        resetCode = code;
        enterClosing(nowNs, TransportErrors.APPLICATION_ABORT, "aborted by the application with code " + code,
                new CloseReason.LocalAbort(code));
    }

    private void enterClosing(long nowNs, long errorCode, String reason, CloseReason why) {
        setCloseReason(why);
        closeErrorCode = errorCode;
        closeReasonText = reason;
        state = State.CLOSING;
        closeFramePending = true;
        // Beyond answering the peer's packets (RFC 9000 §10.2.1), repeat the CONNECTION_CLOSE twice, one
        // and three PTOs later: a peer whose last packets we acknowledged only in the lost CONNECTION_CLOSE
        // would otherwise learn of the end only if one of its backed-off probes gets through.
        closeStartNs = nowNs;
        closeRepeatsLeft = CLOSE_REPEATS;
        closeRepeatNs = nowNs + rtt.probeTimeoutNs(peerMaxAckDelayNs());
        // RFC 9000 §10.2.1 asks for at least three PTOs. We stay longer, for as long as the peer may keep
        // probing before it gives up (the connection timeout): if our last ACKs and the CONNECTION_CLOSE
        // were lost, its next probe gets the CONNECTION_CLOSE again instead of silence.
        closeDeadlineNs = nowNs + Math.max(closePeriodNs(), connectionTimeoutNs);
    }

    /** Ends at once without telling the peer (timeouts: the peer cannot be reached anyway). */
    private void terminate(CloseReason why) {
        setCloseReason(why);
        state = State.CLOSED;
    }

    private void setCloseReason(CloseReason why) {
        // No stream data goes out after the connection ended, in any way.
        sender.release();
        if (closeReason == null) {
            closeReason = why;
            events |= EVENT_CLOSED;
            if (!why.graceful()) {
                // Data is lost anyway after an abnormal end: reads fail at once.
                receiver.release();
            }
        }
    }

    /** Refuses a just-created server connection: CONNECTION_CLOSE with CONNECTION_REFUSED goes out. */
    void refuse(long nowNs) {
        enterClosing(nowNs, TransportErrors.CONNECTION_REFUSED, "accept backlog full",
                new CloseReason.Refused("accept backlog full"));
    }

    /**
     * Ends the connection at once because its endpoint shuts down: a CONNECTION_CLOSE is sent if the
     * connection was open, and the state becomes {@link State#CLOSED}.
     */
    void shutdown(long nowNs, PacketSink sink) {
        if (state == State.ESTABLISHED) {
            if (closeRequested && sender.finishRequested() && sender.allAcked()) {
                // The application closed and the peer has everything we wrote: nothing of ours is lost,
                // and the peer's unread rest was given up by that close. A graceful end, as the linger
                // would have ended it (NO_ERROR), only sooner.
                enterClosing(nowNs, TransportErrors.NO_ERROR, "", new CloseReason.Graceful());
            } else {
                enterClosing(nowNs, TransportErrors.APPLICATION_ABORT, "endpoint shut down",
                        new CloseReason.ClosedLocally(" because its transport endpoint was closed"));
            }
        }
        if (state == State.CLOSING && closeFramePending) {
            closeFramePending = false;
            sendClose(nowNs, sink);
        }
        if (closeReason == null) {
            setCloseReason(new CloseReason.ClosedLocally(" because its transport endpoint was closed"));
        }
        state = State.CLOSED;
    }

    /** Releases all buffers (pooled memory); reads return -1 afterwards. Idempotent. */
    public void release() {
        sender.release();
        receiver.release();
    }

    /**
     * For a terminated connection: releases its buffers unless the application may still read data
     * that arrived before a graceful end. Returns true if released.
     */
    boolean releaseIfDone() {
        if (!isTerminated()) {
            return false;
        }
        sender.release();
        if (receiver.released() || !closeReason.graceful() || closeRequested || receiver.finished()) {
            receiver.release();
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------------
    // Output

    /** Sends every datagram that is due at {@code nowNs}, within the congestion window and the pacing rate. */
    public void flush(long nowNs, PacketSink sink) {
        switch (state) {
            case CLOSED, DRAINING -> {
                return;
            }
            case HANDSHAKE -> {
                if (nowNs >= nextInitialNs) {
                    sendInitial(nowNs, sink);
                }
                return;
            }
            case CLOSING -> {
                if (closeFramePending) {
                    closeFramePending = false;
                    sendClose(nowNs, sink);
                }
                return;
            }
            case ESTABLISHED -> {
            }
        }
        if (paths.responseDue() && !sendPathResponse(nowNs, sink)) {
            return;
        }
        if (paths.challengeDue() && !sendPathChallenge(nowNs, sink)) {
            return;
        }
        for (int sent = 0; ; sent++) {
            if (sent == MAX_PACKETS_PER_FLUSH) {
                flushAgainNs = nowNs;
                return;
            }
            if (!sendOne(nowNs, sink)) {
                return;
            }
        }
    }

    private void sendInitial(long nowNs, PacketSink sink) {
        if (initialAttempts == MAX_INITIAL_ATTEMPTS) {
            nextInitialNs = NO_DEADLINE;
            return;
        }
        ByteBuf buf = sink.allocator().ioBuffer(INITIAL_PADDED_SIZE);
        PacketHeader.write(buf, PacketHeader.TYPE_INITIAL, 0L, initialAttempts);
        Frames.writeHello(buf, localCid, localParams, handshake.pattern(), handshake.firstMessage());
        Frames.writePadding(buf, INITIAL_PADDED_SIZE - buf.writerIndex());
        initialSentNs[initialAttempts] = nowNs;
        // RFC 9002 §6.2.2/§6.2.4: the initial PTO, doubled for every attempt, here capped so that a lossy
        // start still gets a try every few seconds until the handshake timeout.
        nextInitialNs = nowNs + Math.min(INITIAL_PTO_NS << Math.min(initialAttempts, 16), MAX_INITIAL_RETRY_NS);
        initialAttempts++;
        packetsSent++;
        sink.send(buf, remote);
    }

    private void sendClose(long nowNs, PacketSink sink) {
        lastCloseSentNs = nowNs;
        long packetNumber = sentLog.nextPacketNumber();
        ByteBuf buf = startPacket(sink, packetNumber);
        sentLog.skip();
        if (resetCode >= 0 && closeReason instanceof CloseReason.LocalAbort) {
            Frames.writeReset(buf, resetCode);
        }
        Frames.writeConnectionClose(buf, closeErrorCode, closeReasonText);
        if (!seal(buf, packetNumber, nowNs)) {
            return;
        }
        packetsSent++;
        sink.send(buf, remote);
    }

    private static final int PATH_PACKET_MIN_SIZE = PacketHeader.HEADER_LENGTH + 1 + Frames.PATH_DATA_LENGTH
            + PacketProtection.TAG_LENGTH;

    /**
     * A buffer for one protected packet with the header written: SHORT, or CONFIRM with its prefix while the
     * client's handshake is unconfirmed. Frames go up to {@link #payloadLimit()}; {@link #seal} finishes it.
     */
    private ByteBuf startPacket(PacketSink sink, long packetNumber) {
        ByteBuf buf = sink.allocator().ioBuffer(maxDatagramSize);
        if (role == Role.CLIENT && !confirmed) {
            PacketHeader.write(buf, PacketHeader.TYPE_CONFIRM, remoteCid, packetNumber);
            ConfirmPrefix.write(buf, cookie, finalMessage);
        } else {
            PacketHeader.write(buf, PacketHeader.TYPE_SHORT, remoteCid, packetNumber);
        }
        buildingHeaderLength = buf.writerIndex();
        return buf;
    }

    /** Where the frames of the packet being built must end: the datagram size less the AEAD tag. */
    private int payloadLimit() {
        return maxDatagramSize - PacketProtection.TAG_LENGTH;
    }

    /**
     * Seals the packet {@link #startPacket} began. False, with the buffer released and the connection
     * closing, if the key is exhausted (RFC 9001 §6.6; key updates keep that from happening).
     */
    private boolean seal(ByteBuf buf, long packetNumber, long nowNs) {
        keys.beforeSeal(nowNs, loss == null ? -1 : loss.largestAcked());
        if (keys.seal(buf, buildingHeaderLength, packetNumber)) {
            return true;
        }
        buf.release();
        if (state == State.ESTABLISHED) {
            enterClosing(nowNs, TransportErrors.AEAD_LIMIT_REACHED, "packet key exhausted",
                    new CloseReason.ProtocolError(TransportErrors.AEAD_LIMIT_REACHED, "packet key exhausted"));
        } else {
            terminate(new CloseReason.ProtocolError(TransportErrors.AEAD_LIMIT_REACHED, "packet key exhausted"));
        }
        return false;
    }

    private boolean sendPathResponse(long nowNs, PacketSink sink) {
        InetSocketAddress to = paths.responseTo();
        long data = paths.takeResponse();
        if (!to.equals(remote) && (!to.equals(paths.candidate()) || paths.budget() < PATH_PACKET_MIN_SIZE)) {
            // Not ours to answer beyond the amplification limit; the peer will challenge again.
            return true;
        }
        return sendPathFrame(nowNs, sink, to, CF_PATH_RESPONSE, data);
    }

    private boolean sendPathChallenge(long nowNs, PacketSink sink) {
        if (paths.budget() < PATH_PACKET_MIN_SIZE) {
            // Wait for more bytes from the candidate to earn budget.
            return true;
        }
        long data = paths.nextChallenge(nowNs, rtt.probeTimeoutNs(peerMaxAckDelayNs()), random);
        return sendPathFrame(nowNs, sink, paths.candidate(), CF_PATH_CHALLENGE, data);
    }

    /** One packet with a PATH_CHALLENGE or PATH_RESPONSE, padded towards 1200 bytes as budget allows (§8.2.1). */
    private boolean sendPathFrame(long nowNs, PacketSink sink, InetSocketAddress to, int frame, long data) {
        long packetNumber = sentLog.nextPacketNumber();
        ByteBuf buf = startPacket(sink, packetNumber);
        if (frame == CF_PATH_CHALLENGE) {
            Frames.writePathChallenge(buf, data);
        } else {
            Frames.writePathResponse(buf, data);
        }
        int target = Math.min(TransportConfig.MIN_DATAGRAM_SIZE, maxDatagramSize);
        if (to.equals(paths.candidate())) {
            target = (int) Math.min(target, paths.budget());
        }
        target -= PacketProtection.TAG_LENGTH;
        if (buf.writerIndex() < target) {
            Frames.writePadding(buf, target - buf.writerIndex());
        }
        if (!seal(buf, packetNumber, nowNs)) {
            return false;
        }
        int size = buf.readableBytes();
        paths.onSent(to, size);
        SentPacket record = loss.newPacket(nowNs).size(size).ackEliciting(true).controlFrames(frame).appLimited(true);
        loss.onPacketSent(record);
        noteAckElicitingSent(nowNs);
        packetsSent++;
        return sink.send(buf, to);
    }

    /** Builds and sends one packet if anything is due and allowed; false when nothing (more) goes out now. */
    private boolean sendOne(long nowNs, PacketSink sink) {
        boolean probe = probesPending > 0;
        boolean ackDue = ackTracker.ackDueNow(nowNs);
        updateDataBlocked();
        boolean streamReady = sender.hasSendable();
        boolean wantEliciting = probe || pendingControl != 0 || streamReady;
        boolean mayElicit = false;
        long cwnd = congestion.congestionWindowBytes();
        if (wantEliciting) {
            if (probe) {
                mayElicit = true;
            } else if (loss.bytesInFlight() + maxDatagramSize <= cwnd) {
                // RFC 9002 §7.7: pace ack-eliciting packets; ACK-only packets are not paced.
                long earliestNs = pacer.earliestSendTimeNs(nowNs, maxDatagramSize, cwnd, rtt.smoothedRttNs(),
                        congestion.pacingRateBytesPerSecond());
                if (earliestNs > nowNs) {
                    pacingDeadlineNs = earliestNs;
                } else {
                    mayElicit = true;
                }
            }
        }
        if (!mayElicit && !ackDue) {
            return false;
        }
        long packetNumber = sentLog.nextPacketNumber();
        if (!PacketNumbers.canEncode(packetNumber, loss.largestAcked())) {
            return false;
        }
        ByteBuf buf = startPacket(sink, packetNumber);
        int limit = payloadLimit();

        long ackLargest = SentPacket.NO_ACK;
        boolean piggyback = mayElicit && ackTracker.hasNewAckInfo()
                && (ackTracker.ackDeadlineNs() != NO_DEADLINE || nowNs - lastAckSentNs >= rtt.smoothedRttNs());
        if (ackTracker.hasNewAckInfo() && (ackDue || piggyback)) {
            long delayMicros = ackTracker.fillAck(ackRanges, nowNs);
            int count = Frames.ackRangesThatFit(ackRanges, delayMicros, limit - buf.writerIndex());
            if (count > 0) {
                Frames.writeAck(buf, ackRanges, count, delayMicros);
                ackTracker.onAckSent(nowNs);
                ackLargest = ackRanges.largest();
                lastAckSentNs = nowNs;
            }
        } else if (ackDue) {
            ackTracker.onAckSent(nowNs);
        }

        int controlFrames = 0;
        chunk.clear();
        if (mayElicit) {
            controlFrames = writeControlFrames(buf, limit);
            int room = limit - buf.writerIndex();
            if (streamReady && room > Frames.MAX_STREAM_HEADER_LENGTH) {
                sender.emit(buf, room, chunk);
            }
            if (probe && controlFrames == 0 && !chunk.present()) {
                // RFC 9002 §6.2.4: no new data to probe with; resend the oldest unacknowledged data,
                // or else a PING.
                SentPacket oldest = sentLog.oldestOutstanding();
                if (oldest != null && oldest.hasStream()) {
                    sender.requeueForProbe(oldest.streamOffset(), oldest.streamLength(), oldest.streamFin());
                    sender.emit(buf, limit - buf.writerIndex(), chunk);
                }
                if (!chunk.present()) {
                    Frames.writePing(buf);
                    controlFrames |= CF_PING;
                }
            }
        }
        boolean eliciting = controlFrames != 0 || chunk.present();
        if (!eliciting && ackLargest == SentPacket.NO_ACK) {
            buf.release();
            return false;
        }
        if (!seal(buf, packetNumber, nowNs)) {
            return false;
        }
        int size = buf.readableBytes();
        if (eliciting) {
            SentPacket record = loss.newPacket(nowNs).size(size).ackEliciting(true).controlFrames(controlFrames)
                    .ackLargest(ackLargest).appLimited(!sender.hasSendable());
            if (chunk.present()) {
                record.stream(chunk.offset, chunk.length, chunk.fin);
                if (chunk.retransmission) {
                    packetsRetransmitted++;
                }
            }
            loss.onPacketSent(record);
            pacer.onPacketSent(nowNs, size, cwnd, rtt.smoothedRttNs(), congestion.pacingRateBytesPerSecond());
            noteAckElicitingSent(nowNs);
            if (probe) {
                probesPending--;
                loss.onProbeSent();
            }
        } else {
            sentLog.skip();
        }
        packetsSent++;
        if (!sink.send(buf, remote)) {
            flushAgainNs = nowNs + SEND_BLOCKED_BACKOFF_NS;
            return false;
        }
        return true;
    }

    private void noteAckElicitingSent(long nowNs) {
        lastAckElicitingSentNs = nowNs;
        // RFC 9000 §10.1: sending the first ack-eliciting packet after a receipt restarts the idle timer.
        if (!ackElicitingSentSinceReceive) {
            ackElicitingSentSinceReceive = true;
            idleStartNs = nowNs;
        }
    }

    /** Sets DATA_BLOCKED pending once per peer limit at which new data waits (RFC 9000 §4.1). */
    private void updateDataBlocked() {
        if (dataBlockedAt != sender.peerMaxData() && sender.blockedByFlowControl()) {
            dataBlockedAt = sender.peerMaxData();
            pendingControl |= CF_DATA_BLOCKED;
        }
    }

    private int writeControlFrames(ByteBuf buf, int limit) {
        int written = 0;
        // Protocol sketch, handshake step 3: every packet carries CONFIRM until the server acknowledges one.
        // The pending bit only asks for a packet when there is nothing else to carry it.
        if (role == Role.CLIENT && !confirmed) {
            // The CONFIRM prefix is in the header; a PING makes the packet ack-eliciting, so that the
            // server's acknowledgement ends the prefix.
            Frames.writePing(buf);
            written |= CF_CONFIRM;
        }
        pendingControl &= ~CF_CONFIRM;
        if ((pendingControl & CF_MAX_DATA) != 0 && limit - buf.writerIndex() > 9) {
            Frames.writeMaxData(buf, receiver.maxData());
            receiver.onMaxDataSent();
            pendingControl &= ~CF_MAX_DATA;
            written |= CF_MAX_DATA;
        }
        if ((pendingControl & CF_DATA_BLOCKED) != 0 && limit - buf.writerIndex() > 9) {
            pendingControl &= ~CF_DATA_BLOCKED;
            if (sender.blockedByFlowControl()) {
                Frames.writeDataBlocked(buf, sender.peerMaxData());
                written |= CF_DATA_BLOCKED;
            }
        }
        if ((pendingControl & CF_PING) != 0) {
            pendingControl &= ~CF_PING;
            if (written == 0) {
                Frames.writePing(buf);
                written |= CF_PING;
            }
        }
        return written;
    }

    /** What the loss detector reports about individual packets: forget or re-queue their frames. */
    private final class RecoveryListener implements LossDetector.Listener {
        @Override
        public void onPacketAcked(SentPacket packet) {
            confirmed = true;
            pendingControl &= ~CF_CONFIRM;
            if (packet.hasStream()) {
                sender.onAcked(packet.streamOffset(), packet.streamLength(), packet.streamFin());
            }
            if (packet.ackLargest() != SentPacket.NO_ACK) {
                ackTracker.onAckOfAckReceived(packet.ackLargest());
            }
        }

        @Override
        public void onPacketLost(SentPacket packet) {
            if (packet.hasStream()) {
                sender.onLost(packet.streamOffset(), packet.streamLength(), packet.streamFin());
            }
            int frames = packet.controlFrames();
            // RFC 9000 §13.3: send the current value again, not the lost packet's.
            if ((frames & CF_MAX_DATA) != 0) {
                pendingControl |= CF_MAX_DATA;
            }
            if ((frames & CF_DATA_BLOCKED) != 0) {
                dataBlockedAt = -1;
            }
            if ((frames & CF_CONFIRM) != 0 && !confirmed) {
                pendingControl |= CF_CONFIRM;
            }
            // PING and PATH_CHALLENGE/RESPONSE are not retransmitted (§13.3; path validation has its own timer).
        }
    }

    // ------------------------------------------------------------------------------------------------
    // State

    /** Returns and clears the events since the last call (bits {@code EVENT_*}). */
    public int pollEvents() {
        int e = events;
        events = 0;
        return e;
    }

    public Role role() {
        return role;
    }

    public State state() {
        return state;
    }

    /** Why the connection ended, or null while it is open. */
    public CloseReason closeReason() {
        return closeReason;
    }

    /** True once the connection is gone for good (after closing or draining): its owner can forget it. */
    public boolean isTerminated() {
        return state == State.CLOSED;
    }

    public long localCid() {
        return localCid;
    }

    /** The peer's connection id; 0 for a client before the handshake reply. */
    public long remoteCid() {
        return remoteCid;
    }

    /** The peer's address packets are sent to. */
    public InetSocketAddress remoteAddress() {
        return remote;
    }

    /** True once the peer acknowledged the end of the stream and everything before it. */
    public boolean allDataAcknowledged() {
        return sender.finishRequested() && sender.allAcked();
    }

    /** True once the peer's FIN arrived and every byte before it was read (or discarded). */
    public boolean inputFinished() {
        return receiver.finished();
    }

    /** True once the peer's FIN arrived (its data may still be unread). */
    public boolean finReceived() {
        return receiver.finReceived();
    }

    /** How many times the peer moved to a new address that was then validated (RFC 9000 §9). */
    public long pathsValidated() {
        return paths.validated();
    }

    /** Received datagrams that were malformed or not for this state, dropped. */
    public long malformedPackets() {
        return malformedPackets;
    }

    /** HANDSHAKE replies that did not authenticate (forged, damaged, or from a server without the expected key). */
    public long handshakeFailures() {
        return handshakeFailures;
    }

    /** Received packets that failed authentication and were dropped. */
    public long authenticationFailures() {
        return keys == null ? 0 : keys.authenticationFailures();
    }

    /** Received packets dropped before authentication: too short, or for discarded keys. */
    public long undecryptablePackets() {
        return keys == null ? 0 : keys.tooShort() + keys.keyUnavailable();
    }

    /** Authenticated packets dropped because their number was received before: duplicates and replays. */
    public long duplicatePackets() {
        return duplicatePackets;
    }

    /** Key updates this side made (RFC 9001 §6). */
    public long keyUpdates() {
        return keys == null ? 0 : keys.keyUpdates();
    }

    /**
     * The peer's 32-byte X25519 static key, authenticated by the handshake (a copy); null before the
     * handshake finished.
     */
    public byte[] peerStaticKey() {
        return peerStatic == null ? null : peerStatic.clone();
    }

    /** Stream bytes currently held for sending and retransmission. */
    public long sendBufferedBytes() {
        return sender.bufferedBytes();
    }

    /** Stream bytes currently held for reassembly and reading. */
    public long receiveBufferedBytes() {
        return receiver.bufferedBytes();
    }

    /** A snapshot of the counters. */
    public ConnectionStats stats() {
        return new ConnectionStats(sender.bytesSentOnce(), bytesDelivered, sender.bytesRetransmitted(), packetsSent,
                packetsReceived, loss == null ? 0 : loss.packetsLost(), packetsRetransmitted,
                loss == null ? 0 : loss.probesSent(), Duration.ofNanos(rtt.smoothedRttNs()),
                Duration.ofNanos(rtt.minRttNs()), congestion == null ? 0 : congestion.congestionWindowBytes(),
                loss == null ? 0 : loss.bytesInFlight(), remote, authenticationFailures() + undecryptablePackets(),
                duplicatePackets);
    }

    /** Stream bytes in packets declared lost (for tests bounding retransmission against loss). */
    public long streamBytesLost() {
        return sender.bytesLost();
    }

    @Override
    public String toString() {
        return "Connection{" + role + " " + Long.toHexString(localCid) + "->" + Long.toHexString(remoteCid) + " "
                + remote + " " + state + (closeReason == null ? "" : " " + closeReason) + "}";
    }
}
