package dev.pinhole.testkit;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;
import org.opentest4j.TestAbortedException;

/**
 * A seeded property test: generate scenarios, check each one, and on the first failure shrink it and
 * report how to replay it.
 *
 * <pre>{@code
 * @Test
 * void bytesArriveInOrder() {
 *     Property.forAll(LinkScenario.GEN)
 *             .shrinkWith(LinkScenario.SHRINKER)
 *             .scale(0.1)                            // a heavy property: a tenth of the scenarios
 *             .check(scenario -> {
 *                 Result result = Simulation.run(scenario);
 *                 assertEquals(scenario.sent(), result.received(), "bytes received");
 *             });
 * }
 * }</pre>
 *
 * <h2>Run-wide system properties (Surefire passes them through)</h2>
 * <ul>
 *   <li>{@code -Dpinhole.scenarios=N}: scenarios per property, default 1000; a test's {@link #scale}
 *       multiplies it, a test's {@link #scenarios} replaces it.</li>
 *   <li>{@code -Dpinhole.seedBase=B}: explore new scenarios. Scenario {@code i}'s seed is derived from the
 *       base seed and {@code i}; the default base seed is fixed, so CI runs the same scenarios every time.</li>
 *   <li>{@code -Dpinhole.seed=S}: run only the scenario with seed {@code S}, as printed by a failure.</li>
 * </ul>
 *
 * <h2>What a failure looks like</h2>
 * A scenario fails when the check throws anything (an {@link AssertionError} or any exception). The
 * runner prints the seed and the replay command to stderr at once (so a hang while shrinking still
 * leaves them in the log), shrinks greedily within {@link #maxShrinkAttempts} reruns, and throws a
 * {@link PropertyFailedError} naming the seed, the original and shrunk scenario, the shrunk failure, and
 * a one-line replay command such as (wrapped here)
 * <pre>{@code
 * ./mvnw -pl reliability -am test -Dtest='TransferPropertyTest#bytesArriveInOrder' -Dpinhole.seed=123
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * }</pre>
 * The test is found on the calling thread's stack (the nearest JUnit test method), so call
 * {@code check} from the test method's thread. A JUnit assumption failing inside the check aborts the
 * test, as it would outside.
 *
 * <p>Generators and checks must be deterministic given the scenario: take randomness only from the
 * {@link Gen}'s random source, put any simulator seed into the scenario ({@code Gen.longs(...)} with
 * {@link Shrinker#none()}), and use virtual time. Scenario types should have a readable
 * {@code toString()} (print an array's length, not its identity).
 *
 * <p>Instances are immutable: each setter returns a new {@code Property}.
 *
 * @param <T> the scenario type
 */
public final class Property<T> {

    /** Default bound on reruns while shrinking one failure. */
    public static final int DEFAULT_MAX_SHRINK_ATTEMPTS = 500;

    /** Longer scenario descriptions are cut: a report must stay readable in a CI log. */
    private static final int MAX_SCENARIO_CHARS = 2000;

    /** SplitMix64's increment (2^64 / golden ratio): consecutive indexes give well-spread seeds. */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final Gen<T> gen;
    private final Shrinker<T> shrinker;
    private final Integer scenarios;
    private final double scale;
    private final int maxShrinkAttempts;
    private final Function<String, String> settingsLookup;

    private Property(Gen<T> gen, Shrinker<T> shrinker, Integer scenarios, double scale, int maxShrinkAttempts,
            Function<String, String> settingsLookup) {
        this.gen = gen;
        this.shrinker = shrinker;
        this.scenarios = scenarios;
        this.scale = scale;
        this.maxShrinkAttempts = maxShrinkAttempts;
        this.settingsLookup = settingsLookup;
    }

    /** A property over scenarios drawn from {@code gen}; without {@link #shrinkWith} failures are not shrunk. */
    public static <T> Property<T> forAll(Gen<T> gen) {
        return new Property<>(Objects.requireNonNull(gen, "gen"), Shrinker.none(), null, 1.0,
                DEFAULT_MAX_SHRINK_ATTEMPTS, System::getProperty);
    }

