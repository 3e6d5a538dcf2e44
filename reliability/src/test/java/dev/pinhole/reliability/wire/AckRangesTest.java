package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AckRangesTest {

    @Test
    void keepsRangesInDescendingOrder() {
        AckRanges ranges = new AckRanges(4);
        assertTrue(ranges.add(10, 12));
        assertTrue(ranges.add(5, 8));
        assertTrue(ranges.add(0, 0));
        assertEquals(3, ranges.size());
        assertEquals(12, ranges.largest());
        assertEquals(0, ranges.smallest());
        assertEquals("AckRanges[10..12, 5..8, 0..0]", ranges.toString());
        assertTrue(ranges.contains(11) && ranges.contains(5) && ranges.contains(0));
        assertFalse(ranges.contains(9) || ranges.contains(13) || ranges.contains(1));
    }

    @Test
    void refusesRangesThatOverlapTouchOrAscend() {
        AckRanges ranges = new AckRanges(4);
        ranges.add(10, 12);
        assertThrows(IllegalArgumentException.class, () -> ranges.add(9, 9), "touching range");
        assertThrows(IllegalArgumentException.class, () -> ranges.add(11, 20), "overlapping range");
        assertThrows(IllegalArgumentException.class, () -> ranges.add(3, 2), "inverted range");
        assertThrows(IllegalArgumentException.class, () -> ranges.add(-1, 2), "negative range");
        assertEquals(1, ranges.size(), "rejected ranges are not added");
    }

    @Test
    void reportsFullInsteadOfGrowing() {
        AckRanges ranges = new AckRanges(2);
        assertTrue(ranges.add(20, 20));
        assertTrue(ranges.add(10, 10));
        assertFalse(ranges.add(0, 0), "third range beyond capacity 2");
        assertEquals(2, ranges.size());
        ranges.clear();
        assertTrue(ranges.isEmpty());
        assertTrue(ranges.add(100, 200), "reusable after clear");
    }

    @Test
    void copiesAnotherListUpToItsCapacity() {
        AckRanges source = new AckRanges(3);
        source.add(30, 31);
        source.add(20, 21);
        source.add(10, 11);
        AckRanges copy = new AckRanges(2);
        copy.copyFrom(source);
        assertEquals("AckRanges[30..31, 20..21]", copy.toString());
    }
}
