package dev.pinhole.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Why {@link PinholeServer.Builder#build()} could not start a server. The {@link Reason} lets a caller
 * (the {@code pinhole} command) word the failure in its own terms; the message is a complete sentence
 * for everyone else.
 */
public final class PinholeServerException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** A socket could not be bound: {@link #address()} is the address asked for, the cause says why. */
        BIND_FAILED,
        /** The RFC 5780 alternate address shares the listen address's IP or its (bound) port (RFC 5780 §6). */
        ALTERNATE_NOT_DISTINCT,
        /** The relay listens on the wildcard address and this host has no usable IPv4 address to tell peers. */
        NO_RELAY_IP,
        /** The network interfaces could not be listed to choose the relay IP; the cause says why. */
        INTERFACES_UNAVAILABLE,
        /** The relay IP is not on this host (a 1:1 NAT) but the relay listens on the wildcard address. */
        RELAY_IP_NOT_LOCAL,
        /** The servers did not start on the event loop; the cause says why. */
        START_FAILED
    }

    private final Reason reason;
    private final InetSocketAddress address;

    PinholeServerException(Reason reason, InetSocketAddress address, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.address = address;
    }

    static PinholeServerException bindFailed(InetSocketAddress address, IOException cause) {
        return new PinholeServerException(Reason.BIND_FAILED, address,
            "cannot listen on " + address + ": " + cause.getMessage(), cause);
    }

    public Reason reason() {
        return reason;
    }

    /** The address concerned ({@link Reason#BIND_FAILED}: the one asked for), or null. */
    public InetSocketAddress address() {
        return address;
    }
}
