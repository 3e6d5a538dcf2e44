package dev.pinhole.core.time;

/**
 * A monotonic source of time in nanoseconds, the only way protocol code learns the time.
 *
 * <p>Protocol cores never read the wall clock (docs/architecture.md, "The sans-IO boundary"): the real
 * driver hands them
 * {@link #SYSTEM}, the simulator a virtual clock that advances only when it says so, which is what
 * makes a simulated run a pure function of its seed.
 */
@FunctionalInterface
public interface Clock {
    /** The clock of the running JVM ({@link System#nanoTime()}). */
    Clock SYSTEM = System::nanoTime;

    /**
     * Returns the current time in nanoseconds. Only differences between two readings are meaningful;
     * the origin is arbitrary and may be negative.
     */
    long nanoTime();
}
