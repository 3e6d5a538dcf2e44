package dev.pinhole.punch;

import java.net.InetSocketAddress;

/**
 * The client and the server do not share the same secret: the server rejected our requests (401), or
 * its answers failed our MESSAGE-INTEGRITY-SHA256 check (a server without the secret, or forged answers).
 */
public final class RendezvousAuthenticationException extends RendezvousException {
    private static final long serialVersionUID = 1L;

    private final InetSocketAddress server;

    public RendezvousAuthenticationException(InetSocketAddress server, String detail, int errorCode) {
        super("authentication with the rendezvous server " + server + " failed: " + detail
            + "; check that client and server are given the same shared secret", errorCode);
        this.server = server;
    }

    public InetSocketAddress server() {
        return server;
    }
}
