package dev.pinhole.reliability;

import java.net.InetSocketAddress;

/**
 * The connection was aborted with an application error code, by the peer ({@link #byPeer()}) or by
 * this side's {@code abort(code)}. Unlike a graceful close, data in flight may have been lost.
 */
public final class ConnectionResetException extends ConnectionException {
    private static final long serialVersionUID = 1L;

    private final long code;
    private final boolean byPeer;

    public ConnectionResetException(InetSocketAddress peer, long code, boolean byPeer, String reason) {
        super((byPeer ? "connection reset by " + peer : "connection to " + peer + " aborted locally")
                + " with code " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")"), peer);
        this.code = code;
        this.byPeer = byPeer;
    }

    /** The application error code given to {@code abort}. */
    public long code() {
        return code;
    }

    /** True if the peer aborted; false if this side did. */
    public boolean byPeer() {
        return byPeer;
    }
}
