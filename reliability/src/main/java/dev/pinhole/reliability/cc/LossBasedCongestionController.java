package dev.pinhole.reliability.cc;

/**
 * What NewReno and CUBIC share in QUIC (RFC 9002 §7, Appendix B): the window limits of §7.2, slow
 * start (§7.3.1), the recovery period (§7.3.2), the app-limited rule (§7.8) and persistent congestion
 * (§7.6). Subclasses supply the two places where they differ: how the window grows in congestion
 * avoidance and how it shrinks on a congestion event.
 *
 * <p>Windows are whole bytes in {@code long}s. Growth smaller than a byte per acknowledgement is
 * carried in a remainder instead of being truncated away, which matters with large windows: with a
 * literal integer {@code max_datagram_size * acked_bytes / congestion_window} a 1200-byte datagram
 * path would stop growing at 1.44 MB.
 */
abstract sealed class LossBasedCongestionController implements CongestionController
        permits NewRenoCongestionController, CubicCongestionController {

    /** RFC 9002 §7.2: kInitialWindow is ten times the maximum datagram size ... */
    static final int INITIAL_WINDOW_DATAGRAMS = 10;
    /** ... limited to the larger of 14720 bytes and twice the maximum datagram size (§7.2, §B.2). */
    static final long INITIAL_WINDOW_LIMIT_BYTES = 14_720L;
    /** RFC 9002 §7.2 and §B.2: kMinimumWindow is two maximum-size datagrams. */
    static final int MINIMUM_WINDOW_DATAGRAMS = 2;
    /**
     * Not from an RFC: a ceiling on the window (4 GiB, that is 340 Gbit/s at a 100 ms RTT) so that
     * {@code bytes * window}-sized products in the growth arithmetic stay far below 2^63.
     */
    static final long MAX_WINDOW_BYTES = 1L << 32;
    /** The largest UDP payload; a larger maximum datagram size is a configuration error. */
    static final int MAX_DATAGRAM_SIZE_LIMIT = 65_535;

    final int maxDatagramSize;
    final long minimumWindowBytes;
    long congestionWindowBytes;
    long slowStartThresholdBytes = Long.MAX_VALUE;

    /** congestion_recovery_start_time of §B.2; meaningful only while {@link #recoveryStartValid}. */
    private long recoveryStartTimeNs;
    /**
     * False before the first congestion event and after persistent congestion, where §B.2 and §B.8
     * use the value 0. A flag instead of 0 because our clock's origin is arbitrary (it may even be
     * negative), so no time value can mean "never".
     */
    private boolean recoveryStartValid;
    private boolean inRecovery;

    LossBasedCongestionController(int maxDatagramSize) {
        if (maxDatagramSize <= 0 || maxDatagramSize > MAX_DATAGRAM_SIZE_LIMIT) {
            throw new IllegalArgumentException(
                    "maxDatagramSize must be in 1.." + MAX_DATAGRAM_SIZE_LIMIT + ", was " + maxDatagramSize);
        }
        this.maxDatagramSize = maxDatagramSize;
        this.minimumWindowBytes = minimumWindowBytes(maxDatagramSize);
        this.congestionWindowBytes = initialWindowBytes(maxDatagramSize);
    }

    /** RFC 9002 §7.2: {@code min(10 * max_datagram_size, max(14720, 2 * max_datagram_size))}. */
    static long initialWindowBytes(int maxDatagramSize) {
        return Math.min(
                (long) INITIAL_WINDOW_DATAGRAMS * maxDatagramSize,
                Math.max(INITIAL_WINDOW_LIMIT_BYTES, 2L * maxDatagramSize));
    }

    /** RFC 9002 §7.2: {@code 2 * max_datagram_size}. */
    static long minimumWindowBytes(int maxDatagramSize) {
        return (long) MINIMUM_WINDOW_DATAGRAMS * maxDatagramSize;
    }

    @Override
    public final long congestionWindowBytes() {
        return congestionWindowBytes;
    }

    @Override
    public final long slowStartThresholdBytes() {
        return slowStartThresholdBytes;
    }

    @Override
    public final boolean inSlowStart() {
        return congestionWindowBytes < slowStartThresholdBytes;
    }

    @Override
    public final boolean inRecovery() {
        return inRecovery;
    }

    /**
     * Nothing to do: RFC 9002 §B.4 only adds the packet to bytes_in_flight, which the loss detector
     * keeps; the window itself changes on acknowledgements and losses only.
     */
    @Override
    public final void onPacketSent(long nowNs, int bytes) {
        // Intentionally empty, see above.
    }

    @Override
    public final void onPacketAcked(long nowNs, long sentTimeNs, int bytes, boolean appLimited, long smoothedRttNs) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative, was " + bytes);
        }
        // §B.5: no change in the window for packets sent before the current recovery period began.
        if (inCongestionRecovery(sentTimeNs)) {
            return;
        }
        // §7.3.2: "A recovery period ends and the sender enters congestion avoidance when a packet sent
        // during the recovery period is acknowledged." (any packet sent after it began, app-limited too)
        inRecovery = false;
        // §7.8: "When bytes in flight is smaller than the congestion window and sending is not pacing
        // limited, the congestion window is underutilized. This can happen due to insufficient application
        // data or flow control limits. When this occurs, the congestion window SHOULD NOT be increased".
        if (appLimited) {
            onAppLimitedAck(nowNs);
            return;
        }
        if (inSlowStart()) {
            // §7.3.1: "the congestion window increases by the number of bytes acknowledged".
            congestionWindowBytes = Math.min(congestionWindowBytes + bytes, MAX_WINDOW_BYTES);
            return;
        }
        growInCongestionAvoidance(nowNs, bytes, smoothedRttNs);
        congestionWindowBytes = Math.min(congestionWindowBytes, MAX_WINDOW_BYTES);
    }

    @Override
    public final void onCongestionEvent(long nowNs, long largestLostSentTimeNs) {
        // §B.6: "No reaction if already in a recovery period."
        if (inCongestionRecovery(largestLostSentTimeNs)) {
            return;
        }
        recoveryStartTimeNs = nowNs;
        recoveryStartValid = true;
        inRecovery = true;
        reduceWindow(nowNs);
    }

    @Override
    public final void onPersistentCongestion(long nowNs) {
        // §B.8: congestion_window = kMinimumWindow; congestion_recovery_start_time = 0.
        congestionWindowBytes = minimumWindowBytes;
        recoveryStartValid = false;
        inRecovery = false;
        onCollapsedToMinimumWindow(nowNs);
    }

    /** §B.5 InCongestionRecovery: {@code sent_time <= congestion_recovery_start_time}. */
    private boolean inCongestionRecovery(long sentTimeNs) {
        return recoveryStartValid && sentTimeNs - recoveryStartTimeNs <= 0;
    }

    /** Grows {@link #congestionWindowBytes} for {@code bytes} newly acknowledged outside slow start. */
    abstract void growInCongestionAvoidance(long nowNs, int bytes, long smoothedRttNs);

    /** Sets {@link #slowStartThresholdBytes} and {@link #congestionWindowBytes} for a new congestion event. */
    abstract void reduceWindow(long nowNs);

    /** An acknowledgement that may not grow the window because its packet was app-limited. */
    abstract void onAppLimitedAck(long nowNs);

    /** The window was just set to the minimum because of persistent congestion. */
    abstract void onCollapsedToMinimumWindow(long nowNs);
}
