package dev.pinhole.testkit;

/**
 * A property found a failing scenario. The message holds everything needed to understand and rerun it:
 * the seed, the original and the shrunk scenario, the shrunk failure, and a one-line replay command.
 * The cause is the shrunk scenario's failure; the original failure is attached as suppressed when it
 * differs.
 */
public final class PropertyFailedError extends AssertionError {

    private static final long serialVersionUID = 1L;

    private final long seed;
    private final transient Object originalScenario;
    private final transient Object shrunkScenario;
    private final String replayCommand;

    PropertyFailedError(String message, long seed, Object originalScenario, Object shrunkScenario,
            String replayCommand, Throwable shrunkFailure) {
        super(message, shrunkFailure);
        this.seed = seed;
        this.originalScenario = originalScenario;
        this.shrunkScenario = shrunkScenario;
        this.replayCommand = replayCommand;
    }

    /** The failing scenario's seed: {@code -Dpinhole.seed=} this value reruns it. */
    public long seed() {
        return seed;
    }

    /** The scenario as generated from {@link #seed()}. */
    public Object originalScenario() {
        return originalScenario;
    }

    /** The simplest still-failing scenario that shrinking found (the original if nothing simpler failed). */
    public Object shrunkScenario() {
        return shrunkScenario;
    }

    /** The shell command that reruns exactly this scenario. */
    public String replayCommand() {
        return replayCommand;
    }
}
