package dev.pinhole.reliability;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A reliable connection ended abnormally. The subclass says how; the message says what happened and
 * what to do about it. Every blocked or later read and write of the connection throws the same kind.
 */
public abstract sealed class ConnectionException extends IOException
        permits ConnectionTimeoutException, ConnectionResetException, HandshakeFailedException,
        IdleTimeoutException, ConnectionClosedException {
    private static final long serialVersionUID = 1L;

    private final transient InetSocketAddress peer;

    protected ConnectionException(String message, InetSocketAddress peer) {
        super(message);
        this.peer = peer;
    }

    /** The peer's address as this side last saw it; null if unknown. */
    public InetSocketAddress peer() {
        return peer;
    }
}
