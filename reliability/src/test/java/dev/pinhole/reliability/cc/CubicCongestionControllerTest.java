package dev.pinhole.reliability.cc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CubicCongestionControllerTest {
    private static final int MSS = 1200;
    private static final long SECOND_NS = 1_000_000_000L;
    /** The time of the congestion event in the scenarios below. */
    private static final long LOSS_NS = 10 * SECOND_NS;

    /** A controller that slow-started to exactly {@code segments} segments and then saw a loss at {@link #LOSS_NS}. */
    private static CubicCongestionController afterLossAt(int segments) {
        CubicCongestionController cc = new CubicCongestionController(MSS);
        while (cc.congestionWindowBytes() < (long) segments * MSS) {
            cc.onPacketAcked(SECOND_NS, 0, MSS, false, 100_000_000L);
        }
        assertEquals((long) segments * MSS, cc.congestionWindowBytes(), "window before the loss");
        cc.onCongestionEvent(LOSS_NS, LOSS_NS - 1);
        return cc;
    }

    /**
     * Acknowledges one window of full-size packets spread evenly over the RTT that follows
     * {@code nowNs}, each sent one RTT before its ack; returns the time of the last ack.
     */
    private static long ackOneRound(CongestionController cc, long nowNs, long rttNs, boolean appLimited) {
        int packets = (int) (cc.congestionWindowBytes() / MSS);
        for (int i = 1; i <= packets; i++) {
            long ackNs = nowNs + rttNs * i / packets;
            cc.onPacketAcked(ackNs, ackNs - rttNs, MSS, appLimited, rttNs);
        }
        return nowNs + rttNs;
    }

    /** W_cubic(t) of RFC 9438 Figure 1 in bytes, computed independently of the controller. */
    private static double cubicWindowBytes(double tSeconds, double kSeconds, double maxWindowSegments) {
        return (0.4 * Math.pow(tSeconds - kSeconds, 3) + maxWindowSegments) * MSS;
    }

    @Test
    void congestionEventReducesTheWindowToSeventyPercent() {
        CubicCongestionController cc = afterLossAt(100);
        assertEquals(84_000, cc.congestionWindowBytes(), "cwnd = 0.7 * 120000");
        assertEquals(84_000, cc.slowStartThresholdBytes(), "ssthresh = 0.7 * 120000");
        assertEquals(120_000.0, cc.maxWindowBytes(), "W_max is the window before the reduction");
        assertTrue(cc.inRecovery(), "a congestion event starts a recovery period");
        assertFalse(cc.inSlowStart(), "cwnd == ssthresh is congestion avoidance");

        cc.onCongestionEvent(LOSS_NS + 1_000, LOSS_NS - 500);
        cc.onCongestionEvent(LOSS_NS + 2_000, LOSS_NS);
        assertEquals(84_000, cc.congestionWindowBytes(), "no second reduction for packets sent before recovery");
    }

    @Test
    void kIsTheCubeRootOfTheWindowDeficitOverCInSegmentsAndSeconds() {
        CubicCongestionController cc = afterLossAt(100);
        // The acknowledgement that ends recovery starts the congestion avoidance stage.
        cc.onPacketAcked(LOSS_NS + 100_000_000L, LOSS_NS + 1, MSS, false, 100_000_000L);
        assertFalse(cc.inRecovery());
        // By hand: W_max = 100 segments, cwnd_epoch = 70, K = cbrt((100 - 70) / 0.4) = cbrt(75) s;
        // 4.2172^3 = 75.0005, so K = 4.21716...
        assertEquals(4.217163, cc.kSeconds(), 1e-6, "K in seconds");
        assertEquals(84_000.0, cc.renoEstimateBytes(), MSS, "W_est starts at cwnd_epoch");
    }

    @Test
    void windowFollowsTheCubicCurveConcaveBelowWMaxAndConvexAbove() {
        long rttNs = 100_000_000L;
        CubicCongestionController cc = afterLossAt(1000);
        double wMaxSegments = 1000;
        double kSeconds = Math.cbrt(300 / 0.4); // 9.0856 s
        long nowNs = LOSS_NS;
        // Round 0 acknowledges packets sent before the loss (recovery); the first ack of round 1, of a
        // packet sent after the loss, ends recovery and starts the congestion avoidance stage.
        long epochStartNs = LOSS_NS + rttNs + rttNs / (cc.congestionWindowBytes() / MSS);
        double[] windowAtRound = new double[200];
        for (int round = 0; round < windowAtRound.length; round++) {
            nowNs = ackOneRound(cc, nowNs, rttNs, false);
            windowAtRound[round] = cc.congestionWindowBytes();
        }
        assertEquals(kSeconds, cc.kSeconds(), 1e-9, "K for W_max 1000 and cwnd_epoch 700 segments");

        // Round r ends at LOSS_NS + (r + 1) RTT, i.e. at t = r * 0.1 s minus one ack spacing.
        int roundAtK = (int) Math.round(kSeconds / 0.1);
        double tAtK = (LOSS_NS + (roundAtK + 1) * rttNs - epochStartNs) / 1e9;
        assertEquals(kSeconds, tAtK, 0.05, "the round chosen ends at t = K");
        double windowAtK = windowAtRound[roundAtK];
        assertEquals(wMaxSegments * MSS, windowAtK, 0.01 * wMaxSegments * MSS,
                "at t = K the window is back at W_max (1%)");

        // Each RTT the window moves to W_cubic(t + RTT) from below, so it tracks the curve within one
        // RTT's worth of its slope; compare at several times on both sides of K.
        for (int round = 10; round < windowAtRound.length; round += 10) {
            double t = (LOSS_NS + (round + 1) * rttNs - epochStartNs) / 1e9;
            double expected = cubicWindowBytes(t, kSeconds, wMaxSegments);
            double slopePerRtt = 3 * 0.4 * (t - kSeconds) * (t - kSeconds) * 0.1 * MSS;
            double tolerance = slopePerRtt + 2 * MSS;
            assertEquals(expected, windowAtRound[round], tolerance, "window at t = " + t + " s");
        }

        // Concave before K: growth per second shrinks towards K; convex after: it grows again.
        double earlyGrowth = windowAtRound[10] - windowAtRound[0];
        double growthBeforeK = windowAtRound[roundAtK] - windowAtRound[roundAtK - 10];
        double growthAfterK = windowAtRound[roundAtK + 60] - windowAtRound[roundAtK + 50];
        assertTrue(earlyGrowth > 3 * growthBeforeK,
                "concave: growth early " + earlyGrowth + " bytes/s, just before K " + growthBeforeK);
        assertTrue(growthAfterK > 3 * growthBeforeK,
                "convex: growth 5 s after K " + growthAfterK + " bytes/s, just before K " + growthBeforeK);
        assertTrue(cc.renoEstimateBytes() < cc.congestionWindowBytes(), "the cubic region governs on this path");
    }

    @Test
    void renoFriendlyRegionGovernsSmallWindowsOnShortRtts() {
        long rttNs = 1_000_000L;
        CubicCongestionController cc = afterLossAt(20);
        long nowNs = ackOneRound(cc, LOSS_NS, rttNs, false);
        long startWindow = cc.congestionWindowBytes();
        // K = cbrt(6 / 0.4) = 2.47 s = 2466 RTTs, so W_cubic barely moves; Reno's estimate grows by
        // α_cubic = 9/17 segments per RTT until it reaches cwnd_prior (20 segments) ...
        for (int round = 0; round < 8; round++) {
            nowNs = ackOneRound(cc, nowNs, rttNs, false);
        }
        double growthSegments = (cc.congestionWindowBytes() - startWindow) / (double) MSS;
        assertEquals(8 * 9.0 / 17, growthSegments, 0.5, "growth over 8 RTTs with α = 9/17, in segments");
        assertEquals((long) cc.renoEstimateBytes(), cc.congestionWindowBytes(), "cwnd is set to W_est");

        // ... and then by one segment per RTT (α = 1), like Reno.
        while (cc.congestionWindowBytes() < 22 * MSS) {
            nowNs = ackOneRound(cc, nowNs, rttNs, false);
        }
        long before = cc.congestionWindowBytes();
        for (int round = 0; round < 10; round++) {
            nowNs = ackOneRound(cc, nowNs, rttNs, false);
        }
        double perRound = (cc.congestionWindowBytes() - before) / 10.0 / MSS;
        assertEquals(1.0, perRound, 0.1, "segments per RTT once W_est passed cwnd_prior");
        double tSeconds = (nowNs - LOSS_NS) / 1e9;
        double cubic = cubicWindowBytes(tSeconds, Math.cbrt(15), 20);
        assertTrue(cc.congestionWindowBytes() > cubic + 5 * MSS,
                "Reno-friendly window " + cc.congestionWindowBytes() + " must exceed W_cubic " + cubic);
    }

    @Test
    void fastConvergenceLowersWMaxWhenTheWindowDidNotRegainIt() {
        long rttNs = 100_000_000L;
        CubicCongestionController cc = afterLossAt(100);
        long nowNs = LOSS_NS;
        for (int round = 0; round < 5; round++) {
            nowNs = ackOneRound(cc, nowNs, rttNs, false);
        }
        long window = cc.congestionWindowBytes();
        assertTrue(window < 120_000, "still below W_max: " + window);
        cc.onCongestionEvent(nowNs, nowNs - 1);
        assertEquals(window * 1.7 / 2, cc.maxWindowBytes(), 1e-6, "W_max = cwnd * (1 + β) / 2");
        assertEquals(window * 7 / 10, cc.congestionWindowBytes(), "cwnd = 0.7 * cwnd");

        // A window that regained W_max sets it to the window itself.
        CubicCongestionController grown = afterLossAt(100);
        nowNs = LOSS_NS;
        while (grown.congestionWindowBytes() < 130_000) {
            nowNs = ackOneRound(grown, nowNs, rttNs, false);
        }
        long grownWindow = grown.congestionWindowBytes();
        grown.onCongestionEvent(nowNs, nowNs - 1);
        assertEquals(grownWindow, grown.maxWindowBytes(), 1e-6, "W_max = cwnd when cwnd >= W_max");
    }

    @Test
    void increaseIsCappedAtHalfTheWindowPerRoundTrip() {
        long rttNs = 100_000_000L;
        CubicCongestionController cc = afterLossAt(100);
        long nowNs = ackOneRound(cc, LOSS_NS, rttNs, false); // recovery
        nowNs = ackOneRound(cc, nowNs, rttNs, false); // starts the congestion avoidance stage
        // Far in the convex region W_cubic(t + RTT) is astronomically large; the target is 1.5 * cwnd.
        nowNs += 1000 * SECOND_NS;
        long before = cc.congestionWindowBytes();
        ackOneRound(cc, nowNs, rttNs, false);
        long after = cc.congestionWindowBytes();
        assertTrue(after > before * 1.4 && after <= before * 1.5 + MSS,
                "one RTT far in the convex region must grow by up to 50%: " + before + " -> " + after);
    }

    @Test
    void appLimitedPeriodsNeitherGrowTheWindowNorAgeTheCubicCurve() {
        long rttNs = 100_000_000L;
        CubicCongestionController paused = afterLossAt(100);
        CubicCongestionController steady = afterLossAt(100);
        CubicCongestionController unaware = afterLossAt(100);
        long firstAckNs = LOSS_NS + rttNs;
        for (CubicCongestionController cc : new CubicCongestionController[] {paused, steady, unaware}) {
            cc.onPacketAcked(firstAckNs, LOSS_NS + 1, MSS, false, rttNs); // starts the epoch
        }
        long window = paused.congestionWindowBytes();

        steady.onPacketAcked(firstAckNs + 2 * SECOND_NS, firstAckNs, MSS, false, rttNs);

        for (long t = 2; t <= 30; t += 2) {
            paused.onPacketAcked(firstAckNs + t * SECOND_NS, firstAckNs, MSS, true, rttNs);
        }
        assertEquals(window, paused.congestionWindowBytes(), "app-limited acks do not grow the window");
        // 28 s of app-limited acks (from 2 s to 30 s) are cut out of t: this ack is at t = 2 s.
        paused.onPacketAcked(firstAckNs + 30 * SECOND_NS, firstAckNs, MSS, false, rttNs);
        assertEquals(steady.congestionWindowBytes(), paused.congestionWindowBytes(),
                "after an app-limited period the curve continues where it stopped");

        unaware.onPacketAcked(firstAckNs + 30 * SECOND_NS, firstAckNs, MSS, false, rttNs);
        // Per ack the increase is (target - cwnd) * 1200 / cwnd, at most half the acknowledged bytes
        // (target <= 1.5 cwnd): about 600 bytes at t = 30 s against about 450 at t = 2 s (±1 for the
        // carried fraction of a byte).
        double cappedIncrease = (window * 3 / 2 - window) * (double) MSS / window;
        assertEquals(cappedIncrease, unaware.congestionWindowBytes() - window, 1.0,
                "without the pause the same ack at t = 30 s grows by the capped amount");
        double cubicIncrease = (cubicWindowBytes(2.1, Math.cbrt(75), 100) - window) * MSS / window;
        assertEquals(cubicIncrease, paused.congestionWindowBytes() - window, 1.0,
                "at t = 2 s the target is W_cubic(2 s + RTT)");
    }

    @Test
    void appLimitedAcknowledgementsDoNotGrowTheWindowInSlowStart() {
        CubicCongestionController cc = new CubicCongestionController(MSS);
        for (int i = 0; i < 50; i++) {
            cc.onPacketAcked(SECOND_NS, 0, MSS, true, 100_000_000L);
        }
        assertEquals(12_000, cc.congestionWindowBytes(), "initial window unchanged");
    }

    @Test
    void persistentCongestionRestartsAvoidanceWithKZeroAtTheWindowWhereItResumes() {
        long rttNs = 10_000_000L;
        CubicCongestionController cc = afterLossAt(100);
        cc.onPersistentCongestion(LOSS_NS);
        assertEquals(2 * MSS, cc.congestionWindowBytes(), "minimum window");
        assertEquals(84_000, cc.slowStartThresholdBytes(), "ssthresh from the congestion event stays");
        assertFalse(cc.inRecovery(), "persistent congestion ends the recovery period");
        assertTrue(cc.inSlowStart(), "slow start up to ssthresh");

        long nowNs = LOSS_NS;
        while (cc.inSlowStart()) {
            nowNs += 100_000;
            cc.onPacketAcked(nowNs, nowNs - rttNs, MSS, false, rttNs);
        }
        assertEquals(84_000, cc.congestionWindowBytes(), "slow start ends exactly at ssthresh");
        // The first ack at or above ssthresh starts the avoidance stage: K = 0, W_max = W_est = cwnd_epoch.
        long epochWindow = cc.congestionWindowBytes();
        cc.onPacketAcked(nowNs + 1, nowNs - rttNs, MSS, false, rttNs);
        assertEquals(0.0, cc.kSeconds(), "K after a timeout (RFC 9438 §4.8)");
        assertEquals(epochWindow, cc.maxWindowBytes(), "W_max after a timeout is cwnd_epoch");
        assertTrue(cc.congestionWindowBytes() >= epochWindow, "the window only grows from there");
    }

    @Test
    void windowAndThresholdNeverFallBelowTheMinimumWindow() {
        CubicCongestionController cc = new CubicCongestionController(MSS);
        long nowNs = 0;
        for (int i = 0; i < 40; i++) {
            nowNs += 10;
            cc.onCongestionEvent(nowNs, nowNs - 1);
            assertTrue(cc.congestionWindowBytes() >= 2 * MSS, "window after " + (i + 1) + " events: " + cc);
            assertTrue(cc.slowStartThresholdBytes() >= 2 * MSS, "ssthresh after " + (i + 1) + " events: " + cc);
        }
        assertEquals(2 * MSS, cc.congestionWindowBytes());
        // At the minimum, fast convergence may leave W_max below cwnd_epoch: K is then negative and the
        // stage starts in the convex region, still growing.
        long nowAck = nowNs + 1_000_000;
        cc.onPacketAcked(nowAck, nowNs + 1, MSS, false, 1_000_000);
        assertTrue(cc.kSeconds() <= 0, "K with W_max below the minimum window: " + cc.kSeconds());
        for (int i = 0; i < 100; i++) {
            cc.onPacketAcked(nowAck + i * 1_000_000L, nowNs + 1, MSS, false, 1_000_000);
        }
        assertTrue(cc.congestionWindowBytes() > 2 * MSS, "grows from the minimum: " + cc);
    }
}
