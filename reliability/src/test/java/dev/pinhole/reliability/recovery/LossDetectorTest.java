package dev.pinhole.reliability.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.cc.CongestionController;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 9002 §6 loss detection on virtual time: every time below is an explicit {@code nowNs}. */
class LossDetectorTest {
    private static final long MS = 1_000_000L;
    private static final long MAX_ACK_DELAY_NS = 25 * MS;
    private static final int SIZE = 1200;

    /** Records what the detector tells congestion control; the window itself never limits these tests. */
    private static final class RecordingController implements CongestionController {
        final List<Long> congestionEvents = new ArrayList<>();
        int persistentCongestionEvents;
        long ackedBytes;
        long sentBytes;

        @Override public long congestionWindowBytes() { return Long.MAX_VALUE; }
        @Override public long slowStartThresholdBytes() { return Long.MAX_VALUE; }
        @Override public boolean inSlowStart() { return true; }
        @Override public boolean inRecovery() { return false; }
        @Override public void onPacketSent(long nowNs, int bytes) { sentBytes += bytes; }

        @Override
        public void onPacketAcked(long nowNs, long sentTimeNs, int bytes, boolean appLimited, long smoothedRttNs) {
            ackedBytes += bytes;
        }

        @Override public void onCongestionEvent(long nowNs, long largestLostSentTimeNs) {
            congestionEvents.add(largestLostSentTimeNs);
        }

        @Override public void onPersistentCongestion(long nowNs) { persistentCongestionEvents++; }
    }

    private final SentPacketLog log = new SentPacketLog(4);
    private final RttEstimator rtt = new RttEstimator();
    private final RecordingController cc = new RecordingController();
    private final List<Long> acked = new ArrayList<>();
    private final List<Long> lost = new ArrayList<>();
    private final LossDetector detector = new LossDetector(log, rtt, cc, MAX_ACK_DELAY_NS,
            new LossDetector.Listener() {
                @Override public void onPacketAcked(SentPacket packet) { acked.add(packet.packetNumber()); }
                @Override public void onPacketLost(SentPacket packet) { lost.add(packet.packetNumber()); }
            });

    private long send(long nowNs) {
        SentPacket packet = detector.newPacket(nowNs).size(SIZE).ackEliciting(true);
        detector.onPacketSent(packet);
        return packet.packetNumber();
    }

    /** Acknowledges the given inclusive ranges, given as largest, smallest pairs, largest range first. */
    private boolean ack(long nowNs, long ackDelayNs, long... ranges) {
        return detector.onAckReceived(nowNs, ranges, ranges.length / 2, ackDelayNs);
    }

    @Test
    void retransmitsAfterThreeLaterPacketsAreAcked() {
        for (int i = 0; i < 5; i++) {
            send(i * MS);
        }
        ack(50 * MS, 0, 3, 1);
        assertEquals(List.of(0L), lost, "packet 0 is lost once packet 3 (three later) is acknowledged");
        assertEquals(List.of(1L, 2L, 3L), acked, "packets 1-3 acknowledged, in packet number order");
        assertEquals(1, cc.congestionEvents.size(), "one congestion event");
        assertEquals(0L, cc.congestionEvents.get(0), "congestion event names the lost packet's send time");
        assertEquals(SIZE, detector.bytesInFlight(), "only packet 4 is still in flight");
    }

    @Test
    void keepsPacketWithFewerThanThreeLaterAcksUntilTimeThreshold() {
        send(0);
        send(1 * MS);
        send(2 * MS);
        ack(100 * MS, 0, 2, 1);
        assertTrue(lost.isEmpty(), "packet 0 is only two numbers behind the largest acknowledged, got lost " + lost);
        // RTT sample 98 ms: loss delay 9/8 * 98 ms = 110.25 ms after packet 0 was sent.
        assertEquals(110_250_000L, detector.timerDeadlineNs(), "loss timer at 9/8 of the RTT after packet 0 was sent");
    }

    @Test
    void declaresLossAfterTimeThreshold() {
        send(0);
        send(10 * MS);
        ack(110 * MS, 0, 1, 1);
        assertTrue(lost.isEmpty(), "no loss before the time threshold");
        long deadlineNs = detector.timerDeadlineNs();
        assertEquals(0 + 100 * MS * 9 / 8, deadlineNs, "loss time = send time + 9/8 * max(latest, smoothed RTT)");
        assertEquals(LossDetector.TimeoutAction.NONE, detector.onTimeout(deadlineNs - 1), "early timer does nothing");
        assertTrue(lost.isEmpty(), "still no loss one nanosecond early");
        assertEquals(LossDetector.TimeoutAction.NONE, detector.onTimeout(deadlineNs), "loss timer reports no probe");
        assertEquals(List.of(0L), lost, "packet 0 lost at the time threshold");
        assertEquals(LossDetector.NO_DEADLINE, detector.timerDeadlineNs(), "nothing in flight, no timer");
    }

