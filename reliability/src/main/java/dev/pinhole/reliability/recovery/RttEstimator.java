package dev.pinhole.reliability.recovery;

/**
 * Round-trip time estimation of RFC 9002 §5 (which follows RFC 6298): the latest, minimum and
 * smoothed RTT and the RTT variation, and the probe timeout derived from them (§6.2.1).
 */
public final class RttEstimator {
    /** RFC 9002 §6.2.2: the RTT assumed before the first sample (333 ms). */
    public static final long INITIAL_RTT_NS = 333_000_000L;
    /** RFC 9002 §6.1.2: kGranularity, the timer granularity (1 ms). */
    public static final long GRANULARITY_NS = 1_000_000L;

    private long latestRttNs;
    private long minRttNs;
    private long smoothedRttNs = INITIAL_RTT_NS;
    private long rttVarNs = INITIAL_RTT_NS / 2;
    private boolean hasSample;

    /**
     * Adds one RTT sample (RFC 9002 §5.3).
     *
     * @param latestRttNs time from sending the largest newly acknowledged packet to receiving its ACK
     * @param ackDelayNs  the delay the peer reports it held the ACK, already capped at its max_ack_delay
     *                    once the handshake is confirmed
     */
    public void onSample(long latestRttNs, long ackDelayNs) {
        this.latestRttNs = latestRttNs;
        if (!hasSample) {
            hasSample = true;
            minRttNs = latestRttNs;
            smoothedRttNs = latestRttNs;
            rttVarNs = latestRttNs / 2;
            return;
        }
        minRttNs = Math.min(minRttNs, latestRttNs);
        // §5.3: subtract the ack delay only if the result does not fall below min_rtt.
        long adjustedRttNs = latestRttNs;
        if (latestRttNs >= minRttNs + ackDelayNs) {
            adjustedRttNs = latestRttNs - ackDelayNs;
        }
        rttVarNs = (3 * rttVarNs + Math.abs(smoothedRttNs - adjustedRttNs)) / 4;
        smoothedRttNs = (7 * smoothedRttNs + adjustedRttNs) / 8;
    }

    /**
     * The probe timeout period before backoff (RFC 9002 §6.2.1):
     * {@code smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay}.
     */
    public long probeTimeoutNs(long maxAckDelayNs) {
        return smoothedRttNs + Math.max(4 * rttVarNs, GRANULARITY_NS) + maxAckDelayNs;
    }

    public boolean hasSample() {
        return hasSample;
    }

    public long latestRttNs() {
        return latestRttNs;
    }

    /** The minimum RTT seen; 0 before the first sample. */
    public long minRttNs() {
        return minRttNs;
    }

    public long smoothedRttNs() {
        return smoothedRttNs;
    }

    public long rttVarNs() {
        return rttVarNs;
    }
}
