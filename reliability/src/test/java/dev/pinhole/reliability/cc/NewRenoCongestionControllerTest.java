package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.CongestionControl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NewRenoCongestionControllerTest {
    private static final int MSS = 1200;
    private static final long RTT_NS = 50_000_000L;

    private final NewRenoCongestionController cc = new NewRenoCongestionController(MSS);

    /** Acknowledges {@code packets} full-size packets sent at {@code sentNs}, each at {@code nowNs}. */
    private static void ackPackets(CongestionController cc, long nowNs, long sentNs, int packets, boolean appLimited) {
        for (int i = 0; i < packets; i++) {
            cc.onPacketAcked(nowNs, sentNs, MSS, appLimited, RTT_NS);
        }
    }

    @Test
    void initialWindowIsTenDatagramsLimitedToTheLargerOf14720BytesAndTwoDatagrams() {
        // RFC 9002 §7.2: min(10 * mds, max(14720, 2 * mds)).
        assertEquals(12_000, new NewRenoCongestionController(1200).congestionWindowBytes(), "1200-byte datagrams");
        assertEquals(14_720, new NewRenoCongestionController(1472).congestionWindowBytes(), "1472-byte datagrams");
        assertEquals(14_720, new NewRenoCongestionController(1500).congestionWindowBytes(), "1500-byte datagrams");
        assertEquals(18_000, new NewRenoCongestionController(9000).congestionWindowBytes(), "9000-byte datagrams");
        assertEquals(Long.MAX_VALUE, cc.slowStartThresholdBytes(), "ssthresh before any congestion event");
        assertTrue(cc.inSlowStart(), "a new connection starts in slow start");
        assertFalse(cc.inRecovery(), "a new connection is not in recovery");
    }

    @Test
    void enumCreatesTheNamedAlgorithm() {
        assertInstanceOf(NewRenoCongestionController.class, CongestionControllers.create(CongestionControl.NEW_RENO, MSS));
        assertInstanceOf(CubicCongestionController.class, CongestionControllers.create(CongestionControl.CUBIC, MSS));
        assertEquals(12_000, CongestionControllers.create(CongestionControl.CUBIC, MSS).congestionWindowBytes(), "CUBIC's initial window");
    }

    @Test
    void rejectsImpossibleDatagramSizes() {
        assertThrows(IllegalArgumentException.class, () -> new NewRenoCongestionController(0));
        assertThrows(IllegalArgumentException.class, () -> new NewRenoCongestionController(70_000));
    }

    @Test
    void slowStartDoublesTheWindowEveryRoundTrip() {
        long nowNs = 0;
        for (int round = 0; round < 8; round++) {
            long before = cc.congestionWindowBytes();
            long sentNs = nowNs;
            nowNs += RTT_NS;
            ackPackets(cc, nowNs, sentNs, (int) (before / MSS), false);
            assertEquals(2 * before, cc.congestionWindowBytes(), "window after acknowledging round " + round);
        }
        assertEquals(12_000L << 8, cc.congestionWindowBytes(), "window after eight doublings");
        assertTrue(cc.inSlowStart(), "still in slow start without a loss");
    }

    @Test
    void congestionEventHalvesTheWindowOncePerRecoveryPeriod() {
        ackPackets(cc, 1_000, 0, 10, false); // 24000 bytes
        assertEquals(24_000, cc.congestionWindowBytes());

        cc.onCongestionEvent(2_000, 500);
        assertEquals(12_000, cc.congestionWindowBytes(), "window after the first congestion event");
        assertEquals(12_000, cc.slowStartThresholdBytes(), "ssthresh after the first congestion event");
        assertTrue(cc.inRecovery(), "a congestion event starts a recovery period");
        assertFalse(cc.inSlowStart(), "cwnd == ssthresh is congestion avoidance");

        // More losses of packets sent before the recovery period began, or at its very start.
        cc.onCongestionEvent(3_000, 1_500);
        cc.onCongestionEvent(4_000, 2_000);
        assertEquals(12_000, cc.congestionWindowBytes(), "window after losses of packets sent before recovery");
        assertTrue(cc.inRecovery(), "still in the same recovery period");
    }

    @Test
    void lossOfAPacketSentAfterRecoveryBeganReducesAgain() {
        cc.onCongestionEvent(2_000, 500);
        assertEquals(6_000, cc.congestionWindowBytes(), "half of the initial 12000");
        cc.onCongestionEvent(9_000, 2_001);
        assertEquals(3_000, cc.congestionWindowBytes(), "a packet sent after recovery began was lost");
        assertEquals(3_000, cc.slowStartThresholdBytes());
    }

    @Test
    void recoveryEndsOnlyWhenAPacketSentAfterItBeganIsAcknowledged() {
        cc.onCongestionEvent(2_000, 500);
        long window = cc.congestionWindowBytes();
        ackPackets(cc, 3_000, 1_999, 5, false);
        ackPackets(cc, 3_000, 2_000, 5, false);
        assertTrue(cc.inRecovery(), "acks of packets sent up to the recovery start leave recovery on");
        assertEquals(window, cc.congestionWindowBytes(), "no growth for packets sent before recovery");

        cc.onPacketAcked(4_000, 2_001, MSS, false, RTT_NS);
        assertFalse(cc.inRecovery(), "ack of a packet sent after recovery began ends it");
        assertTrue(cc.congestionWindowBytes() > window, "and that ack grows the window in congestion avoidance");
    }

    @Test
    void congestionAvoidanceGrowsAboutOneDatagramPerWindowAcknowledged() {
        ackPackets(cc, 1_000, 0, 90, false); // 12000 + 108000 = 120000
        cc.onCongestionEvent(2_000, 500);
        long window = cc.congestionWindowBytes();
        assertEquals(60_000, window);

        long sentNs = 3_000;
        ackPackets(cc, 10_000, sentNs, (int) (window / MSS), false);
        long growth = cc.congestionWindowBytes() - window;
        // Each ack adds MSS*MSS/cwnd with cwnd rising from W to W + MSS: the sum is within MSS^2/W of MSS.
        long tolerance = MSS * MSS / window + 1;
        assertTrue(Math.abs(growth - MSS) <= tolerance,
                "expected growth of " + MSS + " +- " + tolerance + " bytes per window, came " + growth);
    }

    @Test
    void congestionAvoidanceKeepsGrowingWhenTheWindowDwarfsTheDatagramSize() {
        // With truncating integer division, MSS * MSS / cwnd is 0 above 1.44 MB and growth would stop.
        ackPackets(cc, 1_000, 0, 200_000, false);
        cc.onCongestionEvent(2_000, 500);
        long window = cc.congestionWindowBytes();
        assertTrue(window > 100_000_000L, "window " + window);
        ackPackets(cc, 10_000, 3_000, (int) (window / MSS), false);
        long growth = cc.congestionWindowBytes() - window;
        assertTrue(growth >= MSS - 1 && growth <= MSS,
                "expected about one datagram (" + MSS + ") of growth per window, came " + growth);
    }

    @Test
    void appLimitedAcknowledgementsDoNotGrowTheWindow() {
        ackPackets(cc, 1_000, 0, 20, true);
        assertEquals(12_000, cc.congestionWindowBytes(), "slow start, all packets app-limited");

        cc.onCongestionEvent(2_000, 500);
        ackPackets(cc, 3_000, 2_500, 100, true);
        assertEquals(6_000, cc.congestionWindowBytes(), "congestion avoidance, all packets app-limited");
        assertFalse(cc.inRecovery(), "an app-limited ack of a packet sent after recovery began still ends it");
    }

    @Test
    void persistentCongestionCollapsesToTheMinimumWindowAndEndsRecovery() {
        ackPackets(cc, 1_000, 0, 40, false); // 60000
        cc.onCongestionEvent(5_000, 4_000);
        cc.onPersistentCongestion(5_000);
        assertEquals(2 * MSS, cc.congestionWindowBytes(), "minimum window is two datagrams");
        assertEquals(30_000, cc.slowStartThresholdBytes(), "ssthresh from the congestion event stays");
        assertFalse(cc.inRecovery(), "persistent congestion resets congestion_recovery_start_time");
        assertTrue(cc.inSlowStart(), "back to slow start below ssthresh");

        // The recovery start is forgotten (§B.8), so a loss of an old packet is a new congestion event.
        cc.onCongestionEvent(6_000, 4_500);
        assertTrue(cc.inRecovery(), "a later loss starts a new recovery period");
        assertEquals(2 * MSS, cc.congestionWindowBytes(), "and the window stays at the minimum");
        assertEquals(MSS, cc.slowStartThresholdBytes(), "ssthresh = cwnd / 2, which §B.6 does not floor");
    }

    @Test
    void windowNeverFallsBelowTheMinimumWindow() {
        long nowNs = 0;
        for (int i = 0; i < 40; i++) {
            nowNs += 10;
            cc.onCongestionEvent(nowNs, nowNs - 1);
            assertTrue(cc.congestionWindowBytes() >= 2 * MSS,
                    "window after " + (i + 1) + " congestion events: " + cc.congestionWindowBytes());
        }
        assertEquals(2 * MSS, cc.congestionWindowBytes());
    }

    @Test
    void worksWithNegativeClockReadings() {
        // Clock origins are arbitrary: nothing may treat 0 or negative times as "never".
        cc.onCongestionEvent(-5_000, -6_000);
        assertEquals(6_000, cc.congestionWindowBytes());
        cc.onCongestionEvent(-4_000, -5_500);
        assertEquals(6_000, cc.congestionWindowBytes(), "loss of a packet sent before recovery began");
        cc.onPacketAcked(-3_000, -4_999, MSS, false, RTT_NS);
        assertFalse(cc.inRecovery());
    }
}
