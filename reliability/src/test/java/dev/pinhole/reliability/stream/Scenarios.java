package dev.pinhole.reliability.stream;

import java.util.function.LongConsumer;

/**
 * Runs a seeded scenario many times: {@code -Dpinhole.scenarios=N} sets how many (1000 by default),
 * {@code -Dpinhole.seed=S} replays exactly one. A failure names its seed.
 */
final class Scenarios {
    private static final long BASE_SEED = 0x9E37_79B9_7F4A_7C15L;

    private Scenarios() {
    }

    static void run(String property, LongConsumer scenario) {
        final String replay = System.getProperty("pinhole.seed");
        if (replay != null) {
            runOne(property, Long.decode(replay), scenario);
            return;
        }
        final int count = Integer.getInteger("pinhole.scenarios", 1000);
        for (int i = 0; i < count; i++) {
            runOne(property, BASE_SEED + i * 0x1_0000_0001L, scenario);
        }
    }

    private static void runOne(String property, long seed, LongConsumer scenario) {
        try {
            scenario.accept(seed);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(property + " failed for seed " + seed + " (replay with -Dpinhole.seed="
                    + seed + "): " + e.getMessage(), e);
        }
    }
}
