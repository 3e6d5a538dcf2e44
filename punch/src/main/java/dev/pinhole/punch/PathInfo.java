package dev.pinhole.punch;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The network path a {@link PeerConnection} runs on, as traversal nominated it.
 *
 * @param kind   direct or relayed
 * @param local  this node's socket address the path leaves from (its bound address, before any NAT)
 * @param remote where this node sends: the peer's address as seen from here (a NAT mapping of the peer's
 *               socket, its host address on a shared LAN, or a relay's address)
 * @param via    how the remote address was found, in words: e.g. "server-reflexive candidate" (the peer's
 *               NAT mapping as the rendezvous server saw it), "host candidate", "peer-reflexive address"
 */
public record PathInfo(PathKind kind, InetSocketAddress local, InetSocketAddress remote, String via) {
    public PathInfo {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(via, "via");
    }

    @Override
    public String toString() {
        return kind + " " + local + " -> " + remote + " via " + via;
    }
}
