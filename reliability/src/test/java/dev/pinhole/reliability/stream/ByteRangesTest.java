package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ByteRangesTest {

    @Test
    void addMergesTouchingAndOverlappingRangesAndCountsNewOffsets() {
        ByteRanges ranges = new ByteRanges();
        assertEquals(10, ranges.add(10, 20));
        assertEquals(10, ranges.add(30, 40));
        assertEquals(5, ranges.add(20, 25), "touching on the left");
        assertEquals("[10..25, 30..40)", ranges.toString());
        assertEquals(15, ranges.add(5, 45), "5..10, 25..30 and 40..45 are new");
        assertEquals("[5..45)", ranges.toString());
        assertEquals(0, ranges.add(7, 9), "already covered");
    }

    @Test
    void removeSplitsTrimsAndDropsRanges() {
        ByteRanges ranges = new ByteRanges();
        ranges.add(0, 100);
        ranges.remove(40, 60);
        assertEquals("[0..40, 60..100)", ranges.toString());
        ranges.remove(30, 70);
        assertEquals("[0..30, 70..100)", ranges.toString());
        ranges.remove(0, 30);
        assertEquals("[70..100)", ranges.toString());
        ranges.remove(0, 1000);
        assertTrue(ranges.isEmpty());
    }

    @Test
    void containsAllNeedsOneRangeCoveringEverything() {
        ByteRanges ranges = new ByteRanges();
        ranges.add(0, 10);
        ranges.add(11, 20);
        assertTrue(ranges.containsAll(2, 10));
        assertFalse(ranges.containsAll(2, 12), "offset 10 is missing");
        assertTrue(ranges.containsAll(5, 5), "empty range");
    }

    @Test
    void matchesABitSetUnderRandomAddsAndRemoves() {
        long seed = 0xB17L;
        SplittableRandom random = new SplittableRandom(seed);
        ByteRanges ranges = new ByteRanges();
        BitSet model = new BitSet();
        for (int step = 0; step < 20_000; step++) {
            int start = random.nextInt(500);
            int end = start + random.nextInt(40);
            if (random.nextBoolean()) {
                BitSet before = (BitSet) model.clone();
                model.set(start, end);
                before.xor(model);
                assertEquals(before.cardinality(), ranges.add(start, end), "new offsets, seed " + seed + " step " + step);
            } else {
                model.clear(start, end);
                ranges.remove(start, end);
            }
            BitSet actual = new BitSet();
            for (int i = 0; i < ranges.size(); i++) {
                assertTrue(ranges.start(i) < ranges.end(i), "non-empty range, seed " + seed);
                if (i > 0) {
                    assertTrue(ranges.end(i - 1) < ranges.start(i), "sorted and not touching: " + ranges);
                }
                actual.set((int) ranges.start(i), (int) ranges.end(i));
            }
            assertEquals(model, actual, "seed " + seed + " step " + step);
        }
    }
}
