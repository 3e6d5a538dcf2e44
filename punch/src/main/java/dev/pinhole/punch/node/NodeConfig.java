package dev.pinhole.punch.node;

import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.reliability.TransportConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * Everything a {@link NodeCore} is configured with.
 *
 * @param name             the name to register at the rendezvous server
 * @param rendezvous       the rendezvous server's address (also asked for STUN Binding)
 * @param stunServers      servers whose Binding answers tell the NAT's mapping behaviour, in the order
 *                         {@link dev.pinhole.punch.traversal.CandidateGatherer} wants them; the rendezvous
 *                         server alone when nothing else is known
 * @param hosts            where host candidates come from when the socket is bound to the wildcard address
 * @param rendezvousConfig shared secret, timing and random source of the rendezvous client
 * @param traversalConfig  connectivity-check pacing and deadline
 * @param transportConfig  the reliable transport's settings
 * @param connectTimeoutNs how long {@link NodeCore#connect} keeps asking the server for a peer that is not
 *                         registered yet
 * @param socketTtl        the driver's TTL hook for priming against the Linux conntrack clash (docs/lab.md);
 *                         {@link SocketTtl#NONE} sends no priming datagrams
 * @param probeSockets     the driver's extra sockets for the hard side of birthday probing;
 *                         {@link ProbeSockets#NONE} never plays that side
 * @param relay            when and through what the node relays when no direct path is found in time
 */
public record NodeConfig(String name, InetSocketAddress rendezvous, List<InetSocketAddress> stunServers,
        HostAddresses hosts, RendezvousClientConfig rendezvousConfig, TraversalConfig traversalConfig,
        TransportConfig transportConfig, long connectTimeoutNs, SocketTtl socketTtl, ProbeSockets probeSockets,
        RelayConfig relay) {

    public NodeConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(rendezvous, "rendezvous");
        stunServers = List.copyOf(stunServers);
        Objects.requireNonNull(hosts, "hosts");
        Objects.requireNonNull(rendezvousConfig, "rendezvousConfig");
        Objects.requireNonNull(traversalConfig, "traversalConfig");
        Objects.requireNonNull(transportConfig, "transportConfig");
        Objects.requireNonNull(socketTtl, "socketTtl");
        Objects.requireNonNull(probeSockets, "probeSockets");
        Objects.requireNonNull(relay, "relay");
        if (connectTimeoutNs < 0) {
            throw new IllegalArgumentException("connect timeout must not be negative, was " + connectTimeoutNs + " ns");
        }
    }

    /** Settings without driver hooks: no priming, no birthday sockets. */
    public NodeConfig(String name, InetSocketAddress rendezvous, List<InetSocketAddress> stunServers,
            HostAddresses hosts, RendezvousClientConfig rendezvousConfig, TraversalConfig traversalConfig,
            TransportConfig transportConfig, long connectTimeoutNs) {
        this(name, rendezvous, stunServers, hosts, rendezvousConfig, traversalConfig, transportConfig,
                connectTimeoutNs, SocketTtl.NONE, ProbeSockets.NONE, RelayConfig.DEFAULT);
    }

    /** Settings with the default relaying ({@link RelayConfig#DEFAULT}). */
    public NodeConfig(String name, InetSocketAddress rendezvous, List<InetSocketAddress> stunServers,
            HostAddresses hosts, RendezvousClientConfig rendezvousConfig, TraversalConfig traversalConfig,
            TransportConfig transportConfig, long connectTimeoutNs, SocketTtl socketTtl, ProbeSockets probeSockets) {
        this(name, rendezvous, stunServers, hosts, rendezvousConfig, traversalConfig, transportConfig,
                connectTimeoutNs, socketTtl, probeSockets, RelayConfig.DEFAULT);
    }

    /** These settings with {@code value} as the relay nodeConfig. */
    public NodeConfig withRelay(RelayConfig value) {
        return new NodeConfig(name, rendezvous, stunServers, hosts, rendezvousConfig, traversalConfig,
                transportConfig, connectTimeoutNs, socketTtl, probeSockets, value);
    }
}
