package dev.pinhole.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

class PropertyTest {

    /** Settings as Surefire would pass them for this module, with no seed overrides. */
    private static final Function<String, String> CI = Map.of("basedir", "/home/ci/pinhole/testkit")::get;

    private static final Gen<List<Integer>> SMALL_INT_LISTS = Gen.lists(Gen.ints(0, 1000), 0, 30);
    private static final Shrinker<List<Integer>> SMALL_INT_LIST_SHRINKER = Shrinker.lists(Shrinker.intsToward(0));

    /** A network scenario as the simulation properties use them; sizes print as numbers. */
    record NetScenario(int lossPercent, double delayMs, boolean reorder, List<Integer> payloadSizes, long simSeed) {

        static final Gen<NetScenario> GEN = random -> new NetScenario(
                Gen.ints(0, 50).next(random),
                Gen.doubles(0, 200).next(random),
                Gen.booleans(0.3).next(random),
                Gen.lists(Gen.ints(1, 1400), 1, 20).next(random),
                Gen.longs(Long.MIN_VALUE, Long.MAX_VALUE).next(random));

        static final Shrinker<NetScenario> SHRINKER = Shrinker.byFields(NetScenario.class)
                .field(NetScenario::lossPercent, Shrinker.intsToward(0),
                        (s, v) -> new NetScenario(v, s.delayMs(), s.reorder(), s.payloadSizes(), s.simSeed()))
                .field(NetScenario::delayMs, Shrinker.doublesToward(0),
                        (s, v) -> new NetScenario(s.lossPercent(), v, s.reorder(), s.payloadSizes(), s.simSeed()))
                .field(NetScenario::reorder, Shrinker.booleans(),
                        (s, v) -> new NetScenario(s.lossPercent(), s.delayMs(), v, s.payloadSizes(), s.simSeed()))
                .field(NetScenario::payloadSizes, Shrinker.lists(Shrinker.intsToward(1), 1),
                        (s, v) -> new NetScenario(s.lossPercent(), s.delayMs(), s.reorder(), v, s.simSeed()))
                .field(NetScenario::simSeed, Shrinker.none(),
                        (s, v) -> new NetScenario(s.lossPercent(), s.delayMs(), s.reorder(), s.payloadSizes(), v));
    }

