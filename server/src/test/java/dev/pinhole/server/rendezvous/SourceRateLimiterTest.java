package dev.pinhole.server.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** The rendezvous server's per-source rate limit: a bounded table of token buckets. */
class SourceRateLimiterTest {
    private static final long MS = 1_000_000L;

    @Test
    void rateLimiterAllowsTheBurstThenTheSustainedRate() {
        SourceRateLimiter limiter = new SourceRateLimiter(10, 5, 100);
        InetAddress source = InetAddress.getLoopbackAddress();
        int allowed = 0;
        for (int i = 0; i < 20; i++) {
            allowed += limiter.tryAcquire(source, 0) ? 1 : 0;
        }
        assertEquals(5, allowed, "a burst of 5 at one instant");
        assertFalse(limiter.tryAcquire(source, 99 * MS), "the next token is due 100 ms later");
        assertTrue(limiter.tryAcquire(source, 100 * MS), "due at 100 ms");
        assertFalse(limiter.tryAcquire(source, 150 * MS), "then one per 100 ms");
        assertTrue(limiter.tryAcquire(source, 10_000 * MS), "a quiet source is allowed again");
        int afterQuiet = 1;
        while (limiter.tryAcquire(source, 10_000 * MS)) {
            afterQuiet++;
        }
        assertEquals(5, afterQuiet, "and has its whole burst back, no more");
    }

    @Test
    void rateLimiterKeepsSourcesApartAndEvictsTheLeastRecentlySeen() throws Exception {
        SourceRateLimiter limiter = new SourceRateLimiter(1, 1, 2);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        InetAddress c = InetAddress.getByName("192.0.2.3");
        assertTrue(limiter.tryAcquire(a, 0), "a's first");
        assertTrue(limiter.tryAcquire(b, 0), "b is not limited by a");
        assertFalse(limiter.tryAcquire(a, 1), "a is out of tokens");
        assertTrue(limiter.tryAcquire(c, 2), "c takes b's entry: b was seen least recently");
        assertEquals(2, limiter.size(), "capacity held");
        assertEquals(1, limiter.evictions(), "one eviction");
        assertFalse(limiter.tryAcquire(a, 3), "a is still tracked and still limited");
        assertTrue(limiter.tryAcquire(b, 4), "b was forgotten: a fresh bucket");
    }
}
