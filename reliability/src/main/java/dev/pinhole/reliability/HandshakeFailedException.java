package dev.pinhole.reliability;

import java.net.InetSocketAddress;

/**
 * The connection could not be opened: no handshake reply arrived in time, or the reply was unusable.
 * The message says which; usually nothing listens at the address, or a firewall drops UDP.
 */
public final class HandshakeFailedException extends ConnectionException {
    private static final long serialVersionUID = 1L;

    public HandshakeFailedException(String message, InetSocketAddress peer) {
        super(message, peer);
    }
}
