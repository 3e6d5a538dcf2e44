package dev.pinhole.reliability;

import java.net.InetSocketAddress;

/**
 * The connection was already closed (by this side's {@code close()}, or the peer closed it gracefully
 * before taking all data this side wanted to write): the operation cannot be carried out.
 */
public final class ConnectionClosedException extends ConnectionException {
    private static final long serialVersionUID = 1L;

    public ConnectionClosedException(String message, InetSocketAddress peer) {
        super(message, peer);
    }
}
