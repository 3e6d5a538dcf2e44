package dev.pinhole.punch.traversal;

/**
 * The controlling side's choice of the pair to nominate (regular nomination, RFC 8445 §8.1.1): the best
 * valid pair, preferring one the peer's checks also arrived on (both directions), once every
 * higher-priority pair still being checked has had {@link TraversalConfig#nominationGraceNs} to succeed.
 * The USE-CANDIDATE check itself goes through the {@link CheckList}.
 */
final class Nomination {
    private static final long NONE = Long.MAX_VALUE;

    private final CheckList checks;
    private final long graceNs;

    Nomination(CheckList checks, TraversalConfig config) {
        this.checks = checks;
        this.graceNs = config.nominationGraceNs();
    }

    /** The best valid pair on any socket, or null if none is valid yet. */
    CandidatePair bestValid() {
        CandidatePair best = null;
        for (LocalSocket s : checks.sockets()) {
            for (CandidatePair p : s.pairs.values()) {
                if (p.valid() && (best == null || better(p, best))) {
                    best = p;
                }
            }
        }
        return best;
    }

    /** Both directions first (RFC 8445 §8.1.1's "first pair that succeeded in both directions"), then priority. */
    private static boolean better(CandidatePair a, CandidatePair b) {
        boolean aBoth = a.requestsReceived > 0;
        boolean bBoth = b.requestsReceived > 0;
        if (aBoth != bBoth) {
            return aBoth;
        }
        return a.priority > b.priority;
    }

    /** When the controlling side will nominate, if it is waiting for a better pair; NONE otherwise. */
    long dueNs() {
        if (checks.role() != IceRole.CONTROLLING || checks.nominating() != null) {
            return NONE;
        }
        CandidatePair best = bestValid();
        if (best == null) {
            return NONE;
        }
        return readyNs(best);
    }

    /**
     * The controlling side nominates {@code best} once what could still beat it had its chance: a check from
     * the peer on the same pair (both directions), and every higher-priority pair still being checked, each
     * given the grace period from its own first check (so one that has gone unanswered that long no longer
     * holds nomination up). It never waits longer than the grace period after {@code best} became valid.
     */
    private long readyNs(CandidatePair best) {
        long latest = best.succeededNs + graceNs;
        long ready = best.requestsReceived > 0 ? best.succeededNs : latest;
        for (CandidatePair p : checks.ordered()) {
            if (p.pending() && p.priority > best.priority) {
                ready = Math.max(ready, p.firstCheckNs < 0 ? latest : p.firstCheckNs + graceNs);
            }
        }
        return Math.min(ready, latest);
    }

    /** Starts nominating the best valid pair if this side controls, is not nominating yet, and it is time. */
    void maybeNominate(long nowNs) {
        if (checks.role() != IceRole.CONTROLLING || checks.nominating() != null) {
            return;
        }
        CandidatePair best = bestValid();
        if (best == null || nowNs < readyNs(best)) {
            return;
        }
        checks.nominate(best, nowNs);
    }
}
