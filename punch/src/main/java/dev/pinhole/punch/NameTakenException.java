package dev.pinhole.punch;


import dev.pinhole.protocol.rendezvous.RendezvousProtocol;

/**
 * Another client holds the name: it registered it first and keeps refreshing. The name becomes free once
 * that client stops refreshing and its registration expires; a client restarted on the same socket
 * address takes its old name back at once (see {@code RendezvousServer}).
 */
public final class NameTakenException extends RendezvousException {
    private static final long serialVersionUID = 1L;

    private final String name;

    public NameTakenException(String name, String serverReason) {
        super("the name '" + name + "' is taken: " + serverReason + "; pick another name or wait",
            RendezvousProtocol.ERROR_NAME_TAKEN);
        this.name = name;
    }

    public String name() {
        return name;
    }
}
