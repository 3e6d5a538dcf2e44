package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PairReport;
import dev.pinhole.punch.TraversalFailedException;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Hole punching toward one peer: ICE-style connectivity checks (RFC 8445, simplified to one component and
 * one data stream) on the node's socket, plus port prediction and birthday probing for NATs that plain
 * checks cannot cross. Sans-IO: it runs on a {@link DatagramEndpoint}'s clock and timers, sends through it,
 * and is fed the datagrams the node's demultiplexer routes to it ({@link #onDatagram}); it opens nothing,
 * starts no thread and never reads the wall clock, so the same code runs on the real event loop and in the
 * simulator.
 *
 * <p>This class is the coordinator: it holds the session's state (checking, connected, failed, closed), its
 * one timer and the entry points, and answers the peer's checks; the parts do the rest:
 * <ul>
 *   <li>{@link CheckList}: the pairs (§6.1.2), their order, one check every Ta (§14.2), triggered checks
 *       (§6.1.4.2), retransmission, and the role that decides priorities (§7.3.1.1);</li>
 *   <li>{@link PortPrediction}: pairs toward the ports a sequentially allocating peer NAT will map next;</li>
 *   <li>{@link BirthdayProbing}: extra sockets and random-port probes between a hard and an easy NAT;</li>
 *   <li>{@link Nomination}: which valid pair the controlling side nominates, and when (§8.1.1);</li>
 *   <li>{@link Priming}: low-TTL datagrams against the Linux conntrack trap;</li>
 *   <li>{@link IncomingCheck}: reading and validating the peer's checks (§7.3);</li>
 *   <li>{@link FailureReport}: the message that says why no pair worked and that a relay is needed.</li>
 * </ul>
 * Answers (§7.3): a valid request is answered at once with XOR-MAPPED-ADDRESS; an unknown source becomes a
 * peer-reflexive candidate (§7.3.1.3) and a triggered check goes back to it (§7.3.1.4). This is what makes
 * simultaneous punching and connection reversal work: whichever side's packet gets through first, the other
 * answers along the hole it opened. A pair is valid only when the response comes from the address the
 * request went to, on the socket it left from (§7.2.5.2.1). The controlled side nominates the pair a
 * USE-CANDIDATE request arrives on once its own check on that pair has succeeded (§7.3.1.5). Once connected,
 * a Binding indication every {@link TraversalConfig#keepaliveIntervalNs} keeps the path's NAT bindings
 * (§11) until {@link #close}. When the deadline passes with no nominated pair, the listener gets a
 * {@link TraversalFailedException}.
 *
 * <p>All methods must be called on the endpoint's event loop.
 */
public final class TraversalSession {
    /** Where the session is. */
    public enum State { CHECKING, CONNECTED, FAILED, CLOSED }

    private static final long NONE = Long.MAX_VALUE;

    private final DatagramEndpoint endpoint;
    private final Introduction introduction;
    private final TraversalConfig config;
    private final RandomGenerator random;
    private final Priming priming;
    private final TraversalListener listener;
    private final DatagramReceiver passThrough;
    private final IceMessages messages;
    private final StunReader reader = new StunReader();
    private final IncomingCheck request;
    private final TimerService timers;
    private final SessionCounters counters = new SessionCounters();
    private final ReflexiveAddresses reflexive;
    private final LocalSocket main;
    private final CheckList checks;
    private final Nomination nomination;
    private final BirthdayProbing birthday;

    private State state = State.CHECKING;
    private long startNs;
    private long deadlineNs;
    /** Checks wait for {@link #releaseChecks()}: priming is done, the peer may not have primed yet. */
    private boolean held;
    private long timerId = TimerService.NO_TIMER;
    private long timerAtNs = NONE;
    private CandidatePair selected;
    private long nextKeepaliveNs = NONE;
    private TraversalPath path;
    private TraversalFailedException failure;

    private TraversalSession(Builder b) {
        this.endpoint = b.endpoint;
        this.introduction = b.introduction;
        this.config = b.config;
        this.random = b.random;
        this.listener = b.listener;
        this.passThrough = b.passThrough;
        this.timers = endpoint.timers();
        this.messages = new IceMessages(endpoint.allocator(), introduction.local(), introduction.remote());
        this.request = new IncomingCheck(reader, messages);
        long tieBreaker = random.nextLong();
        this.startNs = endpoint.clock().nanoTime();
        this.deadlineNs = startNs + config.deadlineNs();
        this.held = b.holdChecks;

        this.main = LocalSocket.main(endpoint, b.localCandidates);
        this.reflexive = ReflexiveAddresses.of(b.localCandidates, introduction.peerCandidates());
        this.priming = new Priming(b.socketTtl, b.probeSockets, config, counters);
        this.checks = new CheckList(main, introduction.role(), tieBreaker, messages, config, random, priming,
                introduction.localNat(), counters, this::probeTransaction, startNs);
        checks.pairWith(introduction.peerCandidates(), b.localCandidates);
        PortPrediction.addPairs(checks, introduction, reflexive, config.predictionWindow());
        this.nomination = new Nomination(checks, config);
        this.birthday = new BirthdayProbing(introduction, reflexive, config, random, b.probeSockets, checks, nomination,
                messages, counters, this::probeSocketReceiver);
        birthday.plan(startNs);
    }

    /** Starts building a session toward the peer {@code introduction} names, from {@code endpoint}. */
    public static Builder builder(DatagramEndpoint endpoint, Introduction introduction, List<Candidate> localCandidates) {
        return new Builder(endpoint, introduction, localCandidates);
    }

    // ------------------------------------------------------------------ public API

    /**
     * Offers a datagram that arrived on the main socket. Returns true if it was this session's (a check,
     * a response to one of its checks, or a keepalive) and was handled; false if the caller should pass it
     * on. Malformed STUN is left to the caller to count. The buffer is only read, never retained or released.
     */
    public boolean onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        return receive(main, datagram, sender);
    }

    public State state() {
        return state;
    }

    /** This side's current role (a role conflict may have switched it, RFC 8445 §7.3.1.1). */
    public IceRole role() {
        return checks.role();
    }

    /** The nominated path once {@link State#CONNECTED}, else null. */
    public TraversalPath path() {
        return path;
    }

    /** The failure once {@link State#FAILED}, else null. */
    public TraversalFailedException failure() {
        return failure;
    }

    /** A report of every pair checked so far. */
    public List<PairReport> pairs() {
        List<PairReport> reports = checks.reports();
        birthday.addReports(reports);
        return reports;
    }

    public TraversalStats stats() {
        return counters.snapshot();
    }

    /**
     * Lets a session built with {@link Builder#holdChecks()} start checking. It primed when it started; the
     * deadline counts from now. Call it when the rendezvous reports that the peer has primed too, so that no
     * full check can reach the peer's NAT before the peer's own priming left it. Idempotent; ignored once the
     * session ended.
     */
    public void releaseChecks() {
        if (!held || state != State.CHECKING) {
            return;
        }
        held = false;
        long nowNs = endpoint.clock().nanoTime();
        startNs = nowNs;
        deadlineNs = nowNs + config.deadlineNs();
        checks.holdSlotUntil(nowNs);
        birthday.plan(startNs);
        arm(nowNs);
    }

    /**
     * Stops the session: no more checks or keepalives, the timer is cancelled and the birthday sockets are
     * closed, except the one that carries the selected path, which now belongs to the caller. Idempotent.
     */
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        cancelTimer();
        birthday.closeSockets(selected == null ? null : selected.socket);
    }

    // ------------------------------------------------------------------ setup

    /**
     * Primes right away, on the caller's turn of the loop, so that a caller holding the checks can tell the
     * rendezvous "primed" as soon as {@code start()} returns; then arms the first check.
     */
    private void start() {
        priming.primeMainSocket(checks, messages, random);
        arm(startNs);
    }

    private boolean probeTransaction(long txHigh) {
        return birthday.usesTransaction(txHigh);
    }

    /**
     * A probe socket's receiver: the session answers checks and keepalives on it, and passes the rest (the
     * transport's packets once the path runs over that socket) on, until the socket is closed.
     */
    private DatagramReceiver probeSocketReceiver(LocalSocket socket) {
        return (datagram, sender) -> {
            if (!receive(socket, datagram, sender) && passThrough != null && !socket.closed) {
                passThrough.onDatagram(datagram, sender);
            }
        };
    }

    // ------------------------------------------------------------------ timer

    private void arm(long nowNs) {
        long wake = nextWakeNs(nowNs);
        if (wake == timerAtNs && timerId != TimerService.NO_TIMER) {
            return;
        }
        cancelTimer();
        if (wake != NONE) {
            timerAtNs = wake;
            timerId = timers.schedule(wake, this::onTimer);
        }
    }

    private void cancelTimer() {
        if (timerId != TimerService.NO_TIMER) {
            timers.cancel(timerId);
            timerId = TimerService.NO_TIMER;
            timerAtNs = NONE;
        }
    }

    private long nextWakeNs(long nowNs) {
        if (state == State.CONNECTED) {
            return nextKeepaliveNs;
        }
        if (state != State.CHECKING || held) {
            return NONE;
        }
        long wake = Math.min(deadlineNs, checks.wakeNs(nowNs));
        wake = Math.min(wake, nomination.dueNs());
        return Math.min(wake, birthday.wakeNs());
    }

    private void onTimer(long nowNs, long firedId) {
        if (firedId != timerId) {
            return;
        }
        timerId = TimerService.NO_TIMER;
        timerAtNs = NONE;
        if (state == State.CONNECTED) {
            if (nowNs >= nextKeepaliveNs) {
                sendKeepalive(nowNs);
            }
        } else if (state == State.CHECKING) {
            if (held) {
                return; // releaseChecks() re-arms the timer
            }
            if (nowNs >= deadlineNs) {
                fail(nowNs);
                return;
            }
            birthday.tick(nowNs);
            checks.onSlot(nowNs);
            if (state == State.CHECKING) {
                nomination.maybeNominate(nowNs);
            }
        }
        arm(nowNs);
    }

    // ------------------------------------------------------------------ receiving

    private boolean receive(LocalSocket socket, ByteBuf datagram, InetSocketAddress sender) {
        if (state != State.CHECKING && state != State.CONNECTED) {
            return false;
        }
        if (!StunHeader.looksLikeStun(datagram)) {
            return false;
        }
        if (reader.wrap(datagram) != StunParseResult.OK
                || StunMessageType.method(reader.messageType()) != StunMessageType.METHOD_BINDING) {
            return false;
        }
        long nowNs = endpoint.clock().nanoTime();
        boolean consumed;
        StunClass messageClass = reader.messageClass();
        if (messageClass == StunClass.REQUEST) {
            consumed = onRequest(socket, sender, nowNs);
        } else if (messageClass == StunClass.INDICATION) {
            consumed = reader.hasFingerprint();
            if (consumed) {
                counters.keepalivesReceived++;
            }
        } else {
            consumed = onResponse(socket, sender, nowNs, messageClass == StunClass.SUCCESS_RESPONSE);
        }
        if (consumed && (state == State.CHECKING || state == State.CONNECTED)) {
            if (state == State.CHECKING) {
                nomination.maybeNominate(nowNs);
            }
            arm(nowNs);
        }
        return consumed;
    }

    /** RFC 8445 §7.3: answer a check, learn its source, trigger a check back, honour USE-CANDIDATE. */
    private boolean onRequest(LocalSocket socket, InetSocketAddress sender, long nowNs) {
        switch (request.read()) {
            case NOT_OURS:
                return false;
            case MALFORMED:
                counters.malformed++;
                return true;
            case BAD_INTEGRITY:
                counters.badIntegrity++;
                return true;
            case VALID:
                break;
        }
        if (!checks.resolveRoleConflict(request.peerControlling, request.tieBreaker)) {
            socket.endpoint.send(messages.roleConflict(request.txHigh, request.txLow), sender);
            counters.responsesSent++;
            return true;
        }
        socket.endpoint.send(messages.success(request.txHigh, request.txLow, sender), sender);
        counters.responsesSent++;
        counters.requestsReceived++;

        CandidatePair pair = socket.pairs.get(sender);
        if (pair == null && state == State.CHECKING) {
            // RFC 8445 §7.3.1.3: an unknown source is a peer-reflexive candidate.
            PathOrigin origin = birthday.probed(sender) ? PathOrigin.BIRTHDAY : PathOrigin.PEER_REFLEXIVE;
            pair = checks.add(socket, sender, origin, 0, false, request.priority);
            if (pair != null) {
                counters.peerReflexiveLearnt++;
            }
        }
        if (pair == null) {
            return true;
        }
        pair.requestsReceived++;
        if (state == State.CHECKING) {
            if (pair.birthday && !pair.heard) {
                checks.admitHeard(pair);
            }
            boolean nominated = request.useCandidate && checks.role() == IceRole.CONTROLLED;
            checks.trigger(pair, nominated);
            if (nominated) {
                if (pair.valid()) {
                    connect(pair, nowNs);
                } else {
                    pair.nominateOnSuccess = true;
                }
            }
        }
        return true;
    }

    private boolean onResponse(LocalSocket socket, InetSocketAddress sender, long nowNs, boolean success) {
        long txHigh = reader.transactionIdHigh();
        int txLow = reader.transactionIdLow();
        CandidatePair pair = checks.pairOf(txHigh, txLow);
        int probedPort = pair != null ? -1 : birthday.probedPort(txHigh, txLow);
        if (pair == null && probedPort < 0) {
            return false;
        }
        if (reader.verifyMessageIntegrity(messages.remoteKey()) != StunParseResult.OK) {
            counters.badIntegrity++;
            return true;
        }
        if (state != State.CHECKING) {
            return true; // late answers after nomination change nothing
        }
        if (pair == null) {
            pair = success ? birthday.onProbeHit(socket, sender, probedPort) : null;
            if (pair != null) {
                counters.responsesReceived++;
                pair.recordSuccess(reader.xorMappedAddress(), nowNs);
                if (pair.nominateOnSuccess && checks.role() == IceRole.CONTROLLED) {
                    connect(pair, nowNs);
                }
            }
            return true;
        }
        if (socket != pair.socket || !sender.equals(pair.remote)) {
            // RFC 8445 §7.2.5.2.1: a response from elsewhere means a NAT changed the mapping: not a valid pair.
            pair.nonSymmetric++;
            counters.nonSymmetric++;
            return true;
        }
        if (!success) {
            if (reader.errorCode() == IceMessages.ROLE_CONFLICT) {
                // RFC 8445 §7.2.5.1: switch role and check the pair again.
                pair.roleConflicts++;
                counters.roleConflicts++;
                checks.switchRole(checks.role().opposite());
                checks.trigger(pair, true);
            }
            return true;
        }
        counters.responsesReceived++;
        pair.recordSuccess(reader.xorMappedAddress(), nowNs);
        if (checks.answersNomination(pair, txHigh, txLow) && checks.role() == IceRole.CONTROLLING) {
            connect(pair, nowNs);
        } else if (pair.nominateOnSuccess && checks.role() == IceRole.CONTROLLED) {
            connect(pair, nowNs);
        }
        return true;
    }

    // ------------------------------------------------------------------ outcomes

    private void connect(CandidatePair pair, long nowNs) {
        if (state != State.CHECKING) {
            return;
        }
        state = State.CONNECTED;
        selected = pair;
        checks.stop();
        birthday.stop();
        birthday.closeSockets(pair.socket);
        nextKeepaliveNs = nowNs + config.keepaliveIntervalNs();
        path = new TraversalPath(pair.socket.endpoint, pair.socket.base, pair.mapped, pair.remote, pair.origin,
                checks.role(), nowNs - startNs, (int) Math.min(Integer.MAX_VALUE, counters.checksSent));
        listener.onConnected(path);
    }

    private void sendKeepalive(long nowNs) {
        selected.socket.endpoint.send(messages.indication(random.nextLong(), random.nextInt()), selected.remote);
        counters.keepalivesSent++;
        nextKeepaliveNs = nowNs + config.keepaliveIntervalNs();
    }

    private void fail(long nowNs) {
        state = State.FAILED;
        birthday.stop();
        birthday.closeSockets(null);
        cancelTimer();
        String message = FailureReport.message(introduction, reflexive, checks, counters, nowNs - startNs,
                nomination.bestValid() != null, birthday.summary(System.lineSeparator()), priming.primesMainSocket());
        failure = new TraversalFailedException(message, introduction.localNat(), introduction.peerNat(), pairs());
        listener.onFailed(failure);
    }

    // ------------------------------------------------------------------ builder

    /** Configures and starts a {@link TraversalSession}. */
    public static final class Builder {
        private final DatagramEndpoint endpoint;
        private final Introduction introduction;
        private final List<Candidate> localCandidates;
        private TraversalConfig config = TraversalConfig.DEFAULT;
        private RandomGenerator random;
        private SocketTtl socketTtl = SocketTtl.NONE;
        private ProbeSockets probeSockets = ProbeSockets.NONE;
        private TraversalListener listener;
        private DatagramReceiver passThrough;
        private boolean holdChecks;

        private Builder(DatagramEndpoint endpoint, Introduction introduction, List<Candidate> localCandidates) {
            this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
            this.introduction = Objects.requireNonNull(introduction, "introduction");
            this.localCandidates = List.copyOf(localCandidates);
        }

        public Builder config(TraversalConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * The source of transaction ids, tie-breaker and probe ports. Defaults to a {@link SecureRandom}
         * (transaction ids must be unpredictable, RFC 8489 §6); simulations pass a seeded stream.
         */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * The TTL hook for priming (docs/nat-traversal.md, "Priming against the Linux conntrack trap"); without
         * one, no priming datagrams are sent.
         */
        public Builder socketTtl(SocketTtl socketTtl) {
            this.socketTtl = Objects.requireNonNull(socketTtl, "socketTtl");
            return this;
        }

        /** Extra sockets for the hard side of birthday probing; without them this side never plays it. */
        public Builder probeSockets(ProbeSockets probeSockets) {
            this.probeSockets = Objects.requireNonNull(probeSockets, "probeSockets");
            return this;
        }

        /**
         * Prime at once (inside {@link #start()}) but send no check until
         * {@link TraversalSession#releaseChecks()}: for a rendezvous that synchronises the two sides after both
         * primed, the robust form of priming (without it, {@link TraversalConfig#primingWaitNs} is all the skew
         * between the sides that priming survives).
         * Checks from the peer are answered meanwhile.
         */
        public Builder holdChecks() {
            this.holdChecks = true;
            return this;
        }

        /**
         * Receives the datagrams that arrive on a birthday-probing socket and are not traversal's (the
         * transport's packets once the path runs over that socket). The session stays that socket's
         * receiver, to answer checks and keepalives, and passes the rest on.
         */
        public Builder passThrough(DatagramReceiver receiver) {
            this.passThrough = Objects.requireNonNull(receiver, "receiver");
            return this;
        }

        public Builder listener(TraversalListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Creates the session, sends the priming datagrams if there is a {@link SocketTtl}, and arms its first
         * timer: the first check goes out on the next loop turn (after {@link TraversalConfig#primingWaitNs}
         * when primed), or on {@link TraversalSession#releaseChecks()} with {@link #holdChecks()}. Call it on
         * the endpoint's event loop.
         */
        public TraversalSession start() {
            Objects.requireNonNull(listener, "listener");
            if (random == null) {
                random = new SecureRandom();
            }
            TraversalSession session = new TraversalSession(this);
            session.start();
            return session;
        }
    }
}
