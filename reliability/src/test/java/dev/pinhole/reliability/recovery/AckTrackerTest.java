package dev.pinhole.reliability.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.AckRanges;
import dev.pinhole.reliability.wire.AllocationMeter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class AckTrackerTest {
    private static final long MS = 1_000_000L;
    private static final long MAX_ACK_DELAY_NS = 25 * MS;

    private final AckTracker tracker = new AckTracker(MAX_ACK_DELAY_NS);
    private final AckRanges ranges = new AckRanges();

    private String acked(long nowNs) {
        tracker.fillAck(ranges, nowNs);
        return ranges.toString();
    }

    @Test
    void reportsADuplicateOnceAndKeepsTheRangesUnchanged() {
        assertTrue(tracker.onPacketReceived(0, true, 0));
        assertTrue(tracker.onPacketReceived(1, true, 0));
        assertFalse(tracker.onPacketReceived(1, true, 0), "second copy of packet 1");
        assertFalse(tracker.onPacketReceived(0, false, 0), "second copy of packet 0");
        assertEquals(2, tracker.duplicatePackets());
        assertEquals("AckRanges[0..1]", acked(0));
    }

    @Test
    void mergesRangesWhenAGapIsFilled() {
        for (long pn : new long[] {0, 1, 5, 6, 3, 9}) {
            tracker.onPacketReceived(pn, false, 0);
        }
        assertEquals("AckRanges[9..9, 5..6, 3..3, 0..1]", acked(0));
        tracker.onPacketReceived(4, false, 0);
        tracker.onPacketReceived(2, false, 0);
        assertEquals("AckRanges[9..9, 0..6]", acked(0));
        tracker.onPacketReceived(8, false, 0);
        tracker.onPacketReceived(7, false, 0);
        assertEquals("AckRanges[0..9]", acked(0));
        assertEquals(1, tracker.rangeCount());
    }

    @Test
    void firstAckElicitingPacketWaitsAtMostMaxAckDelay() {
        tracker.onPacketReceived(0, true, 100 * MS);
        assertEquals(125 * MS, tracker.ackDeadlineNs(), "arrival + max_ack_delay");
        assertFalse(tracker.ackDueNow(125 * MS - 1), "not due 1 ns before the deadline");
        assertTrue(tracker.ackDueNow(125 * MS), "due at the deadline");
        assertEquals(25_000L, tracker.fillAck(ranges, 125 * MS), "ack delay in microseconds");
    }

    @Test
    void everySecondAckElicitingPacketMakesAnAckDueImmediately() {
        tracker.onPacketReceived(0, true, 10 * MS);
        assertFalse(tracker.ackDueNow(11 * MS));
        tracker.onPacketReceived(1, true, 12 * MS);
        assertTrue(tracker.ackDueNow(12 * MS), "due on the second ack-eliciting packet");
        tracker.onAckSent(12 * MS);
        assertEquals(Long.MAX_VALUE, tracker.ackDeadlineNs(), "nothing pending after sending the ACK");
        tracker.onPacketReceived(2, true, 13 * MS);
        assertEquals(38 * MS, tracker.ackDeadlineNs(), "third packet starts a new delay period");
        tracker.onPacketReceived(3, true, 14 * MS);
        assertTrue(tracker.ackDueNow(14 * MS), "due on the fourth");
    }

    @Test
    void nonAckElicitingPacketsAreAcknowledgedButNeverMakeAnAckDue() {
        for (long pn = 0; pn < 10; pn++) {
            tracker.onPacketReceived(pn, false, pn * MS);
        }
        assertEquals(Long.MAX_VALUE, tracker.ackDeadlineNs(), "only ACK/PADDING packets arrived");
        assertTrue(tracker.hasNewAckInfo(), "they can still ride on an outgoing packet");
        assertEquals("AckRanges[0..9]", acked(10 * MS));
        tracker.onAckSent(10 * MS);
        assertFalse(tracker.hasNewAckInfo(), "nothing new after the ACK went out");
    }

    @Test
    void aLatePacketBelowTheLargestTriggersAnImmediateAck() {
        tracker.onPacketReceived(0, true, 0);
        tracker.onPacketReceived(2, true, 1 * MS);
        tracker.onAckSent(1 * MS);
        assertTrue(tracker.onPacketReceived(1, true, 5 * MS));
        assertTrue(tracker.ackDueNow(5 * MS), "packet 1 arrived after packet 2");
    }

    @Test
    void aGapAboveTheLargestTriggersAnImmediateAck() {
        tracker.onPacketReceived(0, true, 0);
        tracker.onAckSent(0);
        tracker.onPacketReceived(2, true, 3 * MS);
        assertEquals(3 * MS, tracker.ackDeadlineNs(), "packet 1 is missing below packet 2");
    }

    @Test
    void aGapHiddenBehindANonAckElicitingPacketStillCounts() {
        tracker.onPacketReceived(5, true, 0);
        tracker.onAckSent(0);
        tracker.onPacketReceived(7, false, 1 * MS);
        tracker.onPacketReceived(8, true, 2 * MS);
        assertTrue(tracker.ackDueNow(2 * MS), "packet 6 is missing between 5 and 8");
    }

    @Test
    void inOrderPacketsAfterAnAckWaitForTheTimer() {
        tracker.onPacketReceived(0, true, 0);
        tracker.onPacketReceived(1, true, 0);
        tracker.onAckSent(0);
        tracker.onPacketReceived(2, true, 1 * MS);
        assertFalse(tracker.ackDueNow(1 * MS), "packet 2 follows 1 directly");
        assertEquals(26 * MS, tracker.ackDeadlineNs());
    }

    @Test
    void keepsAtMostTheBoundOfRangesDroppingTheOldest() {
        AckTracker bounded = new AckTracker(MAX_ACK_DELAY_NS, 3);
        for (long pn : new long[] {0, 2, 4, 6}) {
            assertTrue(bounded.onPacketReceived(pn, false, 0));
        }
        assertEquals(3, bounded.rangeCount());
        bounded.fillAck(ranges, 0);
        assertEquals("AckRanges[6..6, 4..4, 2..2]", ranges.toString(), "range 0..0 was forgotten");
        assertEquals(1, bounded.lowestTrackedPacketNumber());
        assertFalse(bounded.onPacketReceived(0, false, 0), "0 is below the floor: treated as a duplicate");
        assertTrue(bounded.onPacketReceived(3, false, 0), "3 is above the floor: still tracked");
        assertTrue(bounded.onPacketReceived(1, false, 0), "1 is the floor itself: still tracked");
        bounded.fillAck(ranges, 0);
        assertEquals("AckRanges[6..6, 1..4]", ranges.toString());
        for (long pn = 100; pn < 200; pn += 2) {
            bounded.onPacketReceived(pn, false, 0);
            assertTrue(bounded.rangeCount() <= 3, "ranges after packet " + pn + ": " + bounded);
        }
    }

    @Test
    void aPacketOlderThanAllRangesIsDroppedWhenTheBoundIsReached() {
        AckTracker bounded = new AckTracker(MAX_ACK_DELAY_NS, 2);
        bounded.onPacketReceived(10, false, 0);
        bounded.onPacketReceived(20, false, 0);
        assertFalse(bounded.onPacketReceived(5, false, 0), "no room and older than every range");
        bounded.fillAck(ranges, 0);
        assertEquals("AckRanges[20..20, 10..10]", ranges.toString());
    }

    @Test
    void ackOfAckPrunesRangesThePeerKnowsAbout() {
        for (long pn : new long[] {0, 1, 2, 4, 5, 8, 9}) {
            tracker.onPacketReceived(pn, true, 0);
        }
        tracker.onAckOfAckReceived(4);
        assertEquals("AckRanges[8..9, 5..5]", acked(0), "ranges up to 4 pruned, 4..5 cut to 5..5");
        assertFalse(tracker.onPacketReceived(3, true, 0), "3 is at or below the pruned largest");
        tracker.onAckOfAckReceived(2);
        assertEquals("AckRanges[8..9, 5..5]", acked(0), "an older ack-of-ack changes nothing");
        tracker.onAckOfAckReceived(9);
        assertEquals(0, tracker.rangeCount(), "everything pruned");
        assertFalse(tracker.hasNewAckInfo(), "nothing left to acknowledge");
    }

    @Test
    void contiguousPacketAfterPruningIsNotMistakenForAGap() {
        tracker.onPacketReceived(0, true, 0);
        tracker.onPacketReceived(1, true, 0);
        tracker.onAckSent(0);
        tracker.onAckOfAckReceived(1);
        tracker.onPacketReceived(2, true, 1 * MS);
        assertFalse(tracker.ackDueNow(1 * MS), "2 directly follows the pruned 0..1");
    }

    @Test
    void ackDelayIsMeasuredFromTheLargestPacketsArrival() {
        tracker.onPacketReceived(5, true, 10 * MS);
        tracker.onPacketReceived(3, true, 20 * MS);
        assertEquals(15_000L, tracker.fillAck(ranges, 25 * MS), "packet 5 arrived 15 ms ago");
    }

    @Test
    void matchesASetModelUnderRandomReorderingAndDuplication() {
        long seed = 0xACCL;
        SplittableRandom random = new SplittableRandom(seed);
        for (int scenario = 0; scenario < 200; scenario++) {
            AckTracker model = new AckTracker(MAX_ACK_DELAY_NS, 1000);
            TreeSet<Long> received = new TreeSet<>();
            List<Long> arrivals = new ArrayList<>();
            for (long pn = 0; pn < 300; pn++) {
                if (random.nextInt(10) > 0) {
                    arrivals.add(pn);
                }
                if (random.nextInt(20) == 0) {
                    arrivals.add(pn);
                }
            }
            Collections.shuffle(arrivals, new java.util.Random(random.nextLong()));
            for (long pn : arrivals) {
                boolean fresh = received.add(pn);
                assertEquals(fresh, model.onPacketReceived(pn, true, 0),
                        "packet " + pn + " new=" + fresh + " (seed " + seed + ", scenario " + scenario + ")");
            }
            AckRanges all = new AckRanges(1000);
            model.fillAck(all, 0);
            TreeSet<Long> reported = new TreeSet<>();
            for (int i = 0; i < all.size(); i++) {
                for (long pn = all.low(i); pn <= all.high(i); pn++) {
                    reported.add(pn);
                }
            }
            assertEquals(received, reported, "seed " + seed + ", scenario " + scenario);
        }
    }

    @Test
    void recordingPacketsAndFillingAcksAllocatesNothing() {
        long[] pn = {0};
        long allocated = AllocationMeter.bytesAllocated(20_000, 20_000, () -> {
            long now = pn[0] * MS;
            // Every fourth packet is lost and every eighth arrives late, so ranges come and go.
            if (pn[0] % 4 != 0) {
                tracker.onPacketReceived(pn[0], true, now);
            }
            if (pn[0] % 8 == 0) {
                tracker.onPacketReceived(pn[0] - 4, true, now);
            }
            if (tracker.ackDueNow(now)) {
                tracker.fillAck(ranges, now);
                tracker.onAckSent(now);
                tracker.onAckOfAckReceived(pn[0] - 64);
            }
            pn[0]++;
        });
        assertTrue(allocated < 1024, "expected no allocation, 20000 packets allocated " + allocated + " bytes");
    }
}
