package dev.pinhole.punch.traversal;

/**
 * Timers and limits of one traversal session. Defaults come from RFC 8445 where it has one; the rest
 * are Pinhole's, with the reasoning next to each.
 *
 * <p>Immutable; the {@code with...} methods return a modified copy.
 *
 * @param paceNs                 RFC 8445 §14.2 Ta: the minimum gap between two connectivity checks this
 *                               side sends (ordinary, triggered and retransmitted alike)
 * @param deadlineNs             how long the session checks before it gives up and reports that a relay
 *                               is needed
 * @param initialCheckRtoNs      wait before a pair's first retransmission
 * @param maxCheckRtoNs          cap of the doubling retransmission interval of one pair; kept short so a
 *                               pair keeps punching through the whole deadline
 * @param nominationGraceNs      how long the controlling side waits, after its first valid pair, for a
 *                               higher-priority pair still being checked (host pairs over reflexive ones)
 * @param keepaliveIntervalNs    RFC 8445 §11 Tr: interval of Binding indications on the selected pair
 * @param predictionWindow       W: how many predicted ports (mapped port + k·step, k = 1..W) are checked
 *                               for a peer whose NAT allocates ports in sequence
 * @param birthdaySockets        N: sockets the endpoint-dependent ("hard") side opens for birthday probing
 * @param birthdayProbeIntervalNs gap between two birthday probes of the easy side, and between two
 *                               refreshes of the hard side's sockets (their first checks go out at once)
 * @param birthdayMaxProbes      probes the easy side sends at most
 * @param birthdayRefreshNs      how often each hard-side socket re-sends its check (losses, mapping refresh)
 * @param birthdayDelayNs        how long to wait for ordinary checks before probing when the easy side's
 *                               filtering is unknown (when it is known to be address-and-port-dependent,
 *                               probing starts at once; when it is more permissive, never)
 * @param birthdayMinPort        lowest port the easy side probes
 * @param birthdayMaxPort        highest port the easy side probes
 * @param primingTtl             IP TTL of the priming datagrams sent before the checks when a
 *                               {@link SocketTtl} hook is given (2 passes one's own NAT and dies at the
 *                               next router)
 * @param primingWaitNs          wait between priming and the first check: the skew between the two sides'
 *                               introductions that priming tolerates (the peer must have primed before our
 *                               first full check reaches its NAT)
 */
