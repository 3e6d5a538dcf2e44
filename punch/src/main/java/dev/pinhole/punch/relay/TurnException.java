package dev.pinhole.punch.relay;

import dev.pinhole.protocol.turn.TurnError;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A TURN request failed, with the server's error code and reason phrase when the server answered,
 * and advice on what to do (errors a user can act on, docs/architecture.md principle 7). For example:
 *
 * <pre>
 * TURN Allocate at 127.0.0.1:3478 failed: 486 Allocation Quota Reached (server said "Allocation Quota Reached"):
 * this user already has as many allocations as the server allows; ...
 * </pre>
 */
public final class TurnException extends IOException {
    private static final long serialVersionUID = 1L;

    private final TurnError error;
    private final int code;
    private final String serverReason;
    private final InetSocketAddress server;
    private final String request;

    /**
     * @param error        the kind of failure
     * @param code         the ERROR-CODE number the server sent, or -1 for a local reason
     * @param serverReason the reason phrase the server sent, or null
     * @param server       the TURN server
     * @param request      the request that failed, by its RFC name (Allocate, Refresh, CreatePermission, ChannelBind)
     * @param detail       more context (the peer, the realm, ...), or null
     */
    public TurnException(TurnError error, int code, String serverReason, InetSocketAddress server, String request,
                         String detail) {
        super(message(error, code, serverReason, server, request, detail));
        this.error = Objects.requireNonNull(error, "error");
        this.code = code;
        this.serverReason = serverReason;
        this.server = server;
        this.request = request;
    }

    /** A failure decided locally (time-out, closed, limit), with no error code. */
    public static TurnException local(TurnError error, InetSocketAddress server, String request, String detail) {
        return new TurnException(error, -1, null, server, request, detail);
    }

    /** A failure the server reported with {@code code} and {@code reason}. */
    public static TurnException fromServer(int code, String reason, InetSocketAddress server, String request,
                                           String detail) {
        return new TurnException(TurnError.ofCode(code), code, reason, server, request, detail);
    }

    private static String message(TurnError error, int code, String serverReason, InetSocketAddress server,
                                  String request, String detail) {
        StringBuilder s = new StringBuilder("TURN ").append(request).append(" at ").append(server).append(" failed: ");
        if (code >= 0) {
            s.append(code).append(' ').append(error.phrase());
            if (serverReason != null && !serverReason.isEmpty()) {
                s.append(" (server said \"").append(serverReason).append("\")");
            }
        } else {
            s.append(error.phrase().toLowerCase(java.util.Locale.ROOT));
        }
        if (detail != null) {
            s.append(", ").append(detail);
        }
        return s.append(": ").append(error.advice()).toString();
    }

    public TurnError error() {
        return error;
    }

    /** The ERROR-CODE number (e.g. 486), or -1 when the server did not answer with an error. */
    public int code() {
        return code;
    }

    /** The server's reason phrase, or null. */
    public String serverReason() {
        return serverReason;
    }

    public InetSocketAddress server() {
        return server;
    }

    /** The request that failed: Allocate, Refresh, CreatePermission or ChannelBind. */
    public String request() {
        return request;
    }
}
