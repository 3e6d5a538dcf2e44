package dev.pinhole.sim;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * A simulated machine with one IPv4 address in one {@link Network}, an uplink (host to realm) and a
 * downlink (realm to host), and any number of bound UDP endpoints.
 */
public final class SimHost {
    /** RFC 6335 §6: the dynamic (ephemeral) port range 49152–65535, used for {@code bind(0)}. */
    static final int EPHEMERAL_MIN_PORT = 49_152;
    static final int EPHEMERAL_MAX_PORT = 65_535;

    final Simulator sim;
    final Network network;
    final int ip;
    final Link uplink;
    final Link downlink;
    final CounterSet counters = new CounterSet();
    private final Inet4Address address;
    private final Int2ObjectHashMap<SimEndpoint> endpoints = new Int2ObjectHashMap<>();
    private int nextEphemeralPort = EPHEMERAL_MIN_PORT;

    SimHost(Simulator sim, Network network, int ip, LinkConfig link) {
        this.sim = sim;
        this.network = network;
        this.ip = ip;
        this.address = Ipv4.toInetAddress(ip);
        String streamPrefix = "sim/link/" + network.name() + "/" + Ipv4.format(ip);
        this.uplink = new Link(sim, counters, sim.random(streamPrefix + "/up"), link, network::route);
        this.downlink = new Link(sim, counters, sim.random(streamPrefix + "/down"), link, this::arrive);
    }

    /**
     * Binds a UDP endpoint to {@code port} on this host; 0 picks a free ephemeral port (RFC 6335 §6
     * range, in sequence).
     *
     * @throws IllegalArgumentException if the port is out of range or already bound
     */
    public SimEndpoint bind(int port) {
        sim.requireOpen();
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
        }
        int chosen = port == 0 ? freeEphemeralPort() : port;
        if (endpoints.containsKey(chosen)) {
            throw new IllegalArgumentException("port " + chosen + " is already bound on " + Ipv4.format(ip));
        }
        SimEndpoint endpoint = new SimEndpoint(this, chosen, new InetSocketAddress(address, chosen));
        endpoints.put(chosen, endpoint);
        return endpoint;
    }

    /**
     * Binds to {@code local}: its address must be this host's or the wildcard (0.0.0.0); its port as
     * in {@link #bind(int)}.
     */
    public SimEndpoint bind(InetSocketAddress local) {
        Objects.requireNonNull(local, "local");
        InetAddress requested = local.getAddress();
        if (requested != null && !requested.isAnyLocalAddress() && !requested.equals(address)) {
            throw new IllegalArgumentException("cannot bind " + local + " on host " + Ipv4.format(ip));
        }
        return bind(local.getPort());
    }

    /** Sets both directions' impairments from now on. */
    public SimHost link(LinkConfig config) {
        uplink(config);
        return downlink(config);
    }

    /** Sets the impairments of datagrams this host sends, from now on. */
    public SimHost uplink(LinkConfig config) {
        uplink.config(Objects.requireNonNull(config, "config"));
        return this;
    }

    /** Sets the impairments of datagrams this host receives, from now on. */
    public SimHost downlink(LinkConfig config) {
        downlink.config(Objects.requireNonNull(config, "config"));
        return this;
    }

    public LinkConfig uplinkConfig() {
        return uplink.config();
    }

    public LinkConfig downlinkConfig() {
        return downlink.config();
    }

    /** This host's address in its own realm. */
    public InetAddress address() {
        return address;
    }

    public Network network() {
        return network;
    }

    public Simulator simulator() {
        return sim;
    }

    /** What this host's endpoints sent and received, and what its links dropped (a snapshot). */
    public SimCounters counters() {
        return counters.snapshot();
    }

    @Override
    public String toString() {
        return "SimHost{" + Ipv4.format(ip) + " in " + network.name() + "}";
    }

    void unbind(SimEndpoint endpoint) {
        if (endpoints.get(endpoint.port()) == endpoint) {
            endpoints.remove(endpoint.port());
        }
    }

    /** A datagram reached the end of this host's downlink. */
    private void arrive(Event packet) {
        SimEndpoint endpoint = endpoints.get(packet.dstPort);
        if (endpoint == null || endpoint.receiverOrNull() == null) {
            sim.drop(packet, DropCause.NO_LISTENER, counters);
            return;
        }
        sim.deliver(packet, counters, endpoint.receiverOrNull());
    }

    private int freeEphemeralPort() {
        int range = EPHEMERAL_MAX_PORT - EPHEMERAL_MIN_PORT + 1;
        for (int i = 0; i < range; i++) {
            int candidate = nextEphemeralPort;
            nextEphemeralPort = candidate == EPHEMERAL_MAX_PORT ? EPHEMERAL_MIN_PORT : candidate + 1;
            if (!endpoints.containsKey(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("no free ephemeral port on " + Ipv4.format(ip));
    }
}
