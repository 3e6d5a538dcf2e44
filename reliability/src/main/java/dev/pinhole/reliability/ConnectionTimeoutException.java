package dev.pinhole.reliability;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;

/**
 * The peer stopped acknowledging: data or probes were outstanding for longer than
 * {@link TransportConfig#connectionTimeout()} although they were retransmitted (RFC 9002 §6.2 probes
 * with exponential backoff). The path is dead (the peer vanished, a NAT mapping expired, a firewall
 * changed) or the peer process hangs.
 */
public final class ConnectionTimeoutException extends ConnectionException {
    private static final long serialVersionUID = 1L;

    private final Duration withoutAcknowledgement;
    private final int retransmissions;

    public ConnectionTimeoutException(InetSocketAddress peer, Duration withoutAcknowledgement, int retransmissions) {
        super(String.format(Locale.ROOT, "no acknowledgement from %s for %.1f s after %d retransmissions;"
                + " the path or the peer is gone", peer, withoutAcknowledgement.toNanos() / 1e9, retransmissions), peer);
        this.withoutAcknowledgement = withoutAcknowledgement;
        this.retransmissions = retransmissions;
    }

    /** How long the peer acknowledged nothing before the connection was given up. */
    public Duration withoutAcknowledgement() {
        return withoutAcknowledgement;
    }

    /** How many probe retransmissions (PTOs) went unanswered. */
    public int retransmissions() {
        return retransmissions;
    }
}
