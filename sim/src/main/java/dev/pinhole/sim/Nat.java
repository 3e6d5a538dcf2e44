package dev.pinhole.sim;

import dev.pinhole.sim.NatConfig.FilteringBehavior;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntHashSet;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * A NAPT box between an outside realm (where its one external address lives) and its own inside
 * realm ({@link #inside()}), behaving as its {@link NatConfig} says in RFC 4787 terms.
 *
 * <p><b>Outbound</b> (inside to a destination not in the inside realm): find the internal endpoint's
 * mapping for that destination per the mapping behaviour (§4.1), or create one with a port from
 * the allocation policy (§4.2.1); refresh it (§4.3, REQ-6); record the destination as permitted
 * for filtering (§5); rewrite the source to the external address and port; then either send it on
 * the NAT's outside link or, if the destination is the NAT's own external address, hairpin it
 * (§6) when enabled.
 *
 * <p><b>Inbound</b> (to the external address): the destination port selects the mapping; no
 * mapping drops ({@link DropCause#NO_MAPPING}), an expired or cleared one drops
 * ({@link DropCause#MAPPING_EXPIRED}), a source the filtering behaviour does not admit drops
 * ({@link DropCause#FILTERED}); otherwise the destination is rewritten to the internal endpoint and
 * the datagram is routed in the inside realm, which may hold a further NAT (chained NATs).
 *
 * <p>With {@link NatConfig#conntrackClash()}, an inbound datagram refused for any of those reasons
 * leaves an unreplied entry (source, external port) for 30 s, and an outbound flow to that source
 * which would leave from that port is given a flow-specific mapping on another, random port, as
 * Linux's connection tracking does.
 *
 * <p>State is bounded: each mapping holds one external port, so there are at most as many
 * mappings as ports in the range; expired mappings give their port back when it is next needed.
 */
public final class Nat {
    /** Random port picks before falling back to a scan for a free port. */
    private static final int RANDOM_PORT_ATTEMPTS = 64;
    /** Permissions a mapping keeps before it first sweeps expired ones. */
    private static final int PERMIT_SWEEP_THRESHOLD = 64;
    /** Mapping-behaviour key of endpoint-independent mappings: one per internal endpoint. */
    private static final long ANY_DESTINATION = -1L;
    /** Marks the key of a per-flow mapping a conntrack clash forced (above the 48 bits of an endpoint key). */
    private static final long CLASH_FLOW = 1L << 62;
    /** Unreplied conntrack entries kept before the first sweep of expired ones. */
    private static final int UNREPLIED_SWEEP_THRESHOLD = 256;

    final Link uplink;
    final Link downlink;
    final CounterSet counters = new CounterSet();
    private final Simulator sim;
    private final Network outside;
    private final Network inside;
    private final int externalIp;
    private final InetAddress externalAddress;
    private final NatConfig config;
    private final RandomGenerator random;
    /** internal endpoint key -> destination key (per mapping behaviour) -> mapping. */
    private final Long2ObjectHashMap<Long2ObjectHashMap<Mapping>> byInternal = new Long2ObjectHashMap<>();
    /** external port -> the latest mapping that held it (possibly expired, kept to tell expired from never-mapped). */
    private final Int2ObjectHashMap<Mapping> byExternalPort = new Int2ObjectHashMap<>();
    /** Conntrack clash: (remote endpoint, external port) of unadmitted inbound datagrams -> expiry. */
    private final Long2LongHashMap unreplied = new Long2LongHashMap(16, 0.65f, Long.MIN_VALUE);
    private int unrepliedSweepThreshold = UNREPLIED_SWEEP_THRESHOLD;
    private int sequentialCursor;
    /** Destination IPs outbound datagrams may not reach ({@link #block}). */
    private final IntHashSet blockedDestinations = new IntHashSet();

    Nat(Simulator sim, Network outside, int externalIp, NatConfig config, LinkConfig outsideLink) {
        this.sim = sim;
        this.outside = outside;
        this.externalIp = externalIp;
        this.externalAddress = Ipv4.toInetAddress(externalIp);
        this.config = config;
        String name = outside.name() + "/" + Ipv4.format(externalIp);
        this.inside = new Network(sim, name, this);
        this.random = sim.random("sim/nat/" + name + "/ports");
        this.uplink = new Link(sim, counters, sim.random("sim/link/" + name + "/up"), outsideLink, outside::route);
        this.downlink = new Link(sim, counters, sim.random("sim/link/" + name + "/down"), outsideLink, this::inbound);
        this.sequentialCursor = config.minPort();
    }

    /** The private realm behind this NAT; add hosts (or further NATs) to it. */
    public Network inside() {
        return inside;
    }

    /** The realm the external address is in. */
    public Network outside() {
        return outside;
    }

    /** The NAT's one external address, in {@link #outside()}. */
    public InetAddress externalAddress() {
        return externalAddress;
    }

    public NatConfig config() {
        return config;
    }

    /** Sets both directions of the NAT's outside link (its access line) from now on. */
    public Nat link(LinkConfig linkConfig) {
        uplink(linkConfig);
        return downlink(linkConfig);
    }

    /** Sets the outside link's impairments for datagrams leaving the NAT, from now on. */
    public Nat uplink(LinkConfig linkConfig) {
        uplink.config(Objects.requireNonNull(linkConfig, "linkConfig"));
        return this;
    }

    /** Sets the outside link's impairments for datagrams arriving at the NAT, from now on. */
    public Nat downlink(LinkConfig linkConfig) {
        downlink.config(Objects.requireNonNull(linkConfig, "linkConfig"));
        return this;
    }

    /** Translations, mappings and drops at this NAT and on its outside link (a snapshot). */
    public SimCounters counters() {
        return counters.snapshot();
    }

    /** Mappings that have not expired now. */
    public int activeMappings() {
        long nowNs = sim.nowNs();
        int active = 0;
        for (Mapping m : byExternalPort.values()) {
            if (m.expiresAtNs > nowNs) {
                active++;
            }
        }
        return active;
    }

    /**
     * The external address the live mapping of {@code internal} toward {@code destination} has, if
     * there is one; for assertions in tests. Protocols learn their mapping from STUN, not from here.
     */
    public Optional<InetSocketAddress> mappingOf(InetSocketAddress internal, InetSocketAddress destination) {
        long internalKey = sim.resolve(internal);
        long destinationKey = sim.resolve(destination);
        if (internalKey < 0 || destinationKey < 0) {
            return Optional.empty();
        }
        Long2ObjectHashMap<Mapping> mappings = byInternal.get(internalKey);
        if (mappings == null) {
            return Optional.empty();
        }
        Mapping m = mappings.get(CLASH_FLOW | destinationKey);
        if (m == null || m.expiresAtNs <= sim.nowNs()) {
            m = mappings.get(destinationKey(Ipv4.keyIp(destinationKey), Ipv4.keyPort(destinationKey)));
        }
        if (m == null || m.expiresAtNs <= sim.nowNs()) {
            return Optional.empty();
        }
        return Optional.of(new InetSocketAddress(externalAddress, m.externalPort));
    }

    /**
     * Forgets every mapping at once, as a NAT reboot or a carrier-grade NAT's rebinding does: the next
     * outgoing datagram of each internal endpoint gets a new mapping, and datagrams arriving on an
     * old one are dropped as {@link DropCause#MAPPING_EXPIRED}. The old ports stay reserved for one
     * mapping timeout, so the new mapping has a different external port even with port preservation.
     */
    public void clearMappings() {
        long nowNs = sim.nowNs();
        for (Mapping m : byExternalPort.values()) {
            if (m.expiresAtNs > nowNs) {
                m.expiresAtNs = nowNs;
                m.reusableAtNs = nowNs + config.mappingTimeoutNs();
            }
        }
        byInternal.clear();
        unreplied.clear();
    }

    @Override
    public String toString() {
        return "Nat{" + Ipv4.format(externalIp) + " in " + outside.name() + ", " + config + "}";
    }

    /**
     * Blocks or unblocks outbound datagrams to {@code destination} (a firewall rule beside the NAT, as in
     * networks that drop UDP to some hosts): blocked ones are dropped before any mapping is made, so the
     * destination's answers cannot come back either. Tests use it to make a direct path impossible, or
     * possible only from some moment on.
     */
    public Nat block(InetAddress destination, boolean blocked) {
        if (!(destination instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("the simulator is IPv4-only: " + destination);
        }
        int ip = Ipv4.fromInetAddress(v4);
        if (blocked) {
            blockedDestinations.add(ip);
        } else {
            blockedDestinations.remove(ip);
        }
        return this;
    }

    /** A datagram from the inside realm to a destination outside it (RFC 4787 §4.1, §4.3, §6). */
    void outbound(Event packet) {
        long nowNs = sim.nowNs();
        if (!blockedDestinations.isEmpty() && blockedDestinations.contains(packet.dstIp)) {
            sim.drop(packet, DropCause.BLOCKED, counters);
            return;
        }
        long internalKey = Ipv4.endpointKey(packet.srcIp, packet.srcPort);
        long destinationKey = destinationKey(packet.dstIp, packet.dstPort);
        Mapping m = liveMapping(internalKey, destinationKey, nowNs);
        if (config.conntrackClash()) {
            long flowKey = CLASH_FLOW | Ipv4.endpointKey(packet.dstIp, packet.dstPort);
            Mapping flow = liveMapping(internalKey, flowKey, nowNs);
            if (flow == null) {
                int wanted = m != null ? m.externalPort : allocatePort(packet.srcPort, nowNs);
                if (wanted >= 0 && clashes(packet.dstIp, packet.dstPort, wanted, nowNs)) {
                    int port = allocateNonClashingPort(packet.dstIp, packet.dstPort, nowNs);
                    if (port < 0) {
                        sim.drop(packet, DropCause.PORT_EXHAUSTED, counters);
                        return;
                    }
                    flow = create(internalKey, flowKey, packet, port);
                } else if (m == null && wanted >= 0) {
                    m = create(internalKey, destinationKey, packet, wanted);
                }
            }
            if (flow != null) {
                m = flow;
            }
        }
        if (m == null) {
            int port = allocatePort(packet.srcPort, nowNs);
            if (port < 0) {
                sim.drop(packet, DropCause.PORT_EXHAUSTED, counters);
                return;
            }
            m = create(internalKey, destinationKey, packet, port);
        }
        long expiresAtNs = nowNs + config.mappingTimeoutNs();
        m.expiresAtNs = expiresAtNs;
        m.reusableAtNs = expiresAtNs;
        if (config.filtering() != FilteringBehavior.ENDPOINT_INDEPENDENT) {
            m.permit(permitKey(packet.dstIp, packet.dstPort), expiresAtNs, nowNs);
        }
        counters.translatedOutbound++;
        sim.globalCounters().translatedOutbound++;
        packet.srcIp = externalIp;
        packet.srcPort = m.externalPort;
        if (packet.dstIp == externalIp) {
            if (!config.hairpinning()) {
                sim.drop(packet, DropCause.HAIRPIN_DISABLED, counters);
                return;
            }
            counters.hairpinned++;
            sim.globalCounters().hairpinned++;
            inbound(packet, false);
            return;
        }
        uplink.enter(packet);
    }

    /** A datagram arriving on the outside link. */
    void inbound(Event packet) {
        inbound(packet, true);
    }

    /** A datagram to the external address, from the outside link or hairpinned (RFC 4787 §5). */
    private void inbound(Event packet, boolean fromOutside) {
        long nowNs = sim.nowNs();
        Mapping m = byExternalPort.get(packet.dstPort);
        DropCause refused = null;
        if (m == null) {
            refused = DropCause.NO_MAPPING;
        } else if (m.expiresAtNs <= nowNs) {
            refused = DropCause.MAPPING_EXPIRED;
        }
        boolean filtersByEndpoint = config.filtering() != FilteringBehavior.ENDPOINT_INDEPENDENT;
        long permitKey = filtersByEndpoint ? permitKey(packet.srcIp, packet.srcPort) : 0;
        if (refused == null && filtersByEndpoint && !m.permits(permitKey, nowNs)) {
            refused = DropCause.FILTERED;
        }
        if (refused != null) {
            if (fromOutside && config.conntrackClash()) {
                recordUnreplied(packet.srcIp, packet.srcPort, packet.dstPort, nowNs);
            }
            sim.drop(packet, refused, counters);
            return;
        }
        if (config.inboundRefresh()) {
            long expiresAtNs = nowNs + config.mappingTimeoutNs();
            m.expiresAtNs = expiresAtNs;
            m.reusableAtNs = expiresAtNs;
            if (filtersByEndpoint) {
                m.permit(permitKey, expiresAtNs, nowNs);
            }
        }
        counters.translatedInbound++;
        sim.globalCounters().translatedInbound++;
        packet.dstIp = m.internalIp;
        packet.dstPort = m.internalPort;
        inside.routeInbound(packet, counters);
    }

    /** The live mapping under (internal endpoint, key), or null; an expired one is forgotten. */
    private Mapping liveMapping(long internalKey, long key, long nowNs) {
        Long2ObjectHashMap<Mapping> mappings = byInternal.get(internalKey);
        Mapping m = mappings == null ? null : mappings.get(key);
        if (m != null && m.expiresAtNs <= nowNs) {
            forget(m);
            return null;
        }
        return m;
    }

    private Mapping create(long internalKey, long key, Event packet, int port) {
        Mapping m = new Mapping(internalKey, key, packet.srcIp, packet.srcPort, port);
        byExternalPort.put(port, m);
        Long2ObjectHashMap<Mapping> mappings = byInternal.get(internalKey);
        if (mappings == null) {
            mappings = new Long2ObjectHashMap<>();
            byInternal.put(internalKey, mappings);
        }
        mappings.put(key, m);
        counters.mappingsCreated++;
        sim.globalCounters().mappingsCreated++;
        return m;
    }

    private static long unrepliedKey(int remoteIp, int remotePort, int externalPort) {
        return (Ipv4.endpointKey(remoteIp, remotePort) << 16) | externalPort;
    }

    /** Conntrack clash: an unadmitted inbound datagram leaves an unreplied entry that blocks its port. */
    private void recordUnreplied(int remoteIp, int remotePort, int externalPort, long nowNs) {
        unreplied.put(unrepliedKey(remoteIp, remotePort, externalPort), nowNs + NatConfig.CONNTRACK_UNREPLIED_TIMEOUT_NS);
        if (unreplied.size() > unrepliedSweepThreshold) {
            Long2LongHashMap.EntryIterator it = unreplied.entrySet().iterator();
            while (it.hasNext()) {
                it.next();
                if (it.getLongValue() <= nowNs) {
                    it.remove();
                }
            }
            unrepliedSweepThreshold = Math.max(UNREPLIED_SWEEP_THRESHOLD, 2 * unreplied.size());
        }
    }

    private boolean clashes(int remoteIp, int remotePort, int externalPort, long nowNs) {
        return unreplied.get(unrepliedKey(remoteIp, remotePort, externalPort)) > nowNs;
    }

    /** A random free port whose flow to the remote does not clash (Linux picks pseudo-randomly too). */
    private int allocateNonClashingPort(int remoteIp, int remotePort, long nowNs) {
        int min = config.minPort();
        int range = config.maxPort() - min + 1;
        int start = min + random.nextInt(range);
        for (int i = 0; i < range; i++) {
            int candidate = min + (start - min + i) % range;
            if (!clashes(remoteIp, remotePort, candidate, nowNs) && claimable(candidate, nowNs)) {
                return candidate;
            }
        }
        return -1;
    }

    /** RFC 4787 §4.1: which part of the destination selects the mapping. */
    private long destinationKey(int dstIp, int dstPort) {
        return switch (config.mapping()) {
            case ENDPOINT_INDEPENDENT -> ANY_DESTINATION;
            case ADDRESS_DEPENDENT -> Ipv4.endpointKey(dstIp, 0);
            case ADDRESS_AND_PORT_DEPENDENT -> Ipv4.endpointKey(dstIp, dstPort);
        };
    }

    /** RFC 4787 §5: which part of a remote endpoint a filtering permission names. */
    private long permitKey(int ip, int port) {
        return config.filtering() == FilteringBehavior.ADDRESS_DEPENDENT
                ? Ipv4.endpointKey(ip, 0)
                : Ipv4.endpointKey(ip, port);
    }

    /** RFC 4787 §4.2.1: an external port for a new mapping, or -1 if none is free (never overloads, REQ-3 a). */
    private int allocatePort(int internalPort, long nowNs) {
        int min = config.minPort();
        int range = config.maxPort() - min + 1;
        switch (config.portAllocation()) {
            case PRESERVING -> {
                int start = internalPort >= min && internalPort <= config.maxPort() ? internalPort : min;
                return scanForFreePort(start, nowNs);
            }
            case SEQUENTIAL -> {
                for (int i = 0; i < range; i++) {
                    int candidate = sequentialCursor;
                    sequentialCursor = min + (candidate - min + config.portStep()) % range;
                    if (claimable(candidate, nowNs)) {
                        return candidate;
                    }
                }
                return scanForFreePort(min, nowNs);
            }
            case RANDOM -> {
                for (int i = 0; i < RANDOM_PORT_ATTEMPTS; i++) {
                    int candidate = min + random.nextInt(range);
                    if (claimable(candidate, nowNs)) {
                        return candidate;
                    }
                }
                return scanForFreePort(min + random.nextInt(range), nowNs);
            }
            default -> throw new IllegalStateException("unknown port allocation " + config.portAllocation());
        }
    }

    /** The first claimable port from {@code start} upwards, wrapping within the range. */
    private int scanForFreePort(int start, long nowNs) {
        int min = config.minPort();
        int range = config.maxPort() - min + 1;
        for (int i = 0; i < range; i++) {
            int candidate = min + (start - min + i) % range;
            if (claimable(candidate, nowNs)) {
                return candidate;
            }
        }
        return -1;
    }

    /** True if no live mapping holds {@code port}; a dead holder is evicted. */
    private boolean claimable(int port, long nowNs) {
        Mapping holder = byExternalPort.get(port);
        if (holder == null) {
            return true;
        }
        if (holder.reusableAtNs > nowNs) {
            return false;
        }
        byExternalPort.remove(port);
        forget(holder);
        return true;
    }

    /** Removes a mapping from the outbound index (it stays in the port index until its port is reused). */
    private void forget(Mapping m) {
        Long2ObjectHashMap<Mapping> mappings = byInternal.get(m.internalKey);
        if (mappings != null && mappings.get(m.destinationKey) == m) {
            mappings.remove(m.destinationKey);
            if (mappings.isEmpty()) {
                byInternal.remove(m.internalKey);
            }
        }
    }

    /** One NAT binding: internal endpoint X:x (for one destination class) to external port x'. */
    private static final class Mapping {
        final long internalKey;
        final long destinationKey;
        final int internalIp;
        final int internalPort;
        final int externalPort;
        long expiresAtNs;
        /** When the port may go to another mapping: the expiry, or later for cleared mappings. */
        long reusableAtNs;
        /** Filtering permissions: remote (address or endpoint) key -> expiry. */
        private final Long2LongHashMap permits = new Long2LongHashMap(8, 0.65f, Long.MIN_VALUE);
        private int sweepThreshold = PERMIT_SWEEP_THRESHOLD;

        Mapping(long internalKey, long destinationKey, int internalIp, int internalPort, int externalPort) {
            this.internalKey = internalKey;
            this.destinationKey = destinationKey;
            this.internalIp = internalIp;
            this.internalPort = internalPort;
            this.externalPort = externalPort;
        }

        boolean permits(long remoteKey, long nowNs) {
            return permits.get(remoteKey) > nowNs;
        }

        void permit(long remoteKey, long expiresAtNs, long nowNs) {
            permits.put(remoteKey, expiresAtNs);
            if (permits.size() > sweepThreshold) {
                Long2LongHashMap.EntryIterator it = permits.entrySet().iterator();
                while (it.hasNext()) {
                    it.next();
                    if (it.getLongValue() <= nowNs) {
                        it.remove();
                    }
                }
                sweepThreshold = Math.max(PERMIT_SWEEP_THRESHOLD, 2 * permits.size());
            }
        }
    }
}