    @Test
    void ptoBacksOffExponentially() {
        send(0);
        long ptoNs = rtt.probeTimeoutNs(MAX_ACK_DELAY_NS);
        assertEquals(333 * MS + 4 * 333 * MS / 2 + MAX_ACK_DELAY_NS, ptoNs,
                "initial PTO = 333 ms + 4 * 166.5 ms + max_ack_delay (RFC 9002 §6.2.2)");
        long nowNs = 0;
        for (int i = 0; i < 5; i++) {
            long deadlineNs = detector.timerDeadlineNs();
            assertEquals(nowNs + (ptoNs << i), deadlineNs, "PTO number " + i + " doubles the previous");
            nowNs = deadlineNs;
            assertEquals(LossDetector.TimeoutAction.SEND_PROBE, detector.onTimeout(nowNs), "PTO asks for a probe");
            send(nowNs);
            detector.onProbeSent();
            assertEquals(i + 1, detector.ptoCount(), "pto count");
        }
        assertTrue(lost.isEmpty(), "a PTO declares nothing lost (RFC 9002 §6.2)");
    }

    @Test
    void acknowledgementResetsPtoBackoff() {
        send(0);
        long deadlineNs = detector.timerDeadlineNs();
        detector.onTimeout(deadlineNs);
        long probe = send(deadlineNs);
        assertEquals(1, detector.ptoCount(), "one PTO");
        ack(deadlineNs + 10 * MS, 0, probe, probe);
        assertEquals(0, detector.ptoCount(), "an acknowledgement resets the PTO count");
    }

    @Test
    void samplesRttOnlyWhenLargestAcknowledgedIsNewlyAcknowledged() {
        send(0);
        send(10 * MS);
        ack(100 * MS, 0, 1, 1);
        assertEquals(90 * MS, rtt.latestRttNs(), "first sample from packet 1");
        ack(300 * MS, 0, 1, 0);
        assertEquals(90 * MS, rtt.latestRttNs(), "packet 1 was acknowledged before: no new sample");
        assertEquals(List.of(1L, 0L), acked, "packet 0 acknowledged by the second ACK");
    }

    @Test
    void noRttSampleWhenLargestAcknowledgedWasNotAckEliciting() {
        send(0);
        log.skip();
        ack(40 * MS, 0, 1, 0);
        assertFalse(rtt.hasSample(), "largest acknowledged (an ACK-only packet) was not tracked: no sample");
        assertEquals(List.of(0L), acked, "packet 0 acknowledged");
    }

    @Test
    void capsPeerAckDelayAtMaxAckDelay() {
        send(0);
        ack(100 * MS, 0, 0, 0);
        send(100 * MS);
        ack(300 * MS, 1000 * MS, 1, 1);
        // Second sample 200 ms, ack delay capped at 25 ms: adjusted 175 ms; srtt = 7/8*100 + 1/8*175.
        assertEquals((7 * 100 * MS + 175 * MS) / 8, rtt.smoothedRttNs(),
                "ack delay of 1 s counts as max_ack_delay 25 ms");
    }

    @Test
    void establishesPersistentCongestionWhenLossSpansThreePtos() {
        send(0);
        ack(10 * MS, 0, 0, 0);
        long ptoNs = rtt.probeTimeoutNs(MAX_ACK_DELAY_NS);
        long durationNs = ptoNs * LossDetector.PERSISTENT_CONGESTION_THRESHOLD;
        send(20 * MS);
        send(20 * MS + durationNs + 1);
        long last = 0;
        for (int i = 0; i < 3; i++) {
            last = send(20 * MS + durationNs + 2 + i);
        }
        ack(30 * MS + durationNs, 0, last, last);
        assertTrue(lost.containsAll(List.of(1L, 2L)), "packets 1 and 2 lost, got " + lost);
        assertEquals(1, cc.persistentCongestionEvents, "loss spanning more than 3 PTOs is persistent congestion");
    }

    @Test
    void noPersistentCongestionWhenAPacketInBetweenWasAcknowledged() {
        send(0);
        ack(10 * MS, 0, 0, 0);
        long durationNs = rtt.probeTimeoutNs(MAX_ACK_DELAY_NS) * LossDetector.PERSISTENT_CONGESTION_THRESHOLD;
        send(20 * MS);
        long middle = send(20 * MS + durationNs / 2);
        send(20 * MS + durationNs + 1);
        long last = 0;
        for (int i = 0; i < 3; i++) {
            last = send(20 * MS + durationNs + 2 + i);
        }
        ack(30 * MS + durationNs, 0, last, last, middle, middle);
        assertEquals(List.of(1L, 3L), lost, "packets 1 and 3 lost");
        assertEquals(0, cc.persistentCongestionEvents, "an acknowledgement between the lost packets breaks the span");
        assertEquals(1, cc.congestionEvents.size(), "still one ordinary congestion event");
    }

