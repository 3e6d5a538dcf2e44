package dev.pinhole.cli;

import dev.pinhole.punch.PinholeNode;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --relay-after SECONDS} on the commands that open peer connections. */
final class RelayTiming {
    @Option(names = "--relay-after", paramLabel = "SECONDS",
            description = "How long hole punching runs alone before the relay carries the connection; punching"
                + " goes on after, and a direct path found later takes the connection over (default: 2.5).")
    Double relayAfterSeconds;

    /** Sets the node's relay fallback delay if the option was given; checks it is not negative. */
    void applyTo(PinholeNode.Builder builder) throws CliException {
        if (relayAfterSeconds == null) {
            return;
        }
        if (relayAfterSeconds < 0 || relayAfterSeconds.isNaN() || relayAfterSeconds > 3600) {
            throw new CliException(ExitCodes.USAGE, "--relay-after must be between 0 and 3600 seconds, was "
                    + relayAfterSeconds);
        }
        builder.relayFallbackDelay(Duration.ofNanos(Math.round(relayAfterSeconds * 1e9)));
    }
}
