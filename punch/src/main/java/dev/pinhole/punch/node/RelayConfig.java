package dev.pinhole.punch.node;

import dev.pinhole.punch.relay.TurnConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * When and through what a node relays (docs/nat-traversal.md, "Relaying").
 *
 * @param enabled         whether the node relays at all; false: traversal either punches or fails
 * @param fallbackDelayNs how long direct checks run alone before the connection starts on the relay;
 *                        the checks go on afterwards and a direct path found later takes the stream over
 * @param turnServers     TURN servers of the node's own (long-term credentials), used when the rendezvous
 *                        server offers no relay in its introduction; the server's offer comes first
 */
public record RelayConfig(boolean enabled, long fallbackDelayNs, List<TurnConfig> turnServers) {
    /**
     * 2.5 s: the 2–3 s. In the simulated NAT matrix every punchable pair except birthday probing
     * connects in under 400 ms, and birthday probing in under 2 s (docs/nat-traversal.md), so the relay
     * rarely starts a stream a direct path would have carried, and a user waits at most this long for
     * the first byte when no punch can work.
     */
    public static final Duration DEFAULT_FALLBACK_DELAY = Duration.ofMillis(2500);

    /** Relaying on, after {@link #DEFAULT_FALLBACK_DELAY}, through the rendezvous server's relay only. */
    public static final RelayConfig DEFAULT = new RelayConfig(true, DEFAULT_FALLBACK_DELAY.toNanos(), List.of());

    /** No relaying. */
    public static final RelayConfig DISABLED = new RelayConfig(false, DEFAULT_FALLBACK_DELAY.toNanos(), List.of());

    public RelayConfig {
        turnServers = List.copyOf(Objects.requireNonNull(turnServers, "turnServers"));
        if (fallbackDelayNs < 0) {
            throw new IllegalArgumentException("relay fallback delay must not be negative, was " + fallbackDelayNs + " ns");
        }
    }

    public RelayConfig withFallbackDelay(Duration delay) {
        return new RelayConfig(enabled, delay.toNanos(), turnServers);
    }

    public RelayConfig withTurnServers(List<TurnConfig> servers) {
        return new RelayConfig(enabled, fallbackDelayNs, servers);
    }

    public RelayConfig withEnabled(boolean on) {
        return new RelayConfig(on, fallbackDelayNs, turnServers);
    }
}
