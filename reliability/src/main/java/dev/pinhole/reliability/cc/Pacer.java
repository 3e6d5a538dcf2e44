package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.recovery.RttEstimator;

/**
 * Spreads a congestion window over a round trip (RFC 9002 §7.7): a token bucket filled at
 * {@code rate = N * congestion_window / smoothed_rtt} bytes per nanosecond with N = 1.25, emptied by
 * the bytes of every packet sent. Rate and burst are recomputed on every call from the window and RTT
 * passed in, so the pacer follows the congestion controller without being told of changes.
 *
 * <p><b>Burst.</b> The bucket holds {@code max(initial_window, min(cwnd, rate * 1 ms))} bytes. RFC 9002
 * §7.7 says senders "SHOULD limit bursts to the initial congestion window", which is the floor here
 * (and a new connection's first flight leaves at once). Above it we allow one timer granularity
 * (kGranularity, 1 ms, §6.1.2) worth of data at the pacing rate, for a practical reason: the driver's
 * timers fire on coarse ticks, so a sender woken once per millisecond that may send only ten datagrams
 * per wake-up would be capped near 100 Mbit/s regardless of the path. Linux TCP sizes its
 * TSO bursts the same way (about 1 ms of the pacing rate). The burst never exceeds the window itself:
 * on sub-millisecond paths (loopback, smoothed RTT 20-100 µs) the window, not the pacer, is then what
 * limits the sender, which is exactly what a timer that cannot resolve the RTT can offer.
 *
 * <p><b>Arithmetic.</b> Integers only, and exact: tokens are whole bytes, and the fraction of a byte
 * earned so far is carried as a remainder in units of {@code 1 / (4 * srtt)} byte, so the bucket fills
 * at exactly {@code 5 * cwnd / (4 * srtt)} bytes per nanosecond however often it is asked, and a rate
 * above one packet per nanosecond simply never delays. The earliest send time is the first whole
 * nanosecond at which the bucket holds the packet (rounded up, so never early; since the fill is
 * exact the rounding does not accumulate). When the RTT changes, the remainder is rescaled to the new
 * unit, rounding down by less than {@code 1 / (4 * srtt)} byte. Products that could exceed 2^63 are
 * detected with {@link Math#multiplyHigh} and computed in saturating double arithmetic instead, which
 * only absurd inputs (windows and RTTs near the {@link #MAX_INPUT} clamp) reach. Times are compared by
 * difference, so any clock origin works. Nothing is allocated.
 *
 * <p><b>Debt.</b> Sending without waiting (probes and acknowledgements the caller chose not to pace)
 * drives the bucket negative; the debt is capped at one congestion window, so a packet never waits
 * more than about {@code srtt / 1.25} plus its own transmission time at the pacing rate.
 *
 * <p><b>A controller's own rate.</b> A controller that models the path (BBR) supplies its pacing rate R
 * in bytes per second ({@link CongestionController#pacingRateBytesPerSecond()}); the same bucket then
 * fills at exactly R, because R over the "RTT" {@link #RATE_RTT_NS} (1.25 s) is R / 10^9 bytes per
 * nanosecond at the gain 5/4. The bucket still holds {@code max(initial_window, min(cwnd, R * 1 ms))} and
 * the debt is still capped at the window.
 *
 * <p>Not thread-safe; used on the connection's event loop.
 */
public final class Pacer {
    /** RFC 9002 §7.7: the pacing gain N = 1.25, as 5/4 ... */
    static final long PACING_GAIN_NUMERATOR = 5;
    /** ... over 4. */
    static final long PACING_GAIN_DENOMINATOR = 4;
    /** The time at the pacing rate the bucket may hold above the initial window: kGranularity (§6.1.2). */
    static final long BURST_INTERVAL_NS = RttEstimator.GRANULARITY_NS;
    /** The RTT that turns an explicit rate into the window arithmetic: 1.25 s, the inverse of the gain 5/4. */
    static final long RATE_RTT_NS = 1_250_000_000L;
    /** Inputs are clamped to this (about 18 minutes as an RTT, 1 TiB as a window) to bound products. */
    static final long MAX_INPUT = 1L << 40;

    private final int maxDatagramSize;
    private final long initialWindowBytes;

    /** Whether a packet was sent yet; before, the bucket is full. */
    private boolean started;
    /** Tokens in whole bytes at {@link #fillTimeNs}; negative is debt. */
    private long tokens;
    /** The time up to which {@link #tokens} and {@link #fillRemainder} include the fill. */
    private long fillTimeNs;
    /** The fraction of a byte earned beyond {@link #tokens}, in units of 1/(4 * remainderRttNs) byte. */
    private long fillRemainder;
    /** The (clamped) smoothed RTT that {@link #fillRemainder}'s unit refers to. */
    private long remainderRttNs = 1;