    @Test
    void rejectsAckOfPacketNeverSent() {
        send(0);
        assertFalse(ack(10 * MS, 0, 5, 0), "ACK of packet 5 when only 0 was sent is rejected");
        assertTrue(acked.isEmpty(), "nothing acknowledged by a rejected ACK");
        assertFalse(ack(10 * MS, 0, 0, 1), "range with smallest above largest is rejected");
        assertEquals(SIZE, detector.bytesInFlight(), "packet 0 still in flight");
    }

    @Test
    void duplicateAckReportsEachPacketOnce() {
        for (int i = 0; i < 3; i++) {
            send(i * MS);
        }
        ack(50 * MS, 0, 1, 1);
        ack(51 * MS, 0, 1, 1);
        ack(52 * MS, 0, 2, 0);
        ack(53 * MS, 0, 2, 0);
        assertEquals(List.of(1L, 0L, 2L), acked, "each packet acknowledged exactly once");
        assertEquals(3L * SIZE, cc.ackedBytes, "congestion control hears each acked byte once");
        assertEquals(0, detector.bytesInFlight(), "nothing in flight");
    }

    @Test
    void ringGrowsAndKeepsEveryOutstandingPacket() {
        for (int i = 0; i < 1000; i++) {
            send(i * 1000L);
        }
        assertEquals(1000L * SIZE, detector.bytesInFlight(), "all in flight");
        ack(2 * MS, 0, 999, 0);
        assertEquals(1000, acked.size(), "all 1000 acknowledged across ring growth");
        assertTrue(lost.isEmpty(), "none lost");
        assertEquals(0, log.outstandingCount(), "log empty");
        assertEquals(LossDetector.NO_DEADLINE, detector.timerDeadlineNs(), "no timer with nothing in flight");
    }

    @Test
    void ackOnlyPacketsTakeNumbersButNoSlots() {
        long first = send(0);
        for (int i = 0; i < 10_000; i++) {
            log.skip();
        }
        long last = send(MS);
        assertEquals(first + 10_001, last, "numbers keep increasing across untracked packets");
        ack(20 * MS, 0, last, last, first, first);
        assertEquals(List.of(first, last), acked, "both tracked packets acknowledged");
        assertEquals(0, log.outstandingCount(), "log empty");
    }

    @Test
    void spuriousLossRaisesPacketThresholdToReorderingDistance() {
        for (int i = 0; i < 10; i++) {
            send(i * 1000L);
        }
        ack(20 * MS, 0, 9, 5);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), lost, "0-4 lost by the packet threshold of 3");
        ack(21 * MS, 0, 9, 0);
        assertEquals(5, detector.spuriousLosses(), "all five arrived after all: spurious losses");
        assertEquals(10, detector.packetThreshold(), "threshold raised to the reordering distance 9 plus one");
        assertTrue(acked.containsAll(List.of(0L, 1L, 2L, 3L, 4L)), "their frames count as delivered: " + acked);

        lost.clear();
        for (int i = 10; i < 30; i++) {
            send(22 * MS + i * 1000L);
        }
        ack(40 * MS, 0, 29, 20);
        assertEquals(List.of(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L), lost,
                "only packets 10 or more below the largest are lost now");
    }

    @Test
    void spuriousTimeThresholdLossWidensTimeThreshold() {
        send(0);
        send(10 * MS);
        ack(110 * MS, 0, 1, 1);
        long deadlineNs = detector.timerDeadlineNs();
        detector.onTimeout(deadlineNs);
        assertEquals(List.of(0L), lost, "packet 0 lost by the time threshold");
        ack(deadlineNs + MS, 0, 1, 0);
        assertEquals(1, detector.spuriousLosses(), "then acknowledged: spurious");
        send(200 * MS);
        send(210 * MS);
        ack(310 * MS, 0, 3, 3);
        long rttNs = Math.max(rtt.latestRttNs(), rtt.smoothedRttNs());
        assertEquals(200 * MS + rttNs * 10 / 8, detector.timerDeadlineNs(),
                "the time threshold is 10/8 RTT after one spurious time-threshold loss");
    }

    @Test
    void packetsDeclaredLostLeaveNothingAwaitingAcknowledgement() {
        send(0);
        send(10 * MS);
        ack(110 * MS, 0, 1, 1);
        assertEquals(110 * MS, detector.awaitingAckSinceNs(), "packet 0 still awaited since the last acknowledgement");
        detector.onTimeout(detector.timerDeadlineNs());
        assertEquals(List.of(0L), lost, "packet 0 lost by the time threshold");
        assertEquals(0, detector.ackElicitingInFlight(), "nothing in flight");
        assertEquals(LossDetector.NO_DEADLINE, detector.awaitingAckSinceNs(),
                "with nothing in flight no acknowledgement is overdue, so the connection cannot time out");
    }
}
