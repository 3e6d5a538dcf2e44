package dev.pinhole.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ShrinkerTest {

    record Link(int lossPercent, double delayMs, boolean reorder) {
    }

    @Test
    void intsJumpToTargetThenHalveTheDistanceThenStepByOne() {
        assertEquals(List.of(0, 50, 75, 88, 94, 97, 99),
                Shrinker.intsToward(0).shrink(100).collect(Collectors.toList()));
        assertEquals(List.of(0, -50, -75, -88, -94, -97, -99),
                Shrinker.intsToward(0).shrink(-100).collect(Collectors.toList()));
        assertEquals(List.of(10, 11), Shrinker.intsToward(10).shrink(12).collect(Collectors.toList()));
        assertEquals(List.of(), Shrinker.intsToward(7).shrink(7).collect(Collectors.toList()),
                "a value equal to the target has nothing simpler");
    }

    @Test
    void longsShrinkAcrossTheWholeRangeWithoutOverflow() {
        List<Long> candidates = Shrinker.longsToward(Long.MIN_VALUE).shrink(Long.MAX_VALUE)
                .collect(Collectors.toList());
        assertEquals(Long.MIN_VALUE, candidates.get(0), "first candidate is the target");
        assertTrue(candidates.stream().allMatch(c -> c < Long.MAX_VALUE),
                "every candidate is below the value: " + candidates);
        assertEquals(List.of(0L, 500L, 750L, 875L, 938L, 969L, 985L, 993L, 997L, 999L),
                Shrinker.longsToward(0).shrink(1000L).collect(Collectors.toList()));
    }

    @Test
    void doublesZeroFirstThenWholeNumberThenCloserPointsAllStrictlyCloser() {
        List<Double> candidates = Shrinker.doublesToward(0).shrink(12.75).collect(Collectors.toList());
        assertEquals(0.0, candidates.get(0), "zero it first");
        assertEquals(12.0, candidates.get(1), "then drop the fraction");
        assertTrue(candidates.stream().allMatch(c -> Math.abs(c) < 12.75), "all closer to 0: " + candidates);
        assertEquals(List.of(), Shrinker.doublesToward(0).shrink(0.0).collect(Collectors.toList()));
        assertEquals(List.of(1.0), Shrinker.doublesToward(1).shrink(Double.NaN).collect(Collectors.toList()));
    }

    @Test
    void booleansShrinkToFalseOnly() {
        assertEquals(List.of(false), Shrinker.booleans().shrink(true).collect(Collectors.toList()));
        assertEquals(List.of(), Shrinker.booleans().shrink(false).collect(Collectors.toList()));
    }

    @Test
    void listsDropEverythingThenHalvesThenSingleElementsThenShrinkElements() {
        List<List<Integer>> candidates = Shrinker.lists(Shrinker.intsToward(0))
                .shrink(List.of(4, 8)).collect(Collectors.toList());
        assertEquals(List.of(List.of(), List.of(8), List.of(4), List.of(0, 8), List.of(2, 8), List.of(3, 8),
                List.of(4, 0), List.of(4, 4), List.of(4, 6), List.of(4, 7)), candidates);
    }

    @Test
    void listsNeverShrinkBelowTheirMinimumSize() {
        List<List<Integer>> candidates = Shrinker.lists(Shrinker.<Integer>none(), 3)
                .shrink(List.of(1, 2, 3, 4, 5, 6, 7)).collect(Collectors.toList());
        assertEquals(List.of(5, 6, 7), candidates.get(0), "first candidate drops all it may");
        assertTrue(candidates.stream().allMatch(c -> c.size() >= 3), "no candidate below 3 elements: " + candidates);
    }

    @Test
    void bytesTruncateThenZero() {
        List<byte[]> candidates = Shrinker.bytes(1).shrink(new byte[] {5, 6, 7, 8, 9}).collect(Collectors.toList());
        assertEquals(List.of(1, 3, 4, 5), candidates.stream().map(b -> b.length).collect(Collectors.toList()),
                "lengths: down to the minimum, then half the extra, then one fewer, then same length zeroed");
        assertArrayEquals(new byte[5], candidates.get(3));
        assertEquals(0, Shrinker.bytes(0).shrink(new byte[0]).count(), "nothing simpler than no bytes");
    }

    @Test
    void optionalsShrinkToEmptyThenShrinkTheValue() {
        assertEquals(List.of(Optional.empty(), Optional.of(0), Optional.of(1)),
                Shrinker.optionals(Shrinker.intsToward(0)).shrink(Optional.of(2)).collect(Collectors.toList()));
    }

    @Test
    void towardsEarlierProposesTheEarlierChoicesFirst() {
        Shrinker<String> shrinker = Shrinker.towardsEarlier("none", "loss", "reorder", "duplicate");
        assertEquals(List.of("none", "loss"), shrinker.shrink("reorder").collect(Collectors.toList()));
        assertEquals(List.of(), shrinker.shrink("none").collect(Collectors.toList()));
    }

    @Test
    void recordShrinkerShrinksOneFieldAtATimeInFieldOrder() {
        Shrinker<Link> shrinker = Shrinker.byFields(Link.class)
                .field(Link::lossPercent, Shrinker.intsToward(0), (l, v) -> new Link(v, l.delayMs(), l.reorder()))
                .field(Link::delayMs, Shrinker.doublesToward(0), (l, v) -> new Link(l.lossPercent(), v, l.reorder()))
                .field(Link::reorder, Shrinker.booleans(), (l, v) -> new Link(l.lossPercent(), l.delayMs(), v));
        List<Link> candidates = shrinker.shrink(new Link(2, 3.0, true)).collect(Collectors.toList());
        assertEquals(new Link(0, 3.0, true), candidates.get(0));
        assertEquals(new Link(1, 3.0, true), candidates.get(1));
        assertEquals(new Link(2, 0.0, true), candidates.get(2));
        assertEquals(new Link(2, 3.0, false), candidates.get(candidates.size() - 1));
    }

    @Test
    void convertShrinksThroughAnotherRepresentation() {
        Shrinker<String> numbers = Shrinker.intsToward(0).convert(Integer::parseInt, String::valueOf);
        assertEquals(List.of("0", "2", "3"), numbers.shrink("4").collect(Collectors.toList()));
    }
}
