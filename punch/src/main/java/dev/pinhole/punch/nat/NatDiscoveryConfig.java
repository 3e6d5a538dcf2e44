package dev.pinhole.punch.nat;

import dev.pinhole.protocol.stun.StunTransactionConfig;

/**
 * How {@link NatBehaviorDiscovery} runs.
 *
 * @param timing      retransmission timing of the tests that expect an answer (test I and the
 *                    mapping tests); null uses the client's default (RFC 8489: 39.5 s to give up)
 * @param probeTiming timing of the tests where silence is itself the answer (filtering tests II
 *                    and III, hairpinning): their timeout is the price of every "filtered" verdict,
 *                    so they retry fewer times; null uses {@link #DEFAULT_PROBE_TIMING}
 * @param hairpinning whether to run the RFC 5780 §4.5 hairpinning test
 * @param software    SOFTWARE text sent with each request, or null; besides naming the client it
 *                    makes requests large enough that a server applying an amplification bound
 *                    (as {@code StunBindingServer} does) still sends the
 *                    RFC 5780 attributes
 */
public record NatDiscoveryConfig(StunTransactionConfig timing, StunTransactionConfig probeTiming,
                                  boolean hairpinning, String software) {
    /**
     * Probes: requests at 0, 0.5, 1.5 and 3.5 s, then 2 s of waiting: 5.5 s per silent verdict.
     * Four requests make a false "filtered" verdict need four losses in a row.
     */
    public static final StunTransactionConfig DEFAULT_PROBE_TIMING =
        new StunTransactionConfig(StunTransactionConfig.DEFAULT_RTO_NS, 4, 4);

    /** Mapping, filtering and hairpinning with RFC timing for answered tests. */
    public static final NatDiscoveryConfig DEFAULT = new NatDiscoveryConfig(null, DEFAULT_PROBE_TIMING, true, "pinhole");

    public NatDiscoveryConfig withTiming(StunTransactionConfig timing) {
        return new NatDiscoveryConfig(timing, probeTiming, hairpinning, software);
    }

    public NatDiscoveryConfig withProbeTiming(StunTransactionConfig probeTiming) {
        return new NatDiscoveryConfig(timing, probeTiming, hairpinning, software);
    }

    public NatDiscoveryConfig withHairpinning(boolean hairpinning) {
        return new NatDiscoveryConfig(timing, probeTiming, hairpinning, software);
    }
}
