package dev.pinhole.punch;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;

import java.util.List;

/**
 * The server has no registration under the name asked for: the peer never registered, or its
 * registration expired because it stopped refreshing. The server names no one else (docs/security.md), so
 * {@link #registeredNames()} is empty and {@link #registeredCount()} is -1 for answers of this version's
 * server; {@code RendezvousClient#listPeers()} lists the names where the server allows listing.
 */
public final class PeerNotFoundException extends RendezvousException {
    private static final long serialVersionUID = 1L;

    private final String peerName;
    private final List<String> registeredNames;
    private final int registeredCount;

    public PeerNotFoundException(String peerName, List<String> registeredNames, int registeredCount) {
        super(message(peerName, registeredNames, registeredCount), RendezvousProtocol.ERROR_PEER_NOT_FOUND);
        this.peerName = peerName;
        this.registeredNames = List.copyOf(registeredNames);
        this.registeredCount = registeredCount;
    }

    public String peerName() {
        return peerName;
    }

    /** The names registered at the time, when the server sent them (servers of earlier versions did), else empty. */
    public List<String> registeredNames() {
        return registeredNames;
    }

    /** How many peers were registered, or -1 if the server did not say. */
    public int registeredCount() {
        return registeredCount;
    }

    private static String message(String peerName, List<String> names, int count) {
        String base = "peer '" + peerName + "' is not registered at the rendezvous server";
        if (count == 0) {
            return base + "; nobody is registered";
        }
        if (!names.isEmpty() && names.size() == count) {
            return base + "; registered: " + String.join(", ", names);
        }
        return base + (count > 0 ? "; " + count + " others are registered (list them with LIST_PEERS)" : "");
    }
}
