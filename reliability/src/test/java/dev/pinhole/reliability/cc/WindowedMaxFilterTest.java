package dev.pinhole.reliability.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The BtlBw filter (draft-cardwell-iccrg-bbr-congestion-control §4.1.1.2), windows counted in rounds. */
class WindowedMaxFilterTest {

    @Test
    void emptyFilterAnswersZero() {
        assertEquals(0, new WindowedMaxFilter(10).best(), "no samples, no bandwidth");
        assertThrows(IllegalArgumentException.class, () -> new WindowedMaxFilter(0));
    }

    @Test
    void keepsTheMaximumForTenRoundsThenFallsToTheNextBest() {
        WindowedMaxFilter filter = new WindowedMaxFilter(10);
        filter.update(100, 0);
        for (long round = 1; round <= 10; round++) {
            assertEquals(100, filter.update(60, round), "the round-0 maximum holds through round " + round);
        }
        assertEquals(60, filter.update(50, 11), "round 11: the maximum of round 0 has left the 10-round window");
    }

    @Test
    void aHigherSampleTakesOverAtOnce() {
        WindowedMaxFilter filter = new WindowedMaxFilter(10);
        filter.update(100, 0);
        assertEquals(150, filter.update(150, 1), "a new maximum replaces the old one immediately");
        filter.reset();
        assertEquals(0, filter.best(), "reset forgets everything");
    }

    @Test
    void staysWithinTheWindowsSamplesAndNeverMissesARecentMaximum() {
        // Three estimates approximate the windowed maximum: the answer is always a sample of the last
        // 10 rounds (never stale, never invented) and at least the largest sample of the last quarter window.
        SplittableRandom random = new SplittableRandom(42);
        int window = 10;
        long[] samples = new long[5000];
        WindowedMaxFilter filter = new WindowedMaxFilter(window);
        for (int round = 0; round < samples.length; round++) {
            samples[round] = random.nextLong(1_000_000);
            long best = filter.update(samples[round], round);
            boolean inWindow = false;
            long windowMax = 0;
            for (int r = Math.max(0, round - window); r <= round; r++) {
                inWindow |= samples[r] == best;
                windowMax = Math.max(windowMax, samples[r]);
            }
            long recentMax = 0;
            for (int r = Math.max(0, round - window / 4); r <= round; r++) {
                recentMax = Math.max(recentMax, samples[r]);
            }
            assertEquals(true, inWindow && best <= windowMax, "round " + round + " (seed 42): " + best
                    + " must be a sample of the last " + window + " rounds");
            assertEquals(true, best >= recentMax, "round " + round + " (seed 42): " + best
                    + " must be at least the recent maximum " + recentMax);
        }
    }
}
