package dev.pinhole.server;

import dev.pinhole.core.net.BindErrors;
import dev.pinhole.server.PinholeServer.ListeningSocket;
import dev.pinhole.server.PinholeServer.SocketRole;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * Why {@link PinholeServer.Builder#build()} could not start a server. The {@link Reason} lets a caller
 * (the {@code pinhole} command) word the failure in its own terms; the message is a complete sentence
 * for everyone else.
 */
public final class PinholeServerException extends IOException {
    private static final long serialVersionUID = 1L;

    /** Why a socket could not be bound ({@link Reason#BIND_FAILED}). */
    public enum BindProblem {
        /** One of this server's own sockets, bound just before, has the port: {@link #heldBy()} says which. */
        HELD_BY_THIS_SERVER,
        /** The IP is not an address of this host ({@code EADDRNOTAVAIL}). */
        ADDRESS_NOT_LOCAL,
        /** Another socket on this host, not this server's, has the port ({@code EADDRINUSE}): another process. */
        IN_USE_ELSEWHERE,
        /** Something else; the cause says what. */
        OTHER
    }

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
    private final SocketRole role;
    private final BindProblem bindProblem;
    private final ListeningSocket heldBy;

    PinholeServerException(Reason reason, InetSocketAddress address, String message, Throwable cause) {
        this(reason, address, message, cause, null, null, null);
    }

    private PinholeServerException(Reason reason, InetSocketAddress address, String message, Throwable cause,
                                   SocketRole role, BindProblem bindProblem, ListeningSocket heldBy) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.address = address;
        this.role = role;
        this.bindProblem = bindProblem;
        this.heldBy = heldBy;
    }

    /**
     * A socket for {@code role} could not be bound to {@code address}: tells apart one of the server's own
     * sockets ({@code ownSockets}, bound before) holding the port, an address not on this host, and
     * another socket (another process) holding it.
     */
    static PinholeServerException bindFailed(InetSocketAddress address, SocketRole role, IOException cause,
                                             List<ListeningSocket> ownSockets) {
        String os = BindErrors.osReason(cause);
        String what = "cannot listen on " + format(address) + " for the " + role.description() + ": ";
        if (BindErrors.addressNotLocal(address.getAddress(), cause)) {
            return new PinholeServerException(Reason.BIND_FAILED, address, what + address.getAddress().getHostAddress()
                + " is not an address of this host (" + os + ")", cause, role, BindProblem.ADDRESS_NOT_LOCAL, null);
        }
        for (ListeningSocket own : ownSockets) {
            if (own.overlaps(address)) {
                boolean wildcard = own.address().getAddress().isAnyLocalAddress()
                    || address.getAddress().isAnyLocalAddress();
                return new PinholeServerException(Reason.BIND_FAILED, address, what + "this server's own "
                    + own.role().description() + " is on " + format(own.address())
                    + (wildcard ? " (a wildcard address covers every address of this host)" : ""),
                    cause, role, BindProblem.HELD_BY_THIS_SERVER, own);
            }
        }
        if (BindErrors.addressInUse(cause)) {
            return new PinholeServerException(Reason.BIND_FAILED, address, what + "another socket on this host"
                + " (another process) has UDP port " + address.getPort() + " (" + os + ")", cause, role,
                BindProblem.IN_USE_ELSEWHERE, null);
        }
        return new PinholeServerException(Reason.BIND_FAILED, address, what + os, cause, role, BindProblem.OTHER,
            null);
    }

    /** IP:PORT, an IPv6 address in brackets. */
    static String format(InetSocketAddress address) {
        String ip = address.getAddress().getHostAddress();
        return (address.getAddress() instanceof Inet6Address ? "[" + ip + "]" : ip) + ":" + address.getPort();
    }

    public Reason reason() {
        return reason;
    }

    /** The address concerned ({@link Reason#BIND_FAILED}: the one asked for), or null. */
    public InetSocketAddress address() {
        return address;
    }

    /** {@link Reason#BIND_FAILED}: what the socket that could not be bound was for; else null. */
    public SocketRole role() {
        return role;
    }

    /** {@link Reason#BIND_FAILED}: why; else null. */
    public BindProblem bindProblem() {
        return bindProblem;
    }

    /** {@link BindProblem#HELD_BY_THIS_SERVER}: the server's own socket that has the port; else null. */
    public ListeningSocket heldBy() {
        return heldBy;
    }
}
