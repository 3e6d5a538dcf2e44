package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PairReport;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2LongHashMap;

/**
 * Birthday probing, for the NAT pairs plain checks and port prediction cannot cross: one NAT maps each
 * destination to a new, unpredictable port (RFC 4787 §4.1 endpoint-dependent mapping, §4.2 random port
 * assignment: the hard side) and the other maps independently of the destination (the easy side). The hard
 * side opens N extra sockets and checks the easy side's mapped address from each, which leaves N mappings
 * at random ports of the hard NAT; the easy side probes random ports of the hard NAT's address. A probe that
 * hits one of the N mappings is answered by that socket, and the pair becomes valid on both sides. See
 * docs/nat-traversal.md for the success probability ({@link BirthdayOdds}).
 *
 * <p>It is needed only when the easy side filters by address and port (RFC 4787 §5): with
 * endpoint-independent or address-dependent filtering the hard side's ordinary checks reach it and
 * peer-reflexive learning finds the path. Unknown filtering waits {@link TraversalConfig#birthdayDelayNs}
 * for the ordinary checks first.
 */
final class BirthdayProbing {
    /** Which part this side plays. */
    enum Side { NONE, EASY, HARD }

    private static final long NONE = Long.MAX_VALUE;
    private static final long MISSING_PROBE = -1L;
    private static final int RANDOM_PORT_ATTEMPTS = 32;

    private final Side side;
    private final Introduction introduction;
    private final InetSocketAddress peerReflexive;
    private final TraversalConfig config;
    private final RandomGenerator random;
    private final ProbeSockets probeSockets;
    private final CheckList checks;
    private final Nomination nomination;
    private final IceMessages messages;
    private final SessionCounters counters;
    /** The receiver to install on a new probe socket: the session's, which hands it what is not traversal's. */
    private final Function<LocalSocket, DatagramReceiver> receiverFor;

    /** The hard side's pairs, one per extra socket, paced by the probing schedule until a probe reaches them. */
    private final List<CandidatePair> pairs = new ArrayList<>();
    /** The easy side's probed ports of the hard NAT, so that none is probed twice. */
    private final BitSet probedPorts = new BitSet();
    /** The easy side's probes in flight: transaction id high bits to (low bits, port). */
    private final Long2LongHashMap probeTx = new Long2LongHashMap(MISSING_PROBE);
    private long startNs = NONE;
    private boolean running;
    private boolean done;
    private long nextNs = NONE;
    private InetAddress hardNatAddress;
    private InetSocketAddress easyTarget;
    private int cursor;

    BirthdayProbing(Introduction introduction, ReflexiveAddresses reflexive, TraversalConfig config,
            RandomGenerator random, ProbeSockets probeSockets, CheckList checks, Nomination nomination,
            IceMessages messages, SessionCounters counters, Function<LocalSocket, DatagramReceiver> receiverFor) {
        this.introduction = introduction;
        this.peerReflexive = reflexive.peer();
        this.config = config;
        this.random = random;
        this.probeSockets = probeSockets;
        this.checks = checks;
        this.nomination = nomination;
        this.messages = messages;
        this.counters = counters;
        this.receiverFor = receiverFor;
        this.side = side(introduction, reflexive, config, probeSockets);
    }

    private static Side side(Introduction introduction, ReflexiveAddresses reflexive, TraversalConfig config,
            ProbeSockets probeSockets) {
        if (reflexive.sameNat() || reflexive.peer() == null || config.birthdaySockets() == 0
                || config.birthdayMaxProbes() == 0) {
            return Side.NONE;
        }
        NatProfile local = introduction.localNat();
        NatProfile peer = introduction.peerNat();
        boolean localHard = local.endpointDependentMapping() && !local.predictable();
        boolean peerHard = peer.endpointDependentMapping() && !peer.predictable();
        if (localHard && peer.mapping() == NatProfile.Mapping.ENDPOINT_INDEPENDENT && probeSockets != ProbeSockets.NONE) {
            return Side.HARD;
        }
        if (peerHard && local.mapping() == NatProfile.Mapping.ENDPOINT_INDEPENDENT) {
            return Side.EASY;
        }
        return Side.NONE;
    }

    /** Schedules the start relative to the session's start (again when held checks are released). */
    void plan(long sessionStartNs) {
        if (side == Side.NONE) {
            return;
        }
        NatProfile easy = side == Side.EASY ? introduction.localNat() : introduction.peerNat();
        switch (easy.filtering()) {
            case ADDRESS_AND_PORT_DEPENDENT -> startNs = sessionStartNs;
            case UNKNOWN -> startNs = sessionStartNs + config.birthdayDelayNs();
            default -> startNs = NONE;
        }
        if (side == Side.EASY) {
            hardNatAddress = peerReflexive.getAddress();
        } else {
            easyTarget = peerReflexive;
        }
    }

    /** When probing next needs the timer: its start, or its next probe or socket check; NONE if never. */
    long wakeNs() {
        if (running) {
            return nextNs;
        }
        return done ? NONE : startNs;
    }

    /** Starts probing when it is time and still needed, then sends the probe or socket check that is due. */
    void tick(long nowNs) {
        if (done) {
            return;
        }
        if (!running) {
            if (nowNs < startNs) {
                return;
            }
            if (nomination.bestValid() != null) {
                done = true;
                counters.note("birthday probing not needed: ordinary checks had found a pair");
                return;
            }
            start(nowNs);
            if (!running) {
                return;
            }
        }
        if (nowNs < nextNs) {
            return;
        }
        if (side == Side.EASY) {
            if (counters.probesSent >= config.birthdayMaxProbes() || nomination.bestValid() != null) {
                stop();
                return;
            }
            sendProbe();
            nextNs = nowNs + config.birthdayProbeIntervalNs();
        } else {
            CandidatePair next = nextPair(nowNs);
            if (next != null) {
                checks.send(next, nowNs);
                nextNs = nowNs + config.birthdayProbeIntervalNs();
            } else {
                nextNs = earliestRetry();
            }
        }
    }

