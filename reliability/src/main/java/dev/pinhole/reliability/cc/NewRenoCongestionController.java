package dev.pinhole.reliability.cc;

/**
 * NewReno as QUIC specifies it: RFC 9002 §7 and the pseudocode of Appendix B.
 *
 * <ul>
 *   <li>Initial window {@code min(10 * max_datagram_size, max(14720, 2 * max_datagram_size))}, minimum
 *       window {@code 2 * max_datagram_size} (§7.2).
 *   <li>Slow start: the window grows by every acknowledged byte while below ssthresh (§7.3.1).
 *   <li>Congestion avoidance: {@code cwnd += max_datagram_size * acked_bytes / cwnd}, about one
 *       datagram per window acknowledged (§7.3.3, §B.5), with the fraction of a byte carried over.
 *   <li>A congestion event halves the window ({@link #LOSS_REDUCTION_FACTOR_NUMERATOR} /
 *       {@link #LOSS_REDUCTION_FACTOR_DENOMINATOR}, §7.3.2, §B.6) and starts a recovery period during
 *       which further losses of older packets do not reduce it again.
 *   <li>App-limited packets do not grow the window (§7.8); persistent congestion collapses it to the
 *       minimum (§7.6, §B.8).
 * </ul>
 */
final class NewRenoCongestionController extends LossBasedCongestionController {

    /** RFC 9002 §7.3.2 and §B.2: kLossReductionFactor = 0.5, as the fraction 1/2 ... */
    static final long LOSS_REDUCTION_FACTOR_NUMERATOR = 1;
    /** ... so that the reduction is exact integer arithmetic. */
    static final long LOSS_REDUCTION_FACTOR_DENOMINATOR = 2;

    /**
     * The part of {@code max_datagram_size * acked_bytes / cwnd} that integer division dropped, in
     * units of 1/cwnd byte; always below the window it was computed with.
     */
    private long avoidanceRemainder;

    public NewRenoCongestionController(int maxDatagramSize) {
        super(maxDatagramSize);
    }

    @Override
    void growInCongestionAvoidance(long nowNs, int bytes, long smoothedRttNs) {
        // §B.5: congestion_window += max_datagram_size * acked_packet.sent_bytes / congestion_window.
        long numerator = (long) maxDatagramSize * bytes + avoidanceRemainder;
        long window = congestionWindowBytes;
        congestionWindowBytes = window + numerator / window;
        avoidanceRemainder = numerator % window;
    }

    @Override
    void reduceWindow(long nowNs) {
        // §B.6: ssthresh = congestion_window * kLossReductionFactor;
        //       congestion_window = max(ssthresh, kMinimumWindow).
        slowStartThresholdBytes =
                congestionWindowBytes * LOSS_REDUCTION_FACTOR_NUMERATOR / LOSS_REDUCTION_FACTOR_DENOMINATOR;
        congestionWindowBytes = Math.max(slowStartThresholdBytes, minimumWindowBytes);
        avoidanceRemainder = 0;
    }

    @Override
    void onAppLimitedAck(long nowNs) {
        // NewReno's growth depends on acknowledged bytes only, not on time: nothing to pause.
    }

    @Override
    void onCollapsedToMinimumWindow(long nowNs) {
        avoidanceRemainder = 0;
    }

    @Override
    public String toString() {
        return "NewReno{cwnd=" + congestionWindowBytes + ", ssthresh=" + slowStartThresholdBytes
                + (inRecovery() ? ", recovery" : "") + "}";
    }
}