    @Test
    void wrongSumBoundShrinksToAListSummingExactlyToTheBound() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(SMALL_INT_LISTS)
                .shrinkWith(SMALL_INT_LIST_SHRINKER)
                .withSettings(CI)
                .check(list -> assertTrue(sum(list) < 1000, "expected sum < 1000, got " + sum(list))));

        List<?> shrunk = (List<?>) failure.shrunkScenario();
        // Greedy shrinking stops where no element can drop by one and no element can go: the sum is then
        // exactly the bound and no element is zero.
        assertEquals(1000, sum(shrunk), "shrunk " + shrunk + " from " + failure.originalScenario());
        assertFalse(shrunk.contains(0), "a zero element could still be dropped: " + shrunk);
        assertTrue(sum((List<?>) failure.originalScenario()) >= 1000, "the original also fails");
    }

    @Test
    void noLargeElementPropertyShrinksToTheSingleSmallestCounterexample() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(SMALL_INT_LISTS)
                .shrinkWith(SMALL_INT_LIST_SHRINKER)
                .withSettings(CI)
                .check(list -> assertTrue(list.stream().allMatch(x -> x < 900), "every element < 900: " + list)));

        assertEquals(List.of(900), failure.shrunkScenario(), "shrunk from " + failure.originalScenario());
        assertTrue(failure.getMessage().contains("every element < 900: [900]"),
                "message names the shrunk failure: " + failure.getMessage());
    }

    @Test
    void reverseTwiceMinusLastShrinksToASingleZero() {
        Gen<List<Integer>> nonEmpty = Gen.lists(Gen.ints(-1000, 1000), 1, 30);
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(nonEmpty)
                .shrinkWith(Shrinker.lists(Shrinker.intsToward(0), 1))
                .withSettings(CI)
                .check(list -> assertEquals(list.subList(0, list.size() - 1), reversed(reversed(list)))));

        assertEquals(List.of(0), failure.shrunkScenario());
    }

    @Test
    void failureReportNamesSeedScenariosFailureAndAOneLineReplayCommand() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(SMALL_INT_LISTS)
                .shrinkWith(SMALL_INT_LIST_SHRINKER)
                .withSettings(CI)
                .check(list -> assertTrue(list.size() < 5, "expected fewer than 5 elements, got " + list.size())));

        String message = failure.getMessage();
        String replay = "./mvnw -pl testkit -am test"
                + " -Dtest='PropertyTest#failureReportNamesSeedScenariosFailureAndAOneLineReplayCommand'"
                + " -Dpinhole.seed=" + failure.seed() + " -Dsurefire.failIfNoSpecifiedTests=false";
        assertEquals(replay, failure.replayCommand());
        assertTrue(message.lines().anyMatch(line -> line.trim().equals("replay: " + replay)),
                "the replay command on one line of:\n" + message);
        assertTrue(message.contains("seed " + failure.seed()), "seed in:\n" + message);
        assertTrue(message.contains("original scenario: " + failure.originalScenario()), message);
        assertTrue(message.contains("shrunk scenario:   [0, 0, 0, 0, 0]"), message);
        assertTrue(message.contains("expected fewer than 5 elements, got 5"), message);
        assertInstanceOf(AssertionError.class, failure.getCause(), "the cause is the shrunk scenario's failure");
    }

    @Test
    void replayCommandOmitsTheModuleOutsideMaven() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(Gen.ints(0, 9))
                .withSettings(Map.<String, String>of()::get)
                .check(n -> assertTrue(n < 0)));

        assertTrue(failure.replayCommand().startsWith("./mvnw test -Dtest='PropertyTest#"),
                failure.replayCommand());
    }

    @RepeatedTest(1)
    void replayCommandNamesAnyKindOfJUnitTestMethod() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(Gen.ints(0, 9))
                .withSettings(CI)
                .check(n -> assertTrue(n < 0)));
        assertTrue(failure.replayCommand().contains("-Dtest='PropertyTest#replayCommandNamesAnyKindOfJUnitTestMethod'"),
                failure.replayCommand());
    }

    @Test
    void longScenariosAreCutShortAndByteArraysShownByLength() {
        assertEquals("byte[1400]", Property.describe(new byte[1400]));
        assertEquals("[[1, 2], x]", Property.describe(new Object[] {new int[] {1, 2}, "x"}));
        String described = Property.describe("y".repeat(5000));
        assertTrue(described.startsWith("y".repeat(2000) + "... (5000 characters in all)"), described);
    }

    @Test
    void seedAndReplayLineArePrintedToStderrBeforeShrinkingStarts() {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream originalErr = System.err;
        List<String> stderrSeenWhileShrinking = new ArrayList<>();
        PropertyFailedError failure;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            AtomicInteger runs = new AtomicInteger();
            failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(SMALL_INT_LISTS)
                    .shrinkWith(SMALL_INT_LIST_SHRINKER)
                    .withSettings(CI)
                    .check(list -> {
                        if (list.size() >= 3) {
                            if (runs.incrementAndGet() == 2) { // the first shrink candidate that fails
                                stderrSeenWhileShrinking.add(captured.toString(StandardCharsets.UTF_8));
                            }
                            throw new AssertionError("too long");
                        }
                    }));
        } finally {
            System.setErr(originalErr);
        }
        assertEquals(1, stderrSeenWhileShrinking.size(), "shrinking reran a failing candidate");
        String early = stderrSeenWhileShrinking.get(0);
        assertTrue(early.contains("seed " + failure.seed()), "seed printed before shrinking: " + early);
        assertTrue(early.contains(failure.replayCommand()), "replay printed before shrinking: " + early);
    }

    @Test
    void anExceptionFailsTheScenarioLikeAnAssertion() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(Gen.ints(0, 100))
                .shrinkWith(Shrinker.intsToward(0))
                .withSettings(CI)
                .check(n -> {
                    if (n > 50) {
                        throw new IllegalStateException("window overflow at " + n);
                    }
                }));

        assertEquals(51, failure.shrunkScenario());
        assertInstanceOf(IllegalStateException.class, failure.getCause());
        assertTrue(failure.getMessage().contains("IllegalStateException: window overflow at 51"), failure.getMessage());
    }

    @Test
    void correctPropertyPassesTheConfiguredNumberOfScenarios() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll(SMALL_INT_LISTS)
                .withSettings(CI)
                .check(list -> {
                    runs.incrementAndGet();
                    assertEquals(list, reversed(reversed(list)));
                });
        assertEquals(1000, runs.get(), "default scenario count without -Dpinhole.scenarios");

        runs.set(0);
        Property.forAll(SMALL_INT_LISTS)
                .withSettings(Map.of("pinhole.scenarios", "37")::get)
                .check(list -> runs.incrementAndGet());
        assertEquals(37, runs.get(), "-Dpinhole.scenarios=37");
    }

    @Test
    void scaleAndOverrideAdjustTheScenarioCount() {
        Property<Integer> property = Property.forAll(Gen.ints(0, 1)).withSettings(CI);
        assertEquals(1000, property.scenarioCount());
        assertEquals(100, property.scale(0.1).scenarioCount(), "a heavy property at a tenth");
        assertEquals(1, property.scale(0.0001).scenarioCount(), "never fewer than one scenario");
        assertEquals(5, property.scenarios(5).scenarioCount(), "per-test override");
        assertEquals(10, property.scenarios(20).scale(0.5).scenarioCount(), "scale applies to the override");
        assertEquals(500, property.scale(0.1).withSettings(Map.of("pinhole.scenarios", "5000")::get).scenarioCount(),
                "a deeper run scales the heavy property too");
    }

    @Test
    void replaySeedRunsExactlyOneScenarioGeneratedFromThatSeed() {
        long seed = -4_242_424_242L;
        List<NetScenario> seen = new ArrayList<>();
        Property.forAll(NetScenario.GEN)
                .withSettings(Map.of("pinhole.seed", Long.toString(seed), "pinhole.scenarios", "1000")::get)
                .check(seen::add);
        assertEquals(List.of(NetScenario.GEN.next(new SplittableRandom(seed))), seen);
    }

    @Test
    void replayingTheReportedSeedReproducesTheOriginalScenarioAndFailure() {
        Property<NetScenario> property = Property.forAll(NetScenario.GEN).shrinkWith(NetScenario.SHRINKER);
        Property.Check<NetScenario> check = s -> assertTrue(s.lossPercent() < 40, "loss " + s.lossPercent());
        PropertyFailedError first = assertThrows(PropertyFailedError.class,
                () -> property.withSettings(CI).check(check));

        List<NetScenario> replayed = new ArrayList<>();
        PropertyFailedError replay = assertThrows(PropertyFailedError.class, () -> property
                .withSettings(Map.of("pinhole.seed", Long.toString(first.seed()))::get)
                .check(s -> {
                    replayed.add(s);
                    check.verify(s);
                }));
        assertEquals(first.originalScenario(), replayed.get(0), "replay starts from the original scenario");
        assertEquals(first.seed(), replay.seed());
        assertEquals(first.shrunkScenario(), replay.shrunkScenario(), "shrinking is deterministic too");
        assertTrue(replay.getMessage().contains("replaying seed " + first.seed()), replay.getMessage());
    }

    @Test
    void sameBaseSeedGivesTheSameScenariosAndAnotherBaseSeedOthers() {
        List<NetScenario> first = collect(Map.of("pinhole.scenarios", "200"));
        List<NetScenario> second = collect(Map.of("pinhole.scenarios", "200"));
        List<NetScenario> explored = collect(Map.of("pinhole.scenarios", "200", "pinhole.seedBase", "12345"));
        List<NetScenario> exploredHex = collect(Map.of("pinhole.scenarios", "200", "pinhole.seedBase", "0x3039"));

        assertEquals(first, second, "same base seed, same scenarios");
        assertEquals(explored, exploredHex, "12345 and 0x3039 are the same base seed");
        assertNotEquals(first, explored, "another base seed explores other scenarios");
        assertEquals(200, new HashSet<>(first).size(), "200 distinct scenarios");
    }

    @Test
    void scenarioSeedsAreDistinctAcrossIndexes() {
        Set<Long> seeds = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            seeds.add(Property.scenarioSeed(PropertyConfig.DEFAULT_BASE_SEED, i));
        }
        assertEquals(100_000, seeds.size());
    }

    @Test
    void recordScenarioShrinksEveryFieldToItsSimplestFailingValue() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(NetScenario.GEN)
                .shrinkWith(NetScenario.SHRINKER)
                .withSettings(CI)
                .check(s -> assertFalse(s.lossPercent() >= 10 && s.payloadSizes().stream().anyMatch(n -> n > 1000),
                        "stalls with loss " + s.lossPercent() + "% and sizes " + s.payloadSizes())));

        NetScenario original = (NetScenario) failure.originalScenario();
        assertEquals(new NetScenario(10, 0.0, false, List.of(1001), original.simSeed()), failure.shrunkScenario(),
                "minimal loss and payload, no delay or reordering, simulator seed kept; from " + original);
    }

    @Test
    void shrinkingStopsAtTheAttemptBudget() {
        AtomicInteger runs = new AtomicInteger();
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(Gen.constant(100))
                .shrinkWith(n -> IntStream.range(0, n).boxed())
                .maxShrinkAttempts(3)
                .withSettings(CI)
                .check(n -> {
                    runs.incrementAndGet();
                    assertTrue(n != 100, "only the original fails");
                }));
        assertEquals(1 + 3, runs.get(), "the scenario plus three shrink attempts");
        assertTrue(failure.getMessage().contains("budget of 3 reached"), failure.getMessage());
    }

    @Test
    void withoutAShrinkerTheOriginalScenarioIsReported() {
        PropertyFailedError failure = assertThrows(PropertyFailedError.class, () -> Property.forAll(Gen.ints(5, 9))
                .withSettings(CI)
                .check(n -> assertTrue(n < 5)));
        assertEquals(failure.originalScenario(), failure.shrunkScenario());
    }

    @Test
    void anAssumptionFailingInsideTheCheckAbortsTheTest() {
        assertThrows(TestAbortedException.class, () -> Property.forAll(Gen.ints(0, 9))
                .withSettings(CI)
                .check(n -> assumeTrue(n < 0, "not applicable")));
    }

    @Test
    void malformedSettingsAreRejectedNamingTheProperty() {
        IllegalArgumentException scenarios = assertThrows(IllegalArgumentException.class, () -> Property
                .forAll(Gen.ints(0, 9)).withSettings(Map.of("pinhole.scenarios", "lots")::get).check(n -> { }));
        assertTrue(scenarios.getMessage().contains("-Dpinhole.scenarios"), scenarios.getMessage());
        IllegalArgumentException seed = assertThrows(IllegalArgumentException.class, () -> Property
                .forAll(Gen.ints(0, 9)).withSettings(Map.of("pinhole.seed", "12ab")::get).check(n -> { }));
        assertTrue(seed.getMessage().contains("-Dpinhole.seed"), seed.getMessage());
    }

    private static List<NetScenario> collect(Map<String, String> settings) {
        List<NetScenario> scenarios = new ArrayList<>();
        Property.forAll(NetScenario.GEN).withSettings(settings::get).check(scenarios::add);
        return scenarios;
    }

    private static int sum(List<?> list) {
        return list.stream().mapToInt(x -> (Integer) x).sum();
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        Collections.reverse(copy);
        return copy;
    }
}
