package dev.pinhole.punch.traversal;

/**
 * The designed success probability of birthday probing (docs/nat-traversal.md).
 *
 * <p>The hard side's NAT holds {@code targets} mappings toward the easy side at distinct random ports of a
 * range of {@code range} ports (its N extra sockets plus its main socket's own mapping). The easy side probes
 * {@code probes} distinct ports of the same range, chosen uniformly. The probes all miss with probability
 * <pre>
 *   C(R - T, m) / C(R, m)  =  prod_{i=0}^{m-1} (R - T - i) / (R - i)
 * </pre>
 * (hypergeometric: m draws without replacement from R ports of which T are targets), which is close to
 * {@code (1 - T/R)^m} while m is much smaller than R.
 */
final class BirthdayOdds {
    private BirthdayOdds() {
    }

    /** Probability that {@code probes} distinct probes of {@code range} ports all miss {@code targets} ports. */
    public static double missProbability(int targets, int probes, int range) {
        if (targets < 0 || probes < 0 || range < 1 || targets > range || probes > range) {
            throw new IllegalArgumentException("need 0 <= targets, probes <= range, got targets " + targets
                    + ", probes " + probes + ", range " + range);
        }
        if (probes > range - targets) {
            return 0.0;
        }
        double logMiss = 0.0;
        for (int i = 0; i < probes; i++) {
            logMiss += Math.log1p(-(double) targets / (range - i));
        }
        return Math.exp(logMiss);
    }

    /** 1 - {@link #missProbability}. */
    public static double hitProbability(int targets, int probes, int range) {
        return 1.0 - missProbability(targets, probes, range);
    }

    /** Expected number of probes up to and including the first hit: (R + 1) / (T + 1). */
    public static double expectedProbesToHit(int targets, int range) {
        if (targets < 1 || targets > range) {
            throw new IllegalArgumentException("need 1 <= targets <= range, got " + targets + " of " + range);
        }
        return (range + 1.0) / (targets + 1.0);
    }
}