public record TraversalConfig(
        long paceNs,
        long deadlineNs,
        long initialCheckRtoNs,
        long maxCheckRtoNs,
        long nominationGraceNs,
        long keepaliveIntervalNs,
        int predictionWindow,
        int birthdaySockets,
        long birthdayProbeIntervalNs,
        int birthdayMaxProbes,
        long birthdayRefreshNs,
        long birthdayDelayNs,
        int birthdayMinPort,
        int birthdayMaxPort,
        int primingTtl,
        long primingWaitNs) {

    /** RFC 8445 §14.2: "Ta ... the default value is 50 ms". */
    public static final long DEFAULT_PACE_NS = 50_000_000L;
    /** Pinhole: ten seconds of checking before reporting that a relay is needed. */
    public static final long DEFAULT_DEADLINE_NS = 10_000_000_000L;
    /**
     * RFC 8445 §14.3 gives RTO = MAX(500 ms, N × Ta × pairs) for a full check list; Pinhole's lists are
     * short, so it starts lower (200 ms) and doubles.
     */
    public static final long DEFAULT_INITIAL_CHECK_RTO_NS = 200_000_000L;
    /** Doubling stops at 1 s: punching needs steady retries through the deadline (conntrack trap: {@link SocketTtl}). */
    public static final long DEFAULT_MAX_CHECK_RTO_NS = 1_000_000_000L;
    /**
     * Three Ta: host pairs are checked first, and a LAN answers within a few milliseconds, so a host pair
     * that has not answered 150 ms after its first check is not coming.
     */
    public static final long DEFAULT_NOMINATION_GRACE_NS = 150_000_000L;
    /** RFC 8445 §11: "Tr ... SHOULD be configurable and SHOULD have a default of 15 seconds". */
    public static final long DEFAULT_KEEPALIVE_INTERVAL_NS = 15_000_000_000L;
    /** Pinhole: eight predicted ports cover the few mappings a side creates between measuring and punching. */
    public static final int DEFAULT_PREDICTION_WINDOW = 8;
    /** Pinhole: 256 sockets; with 4096 probes over 64 512 ports the designed hit rate is above 99.99 %. */
    public static final int DEFAULT_BIRTHDAY_SOCKETS = 256;
    /** Pinhole: 2 ms between probes, 500 probes/s (about 50 kB/s of STUN requests). */
    public static final long DEFAULT_BIRTHDAY_PROBE_INTERVAL_NS = 2_000_000L;
    public static final int DEFAULT_BIRTHDAY_MAX_PROBES = 4096;
    public static final long DEFAULT_BIRTHDAY_REFRESH_NS = 2_000_000_000L;
    public static final long DEFAULT_BIRTHDAY_DELAY_NS = 500_000_000L;
    /** RFC 4787 REQ-3 b) / RFC 6335: NATs allocate external ports above the well-known range. */
    public static final int DEFAULT_BIRTHDAY_MIN_PORT = 1024;
    public static final int DEFAULT_BIRTHDAY_MAX_PORT = 65_535;
    /** TTL 2 leaves the local NAT and dies one router later. */
    public static final int DEFAULT_PRIMING_TTL = 2;
    /** Pinhole: introductions reach both sides within 100 ms of each other on ordinary paths. */
    public static final long DEFAULT_PRIMING_WAIT_NS = 100_000_000L;

    public static final TraversalConfig DEFAULT = new TraversalConfig(DEFAULT_PACE_NS, DEFAULT_DEADLINE_NS,
            DEFAULT_INITIAL_CHECK_RTO_NS, DEFAULT_MAX_CHECK_RTO_NS, DEFAULT_NOMINATION_GRACE_NS,
            DEFAULT_KEEPALIVE_INTERVAL_NS, DEFAULT_PREDICTION_WINDOW, DEFAULT_BIRTHDAY_SOCKETS,
            DEFAULT_BIRTHDAY_PROBE_INTERVAL_NS, DEFAULT_BIRTHDAY_MAX_PROBES, DEFAULT_BIRTHDAY_REFRESH_NS,
            DEFAULT_BIRTHDAY_DELAY_NS, DEFAULT_BIRTHDAY_MIN_PORT, DEFAULT_BIRTHDAY_MAX_PORT, DEFAULT_PRIMING_TTL,
            DEFAULT_PRIMING_WAIT_NS);

    public TraversalConfig {
        positive("paceNs", paceNs);
        positive("deadlineNs", deadlineNs);
        positive("initialCheckRtoNs", initialCheckRtoNs);
        if (maxCheckRtoNs < initialCheckRtoNs) {
            throw new IllegalArgumentException("maxCheckRtoNs " + maxCheckRtoNs + " < initialCheckRtoNs "
                    + initialCheckRtoNs);
        }
        if (nominationGraceNs < 0) {
            throw new IllegalArgumentException("nominationGraceNs must not be negative, was " + nominationGraceNs);
        }
        positive("keepaliveIntervalNs", keepaliveIntervalNs);
        if (predictionWindow < 0 || predictionWindow > 1024) {
            throw new IllegalArgumentException("predictionWindow must be in [0, 1024], was " + predictionWindow);
        }
        if (birthdaySockets < 0 || birthdaySockets > 4096) {
            throw new IllegalArgumentException("birthdaySockets must be in [0, 4096], was " + birthdaySockets);
        }
        positive("birthdayProbeIntervalNs", birthdayProbeIntervalNs);
        if (birthdayMaxProbes < 0 || birthdayMaxProbes > 65_535) {
            throw new IllegalArgumentException("birthdayMaxProbes must be in [0, 65535], was " + birthdayMaxProbes);
        }
        positive("birthdayRefreshNs", birthdayRefreshNs);
        if (birthdayDelayNs < 0) {
            throw new IllegalArgumentException("birthdayDelayNs must not be negative, was " + birthdayDelayNs);
        }
        if (birthdayMinPort < 1 || birthdayMaxPort > 65_535 || birthdayMinPort > birthdayMaxPort) {
            throw new IllegalArgumentException("birthday port range must satisfy 1 <= min <= max <= 65535, was "
                    + birthdayMinPort + "-" + birthdayMaxPort);
        }
        if (primingTtl < 1 || primingTtl > 255) {
            throw new IllegalArgumentException("primingTtl must be in [1, 255], was " + primingTtl);
        }
        if (primingWaitNs < 0) {
            throw new IllegalArgumentException("primingWaitNs must not be negative, was " + primingWaitNs);
        }
    }

    /** Ports the easy side may probe: R in the birthday formula. */
    public int birthdayPortRange() {
        return birthdayMaxPort - birthdayMinPort + 1;
    }

    public TraversalConfig withPaceNs(long value) {
        return new TraversalConfig(value, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withDeadlineNs(long value) {
        return new TraversalConfig(paceNs, value, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withNominationGraceNs(long value) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, value,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withKeepaliveIntervalNs(long value) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                value, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withPredictionWindow(int value) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, value, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    /** Birthday probing with {@code sockets} hard-side sockets and {@code maxProbes} easy-side probes. */
    public TraversalConfig withBirthday(int sockets, int maxProbes, long probeIntervalNs) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, sockets, probeIntervalNs, maxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withBirthdayDelayNs(long value) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, value, birthdayMinPort, birthdayMaxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withBirthdayPortRange(int minPort, int maxPort) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, minPort, maxPort, primingTtl, primingWaitNs);
    }

    public TraversalConfig withPrimingWaitNs(long value) {
        return new TraversalConfig(paceNs, deadlineNs, initialCheckRtoNs, maxCheckRtoNs, nominationGraceNs,
                keepaliveIntervalNs, predictionWindow, birthdaySockets, birthdayProbeIntervalNs, birthdayMaxProbes,
                birthdayRefreshNs, birthdayDelayNs, birthdayMinPort, birthdayMaxPort, primingTtl, value);
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, was " + value);
        }
    }
}
