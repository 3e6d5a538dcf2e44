package dev.pinhole.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class GenTest {

    private static final int DRAWS = 10_000;

    @Test
    void intsStayInTheInclusiveRangeAndReachBothEnds() {
        RandomGenerator random = new SplittableRandom(1);
        Gen<Integer> gen = Gen.ints(-3, 3);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < DRAWS; i++) {
            seen.add(gen.next(random));
        }
        assertEquals(Set.of(-3, -2, -1, 0, 1, 2, 3), seen, "every value of [-3, 3] and nothing else");
    }

    @Test
    void longsCoverRangesEndingAtTheExtremes() {
        RandomGenerator random = new SplittableRandom(2);
        Gen<Long> top = Gen.longs(Long.MAX_VALUE - 1, Long.MAX_VALUE);
        Gen<Long> all = Gen.longs(Long.MIN_VALUE, Long.MAX_VALUE);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            seen.add(top.next(random));
            all.next(random);
        }
        assertEquals(Set.of(Long.MAX_VALUE - 1, Long.MAX_VALUE), seen);
        assertEquals(5L, Gen.longs(5, 5).next(random));
    }

    @Test
    void doublesStayInTheHalfOpenRange() {
        RandomGenerator random = new SplittableRandom(3);
        Gen<Double> gen = Gen.doubles(0.5, 2.5);
        for (int i = 0; i < DRAWS; i++) {
            double value = gen.next(random);
            assertTrue(value >= 0.5 && value < 2.5, "expected a value in [0.5, 2.5), got " + value);
        }
        assertEquals(1.5, Gen.doubles(1.5, 1.5).next(random));
    }

    @Test
    void booleansFollowTheirProbability() {
        RandomGenerator random = new SplittableRandom(4);
        Gen<Boolean> rare = Gen.booleans(0.1);
        int trues = 0;
        for (int i = 0; i < DRAWS; i++) {
            trues += rare.next(random) ? 1 : 0;
        }
        // 10 000 draws at p = 0.1: mean 1000, standard deviation 30; 800..1200 is over six deviations.
        assertTrue(trues > 800 && trues < 1200, "expected about 1000 trues in 10000 draws, got " + trues);
        assertEquals(false, Gen.booleans(0.0).next(random));
        assertEquals(true, Gen.booleans(1.0).next(random));
    }

    @Test
    void elementsOneOfAndOptionalsDrawFromTheirChoices() {
        RandomGenerator random = new SplittableRandom(5);
        Gen<String> elements = Gen.elements("a", "b", "c");
        Gen<Integer> oneOf = Gen.oneOf(Gen.constant(1), Gen.ints(10, 11));
        Gen<Optional<Integer>> optionals = Gen.optionals(Gen.constant(7), 0.5);
        Set<Object> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            seen.add(elements.next(random));
            seen.add(oneOf.next(random));
            seen.add(optionals.next(random));
        }
        assertEquals(Set.of("a", "b", "c", 1, 10, 11, Optional.empty(), Optional.of(7)), seen);
    }

    @Test
    void listsAndBytesHaveSizesInRange() {
        RandomGenerator random = new SplittableRandom(6);
        Gen<List<Integer>> lists = Gen.lists(Gen.ints(0, 9), 2, 4);
        Gen<byte[]> bytes = Gen.bytes(0, 3);
        Set<Integer> listSizes = new HashSet<>();
        Set<Integer> byteLengths = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            listSizes.add(lists.next(random).size());
            byteLengths.add(bytes.next(random).length);
        }
        assertEquals(Set.of(2, 3, 4), listSizes);
        assertEquals(Set.of(0, 1, 2, 3), byteLengths);
        assertEquals(16, Gen.bytes(16).next(random).length);
    }

    @Test
    void sameSeedGivesSameValues() {
        Gen<List<Integer>> gen = Gen.lists(Gen.ints(0, 1_000_000), 0, 50);
        Gen<byte[]> bytes = Gen.bytes(0, 100);
        for (long seed = 0; seed < 100; seed++) {
            assertEquals(gen.next(new SplittableRandom(seed)), gen.next(new SplittableRandom(seed)));
            assertArrayEquals(bytes.next(new SplittableRandom(seed)), bytes.next(new SplittableRandom(seed)));
        }
    }

    @Test
    void mapAndFlatMapCompose() {
        RandomGenerator random = new SplittableRandom(7);
        Gen<List<Integer>> sizedThenFilled = Gen.ints(1, 3).flatMap(n -> Gen.lists(Gen.constant(n), n, n));
        for (int i = 0; i < 100; i++) {
            List<Integer> list = sizedThenFilled.next(random);
            assertEquals(list.size(), list.get(0), "a list of n copies of n, got " + list);
        }
        assertEquals("x", Gen.constant(1).map(n -> "x".repeat(n)).next(random));
    }

    @Test
    void invalidRangesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Gen.ints(2, 1));
        assertThrows(IllegalArgumentException.class, () -> Gen.doubles(0, Double.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> Gen.booleans(1.5));
        assertThrows(IllegalArgumentException.class, () -> Gen.bytes(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> Gen.elements(List.of()));
    }
}
