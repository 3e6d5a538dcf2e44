package dev.pinhole.reliability;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;

/**
 * Nothing arrived from the peer for the idle timeout (RFC 9000 §10.1; the smaller of both sides'
 * {@link TransportConfig#idleTimeout()}), although keep-alives were due. The peer is gone or the path
 * silently dropped everything.
 */
public final class IdleTimeoutException extends ConnectionException {
    private static final long serialVersionUID = 1L;

    private final Duration idleTimeout;

    public IdleTimeoutException(InetSocketAddress peer, Duration idleTimeout) {
        super(String.format(Locale.ROOT, "nothing received from %s for %.1f s (idle timeout); the peer or the path"
                + " is gone", peer, idleTimeout.toNanos() / 1e9), peer);
        this.idleTimeout = idleTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }
}