    private CandidatePair nextPair(long nowNs) {
        int n = pairs.size();
        for (int i = 0; i < n; i++) {
            CandidatePair p = pairs.get((cursor + i) % n);
            if (!p.valid() && !p.heard && p.nextRetryNs <= nowNs) {
                cursor = (cursor + i + 1) % n;
                return p;
            }
        }
        return null;
    }

    private long earliestRetry() {
        long due = NONE;
        for (CandidatePair p : pairs) {
            if (!p.valid() && !p.heard) {
                due = Math.min(due, p.nextRetryNs);
            }
        }
        return due;
    }

    private void start(long nowNs) {
        running = true;
        nextNs = nowNs;
        if (side == Side.HARD) {
            for (int i = 0; i < config.birthdaySockets(); i++) {
                DatagramEndpoint extra;
                try {
                    extra = probeSockets.open();
                } catch (IOException e) {
                    counters.note("opened " + i + " of " + config.birthdaySockets() + " birthday sockets ("
                            + e.getMessage() + ")");
                    break;
                }
                counters.socketsOpened++;
                LocalSocket socket = checks.addProbeSocket(extra);
                extra.receiver(receiverFor.apply(socket));
                CandidatePair pair = checks.add(socket, easyTarget, PathOrigin.BIRTHDAY, 0, true,
                        Candidate.priority(CandidateType.SERVER_REFLEXIVE, 0, Candidate.COMPONENT_ID));
                if (pair == null) {
                    break;
                }
                pairs.add(pair);
                // All N mappings at once: every probe the easy side sends before they exist is wasted.
                checks.send(pair, nowNs);
            }
            nextNs = earliestRetry();
            if (pairs.isEmpty()) {
                running = false;
                done = true;
            }
        }
    }

    private void sendProbe() {
        int port = unprobedPort();
        if (port < 0) {
            stop();
            return;
        }
        probedPorts.set(port);
        long high;
        do {
            high = random.nextLong();
        } while (checks.usesTransaction(high) || probeTx.containsKey(high));
        int low = random.nextInt();
        probeTx.put(high, ((long) low << 32) | port);
        LocalSocket main = checks.main();
        ByteBuf check = messages.check(high, low, main.reflexivePriorityToward(hardNatAddress), checks.role(),
                checks.tieBreaker(), false);
        main.endpoint.send(check, new InetSocketAddress(hardNatAddress, port));
        counters.probesSent++;
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

    /** Whether a probe in flight uses {@code txHigh}. */
    boolean usesTransaction(long txHigh) {
        return probeTx.containsKey(txHigh);
    }

    /** The port a probe with this transaction id went to, or -1 if it is not one of our probes. */
    int probedPort(long txHigh, int txLow) {
        long probe = probeTx.get(txHigh);
        return probe != MISSING_PROBE && (int) (probe >>> 32) == txLow ? (int) probe : -1;
    }

    /** The easy side probed {@code sender}: a check from it is the hard side answering a probe's hit. */
    boolean probed(InetSocketAddress sender) {
        return side == Side.EASY && sender.getAddress().equals(hardNatAddress) && probedPorts.get(sender.getPort());
    }

    /**
     * A success response to the probe that went to {@code port}: a hit, and the pair toward it, which the
     * caller records as succeeded; null if the response is not valid (RFC 8445 §7.2.5.2.1: it must come from
     * the port probed, on the main socket) or the pair limit is reached.
     */
    CandidatePair onProbeHit(LocalSocket socket, InetSocketAddress sender, int port) {
        if (socket != checks.main() || sender.getPort() != port || !sender.getAddress().equals(hardNatAddress)) {
            counters.nonSymmetric++;
            return null;
        }
        return checks.add(socket, sender, PathOrigin.BIRTHDAY, 0, false,
                Candidate.priority(CandidateType.PEER_REFLEXIVE, 0, Candidate.COMPONENT_ID));
    }

    void stop() {
        running = false;
        done = true;
        nextNs = NONE;
    }

    /** Closes the extra sockets, except {@code keep} (the one a selected path runs over; null for none). */
    void closeSockets(LocalSocket keep) {
        for (LocalSocket s : checks.sockets()) {
            if (s.probe && s != keep && !s.closed) {
                s.closed = true;
                s.endpoint.receiver(null);
                probeSockets.close(s.endpoint);
            }
        }
    }

    /** Reports of the hard side's pairs that no probe reached but that got a response all the same. */
    void addReports(List<PairReport> reports) {
        for (CandidatePair p : pairs) {
            if (!p.heard && p.responses > 0) {
                reports.add(p.report());
            }
        }
    }

    /** The failure report's line about probing, ending in {@code nl}; empty if this side did not probe. */
    String summary(String nl) {
        if (side == Side.EASY) {
            return "  birthday probing: " + counters.probesSent + " probes to random ports of "
                    + (hardNatAddress == null ? "?" : hardNatAddress.getHostAddress()) + ", no hit" + nl;
        }
        if (side == Side.HARD) {
            long heard = pairs.stream().filter(p -> p.requestsReceived > 0).count();
            return "  birthday probing: " + counters.socketsOpened + " extra sockets checked " + easyTarget + ", "
                    + heard + " were reached by a probe" + nl;
        }
        return "";
    }
}
