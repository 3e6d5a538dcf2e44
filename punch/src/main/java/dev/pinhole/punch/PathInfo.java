package dev.pinhole.punch;

import java.net.InetSocketAddress;
import java.util.Locale;
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

    /**
     * As the README shows it: {@code direct 192.0.2.1:4000 -> 198.51.100.7:51000 via server-reflexive candidate}
     * ({@code relayed ...} on a relay), addresses as IP:PORT with IPv6 in brackets and no host name or slash.
     */
    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + " " + format(local) + " -> " + format(remote) + " via " + via;
    }

    private static String format(InetSocketAddress address) {
        String ip = address.getAddress() == null ? address.getHostString() : address.getAddress().getHostAddress();
        return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + address.getPort() : ip + ":" + address.getPort();
    }
}
