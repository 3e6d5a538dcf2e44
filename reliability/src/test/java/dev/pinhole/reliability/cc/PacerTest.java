package dev.pinhole.reliability.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.recovery.RttEstimator;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final int MSS = 1200;
    private static final long INITIAL_WINDOW = 12_000;

    private final Pacer pacer = new Pacer(MSS);

    /** Time for {@code bytes} at the RFC 9002 §7.7 rate 1.25 * cwnd / srtt, in (fractional) nanoseconds. */
    private static double exactIntervalNs(long bytes, long windowBytes, long rttNs) {
        return bytes * (double) rttNs / (1.25 * windowBytes);
    }

    /**
     * Sends {@code packets} full-size packets, each at the earliest time the pacer allows, starting at
     * {@code startNs}; returns the send times.
     */
    private long[] sendPaced(long startNs, int packets, long windowBytes, long rttNs) {
        long[] times = new long[packets];
        long nowNs = startNs;
        for (int i = 0; i < packets; i++) {
            long earliest = pacer.earliestSendTimeNs(nowNs, MSS, windowBytes, rttNs);
            assertTrue(earliest - nowNs >= 0, "earliest send time " + earliest + " lies before now " + nowNs);
            nowNs = earliest;
            pacer.onPacketSent(nowNs, MSS, windowBytes, rttNs);
            times[i] = nowNs;
        }
        return times;
    }

    private static int countAt(long[] times, long t) {
        int n = 0;
        for (long time : times) {
            if (time == t) {
                n++;
            }
        }
        return n;
    }

    @Test
    void firstFlightOfOneInitialWindowLeavesAtOnceEvenWithTheInitialRtt() {
        long rttNs = RttEstimator.INITIAL_RTT_NS;
        long[] times = sendPaced(0, 11, INITIAL_WINDOW, rttNs);
        assertEquals(10, countAt(times, 0), "packets sent at time 0");
        // The 11th waits for one packet at 1.25 * 12000 bytes / 333 ms: 1200 * 333e6 / 15000 = 26.64 ms.
        assertEquals(26_640_000L, times[10], "send time of the packet after the first burst");
    }

    @Test
    void fullWindowIsSpreadOverTheSmoothedRttDividedBy1point25() {
        long windowBytes = 100L * MSS;
        long rttNs = 100_000_000L;
        int packets = 100;
        long startNs = 5_000_000_000L;
        long[] times = sendPaced(startNs, packets, windowBytes, rttNs);

        // Burst: max(initial window, min(cwnd, rate * 1 ms)) = max(12000, 1500) = 12000 bytes = 10 packets.
        int burstPackets = (int) (INITIAL_WINDOW / MSS);
        assertEquals(burstPackets, countAt(times, startNs), "packets in the initial burst");
        // The rest of the window, 108000 bytes, at 1.25 * 120000 bytes per 100 ms takes exactly 72 ms.
        double expectedSpanNs = exactIntervalNs(windowBytes - INITIAL_WINDOW, windowBytes, rttNs);
        long spanNs = times[packets - 1] - times[0];
        // The fill is exact and each send time is rounded up to a whole nanosecond, never down.
        assertTrue(spanNs >= expectedSpanNs && spanNs <= expectedSpanNs + 1,
                "expected the window to take " + expectedSpanNs + " ns (+1 for rounding), took " + spanNs);
        double gapNs = exactIntervalNs(MSS, windowBytes, rttNs);
        for (int i = burstPackets; i < packets; i++) {
            long gap = times[i] - times[i - 1];
            assertTrue(Math.abs(gap - gapNs) <= 1, "gap before packet " + i + ": expected " + gapNs + " ns, came " + gap);
        }
        // Over the RTT the sender sends 1.25 windows, not more.
        assertTrue(spanNs < rttNs / 1.25, "a window must take less than srtt / 1.25, took " + spanNs);
    }

    @Test
    void burstGrowsToOneGranularityOfThePacingRateOnFastPaths() {
        long windowBytes = 10_000_000L;
        long rttNs = 10_000_000L;
        // rate = 1.25 * 10 MB / 10 ms = 1.25 bytes/ns; 1 ms of it = 1.25 MB, below the window.
        long burst = pacer.burstBytes(windowBytes, rttNs);
        assertEquals(1_250_000L, burst, "burst bytes");
        long[] times = sendPaced(0, 2000, windowBytes, rttNs);
        assertEquals((int) (burst / MSS), countAt(times, 0), "packets sent at once from a full bucket");
    }

    @Test
    void burstIsTheWholeWindowOnLoopbackPathsAndThenRateIsMultiGigabit() {
        long windowBytes = 500L * MSS;
        long rttNs = 50_000L;
        assertEquals(windowBytes, pacer.burstBytes(windowBytes, rttNs), "burst on a 50 µs path");
        long[] times = sendPaced(0, 600, windowBytes, rttNs);
        assertEquals(500, countAt(times, 0), "a whole window at once");
        // Afterwards one packet per 1200 * 50000 / (1.25 * 600000) = 80 ns, i.e. 120 Gbit/s.
        assertEquals(100 * 80L, times[599] - times[499], "100 more packets at 80 ns each");
    }

    @Test
    void bucketRefillsOnlyUpToTheBurstAfterIdle() {
        long windowBytes = 100L * MSS;
        long rttNs = 100_000_000L;
        sendPaced(0, 50, windowBytes, rttNs);
        long[] times = sendPaced(3_600_000_000_000L, 20, windowBytes, rttNs);
        assertEquals(10, countAt(times, 3_600_000_000_000L), "after an hour idle only one burst goes at once");
    }

    @Test
    void intervalsBelowOneNanosecondNeverStall() {
        long windowBytes = 1L << 26;
        long rttNs = 20_000L;
        // rate = 1.25 * 2^26 / 20000 ≈ 4194 bytes per ns: 3.5 packets per nanosecond.
        long startNs = -1_000_000L;
        int packets = 200_000;
        long[] times = sendPaced(startNs, packets, windowBytes, rttNs);
        long burst = pacer.burstBytes(windowBytes, rttNs);
        assertEquals(windowBytes, burst, "burst is the window on a 20 µs path");
        long pacedBytes = packets * (long) MSS - burst;
        long spanNs = times[times.length - 1] - startNs;
        // The last packet needs all paced bytes but the ones left in the bucket before it (< 1 packet).
        double fastestNs = exactIntervalNs(pacedBytes - MSS, windowBytes, rttNs);
        double slowestNs = exactIntervalNs(pacedBytes, windowBytes, rttNs) + 1;
        assertTrue(spanNs >= fastestNs && spanNs <= slowestNs,
                packets + " packets must take " + fastestNs + ".." + slowestNs + " ns, took " + spanNs);
        for (int i = 1; i < times.length; i++) {
            assertTrue(times[i] - times[i - 1] <= 1, "gap before packet " + i + " is " + (times[i] - times[i - 1]));
        }
    }

    @Test
    void fractionsOfABytePerNanosecondAccumulateExactlyHoweverOftenTheBucketFills() {
        long windowBytes = 2 * MSS;
        long rttNs = 10_000L;
        // rate = 1.25 * 2400 / 10000 = 0.3 bytes per ns: a 1200-byte packet every 4000 ns.
        sendPaced(0, 10, windowBytes, rttNs); // empties the 12000-byte initial bucket at time 0
        for (long t = 1; t < 4000; t++) {
            pacer.onPacketSent(t, 0, windowBytes, rttNs); // a fill every nanosecond
            assertEquals(4000L, pacer.earliestSendTimeNs(t, MSS, windowBytes, rttNs), "earliest send time at " + t);
        }
        assertEquals(4000L, pacer.earliestSendTimeNs(4000, MSS, windowBytes, rttNs), "the packet may go at 4000");
    }

    @Test
    void rateFollowsTheWindowPassedIn() {
        long rttNs = 100_000_000L;
        long[] slow = sendPaced(0, 20, 50L * MSS, rttNs);
        long slowGap = slow[19] - slow[18];
        long[] fast = sendPaced(slow[19], 40, 100L * MSS, rttNs);
        long fastGap = fast[39] - fast[38];
        assertEquals(1_600_000L, slowGap, "gap at a 60000-byte window");
        assertEquals(800_000L, fastGap, "gap at a 120000-byte window");
    }

    @Test
    void debtFromUnpacedSendsIsCappedAtOneWindow() {
        long windowBytes = 20L * MSS;
        long rttNs = 100_000_000L;
        for (int i = 0; i < 1000; i++) {
            pacer.onPacketSent(0, MSS, windowBytes, rttNs);
        }
        long earliest = pacer.earliestSendTimeNs(0, MSS, windowBytes, rttNs);
        long expected = (long) Math.ceil(exactIntervalNs(windowBytes + MSS, windowBytes, rttNs));
        assertEquals(expected, earliest, "wait after sending far beyond the pace: one window plus one packet");
    }

    @Test
    void extremeInputsNeitherOverflowNorStall() {
        long nowNs = Long.MAX_VALUE - 10_000_000_000L;
        for (int i = 0; i < 100; i++) {
            assertEquals(nowNs, pacer.earliestSendTimeNs(nowNs, MSS, Long.MAX_VALUE, 1), "huge window, 1 ns RTT");
            pacer.onPacketSent(nowNs, MSS, Long.MAX_VALUE, 1);
        }
        Pacer slow = new Pacer(MSS);
        for (int i = 0; i < 10; i++) {
            slow.onPacketSent(nowNs, MSS, 0, Long.MAX_VALUE);
        }
        long earliest = slow.earliestSendTimeNs(nowNs, MSS, 0, Long.MAX_VALUE);
        long waitNs = earliest - nowNs; // may wrap past Long.MAX_VALUE; differences stay right
        assertTrue(waitNs > 0 && waitNs <= 2 * Pacer.MAX_INPUT,
                "a zero window with an absurd RTT must wait a finite positive time, waits " + waitNs);
        Pacer zero = new Pacer(MSS);
        assertEquals(7L, zero.earliestSendTimeNs(7, MSS, 0, 0), "a pacer that sent nothing never delays");
        zero.onPacketSent(7, MSS, 12_000, 0);
        assertEquals(7L, zero.earliestSendTimeNs(7, MSS, 12_000, 0), "a zero RTT counts as 1 ns");
        assertEquals(8L, zero.earliestSendTimeNs(7, 1 << 30, 12_000, 0),
                "a packet larger than the bucket waits until the bucket is full, 1200 bytes at 15000 bytes/ns");
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new Pacer(0));
        assertThrows(IllegalArgumentException.class, () -> pacer.earliestSendTimeNs(0, -1, 12_000, 1_000));
        assertThrows(IllegalArgumentException.class, () -> pacer.onPacketSent(0, -1, 12_000, 1_000));
    }

    @Test
    void mulDivIsExactBelowTwoToThe63AndSaturatesAbove() {
        assertEquals(7, Pacer.mulDiv(3, 5, 2), "floor(15 / 2)");
        assertEquals((1L << 62) / 3, Pacer.mulDiv(1L << 31, 1L << 31, 3), "2^62 / 3");
        assertEquals(1L << 60, Pacer.mulDiv(1L << 40, 1L << 40, 1L << 20), "2^80 / 2^20 through the fallback");
        assertEquals(Long.MAX_VALUE / 4, Pacer.mulDiv(Long.MAX_VALUE, Long.MAX_VALUE, 1), "saturation");
    }

    @Test
    void anExplicitRateSpacesPacketsAtThatRateWhateverTheWindowAndRtt() {
        // 12 MB/s: one 1200-byte packet per 100 µs once the initial-window burst is spent.
        long rate = 12_000_000;
        long window = 1_000_000;
        long rttNs = 7_000_000;
        long nowNs = 0;
        long[] times = new long[200];
        for (int i = 0; i < times.length; i++) {
            long earliest = pacer.earliestSendTimeNs(nowNs, MSS, window, rttNs, rate);
            nowNs = earliest;
            pacer.onPacketSent(nowNs, MSS, window, rttNs, rate);
            times[i] = nowNs;
        }
        long spanNs = times[199] - times[99];
        assertEquals(100 * 100_000L, spanNs, "100 packets of 1200 B at 12 MB/s take exactly 10 ms");
        assertEquals(pacer.earliestSendTimeNs(0, MSS, window, rttNs),
                pacer.earliestSendTimeNs(0, MSS, window, rttNs, CongestionController.DERIVE_PACING_RATE),
                "a negative rate means the window-derived rate of RFC 9002 §7.7");
    }
}
