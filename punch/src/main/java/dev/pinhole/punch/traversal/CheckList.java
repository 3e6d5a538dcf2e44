package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PairReport;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongPredicate;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * The check list of one session (RFC 8445 §6.1.2, simplified to one component and one data stream): the
 * sockets checks leave from, the candidate pairs and their order, the pace of checks (one every Ta, §14.2),
 * triggered checks (§6.1.4.2, §7.3.1.4), retransmission, the STUN transactions in flight, and the role,
 * which decides pair priorities and so the order (§6.1.2.3, §7.3.1.1).
 *
 * <p>A pair is retried with a doubling interval capped at {@link TraversalConfig#maxCheckRtoNs} until the
 * session gives up, because a hole opens only once both sides' packets have crossed their own NATs. The
 * hard side's unheard birthday pairs are on the list of pairs but not in the Ta-paced order: the
 * {@link BirthdayProbing} schedule sends their checks.
 */
final class CheckList {
    /** Bound on candidate pairs, so a flood of authenticated sources cannot grow memory without limit. */
    static final int MAX_PAIRS = 1024;
    private static final long NONE = Long.MAX_VALUE;

    private final LocalSocket main;
    private final IceMessages messages;
    private final TraversalConfig config;
    private final RandomGenerator random;
    private final Priming priming;
    private final NatProfile localNat;
    private final SessionCounters counters;
    /** Transaction ids the birthday probes use, which a check's id must not collide with. */
    private final LongPredicate probeTransaction;
    private final long tieBreaker;

    private final List<LocalSocket> sockets = new ArrayList<>();
    /** Pairs checked at Ta pace, in check order (predicted first by k, then by priority). */
    private final List<CandidatePair> ordered = new ArrayList<>();
    private final ArrayDeque<CandidatePair> triggered = new ArrayDeque<>();
    private final Long2ObjectHashMap<CandidatePair> pairsByTx = new Long2ObjectHashMap<>();
    private final Comparator<CandidatePair> checkOrder = Comparator
            .comparingInt((CandidatePair p) -> p.predictionIndex > 0 ? 0 : 1)
            .thenComparingInt(p -> p.predictionIndex)
            .thenComparing(p -> p.priority, Comparator.reverseOrder());

    private IceRole role;
    private int pairCount;
    private long nextSlotNs;
    private boolean lastSlotTriggered;
    /** The controlling side's nominated pair while its USE-CANDIDATE check is in flight, else null. */
    private CandidatePair nominating;
    private long nominationTxHigh;
    private int nominationTxLow;

    CheckList(LocalSocket main, IceRole role, long tieBreaker, IceMessages messages, TraversalConfig config,
            RandomGenerator random, Priming priming, NatProfile localNat, SessionCounters counters,
            LongPredicate probeTransaction, long startNs) {
        this.main = main;
        this.role = role;
        this.tieBreaker = tieBreaker;
        this.messages = messages;
        this.config = config;
        this.random = random;
        this.priming = priming;
        this.localNat = localNat;
        this.counters = counters;
        this.probeTransaction = probeTransaction;
        this.nextSlotNs = startNs;
        sockets.add(main);
    }

    LocalSocket main() {
        return main;
    }

    IceRole role() {
        return role;
    }

    long tieBreaker() {
        return tieBreaker;
    }

    /** Every socket checks leave from, the main socket first, then birthday sockets in the order opened. */
    List<LocalSocket> sockets() {
        return sockets;
    }

    /** The Ta-paced pairs in check order. */
    List<CandidatePair> ordered() {
        return ordered;
    }

    CandidatePair nominating() {
        return nominating;
    }

    // ------------------------------------------------------------------ pairs

    /**
     * RFC 8445 §6.1.2.2: pairs the main socket with every usable remote candidate of the same address family,
     * in the order the peer listed them.
     */
    void pairWith(List<Candidate> remoteCandidates, List<Candidate> localCandidates) {
        for (Candidate remote : remoteCandidates) {
            if (usable(remote.address(), localCandidates)) {
                add(main, remote.address(), origin(remote.type()), 0, false, remote.priority());
            }
        }
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

    /** Adds a birthday-probing socket; its pairs are added with {@link #add}. */
    LocalSocket addProbeSocket(DatagramEndpoint endpoint) {
        LocalSocket socket = new LocalSocket(sockets.size(), endpoint, endpoint.localAddress(), true,
                main.ipv4Priority, main.ipv6Priority);
        sockets.add(socket);
        return socket;
    }

    /**
     * The pair of {@code socket} and {@code remote}: the existing one if there is one, else a new one, put in
     * check order unless it is a birthday pair; null once there are {@link #MAX_PAIRS}.
     */
    CandidatePair add(LocalSocket socket, InetSocketAddress remote, PathOrigin origin, int predictionIndex,
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
        if (!birthdayPair) {
            insertInCheckOrder(pair);
        }
        return pair;
    }

    /**
     * A probe reached this birthday pair's socket: from now on the pair is checked like any other, at Ta pace
     * with the normal retransmission timer, not the slow birthday refresh.
     */
    void admitHeard(CandidatePair pair) {
        pair.heard = true;
        insertInCheckOrder(pair);
    }

    private void insertInCheckOrder(CandidatePair pair) {
        int at = 0;
        while (at < ordered.size() && checkOrder.compare(ordered.get(at), pair) <= 0) {
            at++;
        }
        ordered.add(at, pair);
    }

    /** A report of every Ta-paced pair, in check order. */
    List<PairReport> reports() {
        List<PairReport> reports = new ArrayList<>();
        for (CandidatePair p : ordered) {
            reports.add(p.report());
        }
        return reports;
    }

    // ------------------------------------------------------------------ roles

    /**
     * RFC 8445 §7.3.1.1: a request whose role attribute says the peer has our role. Returns false if the
     * request must be answered with 487 (we keep our role); true if there was no conflict or we switched.
     */
    boolean resolveRoleConflict(boolean peerControlling, long peerTieBreaker) {
        boolean conflict = peerControlling == (role == IceRole.CONTROLLING);
        if (!conflict) {
            return true;
        }
        counters.roleConflicts++;
        boolean weWin = Long.compareUnsigned(tieBreaker, peerTieBreaker) >= 0;
        if (role == IceRole.CONTROLLING) {
            if (weWin) {
                return false;
            }
            switchRole(IceRole.CONTROLLED);
        } else {
            if (!weWin) {
                return false;
            }
            switchRole(IceRole.CONTROLLING);
        }
        return true;
    }

    /** Takes the other role: pair priorities (§6.1.2.3) and with them the check order change. */
    void switchRole(IceRole newRole) {
        if (role == newRole) {
            return;
        }
        role = newRole;
        if (nominating != null && newRole == IceRole.CONTROLLED) {
            nominating = null;
        }
        for (LocalSocket s : sockets) {
            for (CandidatePair p : s.pairs.values()) {
                p.updatePriority(role);
            }
        }
        List<CandidatePair> reordered = new ArrayList<>(ordered);
        reordered.sort(checkOrder);
        ordered.clear();
        ordered.addAll(reordered);
    }

    // ------------------------------------------------------------------ scheduling

    /** No check goes out before {@code ns}: the pace slot moves there unless it is later already. */
    void holdSlotUntil(long ns) {
        nextSlotNs = Math.max(nextSlotNs, ns);
    }

    /** When the next Ta slot has a check to send: never before the slot, NONE if no check is due at all. */
    long wakeNs(long nowNs) {
        long due = nextCheckDueNs(nowNs);
        return due == NONE ? NONE : Math.max(due, nextSlotNs);
    }

    /** Sends the next check if the Ta slot has come and one is due; the next slot is Ta after it. */
    void onSlot(long nowNs) {
        if (nowNs < nextSlotNs) {
            return;
        }
        CandidatePair next = nextCheck(nowNs);
        if (next != null) {
            send(next, nowNs);
            nextSlotNs = nowNs + config.paceNs();
        }
    }

    /** Earliest time a check is ready to go: now if one is queued or waiting, else the next retransmission. */
    private long nextCheckDueNs(long nowNs) {
        if (!triggered.isEmpty()) {
            return nowNs;
        }
        if (nominating != null) {
            return nominating.nextRetryNs;
        }
        long due = NONE;
        for (CandidatePair p : ordered) {
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
        for (CandidatePair p : ordered) {
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
    void trigger(CandidatePair pair, boolean front) {
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

    // ------------------------------------------------------------------ nomination

    /**
     * Regular nomination (RFC 8445 §8.1.1): the next check on {@code best} carries USE-CANDIDATE, in a new
     * transaction whose success nominates the pair; it goes out in the next slot, ahead of everything else.
     */
    void nominate(CandidatePair best, long nowNs) {
        nominating = best;
        newTransaction(best);
        nominationTxHigh = best.txHigh;
        nominationTxLow = best.txLow;
        best.nextRetryNs = nowNs;
        trigger(best, true);
    }

    /** The response answers the USE-CANDIDATE check on {@code pair}, not an earlier plain one. */
    boolean answersNomination(CandidatePair pair, long txHigh, int txLow) {
        return pair == nominating && txHigh == nominationTxHigh && txLow == nominationTxLow;
    }

    /** A pair was selected: nothing more to check or nominate. */
    void stop() {
        nominating = null;
        triggered.clear();
    }

    // ------------------------------------------------------------------ transactions and sending

    /** Whether a check in flight (current or previous transaction of a pair) uses {@code txHigh}. */
    boolean usesTransaction(long txHigh) {
        return pairsByTx.containsKey(txHigh);
    }

    /** The pair whose current or previous check has this transaction id, or null. */
    CandidatePair pairOf(long txHigh, int txLow) {
        CandidatePair pair = pairsByTx.get(txHigh);
        if (pair != null && ((pair.hasTx && pair.txHigh == txHigh && pair.txLow == txLow)
                || (pair.hasPreviousTx && pair.previousTxHigh == txHigh && pair.previousTxLow == txLow))) {
            return pair;
        }
        return null;
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
        } while (pairsByTx.containsKey(high) || probeTransaction.test(high));
        p.txHigh = high;
        p.txLow = random.nextInt();
        p.hasTx = true;
        p.rtoNs = 0;
        pairsByTx.put(high, p);
    }

    /** Sends a check (RFC 8445 §7.2.4) on the pair and sets its retransmission time. */
    void send(CandidatePair p, long nowNs) {
        if (!p.hasTx) {
            newTransaction(p);
        }
        boolean useCandidate = p == nominating;
        int copies = PortPrediction.copiesOfCheck(p, localNat);
        priming.sendCheck(p, () -> {
            for (int i = 0; i < copies; i++) {
                long priority = p.socket.reflexivePriorityToward(p.remote.getAddress());
                ByteBuf check = messages.check(p.txHigh, p.txLow, priority, role, tieBreaker, useCandidate);
                p.socket.endpoint.send(check, p.remote);
            }
        });
        p.checksSent++;
        counters.checksSent++;
        if (p.firstCheckNs < 0) {
            p.firstCheckNs = nowNs;
        }
        if (p.state == CandidatePair.State.WAITING) {
            p.state = CandidatePair.State.IN_PROGRESS;
        }
        p.rtoNs = p.rtoNs == 0 ? config.initialCheckRtoNs() : Math.min(2 * p.rtoNs, config.maxCheckRtoNs());
        p.nextRetryNs = nowNs + (p.birthday && !p.heard ? config.birthdayRefreshNs() : p.rtoNs);
    }
}
