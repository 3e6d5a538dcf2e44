package dev.pinhole.testkit;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The run-wide knobs of property tests, read from system properties (Surefire passes them through)
 * when a property is checked.
 *
 * @param scenarios scenarios per property before a test's own scale ({@value #SCENARIOS}, default
 *     {@value #DEFAULT_SCENARIOS})
 * @param baseSeed the seed every scenario seed derives from ({@value #SEED_BASE})
 * @param replaySeed if present, run only the scenario with this seed ({@value #SEED})
 * @param module the Maven module under test, from Surefire's {@value #BASEDIR}; empty outside Maven
 */
record PropertyConfig(int scenarios, long baseSeed, OptionalLong replaySeed, Optional<String> module) {

    static final String SCENARIOS = "pinhole.scenarios";
    static final String SEED_BASE = "pinhole.seedBase";
    static final String SEED = "pinhole.seed";
    static final String BASEDIR = "basedir";

    static final int DEFAULT_SCENARIOS = 1000;
    /** ASCII "PINHOLE1": fixed so that CI runs the same scenarios every time. */
    static final long DEFAULT_BASE_SEED = 0x50494E484F4C4531L;

    static PropertyConfig fromSystemProperties() {
        return from(System::getProperty);
    }

    /** Reads the settings through {@code lookup} (a system property lookup, or a map in tests). */
    static PropertyConfig from(Function<String, String> lookup) {
        String scenariosText = trimmed(lookup.apply(SCENARIOS));
        int scenarios = DEFAULT_SCENARIOS;
        if (scenariosText != null) {
            try {
                scenarios = Integer.parseInt(scenariosText);
            } catch (NumberFormatException e) {
                scenarios = 0;
            }
            if (scenarios <= 0) {
                throw new IllegalArgumentException(
                        "-D" + SCENARIOS + " must be a positive integer, got '" + scenariosText + "'");
            }
        }
        String baseText = trimmed(lookup.apply(SEED_BASE));
        long baseSeed = baseText == null ? DEFAULT_BASE_SEED : parseSeed(SEED_BASE, baseText);
        String seedText = trimmed(lookup.apply(SEED));
        OptionalLong replaySeed = seedText == null ? OptionalLong.empty() : OptionalLong.of(parseSeed(SEED, seedText));
        Optional<String> module = Optional.ofNullable(trimmed(lookup.apply(BASEDIR)))
                .map(Path::of)
                .map(Path::getFileName)
                .map(Path::toString);
        return new PropertyConfig(scenarios, baseSeed, replaySeed, module);
    }

    /** Decimal (as printed in failure reports, possibly negative) or {@code 0x} hexadecimal. */
    static long parseSeed(String property, String text) {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "-D" + property + " must be a decimal or 0x-hexadecimal 64-bit seed, got '" + text + "'", e);
        }
    }

    private static String trimmed(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        return value.trim();
    }
}