    public Pacer(int maxDatagramSize) {
        if (maxDatagramSize <= 0 || maxDatagramSize > LossBasedCongestionController.MAX_DATAGRAM_SIZE_LIMIT) {
            throw new IllegalArgumentException("maxDatagramSize must be in 1.."
                    + LossBasedCongestionController.MAX_DATAGRAM_SIZE_LIMIT + ", was " + maxDatagramSize);
        }
        this.maxDatagramSize = maxDatagramSize;
        this.initialWindowBytes = LossBasedCongestionController.initialWindowBytes(maxDatagramSize);
    }

    /** The earliest time a packet of `bytes` may be sent; returns nowNs if it may go now. */
    public long earliestSendTimeNs(long nowNs, int bytes, long congestionWindowBytes, long smoothedRttNs) {
        return earliestSendTimeNs(nowNs, bytes, congestionWindowBytes, smoothedRttNs,
                CongestionController.DERIVE_PACING_RATE);
    }

    /**
     * As {@link #earliestSendTimeNs(long, int, long, long)}, but at {@code pacingRateBytesPerSecond} if
     * that is not negative (a controller's own rate, {@link CongestionController#pacingRateBytesPerSecond()}).
     * The bucket then fills at exactly that rate and holds {@code max(initial_window, min(cwnd, rate * 1 ms))}.
     */
    public long earliestSendTimeNs(long nowNs, int bytes, long congestionWindowBytes, long smoothedRttNs,
                                   long pacingRateBytesPerSecond) {
        checkBytes(bytes);
        if (!started) {
            return nowNs;
        }
        long cap = clampWindow(congestionWindowBytes);
        long window = rateWindow(cap, pacingRateBytesPerSecond);
        long rttNs = rateRttNs(smoothedRttNs, pacingRateBytesPerSecond);
        long burst = burstBytes(window, rttNs, cap);
        // A packet larger than the bucket goes when the bucket is full.
        long needed = Math.min(bytes, burst);
        if (tokens >= needed) {
            return nowNs;
        }
        // The bucket holds less than needed <= burst until the answer, so it does not reach its cap
        // before: tokens(t) = tokens + floor(((t - fillTimeNs) * 5 * cwnd + remainder) / (4 * srtt)).
        long sendTimeNs = fillTimeNs + nanosToEarn(needed - tokens, remainderFor(rttNs), window, rttNs);
        return sendTimeNs - nowNs > 0 ? sendTimeNs : nowNs;
    }

    /** Consumes tokens for a packet just sent. */
    public void onPacketSent(long nowNs, int bytes, long congestionWindowBytes, long smoothedRttNs) {
        onPacketSent(nowNs, bytes, congestionWindowBytes, smoothedRttNs, CongestionController.DERIVE_PACING_RATE);
    }

    /** Consumes tokens for a packet just sent, pacing at the given rate if it is not negative. */
    public void onPacketSent(long nowNs, int bytes, long congestionWindowBytes, long smoothedRttNs,
                             long pacingRateBytesPerSecond) {
        checkBytes(bytes);
        long cap = clampWindow(congestionWindowBytes);
        long window = rateWindow(cap, pacingRateBytesPerSecond);
        long rttNs = rateRttNs(smoothedRttNs, pacingRateBytesPerSecond);
        long burst = burstBytes(window, rttNs, cap);
        if (!started) {
            started = true;
            fillToFull(nowNs, burst, rttNs);
        } else {
            fill(nowNs, burst, window, rttNs);
        }
        tokens = Math.max(tokens - bytes, -cap);
    }

    /**
     * The bucket size for this window and RTT: {@code max(initial_window, min(cwnd, rate * 1 ms))},
     * see the class comment.
     */
    long burstBytes(long window, long rttNs) {
        return burstBytes(window, rttNs, window);
    }

    private long burstBytes(long window, long rttNs, long cap) {
        long granularityWorth = mulDiv(PACING_GAIN_NUMERATOR * window, BURST_INTERVAL_NS, PACING_GAIN_DENOMINATOR * rttNs);
        return Math.max(initialWindowBytes, Math.min(cap, granularityWorth));
    }

