package dev.pinhole.protocol.stun;

/**
 * Retransmission timing of a STUN client transaction over UDP (RFC 8489 §6.2.1).
 *
 * <p>A request is sent at 0, then again after RTO, 2×RTO, 4×RTO, ... until {@code maxRequests}
 * (Rc) have been sent; if no response has come {@code finalWaitRtoMultiple} (Rm) × RTO after the
 * last one, the transaction times out. With the defaults (RTO 500 ms, Rc 7, Rm 16) requests go out
 * at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s and the transaction gives up at 39.5 s, RFC 8489's
 * own example.
 *
 * @param rtoNs                initial retransmission timeout, nanoseconds
 * @param maxRequests          Rc: requests sent in total, the first included
 * @param finalWaitRtoMultiple Rm: how many initial RTOs to wait after the last request
 */
public record StunTransactionConfig(long rtoNs, int maxRequests, int finalWaitRtoMultiple) {
    /** RFC 8489 §6.2.1: "RTO SHOULD be greater than 500 ms" — the initial value when nothing is known. */
    public static final long DEFAULT_RTO_NS = 500_000_000L;
    /** RFC 8489 §6.2.1: "Rc SHOULD be configurable and SHOULD have a default of 7". */
    public static final int DEFAULT_MAX_REQUESTS = 7;
    /** RFC 8489 §6.2.1: "Rm SHOULD be configurable and SHOULD have a default of 16". */
    public static final int DEFAULT_FINAL_WAIT_RTO_MULTIPLE = 16;

    public static final StunTransactionConfig DEFAULT =
        new StunTransactionConfig(DEFAULT_RTO_NS, DEFAULT_MAX_REQUESTS, DEFAULT_FINAL_WAIT_RTO_MULTIPLE);

    public StunTransactionConfig {
        if (rtoNs <= 0) {
            throw new IllegalArgumentException("rtoNs must be positive, was " + rtoNs);
        }
        if (maxRequests < 1 || maxRequests > 30) {
            throw new IllegalArgumentException("maxRequests (Rc) must be 1 to 30, was " + maxRequests);
        }
        if (finalWaitRtoMultiple < 1) {
            throw new IllegalArgumentException("finalWaitRtoMultiple (Rm) must be at least 1, was " + finalWaitRtoMultiple);
        }
    }

    public StunTransactionConfig withRtoNs(long rtoNs) {
        return new StunTransactionConfig(rtoNs, maxRequests, finalWaitRtoMultiple);
    }

    /** Time from the first request until the transaction times out without a response, nanoseconds. */
    public long timeoutNs() {
        // Sends at 0, RTO, 3 RTO, ..., (2^(Rc-1) - 1) RTO; then Rm RTO of waiting.
        return rtoNs * ((1L << (maxRequests - 1)) - 1) + rtoNs * finalWaitRtoMultiple;
    }
}
