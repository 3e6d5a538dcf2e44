package dev.pinhole.cli;

import dev.pinhole.punch.PinholeNode;
import picocli.CommandLine;

/**
 * Converters that check command-line values while picocli parses them, so bad input is a usage error
 * ({@link ExitCodes#USAGE}, one line naming the option) instead of a failure deep inside the library.
 */
final class CliArguments {
    private CliArguments() {
    }

    /** A peer name ({@code --id}): normalised to NFC and checked against {@link PinholeNode#checkName}. */
    static final class PeerName implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return checkedName(value);
        }
    }

    /** A positive number of seconds ({@code --timeout}). */
    static final class PositiveSeconds implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long seconds;
            try {
                seconds = Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a whole number of seconds");
            }
            if (seconds <= 0 || seconds > 86_400L * 365) {
                throw new CommandLine.TypeConversionException("'" + value + "': the number of seconds must be at least 1"
                        + " (and at most a year)");
            }
            return seconds;
        }
    }

    /** {@code value} as a peer name, or a conversion error that quotes it and says which rule it breaks. */
    static String checkedName(String value) {
        try {
            return PinholeNode.checkName(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a valid name: " + e.getMessage()
                    + " (names are 1-64 bytes of UTF-8, no spaces or control characters)");
        }
    }
}