    /**
     * The fill arithmetic works on {@code 5 * window / (4 * rtt)} bytes per nanosecond. A rate of R bytes
     * per second is the same as the window R over the "RTT" {@link #RATE_RTT_NS}: 5 R / (4 * 1.25e9) = R / 1e9.
     */
    private static long rateWindow(long clampedWindow, long pacingRateBytesPerSecond) {
        return pacingRateBytesPerSecond < 0 ? clampedWindow : Math.min(Math.max(pacingRateBytesPerSecond, 1), MAX_INPUT);
    }

    private static long rateRttNs(long smoothedRttNs, long pacingRateBytesPerSecond) {
        return pacingRateBytesPerSecond < 0 ? clampRtt(smoothedRttNs) : RATE_RTT_NS;
    }

    /** Adds the tokens earned since {@link #fillTimeNs}, carrying the fraction of a byte. */
    private void fill(long nowNs, long burst, long window, long rttNs) {
        long elapsedNs = nowNs - fillTimeNs;
        if (elapsedNs <= 0) {
            return;
        }
        if (tokens >= burst) {
            fillToFull(nowNs, burst, rttNs);
            return;
        }
        long remainder = remainderFor(rttNs);
        if (elapsedNs >= nanosToEarn(burst - tokens, remainder, window, rttNs)) {
            fillToFull(nowNs, burst, rttNs);
            return;
        }
        // elapsed < the time to fill the bucket, so the product below is below (burst - tokens) * 4 * srtt
        // plus 5 * cwnd, which nanosToEarn just computed without overflow (or it saturated, and then
        // the double fallback applies here too).
        long denominator = PACING_GAIN_DENOMINATOR * rttNs;
        long rateNumerator = PACING_GAIN_NUMERATOR * window;
        long high = Math.multiplyHigh(elapsedNs, rateNumerator);
        long product = elapsedNs * rateNumerator;
        long numerator = product + remainder;
        if (high == 0 && product >= 0 && numerator >= 0) {
            tokens += numerator / denominator;
            fillRemainder = numerator % denominator;
        } else {
            tokens += saturatingQuotient(elapsedNs, rateNumerator, denominator);
            fillRemainder = 0;
        }
        fillTimeNs = nowNs;
        remainderRttNs = rttNs;
    }

    private void fillToFull(long nowNs, long burst, long rttNs) {
        tokens = burst;
        fillRemainder = 0;
        fillTimeNs = nowNs;
        remainderRttNs = rttNs;
    }

    /** The fill remainder in units of 1/(4 * rttNs) byte (rescaled if the RTT changed since the last fill). */
    private long remainderFor(long rttNs) {
        return rttNs == remainderRttNs ? fillRemainder : mulDiv(fillRemainder, rttNs, remainderRttNs);
    }

    /**
     * The whole nanoseconds after which {@code bytes > 0} more tokens have been earned, given
     * {@code remainder} already: {@code ceil((bytes * 4 * srtt - remainder) / (5 * cwnd))}.
     */
    private static long nanosToEarn(long bytes, long remainder, long window, long rttNs) {
        long denominator = PACING_GAIN_NUMERATOR * window;
        long rttFactor = PACING_GAIN_DENOMINATOR * rttNs;
        long high = Math.multiplyHigh(bytes, rttFactor);
        long product = bytes * rttFactor;
        if (high == 0 && product >= 0) {
            // remainder < 4 * srtt <= product, so the difference is positive.
            long numerator = product - remainder;
            return numerator / denominator + (numerator % denominator == 0 ? 0 : 1);
        }
        return saturatingQuotient(bytes, rttFactor, denominator);
    }

    private long clampWindow(long congestionWindowBytes) {
        // Below one datagram a window cannot be paced meaningfully; the window check itself governs.
        return Math.min(Math.max(congestionWindowBytes, maxDatagramSize), MAX_INPUT);
    }

    private static long clampRtt(long smoothedRttNs) {
        return Math.min(Math.max(smoothedRttNs, 1), MAX_INPUT);
    }

    private static void checkBytes(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative, was " + bytes);
        }
    }

    /** {@code floor(a * b / c)} for {@code a, b >= 0, c > 0}, saturating at {@link #MAX_INPUT}^2-sized values. */
    static long mulDiv(long a, long b, long c) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        if (high == 0 && low >= 0) {
            return low / c;
        }
        return saturatingQuotient(a, b, c);
    }

    /** The quotient of a product beyond 2^63, which only clamped extreme inputs produce. */
    private static long saturatingQuotient(long a, long b, long c) {
        double quotient = (double) a * (double) b / c;
        return quotient >= Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 : (long) quotient;
    }
}
