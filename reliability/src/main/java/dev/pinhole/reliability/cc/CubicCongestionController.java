package dev.pinhole.reliability.cc;

/**
 * CUBIC (RFC 9438) on QUIC's loss recovery (RFC 9002 §7): slow start, recovery periods, the app-limited
 * rule and persistent congestion as in {@link NewRenoCongestionController}; congestion avoidance and
 * the reduction on a congestion event as in RFC 9438.
 *
 * <p><b>Units.</b> RFC 9438 counts windows in segments and time in seconds (§4.1); the constant
 * {@link #C} only means something in those units. This class keeps every window in bytes and converts
 * at the one place the units matter: {@code W_cubic(t) = C * (t - K)^3 + W_max} is evaluated as
 * {@code C * (t - K)^3 * max_datagram_size + W_max_bytes} with {@code t} and {@code K} in seconds, and
 * {@code K = cbrt((W_max - cwnd_epoch) / max_datagram_size / C)}. The per-ack increase
 * {@code (target - cwnd) / cwnd} per segment becomes {@code (target - cwnd) * acked_bytes / cwnd} bytes
 * (§4.1: "replacing segments_acked with the number of acknowledged bytes").
 *
 * <p><b>Time.</b> {@code t} runs from the start of the current congestion avoidance stage. After a
 * congestion event that is the acknowledgement which ends the recovery period: RFC 9002 §7.3.2 says the
 * sender "enters congestion avoidance" then, and the window does not change during recovery (this is
 * also where Linux starts its epoch). Periods in which only app-limited packets were acknowledged are
 * cut out of {@code t} (RFC 9438 §4.2 and §5.8): the epoch start moves forward by their length.
 *
 * <p><b>Floating point.</b> {@code W_cubic} is recomputed from {@code (t, K, W_max)} on every
 * acknowledgement rather than accumulated, so it cannot drift; the window itself is an integer with
 * the sub-byte part of the increase carried exactly. Only the Reno-friendly estimate {@code W_est}
 * accumulates in a double: its increments are at least ~1e-9 of its value, far above the 1e-16
 * relative rounding of a double, so the accumulated error stays below a byte.
 *
 * <p><b>Not implemented:</b> HyStart++ (RFC 9406), which RFC 9438 §4.10 recommends; slow start is
 * RFC 9002's, which §4.10 allows ("MAY use Reno TCP slow start"). Nor the undo of spurious congestion
 * events (§4.9, optional): QUIC never retransmits the same packet number, and the loss detector does
 * not report spurious losses.
 */
final class CubicCongestionController extends LossBasedCongestionController {

    /** RFC 9438 §4.1.1 and §5.1: C = 0.4, in segments per second cubed. */
    static final double C = 0.4;
    /** RFC 9438 §4.1.1 and §4.6: β_cubic = 0.7, as the fraction 7/10 for exact integer reduction ... */
    static final long BETA_CUBIC_NUMERATOR = 7;
    /** ... over 10. */
    static final long BETA_CUBIC_DENOMINATOR = 10;
    /** β_cubic as a double, for the formulas of §4.3 and §4.7. */
    static final double BETA_CUBIC = (double) BETA_CUBIC_NUMERATOR / BETA_CUBIC_DENOMINATOR;
    /** RFC 9438 §4.3: α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic) = 9/17, the Reno-friendly slope. */
    static final double ALPHA_CUBIC = 3 * (1 - BETA_CUBIC) / (1 + BETA_CUBIC);
    /** RFC 9438 §4.2: the target may be at most 1.5 times the window (3/2). */
    static final long TARGET_LIMIT_NUMERATOR = 3;
    /** ... over 2. */
    static final long TARGET_LIMIT_DENOMINATOR = 2;
    private static final double NANOS_PER_SECOND = 1e9;

    /** W_max of §4.1.2, in bytes; 0 before the first congestion event. */
    private double maxWindowBytes;
    /** cwnd_prior of §4.1.2, in bytes: the window just before the last reduction. */
    private long priorWindowBytes;
    /** K of §4.2, in seconds. */
    private double kSeconds;
    /** W_est of §4.3, in bytes. */
    private double renoEstimateBytes;
    /** α_cubic of §4.3: {@link #ALPHA_CUBIC} until W_est reaches cwnd_prior, then 1. */
    private double alpha = ALPHA_CUBIC;

    /** Whether a congestion avoidance stage is running, so that {@link #epochStartNs} is meaningful. */
    private boolean epochStarted;
    /** t_epoch of §4.2, shifted forward by app-limited periods (§4.2, §5.8). */
    private long epochStartNs;
    /**
     * Set by persistent congestion (our equivalent of TCP's timeout, §4.8): the next congestion
     * avoidance stage starts with K = 0 and W_max = W_est = the window at its start.
     */
    private boolean afterTimeout;
    private boolean appLimitedPause;
    private long appLimitedSinceNs;
    /** The sub-byte part of the concave/convex increase, in units of 1/cwnd byte. */
    private long avoidanceRemainder;

    public CubicCongestionController(int maxDatagramSize) {
        super(maxDatagramSize);
    }

