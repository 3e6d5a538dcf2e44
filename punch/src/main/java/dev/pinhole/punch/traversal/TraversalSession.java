package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.rendezvous.NatProfile;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * Hole punching toward one peer: ICE-style connectivity checks (RFC 8445, simplified to one component and
 * one data stream) on the node's socket, plus port prediction and birthday probing for NATs that plain
 * checks cannot cross. Sans-IO in the DESIGN.md sense: it runs on a {@link DatagramEndpoint}'s clock and
 * timers, sends through it, and is fed the datagrams the node's demultiplexer routes to it
 * ({@link #onDatagram}); it opens nothing, starts no thread and never reads the wall clock, so the same code
 * runs on the real event loop and in the simulator.
 *
 * <h2>What it does</h2>
 * <ol>
 *   <li><b>Pairs</b> (§6.1.2): the local socket with every remote candidate of the same address family,
 *       ordered by pair priority (§6.1.2.3). Predicted ports, when the peer's NAT allocates in sequence,
 *       come first, in order of k (see below).</li>
 *   <li><b>Checks</b> (§7.2): one Binding request every Ta (§14.2) — a triggered check if one is queued
 *       (§6.1.4.2), else the next waiting pair, else the pair whose retransmission is due. A pair is retried
 *       with a doubling interval capped at {@link TraversalConfig#maxCheckRtoNs} until the deadline, because
 *       a hole opens only once both sides' packets have crossed their own NATs.</li>
 *   <li><b>Answers</b> (§7.3): a valid request is answered at once with XOR-MAPPED-ADDRESS; an unknown
 *       source becomes a peer-reflexive candidate (§7.3.1.3) and a triggered check goes back to it
 *       (§7.3.1.4). This is what makes simultaneous punching and connection reversal work: whichever side's
 *       packet gets through first, the other answers along the hole it opened.</li>
 *   <li><b>Validity</b> (§7.2.5.2.1): a pair is valid only when the response comes from the address the
 *       request went to, on the socket it left from.</li>
 *   <li><b>Nomination</b> (regular, §8.1.1): the controlling side picks the best valid pair, preferring one
 *       the peer's checks also arrived on (both directions), waits up to
 *       {@link TraversalConfig#nominationGraceNs} for a higher-priority pair still being checked, then sends
 *       a check with USE-CANDIDATE; its success nominates the pair. The controlled side nominates the pair a
 *       USE-CANDIDATE request arrives on once its own check on that pair has succeeded (§7.3.1.5).</li>
 *   <li><b>Keepalive</b> (§11): a Binding indication every {@link TraversalConfig#keepaliveIntervalNs} on
 *       the selected pair until {@link #close}.</li>
 *   <li><b>Port prediction</b>: when the peer's NAT maps per destination but allocates ports in sequence
 *       with a measured step δ, the peer's next mappings will be at {@code mapped port + k·δ}; those
 *       ports are checked first, in order of k = 1..W. When both NATs are like that, both sides send their
 *       k-th predicted check as their k-th new destination, so each NAT's k-th new mapping points at the
 *       other's k-th.</li>
 *   <li><b>Birthday probing</b>: when one NAT maps per destination with unpredictable ports (hard side) and
 *       the other maps independently of the destination (easy side), the hard side opens N extra sockets and
 *       checks the easy side's mapped address from each (N mappings at random ports), while the easy side
 *       probes random ports of the hard NAT's address. A probe that hits one of the N mappings is answered
 *       by that socket, and the pair becomes valid on both sides. See docs/nat-traversal.md for the
 *       success probability.</li>
 * </ol>
 * When the deadline passes with no nominated pair, the listener gets a {@link TraversalFailedException}
 * that names both NATs, every pair and its fate, and says that a relay is needed.
 *
 * <p>All methods must be called on the endpoint's event loop.
 */
public final class TraversalSession {
    /** Where the session is. */
    public enum State { CHECKING, CONNECTED, FAILED, CLOSED }

    /** Bound on candidate pairs, so a flood of authenticated sources cannot grow memory without limit. */
    static final int MAX_PAIRS = 1024;
    /**
     * Copies of the first check to a predicted port when our own NAT maps per destination. Prediction works
     * only if each side's k-th new mapping is the one toward the other's k-th predicted port; a first check
     * lost before it reaches our NAT would shift every later mapping by one. Three copies in a row keep the
     * order unless all three are lost (p^3: 0.1 % at 10 % loss).
     */
    static final int PREDICTED_FIRST_SEND_COPIES = 3;
    /** Pairs listed one by one in a failure message; the rest are counted by verdict. */
    static final int MAX_REPORTED_PAIRS = 24;
    private static final long NONE = Long.MAX_VALUE;
    private static final long MISSING_PROBE = -1L;
    private static final int RANDOM_PORT_ATTEMPTS = 32;

    private enum Birthday { NONE, EASY, HARD }

    private final DatagramEndpoint endpoint;
    private final Introduction introduction;
    private final TraversalConfig config;
    private final RandomGenerator random;
    private final SocketTtl socketTtl;
    private final ProbeSockets probeSockets;
    private final TraversalListener listener;
    private final DatagramReceiver passThrough;
    private final IceMessages messages;
    private final StunReader reader = new StunReader();
    private final TimerService timers;
    private final long tieBreaker;

    private final List<LocalSocket> sockets = new ArrayList<>();
    private final LocalSocket main;
    /** Pairs checked at Ta pace, in check order (predicted first by k, then by priority). */
    private final List<CandidatePair> checkList = new ArrayList<>();
    /** The hard side's birthday pairs, paced by the probing schedule. */
    private final List<CandidatePair> birthdayPairs = new ArrayList<>();
    private final ArrayDeque<CandidatePair> triggered = new ArrayDeque<>();
    private final Long2ObjectHashMap<CandidatePair> pairsByTx = new Long2ObjectHashMap<>();
    private final Comparator<CandidatePair> checkOrder = Comparator
            .comparingInt((CandidatePair p) -> p.predictionIndex > 0 ? 0 : 1)
            .thenComparingInt(p -> p.predictionIndex)
            .thenComparing(p -> p.priority, Comparator.reverseOrder());

    private final InetSocketAddress localReflexive;
    private final InetSocketAddress peerReflexive;
    private final boolean sameNat;

    private Role role;
    private State state = State.CHECKING;
    private long startNs;
    private long deadlineNs;
    /** Checks wait for {@link #releaseChecks()}: priming is done, the peer may not have primed yet. */
    private boolean held;
    private long nextSlotNs;
    private long timerId = TimerService.NO_TIMER;
    private long timerAtNs = NONE;
    private boolean lastSlotTriggered;
    private int pairCount;
    private CandidatePair nominating;
    private long nominationTxHigh;
    private int nominationTxLow;
    private CandidatePair selected;
    private long nextKeepaliveNs = NONE;
    private TraversalPath path;
    private TraversalFailedException failure;

    private final Birthday birthday;
    private long birthdayStartNs = NONE;
    private boolean birthdayRunning;
    private boolean birthdayDone;
    private long nextBirthdayNs = NONE;
    private InetAddress hardNatAddress;
    private InetSocketAddress easyTarget;
    private final BitSet probedPorts = new BitSet();
    private final Long2LongHashMap probeTx = new Long2LongHashMap(MISSING_PROBE);
    private int birthdayCursor;
    private String birthdayNote = "";

    private long checksSent;
    private long responsesSent;
    private long requestsReceived;
    private long responsesReceived;
    private long badIntegrity;
    private long malformed;
    private long nonSymmetric;
    private long roleConflicts;
    private long peerReflexiveLearnt;
    private long primingSent;
    private long probesSent;
    private long socketsOpened;
    private long keepalivesSent;
    private long keepalivesReceived;

    private TraversalSession(Builder b) {
        this.endpoint = b.endpoint;
        this.introduction = b.introduction;
        this.config = b.config;
        this.random = b.random;
        this.socketTtl = b.socketTtl;
        this.probeSockets = b.probeSockets;
        this.listener = b.listener;
        this.passThrough = b.passThrough;
        this.timers = endpoint.timers();
        this.messages = new IceMessages(endpoint.allocator(), introduction.local(), introduction.remote());
        this.role = introduction.role();
        this.tieBreaker = random.nextLong();
        this.startNs = endpoint.clock().nanoTime();
        this.deadlineNs = startNs + config.deadlineNs();
        this.held = b.holdChecks;
        this.nextSlotNs = startNs;

        long v4 = 0;
        long v6 = 0;
        InetSocketAddress ownReflexive = null;
        for (Candidate c : b.localCandidates) {
            if (c.type() == CandidateType.HOST) {
                if (c.address().getAddress() instanceof Inet4Address) {
                    v4 = Math.max(v4, c.priority());
                } else {
                    v6 = Math.max(v6, c.priority());
                }
            } else if (c.type() == CandidateType.SERVER_REFLEXIVE && ownReflexive == null) {
                ownReflexive = c.address();
            }
        }
        InetAddress bound = endpoint.localAddress().getAddress();
        long defaultHost = Candidate.priority(CandidateType.HOST, Candidate.MAX_LOCAL_PREFERENCE, Candidate.COMPONENT_ID);
        if (v4 == 0 && (bound instanceof Inet4Address || bound.isAnyLocalAddress())) {
            v4 = defaultHost; // the caller listed no IPv4 host candidate, but the socket sends IPv4
        }
        if (v6 == 0 && !(bound instanceof Inet4Address)) {
            v6 = defaultHost;
        }
        this.main = new LocalSocket(0, endpoint, endpoint.localAddress(), false, v4, v6);
        sockets.add(main);
        this.localReflexive = ownReflexive;
        this.peerReflexive = introduction.peerCandidates().stream()
                .filter(c -> c.type() == CandidateType.SERVER_REFLEXIVE)
                .max(Comparator.comparingLong(Candidate::priority))
                .map(Candidate::address)
                .orElse(null);
        this.sameNat = localReflexive != null && peerReflexive != null
                && localReflexive.getAddress().equals(peerReflexive.getAddress());

        for (Candidate remote : introduction.peerCandidates()) {
            if (usable(remote.address(), b.localCandidates)) {
                addPair(main, remote.address(), origin(remote.type()), 0, false, remote.priority());
            }
        }
        addPredictedPairs();
        this.birthday = birthdayRole();
        planBirthday();
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
    public Role role() {
        return role;
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
        List<PairReport> reports = new ArrayList<>();
        for (CandidatePair p : checkList) {
            reports.add(p.report());
        }
        for (CandidatePair p : birthdayPairs) {
            if (!p.heard && p.responses > 0) {
                reports.add(p.report());
            }
        }
        return reports;
    }

    public TraversalStats stats() {
        return new TraversalStats(checksSent, responsesSent, requestsReceived, responsesReceived, badIntegrity,
                malformed, nonSymmetric, roleConflicts, peerReflexiveLearnt, primingSent, probesSent, socketsOpened,
                keepalivesSent, keepalivesReceived);
    }

    /**
     * Lets a session built with {@link Builder#holdChecks()} start checking. It primed when it started; the
     * deadline counts from now. Call it when the rendezvous reports that
     * the peer has primed too, so that no full check can reach the peer's NAT before the peer's own priming
     * left it (LAB.md). Idempotent; ignored once the session ended.
     */
    public void releaseChecks() {
        if (!held || state != State.CHECKING) {
            return;
        }
        held = false;
        long nowNs = endpoint.clock().nanoTime();
        startNs = nowNs;
        deadlineNs = nowNs + config.deadlineNs();
        nextSlotNs = Math.max(nextSlotNs, nowNs);
        planBirthday();
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
        closeProbeSockets(selected == null ? null : selected.socket);
    }

    // ------------------------------------------------------------------ setup

    /**
     * Primes right away, on the caller's turn of the loop, so that a caller holding the checks can tell the
     * rendezvous "primed" as soon as {@code start()} returns; then arms the first check.
     */
    private void start() {
        prime();
        arm(startNs);
    }

    private boolean usable(InetSocketAddress remote, List<Candidate> local) {
        if (remote.isUnresolved() || remote.getPort() == 0) {
            return false;
        }
        InetAddress ip = remote.getAddress();
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
            return false;
        }
        if (main.priorityToward(remote) == 0) {
            return false; // RFC 8445 §6.1.2.2: only candidates of the same address family pair up
        }
        for (Candidate c : local) {
            if (c.address().equals(remote)) {
                return false; // our own address: in overlapping private ranges a peer's host candidate can be
            }
        }
        return true;
    }

    private static PathOrigin origin(CandidateType type) {
        return switch (type) {
            case HOST -> PathOrigin.HOST;
            case SERVER_REFLEXIVE -> PathOrigin.SERVER_REFLEXIVE;
            case PEER_REFLEXIVE -> PathOrigin.PEER_REFLEXIVE;
            case RELAYED -> PathOrigin.RELAYED;
        };
    }

    /**
     * Predicted ports of a sequentially allocating, endpoint-dependent peer NAT: mapped port + k·δ. Needed
     * only when our own side would not accept the peer's checks from its new port anyway: a public address,
     * or a NAT known to filter by address at most, lets them in and peer-reflexive learning does the rest.
     */
    private void addPredictedPairs() {
        NatProfile peer = introduction.peerNat();
        NatProfile local = introduction.localNat();
        if (!peer.predictable() || peerReflexive == null || sameNat) {
            return;
        }
        boolean weAdmitNewPorts = local.mapping() == NatProfile.Mapping.NO_NAT
                || (!local.endpointDependentMapping() && (local.filtering() == NatProfile.Filtering.ENDPOINT_INDEPENDENT
                        || local.filtering() == NatProfile.Filtering.ADDRESS_DEPENDENT));
        if (weAdmitNewPorts) {
            return;
        }
        int step = peer.portStep();
        for (int k = 1; k <= config.predictionWindow(); k++) {
            int port = peerReflexive.getPort() + k * step;
            if (port < 1 || port > 65_535) {
                break;
            }
            InetSocketAddress predicted = new InetSocketAddress(peerReflexive.getAddress(), port);
            if (!main.pairs.containsKey(predicted)) {
                long priority = Candidate.priority(CandidateType.SERVER_REFLEXIVE,
                        Math.max(0, Candidate.MAX_LOCAL_PREFERENCE - k), Candidate.COMPONENT_ID);
                addPair(main, predicted, PathOrigin.PREDICTED, k, false, priority);
            }
        }
    }

    private Birthday birthdayRole() {
        if (sameNat || peerReflexive == null || config.birthdaySockets() == 0 || config.birthdayMaxProbes() == 0) {
            return Birthday.NONE;
        }
        NatProfile local = introduction.localNat();
        NatProfile peer = introduction.peerNat();
        boolean localHard = local.endpointDependentMapping() && !local.predictable();
        boolean peerHard = peer.endpointDependentMapping() && !peer.predictable();
        if (localHard && peer.mapping() == NatProfile.Mapping.ENDPOINT_INDEPENDENT && probeSockets != ProbeSockets.NONE) {
            return Birthday.HARD;
        }
        if (peerHard && local.mapping() == NatProfile.Mapping.ENDPOINT_INDEPENDENT) {
            return Birthday.EASY;
        }
        return Birthday.NONE;
    }

    /**
     * Birthday probing is needed only when the easy side filters by address and port: with
     * endpoint-independent or address-dependent filtering the hard side's ordinary checks reach it and
     * peer-reflexive learning finds the path. Unknown filtering waits {@link TraversalConfig#birthdayDelayNs}
     * for the ordinary checks first.
     */
    private void planBirthday() {
        if (birthday == Birthday.NONE) {
            return;
        }
        NatProfile easy = birthday == Birthday.EASY ? introduction.localNat() : introduction.peerNat();
        switch (easy.filtering()) {
            case ADDRESS_AND_PORT_DEPENDENT -> birthdayStartNs = startNs;
            case UNKNOWN -> birthdayStartNs = startNs + config.birthdayDelayNs();
            default -> birthdayStartNs = NONE;
        }
        if (birthday == Birthday.EASY) {
            hardNatAddress = peerReflexive.getAddress();
        } else {
            easyTarget = peerReflexive;
        }
    }

    private CandidatePair addPair(LocalSocket socket, InetSocketAddress remote, PathOrigin origin, int predictionIndex,
            boolean birthdayPair, long remotePriority) {
        CandidatePair existing = socket.pairs.get(remote);
        if (existing != null) {
            return existing;
        }
        if (pairCount >= MAX_PAIRS) {
            return null;
        }
        CandidatePair pair = new CandidatePair(socket, remote, origin, predictionIndex, birthdayPair, remotePriority);
        pair.updatePriority(role);
        socket.pairs.put(remote, pair);
        pairCount++;
        if (birthdayPair) {
            birthdayPairs.add(pair);
        } else {
            insertInCheckOrder(pair);
        }
        return pair;
    }

    private void insertInCheckOrder(CandidatePair pair) {
        int at = 0;
        while (at < checkList.size() && checkOrder.compare(checkList.get(at), pair) <= 0) {
            at++;
        }
        checkList.add(at, pair);
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
        if (state != State.CHECKING) {
            return NONE;
        }
        if (held) {
            return NONE;
        }
        long wake = deadlineNs;
        long due = nextCheckDueNs(nowNs);
        if (due != NONE) {
            wake = Math.min(wake, Math.max(due, nextSlotNs));
        }
        wake = Math.min(wake, nominationDueNs());
        if (birthdayRunning) {
            wake = Math.min(wake, nextBirthdayNs);
        } else if (!birthdayDone) {
            wake = Math.min(wake, birthdayStartNs);
        }
        return wake;
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
            birthdayTick(nowNs);
            if (nowNs >= nextSlotNs) {
                CandidatePair next = nextCheck(nowNs);
                if (next != null) {
                    sendCheck(next, nowNs);
                    nextSlotNs = nowNs + config.paceNs();
                }
            }
            maybeNominate(nowNs);
        }
        arm(nowNs);
    }

    // ------------------------------------------------------------------ checks

    /** Earliest time a check is ready to go: now if one is queued or waiting, else the next retransmission. */
    private long nextCheckDueNs(long nowNs) {
        if (!triggered.isEmpty()) {
            return nowNs;
        }
        if (nominating != null) {
            return nominating.nextRetryNs;
        }
        long due = NONE;
        for (CandidatePair p : checkList) {
            if (p.state == CandidatePair.State.WAITING) {
                return nowNs;
            }
            if (p.state == CandidatePair.State.IN_PROGRESS) {
                due = Math.min(due, p.nextRetryNs);
            }
        }
        return due;
    }

    private CandidatePair nextCheck(long nowNs) {
        if (lastSlotTriggered && nominating == null) {
            // Triggered checks go first (RFC 8445 §6.1.4.2), but not every slot: two NATs with
            // endpoint-dependent mapping and open filtering answer each check from a new port, each answer
            // teaches a new peer-reflexive candidate, and an endless triggered queue would starve the pairs
            // the peer told us about.
            lastSlotTriggered = false;
            CandidatePair ordinary = nextOrdinary(nowNs);
            if (ordinary != null) {
                return ordinary;
            }
        }
        for (CandidatePair p = triggered.pollFirst(); p != null; p = triggered.pollFirst()) {
            p.triggeredQueued = false;
            if (p == nominating) {
                return p; // its USE-CANDIDATE transaction was created when nomination started
            }
            if (!p.valid()) {
                newTransaction(p);
                lastSlotTriggered = true;
                return p;
            }
        }
        if (nominating != null) {
            return nominating.nextRetryNs <= nowNs ? nominating : null;
        }
        return nextOrdinary(nowNs);
    }

    /** The next waiting pair in check order, else the pair whose retransmission is most overdue. */
    private CandidatePair nextOrdinary(long nowNs) {
        CandidatePair due = null;
        for (CandidatePair p : checkList) {
            if (p.state == CandidatePair.State.WAITING) {
                newTransaction(p);
                return p;
            }
            if (p.state == CandidatePair.State.IN_PROGRESS && p.nextRetryNs <= nowNs
                    && (due == null || p.nextRetryNs < due.nextRetryNs)) {
                due = p;
            }
        }
        return due;
    }

    /** RFC 8445 §7.3.1.4: a check from the peer triggers one of ours on the same pair, ahead of the others. */
    private void trigger(CandidatePair pair, boolean front) {
        if (pair.state == CandidatePair.State.SUCCEEDED && pair != nominating) {
            return;
        }
        if (pair.triggeredQueued) {
            if (front) {
                triggered.remove(pair);
                triggered.addFirst(pair);
            }
            return;
        }
        pair.triggeredQueued = true;
        if (front) {
            triggered.addFirst(pair);
        } else {
            triggered.addLast(pair);
        }
    }

    /** A new STUN transaction for the pair; the previous one stays answerable (RFC 8445 §7.3.1.4, cancellation). */
    private void newTransaction(CandidatePair p) {
        if (p.hasPreviousTx) {
            pairsByTx.remove(p.previousTxHigh);
        }
        if (p.hasTx) {
            p.previousTxHigh = p.txHigh;
            p.previousTxLow = p.txLow;
            p.hasPreviousTx = true;
        }
        long high;
        do {
            high = random.nextLong();
        } while (pairsByTx.containsKey(high) || probeTx.containsKey(high));
        p.txHigh = high;
        p.txLow = random.nextInt();
        p.hasTx = true;
        p.rtoNs = 0;
        pairsByTx.put(high, p);
    }

    private void sendCheck(CandidatePair p, long nowNs) {
        if (!p.hasTx) {
            newTransaction(p);
        }
        boolean useCandidate = p == nominating;
        int copies = p.predictionIndex > 0 && p.checksSent == 0 && introduction.localNat().endpointDependentMapping()
                ? PREDICTED_FIRST_SEND_COPIES : 1;
        SocketTtl primingTtl = p.birthday && !p.heard ? probeSockets.ttl(p.socket.endpoint) : SocketTtl.NONE;
        boolean primed = false;
        if (primingTtl != SocketTtl.NONE) {
            // An unheard hard-side check cannot pass the easy side's address-and-port filter anyway (that takes a
            // probe from there first); reaching it would only leave an unreplied conntrack entry there, which
            // makes the matching probe leave from another port (LAB.md's clash) and miss our mapping. So it
            // only has to open and refresh our own mapping: it dies at the first router.
            try {
                primingTtl.setTtl(config.primingTtl());
                primed = true;
            } catch (IOException e) {
                birthdayNote += " birthday priming failed (" + e.getMessage() + ");";
            }
        }
        try {
            for (int i = 0; i < copies; i++) {
                ByteBuf check = messages.check(p.txHigh, p.txLow, reflexivePriority(p), role, tieBreaker, useCandidate);
                p.socket.endpoint.send(check, p.remote);
            }
        } finally {
            if (primed) {
                try {
                    primingTtl.restore();
                } catch (IOException e) {
                    birthdayNote += " birthday TTL restore failed (" + e.getMessage() + ");";
                }
            }
        }
        p.checksSent++;
        checksSent++;
        if (p.firstCheckNs < 0) {
            p.firstCheckNs = nowNs;
        }
        if (p.state == CandidatePair.State.WAITING) {
            p.state = CandidatePair.State.IN_PROGRESS;
        }
        p.rtoNs = p.rtoNs == 0 ? config.initialCheckRtoNs() : Math.min(2 * p.rtoNs, config.maxCheckRtoNs());
        p.nextRetryNs = nowNs + (p.birthday && !p.heard ? config.birthdayRefreshNs() : p.rtoNs);
    }

    /**
     * RFC 8445 §7.1.1: PRIORITY is the priority a peer-reflexive candidate of ours would have: type
     * preference 110 with the local preference and component of the base.
     */
    private static long reflexivePriority(CandidatePair p) {
        long base = p.socket.priorityToward(p.remote);
        int localPreference = base == 0 ? Candidate.MAX_LOCAL_PREFERENCE : (int) ((base >>> 8) & 0xFFFF);
        return Candidate.priority(CandidateType.PEER_REFLEXIVE, localPreference, Candidate.COMPONENT_ID);
    }

    /** LAB.md's priming: one low-TTL datagram to every remote address, in check order, before the first check. */
    private void prime() {
        if (socketTtl == SocketTtl.NONE) {
            return;
        }
        try {
            socketTtl.setTtl(config.primingTtl());
            try {
                for (CandidatePair p : checkList) {
                    main.endpoint.send(messages.indication(random.nextLong(), random.nextInt()), p.remote);
                    primingSent++;
                }
            } finally {
                socketTtl.restore();
            }
            nextSlotNs = Math.max(nextSlotNs, endpoint.clock().nanoTime() + config.primingWaitNs());
        } catch (IOException e) {
            // Priming is an optimisation against one NAT implementation's behaviour; without it the checks
            // still run, and the failure report names the pairs.
            birthdayNote += " priming failed (" + e.getMessage() + ");";
        }
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
                keepalivesReceived++;
            }
        } else {
            consumed = onResponse(socket, sender, nowNs, messageClass == StunClass.SUCCESS_RESPONSE);
        }
        if (consumed && (state == State.CHECKING || state == State.CONNECTED)) {
            if (state == State.CHECKING) {
                maybeNominate(nowNs);
            }
            arm(nowNs);
        }
        return consumed;
    }

    private boolean startsWith(int at, byte[] prefix) {
        if (reader.attributeLength(at) < prefix.length) {
            return false;
        }
        ByteBuf buffer = reader.buffer();
        int value = reader.attributeValueIndex(at);
        for (int i = 0; i < prefix.length; i++) {
            if (buffer.getByte(value + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** RFC 8445 §7.3: answer a check, learn its source, trigger a check back, honour USE-CANDIDATE. */
    private boolean onRequest(LocalSocket socket, InetSocketAddress sender, long nowNs) {
        int username = reader.findAttribute(StunAttributeType.USERNAME);
        if (username == StunReader.NO_ATTRIBUTE || !startsWith(username, messages.localUfragPrefix())) {
            return false; // another session's or another protocol's Binding request on the shared socket
        }
        if (!reader.attributeValueEquals(username, messages.incomingUsername())
                || !reader.hasFingerprint() || !reader.hasMessageIntegrity()) {
            malformed++;
            return true;
        }
        if (reader.verifyMessageIntegrity(messages.localKey()) != StunParseResult.OK) {
            badIntegrity++;
            return true;
        }
        int priorityAt = reader.findAttribute(StunAttributeType.PRIORITY);
        int controllingAt = reader.findAttribute(StunAttributeType.ICE_CONTROLLING);
        int controlledAt = reader.findAttribute(StunAttributeType.ICE_CONTROLLED);
        int roleAt = controllingAt != StunReader.NO_ATTRIBUTE ? controllingAt : controlledAt;
        if (priorityAt == StunReader.NO_ATTRIBUTE || reader.attributeLength(priorityAt) != 4
                || roleAt == StunReader.NO_ATTRIBUTE || reader.attributeLength(roleAt) != 8) {
            malformed++; // RFC 8445 §7.1.1, §7.1.3: PRIORITY and one role attribute are mandatory
            return true;
        }
        long peerPriority = reader.uint32(priorityAt);
        long peerTieBreaker = reader.uint64(roleAt);
        boolean peerControlling = controllingAt != StunReader.NO_ATTRIBUTE;
        long txHigh = reader.transactionIdHigh();
        int txLow = reader.transactionIdLow();
        if (!resolveRoleConflict(peerControlling, peerTieBreaker)) {
            socket.endpoint.send(messages.roleConflict(txHigh, txLow), sender);
            responsesSent++;
            return true;
        }
        boolean useCandidate = reader.hasAttribute(StunAttributeType.USE_CANDIDATE);
        socket.endpoint.send(messages.success(txHigh, txLow, sender), sender);
        responsesSent++;
        requestsReceived++;

        CandidatePair pair = socket.pairs.get(sender);
        if (pair == null && state == State.CHECKING) {
            // RFC 8445 §7.3.1.3: an unknown source is a peer-reflexive candidate.
            PathOrigin origin = probed(sender) ? PathOrigin.BIRTHDAY : PathOrigin.PEER_REFLEXIVE;
            pair = addPair(socket, sender, origin, 0, false, peerPriority);
            if (pair != null) {
                peerReflexiveLearnt++;
            }
        }
        if (pair == null) {
            return true;
        }
        pair.requestsReceived++;
        if (state == State.CHECKING) {
            if (pair.birthday && !pair.heard) {
                // A probe hit this socket's mapping: from now on the pair is checked like any other, at Ta
                // pace with the normal retransmission timer, not the slow birthday refresh.
                pair.heard = true;
                insertInCheckOrder(pair);
            }
            boolean nominated = useCandidate && role == Role.CONTROLLED;
            trigger(pair, nominated);
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

    /**
     * RFC 8445 §7.3.1.1. Returns false if the request must be answered with 487; may switch our role.
     */
    private boolean resolveRoleConflict(boolean peerControlling, long peerTieBreaker) {
        boolean conflict = peerControlling == (role == Role.CONTROLLING);
        if (!conflict) {
            return true;
        }
        roleConflicts++;
        boolean weWin = Long.compareUnsigned(tieBreaker, peerTieBreaker) >= 0;
        if (role == Role.CONTROLLING) {
            if (weWin) {
                return false;
            }
            switchRole(Role.CONTROLLED);
        } else {
            if (!weWin) {
                return false;
            }
            switchRole(Role.CONTROLLING);
        }
        return true;
    }

    private void switchRole(Role newRole) {
        if (role == newRole) {
            return;
        }
        role = newRole;
        if (nominating != null && newRole == Role.CONTROLLED) {
            nominating = null;
        }
        for (LocalSocket s : sockets) {
            for (CandidatePair p : s.pairs.values()) {
                p.updatePriority(role);
            }
        }
        List<CandidatePair> reordered = new ArrayList<>(checkList);
        reordered.sort(checkOrder);
        checkList.clear();
        checkList.addAll(reordered);
    }

    private boolean probed(InetSocketAddress sender) {
        return birthday == Birthday.EASY && sender.getAddress().equals(hardNatAddress)
                && probedPorts.get(sender.getPort());
    }

    private boolean onResponse(LocalSocket socket, InetSocketAddress sender, long nowNs, boolean success) {
        long txHigh = reader.transactionIdHigh();
        int txLow = reader.transactionIdLow();
        CandidatePair pair = pairsByTx.get(txHigh);
        boolean pairTx = pair != null && ((pair.hasTx && pair.txHigh == txHigh && pair.txLow == txLow)
                || (pair.hasPreviousTx && pair.previousTxHigh == txHigh && pair.previousTxLow == txLow));
        long probe = pairTx ? MISSING_PROBE : probeTx.get(txHigh);
        boolean probeResponse = probe != MISSING_PROBE && (int) (probe >>> 32) == txLow;
        if (!pairTx && !probeResponse) {
            return false;
        }
        if (reader.verifyMessageIntegrity(messages.remoteKey()) != StunParseResult.OK) {
            badIntegrity++;
            return true;
        }
        if (state != State.CHECKING) {
            return true; // late answers after nomination change nothing
        }
        if (probeResponse) {
            onProbeResponse(socket, sender, (int) probe, nowNs, success);
            return true;
        }
        if (socket != pair.socket || !sender.equals(pair.remote)) {
            // RFC 8445 §7.2.5.2.1: a response from elsewhere means a NAT changed the mapping: not a valid pair.
            pair.nonSymmetric++;
            nonSymmetric++;
            return true;
        }
        if (!success) {
            if (reader.errorCode() == IceMessages.ROLE_CONFLICT) {
                // RFC 8445 §7.2.5.1: switch role and check the pair again.
                pair.roleConflicts++;
                roleConflicts++;
                switchRole(role.opposite());
                trigger(pair, true);
            }
            return true;
        }
        responsesReceived++;
        pair.responses++;
        InetSocketAddress mapped = reader.xorMappedAddress();
        if (mapped != null) {
            pair.mapped = mapped;
        }
        if (pair.state != CandidatePair.State.SUCCEEDED) {
            pair.state = CandidatePair.State.SUCCEEDED;
            pair.succeededNs = nowNs;
        }
        boolean nominationAnswered = pair == nominating && txHigh == nominationTxHigh && txLow == nominationTxLow;
        if (nominationAnswered && role == Role.CONTROLLING) {
            connect(pair, nowNs);
        } else if (pair.nominateOnSuccess && role == Role.CONTROLLED) {
            connect(pair, nowNs);
        }
        return true;
    }

    // ------------------------------------------------------------------ nomination

    private CandidatePair bestValid() {
        CandidatePair best = null;
        for (LocalSocket s : sockets) {
            for (CandidatePair p : s.pairs.values()) {
                if (p.valid() && (best == null || better(p, best))) {
                    best = p;
                }
            }
        }
        return best;
    }

    /** Both directions first (RFC 8445 §8.1.1's "first pair that succeeded in both directions"), then priority. */
    private static boolean better(CandidatePair a, CandidatePair b) {
        boolean aBoth = a.requestsReceived > 0;
        boolean bBoth = b.requestsReceived > 0;
        if (aBoth != bBoth) {
            return aBoth;
        }
        return a.priority > b.priority;
    }

    /** When the controlling side will nominate, if it is waiting for a better pair; NONE otherwise. */
    private long nominationDueNs() {
        if (role != Role.CONTROLLING || nominating != null) {
            return NONE;
        }
        CandidatePair best = bestValid();
        if (best == null) {
            return NONE;
        }
        return nominationReadyNs(best);
    }

    /**
     * The controlling side nominates {@code best} once what could still beat it had its chance: a check from
     * the peer on the same pair (both directions), and every higher-priority pair still being checked, each
     * given the grace period from its own first check (so one that has gone unanswered that long no longer
     * holds nomination up). It never waits longer than the grace period after {@code best} became valid.
     */
    private long nominationReadyNs(CandidatePair best) {
        long grace = config.nominationGraceNs();
        long latest = best.succeededNs + grace;
        long ready = best.requestsReceived > 0 ? best.succeededNs : latest;
        for (CandidatePair p : checkList) {
            if (p.pending() && p.priority > best.priority) {
                ready = Math.max(ready, p.firstCheckNs < 0 ? latest : p.firstCheckNs + grace);
            }
        }
        return Math.min(ready, latest);
    }

    private void maybeNominate(long nowNs) {
        if (state != State.CHECKING || role != Role.CONTROLLING || nominating != null) {
            return;
        }
        CandidatePair best = bestValid();
        if (best == null || nowNs < nominationReadyNs(best)) {
            return;
        }
        nominating = best;
        newTransaction(best);
        nominationTxHigh = best.txHigh;
        nominationTxLow = best.txLow;
        best.nextRetryNs = nowNs;
        trigger(best, true);
    }

    private void connect(CandidatePair pair, long nowNs) {
        if (state != State.CHECKING) {
            return;
        }
        state = State.CONNECTED;
        selected = pair;
        nominating = null;
        triggered.clear();
        stopBirthday();
        closeProbeSockets(pair.socket);
        nextKeepaliveNs = nowNs + config.keepaliveIntervalNs();
        path = new TraversalPath(pair.socket.endpoint, pair.socket.base, pair.mapped, pair.remote, pair.origin, role,
                nowNs - startNs, (int) Math.min(Integer.MAX_VALUE, checksSent));
        listener.onConnected(path);
    }

    private void sendKeepalive(long nowNs) {
        selected.socket.endpoint.send(messages.indication(random.nextLong(), random.nextInt()), selected.remote);
        keepalivesSent++;
        nextKeepaliveNs = nowNs + config.keepaliveIntervalNs();
    }

    // ------------------------------------------------------------------ birthday probing

    private void birthdayTick(long nowNs) {
        if (birthdayDone) {
            return;
        }
        if (!birthdayRunning) {
            if (nowNs < birthdayStartNs) {
                return;
            }
            if (bestValid() != null) {
                birthdayDone = true;
                birthdayNote += " birthday probing not needed: ordinary checks had found a pair;";
                return;
            }
            startBirthday(nowNs);
            if (!birthdayRunning) {
                return;
            }
        }
        if (nowNs < nextBirthdayNs) {
            return;
        }
        if (birthday == Birthday.EASY) {
            if (probesSent >= config.birthdayMaxProbes() || bestValid() != null) {
                stopBirthday();
                return;
            }
            sendProbe();
            nextBirthdayNs = nowNs + config.birthdayProbeIntervalNs();
        } else {
            CandidatePair next = nextBirthdayPair(nowNs);
            if (next != null) {
                sendCheck(next, nowNs);
                nextBirthdayNs = nowNs + config.birthdayProbeIntervalNs();
            } else {
                nextBirthdayNs = earliestBirthdayRetry();
            }
        }
    }

    private CandidatePair nextBirthdayPair(long nowNs) {
        int n = birthdayPairs.size();
        for (int i = 0; i < n; i++) {
            CandidatePair p = birthdayPairs.get((birthdayCursor + i) % n);
            if (!p.valid() && !p.heard && p.nextRetryNs <= nowNs) {
                birthdayCursor = (birthdayCursor + i + 1) % n;
                return p;
            }
        }
        return null;
    }

    private long earliestBirthdayRetry() {
        long due = NONE;
        for (CandidatePair p : birthdayPairs) {
            if (!p.valid() && !p.heard) {
                due = Math.min(due, p.nextRetryNs);
            }
        }
        return due;
    }

    private void startBirthday(long nowNs) {
        birthdayRunning = true;
        nextBirthdayNs = nowNs;
        if (birthday == Birthday.HARD) {
            for (int i = 0; i < config.birthdaySockets(); i++) {
                DatagramEndpoint extra;
                try {
                    extra = probeSockets.open();
                } catch (IOException e) {
                    birthdayNote += " opened " + i + " of " + config.birthdaySockets() + " birthday sockets ("
                            + e.getMessage() + ");";
                    break;
                }
                socketsOpened++;
                LocalSocket socket = new LocalSocket(sockets.size(), extra, extra.localAddress(), true,
                        main.ipv4Priority, main.ipv6Priority);
                sockets.add(socket);
                extra.receiver((datagram, sender) -> {
                    if (!receive(socket, datagram, sender) && passThrough != null && !socket.closed) {
                        passThrough.onDatagram(datagram, sender);
                    }
                });
                CandidatePair pair = addPair(socket, easyTarget, PathOrigin.BIRTHDAY, 0, true,
                        Candidate.priority(CandidateType.SERVER_REFLEXIVE, 0, Candidate.COMPONENT_ID));
                if (pair == null) {
                    break;
                }
                // All N mappings at once: every probe the easy side sends before they exist is wasted.
                sendCheck(pair, nowNs);
            }
            nextBirthdayNs = earliestBirthdayRetry();
            if (birthdayPairs.isEmpty()) {
                birthdayRunning = false;
                birthdayDone = true;
            }
        }
    }

    private void sendProbe() {
        int port = unprobedPort();
        if (port < 0) {
            stopBirthday();
            return;
        }
        probedPorts.set(port);
        long high;
        do {
            high = random.nextLong();
        } while (pairsByTx.containsKey(high) || probeTx.containsKey(high));
        int low = random.nextInt();
        probeTx.put(high, ((long) low << 32) | port);
        ByteBuf check = messages.check(high, low, reflexivePriority(main, hardNatAddress), role, tieBreaker, false);
        main.endpoint.send(check, new InetSocketAddress(hardNatAddress, port));
        probesSent++;
    }

    private static long reflexivePriority(LocalSocket socket, InetAddress remote) {
        long base = remote instanceof Inet4Address ? socket.ipv4Priority : socket.ipv6Priority;
        int localPreference = base == 0 ? Candidate.MAX_LOCAL_PREFERENCE : (int) ((base >>> 8) & 0xFFFF);
        return Candidate.priority(CandidateType.PEER_REFLEXIVE, localPreference, Candidate.COMPONENT_ID);
    }

    /** A random port of the probing range not probed yet (sampling without replacement), or -1. */
    private int unprobedPort() {
        int min = config.birthdayMinPort();
        int range = config.birthdayPortRange();
        for (int i = 0; i < RANDOM_PORT_ATTEMPTS; i++) {
            int port = min + random.nextInt(range);
            if (!probedPorts.get(port)) {
                return port;
            }
        }
        int start = random.nextInt(range);
        for (int i = 0; i < range; i++) {
            int port = min + (start + i) % range;
            if (!probedPorts.get(port)) {
                return port;
            }
        }
        return -1;
    }

    private void onProbeResponse(LocalSocket socket, InetSocketAddress sender, int port, long nowNs, boolean success) {
        if (!success) {
            return;
        }
        if (socket != main || sender.getPort() != port || !sender.getAddress().equals(hardNatAddress)) {
            nonSymmetric++;
            return;
        }
        CandidatePair pair = addPair(main, sender, PathOrigin.BIRTHDAY, 0, false,
                Candidate.priority(CandidateType.PEER_REFLEXIVE, 0, Candidate.COMPONENT_ID));
        if (pair == null) {
            return;
        }
        responsesReceived++;
        pair.responses++;
        InetSocketAddress mapped = reader.xorMappedAddress();
        if (mapped != null) {
            pair.mapped = mapped;
        }
        if (pair.state != CandidatePair.State.SUCCEEDED) {
            pair.state = CandidatePair.State.SUCCEEDED;
            pair.succeededNs = nowNs;
        }
        if (pair.nominateOnSuccess && role == Role.CONTROLLED) {
            connect(pair, nowNs);
        }
    }

    private void stopBirthday() {
        birthdayRunning = false;
        birthdayDone = true;
        nextBirthdayNs = NONE;
    }

    private void closeProbeSockets(LocalSocket keep) {
        for (LocalSocket s : sockets) {
            if (s.probe && s != keep && !s.closed) {
                s.closed = true;
                s.endpoint.receiver(null);
                probeSockets.close(s.endpoint);
            }
        }
    }

    // ------------------------------------------------------------------ failure

    private void fail(long nowNs) {
        state = State.FAILED;
        stopBirthday();
        closeProbeSockets(null);
        cancelTimer();
        failure = new TraversalFailedException(failureMessage(nowNs), introduction.localNat(), introduction.peerNat(),
                pairs());
        listener.onFailed(failure);
    }

    private String failureMessage(long nowNs) {
        String nl = System.lineSeparator();
        StringBuilder s = new StringBuilder();
        s.append("no direct path to '").append(introduction.peerName()).append("' after ")
                .append((nowNs - startNs) / 1_000_000).append(" ms; a relay (TURN) is needed.").append(nl)
                .append("  this side (").append(role).append("): ").append(introduction.localNat().describe())
                .append(localReflexive == null ? ", no server-reflexive address" : ", mapped as " + localReflexive)
                .append(nl)
                .append("  peer: ").append(introduction.peerNat().describe())
                .append(peerReflexive == null ? ", no server-reflexive address" : ", mapped as " + peerReflexive)
                .append(nl)
                .append("  ").append(explain()).append(nl);
        s.append("  pairs tried (").append(checkList.size()).append("):").append(nl);
        List<CandidatePair> listed = new ArrayList<>();
        for (CandidatePair p : checkList) {
            if (p.origin != PathOrigin.PEER_REFLEXIVE) {
                listed.add(p);
            }
        }
        for (CandidatePair p : checkList) {
            if (p.origin == PathOrigin.PEER_REFLEXIVE) {
                listed.add(p);
            }
        }
        Map<String, Integer> rest = new TreeMap<>();
        for (int i = 0; i < listed.size(); i++) {
            CandidatePair p = listed.get(i);
            if (i < MAX_REPORTED_PAIRS) {
                s.append("    ").append(p.report()).append(nl);
            } else {
                rest.merge(p.origin + ": " + p.verdict().replaceAll("[0-9]+", "n"), 1, Integer::sum);
            }
        }
        if (!rest.isEmpty()) {
            s.append("    and ").append(listed.size() - MAX_REPORTED_PAIRS).append(" more:").append(nl);
            rest.forEach((verdict, count) -> s.append("      ").append(count).append(" x ").append(verdict).append(nl));
        }
        if (birthday == Birthday.EASY) {
            s.append("  birthday probing: ").append(probesSent).append(" probes to random ports of ")
                    .append(hardNatAddress == null ? "?" : hardNatAddress.getHostAddress())
                    .append(", no hit").append(nl);
        } else if (birthday == Birthday.HARD) {
            long heard = birthdayPairs.stream().filter(p -> p.requestsReceived > 0).count();
            s.append("  birthday probing: ").append(socketsOpened).append(" extra sockets checked ")
                    .append(easyTarget).append(", ").append(heard).append(" were reached by a probe").append(nl);
        }
        if (!birthdayNote.isEmpty()) {
            s.append(" ").append(birthdayNote.trim()).append(nl);
        }
        s.append("  checks sent ").append(checksSent).append(", peer checks received ").append(requestsReceived)
                .append(", responses received ").append(responsesReceived);
        if (badIntegrity > 0) {
            s.append(", ").append(badIntegrity).append(" failed MESSAGE-INTEGRITY (credentials mismatch?)");
        }
        return s.toString();
    }

    /** Why these two NATs defeat hole punching, in RFC 4787 terms. */
    private String explain() {
        NatProfile local = introduction.localNat();
        NatProfile peer = introduction.peerNat();
        if (bestValid() != null) {
            return "some pairs worked but nomination did not complete before the deadline (USE-CANDIDATE checks lost?)";
        }
        if (local.endpointDependentMapping() && peer.endpointDependentMapping()) {
            return "both NATs map each destination to a new port (endpoint-dependent mapping): neither side can "
                    + "tell the other where to send, and prediction needs sequential ports on both";
        }
        if (local.endpointDependentMapping() || peer.endpointDependentMapping()) {
            return "one NAT maps each destination to a new port and the other filters by address and port; "
                    + "port prediction and birthday probing did not find the new port in time";
        }
        if (requestsReceived == 0 && responsesReceived == 0) {
            return "no check crossed in either direction: a firewall may block UDP, or the peer is not running"
                    + (socketTtl == SocketTtl.NONE ? "; between Linux NATs an unprimed simultaneous punch hits the "
                            + "conntrack clash (give the session a SocketTtl to prime)" : "");
        }
        return "checks crossed only in one direction";
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

        /** The TTL hook for priming (LAB.md); without one, no priming datagrams are sent. */
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
         * primed, the robust form of LAB.md's priming (without
         * it, {@link TraversalConfig#primingWaitNs} is all the skew between the sides that priming survives).
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
