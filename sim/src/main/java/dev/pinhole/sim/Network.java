package dev.pinhole.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * An address realm: the public internet ({@link Simulator#internet()}) or the private side of a
 * NAT ({@link Nat#inside()}). Every host and every NAT (by its external address) attached to a realm
 * has a unique IPv4 address in it; the same address may exist in other realms.
 *
 * <p>Routing: a datagram that leaves a node's uplink into this realm goes to the node that holds
 * its destination address here, through that node's downlink. If no node here holds it and the
 * realm is a NAT's inside, it leaves through the NAT (RFC 4787 outbound translation); on the
 * internet it is dropped as {@link DropCause#UNROUTABLE}.
 */
public final class Network {
    private final Simulator sim;
    private final String name;
    private final Nat nat;
    private final Int2ObjectHashMap<Link> downlinks = new Int2ObjectHashMap<>();
    private final List<SimHost> hosts = new ArrayList<>();
    private final List<Nat> nats = new ArrayList<>();

    Network(Simulator sim, String name, Nat nat) {
        this.sim = sim;
        this.name = name;
        this.nat = nat;
    }

    /** Adds a host with perfect links at {@code ip} (dotted quad). */
    public SimHost addHost(String ip) {
        return addHost(ip, LinkConfig.PERFECT);
    }

    /** Adds a host at {@code ip} whose uplink and downlink both start as {@code link}. */
    public SimHost addHost(String ip, LinkConfig link) {
        Objects.requireNonNull(link, "link");
        sim.requireOpen();
        int address = claim(ip);
        SimHost host = new SimHost(sim, this, address, link);
        downlinks.put(address, host.downlink);
        hosts.add(host);
        return host;
    }

    /** Adds a NAT whose external address {@code externalIp} is in this realm, with perfect outside links. */
    public Nat addNat(String externalIp, NatConfig config) {
        return addNat(externalIp, config, LinkConfig.PERFECT);
    }

    /**
     * Adds a NAT whose external address {@code externalIp} is in this realm. {@code outsideLink}
     * impairs its connection to this realm (the access line): traffic of every host behind it
     * shares that link, while hairpinned traffic does not cross it.
     */
    public Nat addNat(String externalIp, NatConfig config, LinkConfig outsideLink) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(outsideLink, "outsideLink");
        sim.requireOpen();
        int address = claim(externalIp);
        Nat added = new Nat(sim, this, address, config, outsideLink);
        downlinks.put(address, added.downlink);
        nats.add(added);
        return added;
    }

    /** A readable, unique path of this realm: "internet", "internet/203.0.113.5", ... */
    public String name() {
        return name;
    }

    /** The NAT this realm is the inside of, or null for the internet. */
    public Nat nat() {
        return nat;
    }

    /** Hosts in this realm, in the order they were added. */
    public List<SimHost> hosts() {
        return Collections.unmodifiableList(hosts);
    }

    /** NATs whose external address is in this realm, in the order they were added. */
    public List<Nat> nats() {
        return Collections.unmodifiableList(nats);
    }

    /** The host at {@code ip} in this realm, or null. */
    public SimHost host(String ip) {
        int address = Ipv4.parse(ip);
        for (SimHost host : hosts) {
            if (host.ip == address) {
                return host;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "Network{" + name + "}";
    }

    Simulator simulator() {
        return sim;
    }

    /** A datagram leaving a node of this realm: to the node that holds the destination, else out through the NAT. */
    void route(Event packet) {
        Link downlink = downlinks.get(packet.dstIp);
        if (downlink != null) {
            downlink.enter(packet);
        } else if (nat != null) {
            nat.outbound(packet);
        } else {
            sim.drop(packet, DropCause.UNROUTABLE, null);
        }
    }

    /** A datagram the NAT translated inwards: only to a node of this realm, never back out. */
    void routeInbound(Event packet, CounterSet natCounters) {
        Link downlink = downlinks.get(packet.dstIp);
        if (downlink != null) {
            downlink.enter(packet);
        } else {
            sim.drop(packet, DropCause.UNROUTABLE, natCounters);
        }
    }

    private int claim(String ip) {
        int address = Ipv4.parse(ip);
        if (downlinks.containsKey(address)) {
            throw new IllegalArgumentException(ip + " is already in use in realm " + name);
        }
        return address;
    }
}