    /** Shrink failing scenarios with {@code shrinker}. */
    public Property<T> shrinkWith(Shrinker<T> shrinker) {
        return new Property<>(gen, Objects.requireNonNull(shrinker, "shrinker"), scenarios, scale,
                maxShrinkAttempts, settingsLookup);
    }

    /**
     * Run {@code count} scenarios whatever {@code -Dpinhole.scenarios} says (still multiplied by
     * {@link #scale}). Prefer {@link #scale}, which keeps the test deeper when a run asks for more.
     */
    public Property<T> scenarios(int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("scenarios must be positive, got " + count);
        }
        return new Property<>(gen, shrinker, count, scale, maxShrinkAttempts, settingsLookup);
    }

    /** Run {@code factor} times the configured scenarios (at least one): {@code 0.1} for heavy properties. */
    public Property<T> scale(double factor) {
        if (!(factor > 0.0 && Double.isFinite(factor))) {
            throw new IllegalArgumentException("scale must be a positive finite factor, got " + factor);
        }
        return new Property<>(gen, shrinker, scenarios, factor, maxShrinkAttempts, settingsLookup);
    }

    /** Bound the reruns spent shrinking a failure (default {@value #DEFAULT_MAX_SHRINK_ATTEMPTS}). */
    public Property<T> maxShrinkAttempts(int attempts) {
        if (attempts < 0) {
            throw new IllegalArgumentException("maxShrinkAttempts must not be negative, got " + attempts);
        }
        return new Property<>(gen, shrinker, scenarios, scale, attempts, settingsLookup);
    }

    /** Read the run-wide settings through {@code lookup} instead of system properties (for testkit's own tests). */
    Property<T> withSettings(Function<String, String> lookup) {
        return new Property<>(gen, shrinker, scenarios, scale, maxShrinkAttempts, Objects.requireNonNull(lookup));
    }

    /** The number of scenarios {@link #check} will run, given the current settings (1 when replaying). */
    public int scenarioCount() {
        return scenarioCount(PropertyConfig.from(settingsLookup));
    }

    private int scenarioCount(PropertyConfig settings) {
        if (settings.replaySeed().isPresent()) {
            return 1;
        }
        int base = scenarios != null ? scenarios : settings.scenarios();
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.round(base * scale)));
    }

    /** The seed of scenario {@code index} (from 0) under {@code baseSeed}: SplitMix64 of the index's step. */
    public static long scenarioSeed(long baseSeed, int index) {
        long z = baseSeed + (index + 1L) * GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The scenario that seed {@code seed} generates. */
    public T scenarioFor(long seed) {
        return gen.next(new SplittableRandom(seed));
    }

    /**
     * Checks every scenario; throws {@link PropertyFailedError} for the first that fails.
     *
     * @param check assertions about one scenario; it fails the scenario by throwing
     */
    public void check(Check<T> check) {
        Objects.requireNonNull(check, "check");
        PropertyConfig settings = PropertyConfig.from(settingsLookup);
        int count = scenarioCount(settings);
        for (int index = 0; index < count; index++) {
            long seed = settings.replaySeed().isPresent()
                    ? settings.replaySeed().getAsLong()
                    : scenarioSeed(settings.baseSeed(), index);
            T scenario = scenarioFor(seed);
            Throwable failure = run(check, scenario);
            if (failure instanceof TestAbortedException aborted) {
                throw aborted;
            }
            if (failure != null) {
                throw failed(check, settings, index, count, seed, scenario, failure);
            }
        }
    }

    /** One scenario's assertions; throwing anything fails the scenario. */
    @FunctionalInterface
    public interface Check<T> {
        void verify(T scenario) throws Exception;
    }

    private PropertyFailedError failed(Check<T> check, PropertyConfig settings, int index, int count, long seed,
            T original, Throwable originalFailure) {
        String replay = replayCommand(settings.module(), TestLocator.callingTest(), seed);
        String where = settings.replaySeed().isPresent()
                ? "replaying seed " + seed
                : "scenario " + (index + 1) + " of " + count + ", seed " + seed;
        System.err.println("[pinhole] property failed at " + where + ": " + describe(original) + System.lineSeparator()
                + "[pinhole] replay: " + replay);
        System.err.flush();

        Shrunk<T> shrunk = shrink(check, original, originalFailure);
        String nl = System.lineSeparator();
        StringBuilder message = new StringBuilder()
                .append("Property failed at ").append(where).append(nl)
                .append("  original scenario: ").append(describe(original)).append(nl)
                .append("  original failure:  ").append(originalFailure).append(nl)
                .append("  shrunk scenario:   ").append(describe(shrunk.scenario())).append(nl)
                .append("  shrunk failure:    ").append(shrunk.failure()).append(nl)
                .append("  shrinking:         ").append(shrunk.steps()).append(" steps in ")
                .append(shrunk.attempts()).append(" reruns")
                .append(shrunk.attempts() >= maxShrinkAttempts && maxShrinkAttempts > 0
                        ? " (budget of " + maxShrinkAttempts + " reached: possibly not minimal)"
                        : "")
                .append(nl)
                .append("  replay: ").append(replay);
        PropertyFailedError error = new PropertyFailedError(message.toString(), seed, original, shrunk.scenario(),
                replay, shrunk.failure());
        if (shrunk.failure() != originalFailure) {
            error.addSuppressed(originalFailure);
        }
        return error;
    }

    private record Shrunk<T>(T scenario, Throwable failure, int steps, int attempts) {
    }

    /** Greedy: take the first candidate that still fails, then shrink from there, until none fails. */
    private Shrunk<T> shrink(Check<T> check, T original, Throwable originalFailure) {
        T current = original;
        Throwable failure = originalFailure;
        int steps = 0;
        int attempts = 0;
        boolean improved = true;
        while (improved && attempts < maxShrinkAttempts) {
            improved = false;
            try (Stream<T> candidates = shrinker.shrink(current)) {
                Iterator<T> it = candidates.iterator();
                while (it.hasNext() && attempts < maxShrinkAttempts) {
                    T candidate = it.next();
                    if (Objects.equals(candidate, current)) {
                        continue;
                    }
                    attempts++;
                    Throwable candidateFailure = run(check, candidate);
                    if (candidateFailure != null && !(candidateFailure instanceof TestAbortedException)) {
                        current = candidate;
                        failure = candidateFailure;
                        steps++;
                        improved = true;
                        break;
                    }
                }
            }
        }
        return new Shrunk<>(current, failure, steps, attempts);
    }

    private static <T> Throwable run(Check<T> check, T scenario) {
        try {
            check.verify(scenario);
            return null;
        } catch (OutOfMemoryError fatal) {
            throw fatal;
        } catch (Throwable failure) {
            return failure;
        }
    }

    /** A scenario for a report: arrays by content (bytes by length), and cut short if very long. */
    static String describe(Object scenario) {
        String text;
        if (scenario instanceof byte[] bytes) {
            text = "byte[" + bytes.length + "]";
        } else if (scenario instanceof Object[] array) {
            text = Arrays.deepToString(array);
        } else {
            text = String.valueOf(scenario);
        }
        if (text.length() <= MAX_SCENARIO_CHARS) {
            return text;
        }
        return text.substring(0, MAX_SCENARIO_CHARS) + "... (" + text.length() + " characters in all)";
    }

    static String replayCommand(Optional<String> module, Optional<TestLocator.TestMethod> test, long seed) {
        StringBuilder command = new StringBuilder("./mvnw");
        module.ifPresent(m -> command.append(" -pl ").append(m).append(" -am"));
        command.append(" test -Dtest='")
                .append(test.map(TestLocator.TestMethod::surefireFilter).orElse("<TestClass>#<testMethod>"))
                .append("' -D").append(PropertyConfig.SEED).append('=').append(seed)
                .append(" -Dsurefire.failIfNoSpecifiedTests=false");
        return command.toString();
    }
}
