package dev.pinhole.punch.traversal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where host candidates come from (RFC 8445 §5.1.1.1): the addresses of this machine's usable interfaces.
 * A socket bound to one address has that address as its only host candidate; a socket bound to the
 * wildcard address is reachable on every interface, so each usable interface address is a candidate.
 * The simulator injects its host's address; the real node enumerates {@link NetworkInterface}s.
 */
@FunctionalInterface
public interface HostAddresses {
    /** Host addresses, most preferred first. */
    List<InetAddress> addresses() throws IOException;

    /** One interface as {@link #select} sees it. */
    record Interface(String name, boolean up, boolean loopback, boolean virtual, boolean pointToPoint,
            List<InetAddress> addresses) {
        public Interface {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * Which interfaces count.
     *
     * @param includeIpv6         also offer global IPv6 addresses (after IPv4)
     * @param includePointToPoint also offer point-to-point interfaces (VPN tunnels); off by default, because a
     *                            tunnel's address rarely reaches a peer and each candidate costs checks
     */
    record Filter(boolean includeIpv6, boolean includePointToPoint) {
        public static final Filter DEFAULT = new Filter(false, false);
    }

    /** A fixed list (the simulator, or an application that knows its addresses). */
    static HostAddresses of(List<InetAddress> addresses) {
        List<InetAddress> copy = List.copyOf(addresses);
        return () -> copy;
    }

    /** This machine's interfaces through {@link NetworkInterface}, chosen by {@link #select}. */
    static HostAddresses system(Filter filter) {
        return () -> {
            List<Interface> found = new ArrayList<>();
            try {
                for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    found.add(new Interface(ni.getName(), ni.isUp(), ni.isLoopback(), ni.isVirtual(),
                            ni.isPointToPoint(), Collections.list(ni.getInetAddresses())));
                }
            } catch (SocketException e) {
                throw new IOException("cannot list the network interfaces: " + e.getMessage(), e);
            }
            return select(found, filter);
        };
    }

    /**
     * The usable addresses of {@code interfaces}: interfaces that are up, not virtual sub-interfaces, not
     * point-to-point unless the filter says so, not loopback unless nothing else is left (two programs on
     * one machine still connect); IPv4 first, then global IPv6 if asked for. Link-local, multicast and
     * wildcard addresses never qualify: a peer cannot reach them without a scope.
     */
    static List<InetAddress> select(List<Interface> interfaces, Filter filter) {
        List<InetAddress> v4 = new ArrayList<>();
        List<InetAddress> v6 = new ArrayList<>();
        List<InetAddress> loopback = new ArrayList<>();
        for (Interface ni : interfaces) {
            if (!ni.up() || ni.virtual() || (ni.pointToPoint() && !filter.includePointToPoint())) {
                continue;
            }
            for (InetAddress address : ni.addresses()) {
                if (address.isLinkLocalAddress() || address.isMulticastAddress() || address.isAnyLocalAddress()) {
                    continue;
                }
                if (ni.loopback() || address.isLoopbackAddress()) {
                    if (address instanceof Inet4Address) {
                        loopback.add(address);
                    }
                } else if (address instanceof Inet4Address) {
                    v4.add(address);
                } else if (address instanceof Inet6Address && filter.includeIpv6()) {
                    v6.add(address);
                }
            }
        }
        List<InetAddress> chosen = new ArrayList<>(v4);
        chosen.addAll(v6);
        return chosen.isEmpty() ? loopback : chosen;
    }
}
