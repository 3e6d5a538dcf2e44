package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.CongestionControl;

import static dev.pinhole.reliability.cc.BbrPath.MS;
import static dev.pinhole.reliability.cc.BbrPath.MSS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.recovery.SentPacketLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * BBR v1's model and state machine (draft-cardwell-iccrg-bbr-congestion-control §4), driven through the
 * real loss detector and pacer over a deterministic bottleneck ({@link BbrPath}) on virtual time.
 */
class BbrCongestionControllerTest {
    /** 12 Mbit/s. */
    private static final long RATE = 1_500_000;
    private static final long RTT_NS = 40 * MS;

    @Test
    void controlIsSelectableAndOnlyBbrSuppliesAPacingRate() {
        assertInstanceOf(BbrCongestionController.class, CongestionControllers.create(CongestionControl.BBR, MSS));
        assertEquals(CongestionController.DERIVE_PACING_RATE, CongestionControllers.create(CongestionControl.CUBIC, MSS).pacingRateBytesPerSecond(),
                "CUBIC leaves pacing to the window");
        assertEquals(CongestionController.DERIVE_PACING_RATE,
                CongestionControllers.create(CongestionControl.NEW_RENO, MSS).pacingRateBytesPerSecond(), "NewReno leaves pacing to the window");
        BbrCongestionController bbr = new BbrCongestionController(MSS);
        assertEquals(12_000, bbr.congestionWindowBytes(), "RFC 9002 initial window");
        assertEquals((long) (BbrCongestionController.HIGH_GAIN * 12_000 * 1000), bbr.pacingRateBytesPerSecond(),
                "§4.2.1: initial pacing rate is 2/ln2 * initial window / 1 ms");
        assertEquals(BbrCongestionController.State.STARTUP, bbr.state(), "starts in STARTUP");
        assertTrue(bbr.inSlowStart(), "STARTUP counts as slow start");
    }

    @Test
    void byteLevelCallsAreRefusedBecauseTheRateEstimatorNeedsThePacket() {
        BbrCongestionController bbr = new BbrCongestionController(MSS);
        assertThrows(UnsupportedOperationException.class, () -> bbr.onPacketSent(0, MSS));
        assertThrows(UnsupportedOperationException.class, () -> bbr.onPacketAcked(0, 0, MSS, false, RTT_NS));
    }

