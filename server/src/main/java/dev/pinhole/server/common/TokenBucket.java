package dev.pinhole.server.common;

/**
 * A token bucket on the caller's clock: {@code ratePerSecond} tokens a second, at most {@code burst}
 * saved up. The one rate limiter of both servers: tokens are bytes for the relay's rate limits (RFC 8656
 * §7.2 leaves them to the server), responses for the TURN server's unauthenticated-answer limit, and
 * datagrams per source for the rendezvous server (a bounded table of these buckets). Starts full.
 * Allocation-free; one thread.
 */
public final class TokenBucket {
    private static final long NS_PER_SECOND = 1_000_000_000L;

    private final long ratePerSecond;
    private final long burst;
    /** Time it takes to fill an empty bucket: a longer gap cannot add more, which keeps the product below overflow. */
    private final long fillNs;
    private long tokens;
    private long lastNs;

    public TokenBucket(long ratePerSecond, long burst, long nowNs) {
        if (ratePerSecond <= 0 || burst <= 0) {
            throw new IllegalArgumentException("rate and burst must be positive, were " + ratePerSecond + ", " + burst);
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.fillNs = Math.max(1, (long) Math.ceil((double) burst * NS_PER_SECOND / ratePerSecond));
        reset(nowNs);
    }

    /** Takes {@code amount} tokens if that many are there; otherwise takes none and returns false. */
    public boolean tryTake(long amount, long nowNs) {
        refill(nowNs);
        if (tokens < amount) {
            return false;
        }
        tokens -= amount;
        return true;
    }

    /** Gives back tokens taken by a {@link #tryTake} whose datagram was dropped for another reason. */
    public void refund(long amount) {
        tokens = Math.min(burst, tokens + amount);
    }

    /** Full again, as new at {@code nowNs}: lets a bounded table reuse the bucket of a forgotten source. */
    public void reset(long nowNs) {
        tokens = burst;
        lastNs = nowNs;
    }

    private void refill(long nowNs) {
        long elapsedNs = nowNs - lastNs;
        if (elapsedNs <= 0) {
            return;
        }
        if (elapsedNs >= fillNs) {
            tokens = burst;
            lastNs = nowNs;
            return;
        }
        // elapsedNs < fillNs, so elapsedNs * ratePerSecond < burst * 1e9 + rate: no overflow for sane bursts.
        long added = elapsedNs * ratePerSecond / NS_PER_SECOND;
        if (added > 0) {
            tokens = Math.min(burst, tokens + added);
            // Advance by exactly the time the added tokens stand for, so fractions are not lost.
            lastNs += added * NS_PER_SECOND / ratePerSecond;
        }
    }
}