    @Override
    void growInCongestionAvoidance(long nowNs, int bytes, long smoothedRttNs) {
        if (!epochStarted) {
            startEpoch(nowNs);
        } else if (appLimitedPause) {
            // §4.2: "The elapsed time t in Figure 1 MUST NOT include periods during which cwnd has not
            // been updated due to application-limited behavior (see Section 5.8)."
            epochStartNs += nowNs - appLimitedSinceNs;
        }
        appLimitedPause = false;

        long window = congestionWindowBytes;
        long elapsedNs = nowNs - epochStartNs;

        // §4.3, Figure 4: W_est = W_est + α_cubic * segments_acked / cwnd, in bytes.
        renoEstimateBytes = Math.min(
                renoEstimateBytes + alpha * maxDatagramSize * bytes / window, (double) MAX_WINDOW_BYTES);
        if (renoEstimateBytes >= priorWindowBytes) {
            // §4.3: "Once W_est has grown to reach the cwnd at the time of most recently setting ssthresh
            // -- that is, W_est >= cwnd_prior -- the sender SHOULD set α_cubic to 1".
            alpha = 1;
        }

        double tSeconds = elapsedNs / NANOS_PER_SECOND;
        if (cubicWindowBytes(tSeconds) < renoEstimateBytes) {
            // §4.3: Reno-friendly region, "cwnd SHOULD be set to W_est at each reception of a new ACK".
            // Never lower: W_est can trail a window the cubic increase (which looks one RTT ahead) grew.
            congestionWindowBytes = Math.max(window, (long) renoEstimateBytes);
            return;
        }

        // §4.2: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 * cwnd]; §4.4/§4.5: in the concave and
        // convex regions "cwnd MUST be incremented by (target - cwnd) / cwnd for each received new ACK".
        double cubicTarget = cubicWindowBytes(tSeconds + Math.max(0, smoothedRttNs) / NANOS_PER_SECOND);
        long maxTarget = window * TARGET_LIMIT_NUMERATOR / TARGET_LIMIT_DENOMINATOR;
        long target;
        if (cubicTarget <= window) {
            target = window;
        } else if (cubicTarget >= maxTarget) {
            target = maxTarget;
        } else {
            target = (long) cubicTarget;
        }
        long numerator = (target - window) * bytes + avoidanceRemainder;
        congestionWindowBytes = window + numerator / window;
        avoidanceRemainder = numerator % window;
    }

    /** §4.2, Figure 1: W_cubic(t) = C * (t - K)^3 + W_max, in bytes, for t in seconds. */
    private double cubicWindowBytes(double tSeconds) {
        double offsetSeconds = tSeconds - kSeconds;
        return C * offsetSeconds * offsetSeconds * offsetSeconds * maxDatagramSize + maxWindowBytes;
    }

    private void startEpoch(long nowNs) {
        epochStarted = true;
        epochStartNs = nowNs;
        long epochWindow = congestionWindowBytes;
        if (afterTimeout) {
            // §4.8: "During the first congestion avoidance stage after a timeout, CUBIC increases its
            // congestion window size using Figure 1, where t is the elapsed time since the beginning of
            // the current congestion avoidance stage, K is set to 0, and W_max is set to the congestion
            // window size at the beginning of the current congestion avoidance stage."
            afterTimeout = false;
            maxWindowBytes = epochWindow;
            kSeconds = 0;
        } else {
            // §4.2, Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), in segments and seconds. Negative
            // (a convex start) if the minimum window or fast convergence left cwnd_epoch above W_max.
            kSeconds = Math.cbrt((maxWindowBytes - epochWindow) / maxDatagramSize / C);
        }
        // §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance stage."
        // (§4.8 says the same after a timeout.)
        renoEstimateBytes = epochWindow;
        avoidanceRemainder = 0;
    }

    @Override
    void reduceWindow(long nowNs) {
        long window = congestionWindowBytes;
        // §4.7 fast convergence, applied before the reduction: if the window did not regain the last
        // W_max, another flow has probably taken capacity; release some by remembering less.
        if (window < maxWindowBytes) {
            maxWindowBytes = window * (1 + BETA_CUBIC) / 2;
        } else {
            maxWindowBytes = window;
        }
        // §4.6: ssthresh = flight_size * β_cubic; cwnd_prior = cwnd; cwnd = max(ssthresh, 2 segments);
        // ssthresh = max(ssthresh, 2 segments). Like RFC 9002 §B.6 (and as §4.6 permits) we use cwnd
        // for flight_size; the app-limited rule keeps cwnd from outgrowing what is actually in flight.
        priorWindowBytes = window;
        long reduced = window * BETA_CUBIC_NUMERATOR / BETA_CUBIC_DENOMINATOR;
        slowStartThresholdBytes = Math.max(reduced, minimumWindowBytes);
        congestionWindowBytes = slowStartThresholdBytes;
        // §4.3: α_cubic starts again below 1 after every reduction.
        alpha = ALPHA_CUBIC;
        epochStarted = false;
        afterTimeout = false;
        appLimitedPause = false;
        avoidanceRemainder = 0;
    }

    @Override
    void onAppLimitedAck(long nowNs) {
        if (epochStarted && !appLimitedPause) {
            appLimitedPause = true;
            appLimitedSinceNs = nowNs;
        }
    }

    @Override
    void onCollapsedToMinimumWindow(long nowNs) {
        afterTimeout = true;
        epochStarted = false;
        appLimitedPause = false;
        avoidanceRemainder = 0;
    }

    /** W_max in bytes: the window just before the last reduction, lowered by fast convergence (§4.7). */
    public double maxWindowBytes() {
        return maxWindowBytes;
    }

    /** K in seconds for the current congestion avoidance stage (§4.2); 0 before the first one. */
    public double kSeconds() {
        return kSeconds;
    }

    /** W_est in bytes, the Reno-friendly estimate of the current congestion avoidance stage (§4.3). */
    public double renoEstimateBytes() {
        return renoEstimateBytes;
    }

    @Override
    public String toString() {
        return "Cubic{cwnd=" + congestionWindowBytes + ", ssthresh=" + slowStartThresholdBytes
                + ", wMax=" + (long) maxWindowBytes + ", k=" + kSeconds + "s"
                + (inRecovery() ? ", recovery" : "") + "}";
    }
}