    @Test
    void startupExitsAfterThreeRoundsWithoutQuarterGrowthThenDrainsToProbeBw() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0, 1);
        List<Long> bandwidthAtRound = new ArrayList<>();
        long[] exitRound = {-1};
        long[] probeBwInFlight = {-1};
        path.runUntil(path.nowNs + 3_000 * MS, () -> {
            BbrCongestionController bbr = path.bbr;
            while (bandwidthAtRound.size() <= bbr.roundCount()) {
                bandwidthAtRound.add(bbr.bottleneckBandwidthBytesPerSecond());
            }
            if (exitRound[0] < 0 && bbr.state() != BbrCongestionController.State.STARTUP) {
                exitRound[0] = bbr.roundCount();
            }
            if (probeBwInFlight[0] < 0 && bbr.state() == BbrCongestionController.State.PROBE_BW) {
                probeBwInFlight[0] = path.detector.bytesInFlight();
            }
        });
        int exit = (int) exitRound[0];
        assertTrue(exit > 3, "STARTUP must end after some rounds, ended at round " + exit + ": " + path.bbr);
        long atExit = bandwidthAtRound.get(exit);
        long threeBefore = bandwidthAtRound.get(exit - 3);
        assertTrue(atExit < 1.25 * threeBefore, "STARTUP ends when 3 rounds grew the bandwidth less than 25 %: "
                + threeBefore + " -> " + atExit + " B/s; rounds " + bandwidthAtRound);
        boolean grewEarlier = false;
        for (int r = 1; r + 3 < exit; r++) {
            grewEarlier |= bandwidthAtRound.get(r + 1) >= 1.25 * bandwidthAtRound.get(r);
        }
        assertTrue(grewEarlier, "STARTUP doubles the rate each round before the pipe fills: " + bandwidthAtRound);
        long estimate = path.bbr.bottleneckBandwidthBytesPerSecond();
        assertTrue(estimate >= 0.95 * RATE && estimate <= 1.05 * RATE,
                "bandwidth estimate within 5 % of the bottleneck " + RATE + " B/s, came " + estimate);
        long minRtt = path.bbr.minRttNs();
        assertTrue(minRtt >= RTT_NS && minRtt <= RTT_NS + 2 * MS, "min RTT ~ 40 ms + serialisation, came " + minRtt);
        long bdp = RATE * RTT_NS / 1_000_000_000L;
        assertTrue(probeBwInFlight[0] >= 0 && probeBwInFlight[0] <= bdp + 3 * 2 * MSS + MSS,
                "DRAIN hands over to PROBE_BW once the flight is down to one BDP (" + bdp + " B), came "
                        + probeBwInFlight[0]);
        assertEquals(BbrCongestionController.State.PROBE_BW, path.bbr.state(), "in PROBE_BW after 3 s: " + path.bbr);
        assertTrue(path.bbr.filledPipe(), "pipe filled");
    }

    @Test
    void probeBwCyclesGainsOnePhasePerMinRtt() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0, 2);
        List<Double> gains = new ArrayList<>();
        List<Long> phaseStartNs = new ArrayList<>();
        int[] lastIndex = {-1};
        path.runUntil(path.nowNs + 4_000 * MS, () -> {
            BbrCongestionController bbr = path.bbr;
            if (bbr.state() == BbrCongestionController.State.PROBE_BW && bbr.cycleIndex() != lastIndex[0]) {
                lastIndex[0] = bbr.cycleIndex();
                gains.add(bbr.pacingGain());
                phaseStartNs.add(path.nowNs);
            }
        });
        int first = gains.indexOf(1.25);
        assertTrue(first >= 0 && gains.size() >= first + 17, "at least two full cycles after the first probe: " + gains);
        List<Double> expected = List.of(1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
        for (int i = 0; i < 16; i++) {
            assertEquals(expected.get(i % 8), gains.get(first + i), "phase " + i + " of the gain cycle: " + gains);
        }
        for (int i = first; i < first + 16; i++) {
            long lengthNs = phaseStartNs.get(i + 1) - phaseStartNs.get(i);
            if (gains.get(i) == 1.0 || gains.get(i) == 1.25) {
                assertTrue(lengthNs >= RTT_NS && lengthNs <= RTT_NS + 5 * MS,
                        "a " + gains.get(i) + " phase lasts about one min RTT (40 ms), came " + lengthNs + " ns");
            } else {
                assertTrue(lengthNs <= RTT_NS + 5 * MS,
                        "the 0.75 phase lasts at most one min RTT, came " + lengthNs + " ns");
            }
        }
    }

    @Test
    void probeRttAfterTenSecondsWithoutANewMinRttHoldsFourPacketsForTwoHundredMs() {
        // The path's base RTT grows by 5 ms after 2 s (a route change): the 40 ms minimum is then never
        // seen again and expires 10 s after it was last measured.
        long startNs = 1_000_000_000L;
        BbrPath path = new BbrPath(RATE, t -> t - startNs < 2_000 * MS ? RTT_NS : RTT_NS + 5 * MS, 0, 3);
        long[] enteredNs = {-1};
        long[] leftNs = {-1};
        long[] maxCwndInProbeRtt = {0};
        long[] cwndBefore = {0};
        long[] cwndAfter = {0};
        long[] cwndSeen = {0};
        long[] stampSeen = {0};
        long[] stampBefore = {0};
        path.runUntil(startNs + 14_000 * MS, () -> {
            BbrCongestionController bbr = path.bbr;
            if (enteredNs[0] < 0 && bbr.state() == BbrCongestionController.State.PROBE_RTT) {
                enteredNs[0] = path.nowNs;
                cwndBefore[0] = cwndSeen[0];
                stampBefore[0] = stampSeen[0];
            }
            stampSeen[0] = bbr.minRttStampNs();
            if (bbr.state() == BbrCongestionController.State.PROBE_RTT) {
                maxCwndInProbeRtt[0] = Math.max(maxCwndInProbeRtt[0], bbr.congestionWindowBytes());
            } else if (enteredNs[0] >= 0 && leftNs[0] < 0) {
                leftNs[0] = path.nowNs;
                cwndAfter[0] = bbr.congestionWindowBytes();
            }
            cwndSeen[0] = bbr.congestionWindowBytes();
        });
        assertTrue(enteredNs[0] > 0, "PROBE_RTT entered: " + path.bbr);
        assertTrue(stampBefore[0] < startNs + 2_100 * MS, "the 40 ms minimum was last confirmed before the"
                + " route change took effect, at " + (stampBefore[0] - startNs) / MS + " ms");
        long ageNs = enteredNs[0] - stampBefore[0];
        assertTrue(ageNs > 10_000 * MS && ageNs < 10_000 * MS + 2 * RTT_NS,
                "PROBE_RTT begins when the min RTT is 10 s old, came at " + ageNs / MS + " ms");
        assertEquals(4L * MSS, maxCwndInProbeRtt[0], "PROBE_RTT holds the window at 4 packets");
        long durationNs = leftNs[0] - enteredNs[0];
        assertTrue(durationNs >= 200 * MS && durationNs <= 200 * MS + 4 * (RTT_NS + 5 * MS),
                "PROBE_RTT lasts 200 ms after the flight drained, plus a round: came " + durationNs / MS + " ms");
        assertEquals(BbrCongestionController.State.PROBE_BW, path.bbr.state(), "back in PROBE_BW: " + path.bbr);
        assertTrue(cwndAfter[0] >= cwndBefore[0], "the window before PROBE_RTT is restored: before "
                + cwndBefore[0] + ", after " + cwndAfter[0]);
        long minRtt = path.bbr.minRttNs();
        assertTrue(minRtt >= RTT_NS + 5 * MS && minRtt <= RTT_NS + 7 * MS,
                "the min RTT now reflects the longer route (45 ms), came " + minRtt);
    }

    @Test
    void randomLossDoesNotShrinkTheModel() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0.05, 4);
        path.runUntil(path.nowNs + 10_000 * MS, () -> { });
        long estimate = path.bbr.bottleneckBandwidthBytesPerSecond();
        assertTrue(estimate >= 0.9 * RATE, "5 % random loss leaves the estimate near the bottleneck " + RATE
                + " B/s, came " + estimate + ": " + path.bbr);
        assertTrue(path.lostBytes > 0, "the path did lose packets");
        assertFalse(path.bbr.lossCapped(), "5 % loss is below the loss ceiling");
        assertEquals(0, path.bbr.lossCapEntries(), "the loss ceiling was never reached at 5 %");
        double goodput = path.deliveredBytes / 9.0;
        assertTrue(goodput >= 0.85 * RATE, "goodput over 10 s at least 85 % of the bottleneck despite 5 % loss, came "
                + goodput + " B/s");
    }

    @Test
    void congestionEventsLeaveWindowAndRateAlone() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0, 5);
        path.runUntil(path.nowNs + 2_000 * MS, () -> { });
        long cwnd = path.bbr.congestionWindowBytes();
        long rate = path.bbr.pacingRateBytesPerSecond();
        path.bbr.onCongestionEvent(path.nowNs, path.nowNs - MS);
        assertEquals(cwnd, path.bbr.congestionWindowBytes(), "a congestion event does not shrink BBR's window");
        assertEquals(rate, path.bbr.pacingRateBytesPerSecond(), "nor its pacing rate");
        assertFalse(path.bbr.inRecovery(), "BBR has no recovery periods");
    }

    @Test
    void aPathLosingThirtyPercentIsCappedAtWhatItDelivers() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0.30, 6);
        long[] maxRateWhileCapped = {0};
        path.runUntil(path.nowNs + 6_000 * MS, () -> {
            if (path.bbr.lossCapped()) {
                maxRateWhileCapped[0] = Math.max(maxRateWhileCapped[0], path.bbr.pacingRateBytesPerSecond());
            }
        });
        assertTrue(path.bbr.lossCapEntries() > 0, "30 % loss reaches the loss ceiling: " + path.bbr);
        assertTrue(maxRateWhileCapped[0] > 0 && maxRateWhileCapped[0] <= RATE,
                "while capped, the sender paces at most at what the path delivered (at most the bottleneck "
                        + RATE + " B/s), came " + maxRateWhileCapped[0]);
        double lossShare = (double) path.lostBytes / (path.lostBytes + path.deliveredBytes);
        assertTrue(lossShare < 0.35, "the loss share stays near the path's 30 %, came " + lossShare);
    }

    @Test
    void persistentCongestionRestartsConservativelyFromFourPackets() {
        BbrPath path = new BbrPath(RATE, t -> RTT_NS, 0, 7);
        path.runUntil(path.nowNs + 2_000 * MS, () -> { });
        assertEquals(BbrCongestionController.State.PROBE_BW, path.bbr.state(), "steady state first");
        long rateBefore = path.bbr.pacingRateBytesPerSecond();
        path.bbr.onPersistentCongestion(path.nowNs);
        assertEquals(4L * MSS, path.bbr.congestionWindowBytes(), "window collapses to 4 packets");
        assertEquals(BbrCongestionController.State.STARTUP, path.bbr.state(), "probing starts again in STARTUP");
        assertEquals(0, path.bbr.bottleneckBandwidthBytesPerSecond(), "the old bandwidth estimate is forgotten");
        assertTrue(path.bbr.pacingRateBytesPerSecond() < rateBefore, "pacing restarts below the old rate: "
                + path.bbr.pacingRateBytesPerSecond() + " vs " + rateBefore);
        path.runUntil(path.nowNs + 2_000 * MS, () -> { });
        long estimate = path.bbr.bottleneckBandwidthBytesPerSecond();
        assertTrue(estimate >= 0.95 * RATE, "the restart finds the bottleneck again, came " + estimate);
    }

    @Test
    void rateStateIsWrittenIntoTheSentPacketSlot() {
        SentPacketLog log = new SentPacketLog();
        BbrCongestionController bbr = new BbrCongestionController(MSS);
        var first = log.track(5 * MS).size(MSS).ackEliciting(true);
        bbr.onPacketSent(first, 0);
        assertEquals(0, first.rateDeliveredBytes(), "nothing delivered before the first packet");
        assertEquals(5 * MS, first.rateFirstSentTimeNs(), "a flight starting from idle starts at this packet");
        assertEquals(5 * MS, first.rateDeliveredTimeNs(), "delivered time restarts with the flight");
        var second = log.track(6 * MS).size(MSS).ackEliciting(true).appLimited(true);
        bbr.onPacketSent(second, MSS);
        assertFalse(second.rateAppLimited(), "the packet that drained the application is itself not app-limited");
        bbr.onPacketAcked(45 * MS, first, 40 * MS);
        bbr.onAckProcessed(45 * MS, MSS);
        assertEquals(MSS, bbr.deliveredBytes(), "one packet delivered");
        var third = log.track(46 * MS).size(MSS).ackEliciting(true);
        bbr.onPacketSent(third, MSS);
        assertTrue(third.rateAppLimited(), "packets sent in the app-limited bubble are marked");
        assertEquals(MSS, third.rateDeliveredBytes(), "delivered count at send time");
        assertEquals(45 * MS, third.rateDeliveredTimeNs(), "delivered time at send time");
    }
}
