package dev.pinhole.sim;

import java.util.Objects;

/**
 * How a simulated NAT behaves, in the terms of RFC 4787 (NAT Behavioral Requirements for Unicast UDP).
 *
 * <p>The NAT has one external IP address (RFC 4787 §4.1 "IP address pooling" does not arise) and
 * translates UDP only. Its behaviour is fully described by:
 * <ul>
 *   <li>{@link MappingBehavior} (§4.1): when an internal endpoint X:x that already has a mapping
 *       X1':x1' for destination Y1:y1 sends to Y2:y2, whether the NAT reuses that mapping.</li>
 *   <li>{@link FilteringBehavior} (§5): which external endpoints may send to a mapping.</li>
 *   <li>{@link PortAllocation} (§4.2.1 port assignment): which external port a new mapping gets,
 *       from [{@code minPort}, {@code maxPort}]; default 1024–65535, the range RFC 4787 REQ-3
 *       asks a NAT to keep unprivileged ports in. A NAT never overloads a port (REQ-3 a):
 *       when no port is free, the datagram is dropped ({@link DropCause#PORT_EXHAUSTED}).</li>
 *   <li>{@code hairpinning} (§6): whether a datagram from inside to the NAT's own external address
 *       is turned back inside. When on, the source is translated to the sender's external mapping,
 *       "External source IP address and port" as REQ-9 a) requires, and the target mapping's
 *       filtering applies to it as to any inbound datagram.</li>
 *   <li>{@code mappingTimeoutNs} (§4.3): a mapping expires that long after it was last refreshed.
 *       Outbound datagrams always refresh it (REQ-6, "NAT Outbound refresh behavior" True).
 *       Inbound datagrams refresh it only with {@code inboundRefresh} (REQ-6 a) makes this a MAY);
 *       the conservative default is false, so keepalives must come from inside, the case a protocol
 *       must be ready for. Filtering permissions (the destinations a mapping has sent to) expire on
 *       the same timer, each refreshed by datagrams to its own destination.</li>
 * </ul>
 * <ul>
 *   <li>{@code conntrackClash}: the Linux connection-tracking trap measured with MASQUERADE NATs in network namespaces. An inbound datagram
 *       from R to external port x' that is not admitted (no mapping, expired, filtered) still leaves an
 *       unreplied conntrack entry for (R, x'), alive for {@link #CONNTRACK_UNREPLIED_TIMEOUT_NS} and
 *       refreshed by every further such datagram. A later outbound flow to R that would use x'
 *       clashes with it, so that flow alone gets another, random port, which R's side has not
 *       seen; datagrams from R to x' keep being dropped. Simultaneous hole punching therefore fails
 *       when the peer's first datagram reaches this NAT before ours has left it.</li>
 * </ul>
 * Port parity and contiguity (§4.2.2, §4.2.3), ICMP, fragments and TTL are not modelled, nor is
 * Linux's shorter timeout for flows that never saw a reply.
 *
 * @param mapping           mapping behaviour, RFC 4787 §4.1
 * @param filtering         filtering behaviour, RFC 4787 §5
 * @param portAllocation    external port choice for new mappings, RFC 4787 §4.2.1
 * @param portStep          increment between sequentially allocated ports (1 = next port)
 * @param hairpinning       RFC 4787 §6 hairpinning on or off
 * @param mappingTimeoutNs  idle time after which a mapping expires, nanoseconds (REQ-5: at least 2 min
 *                          for a compliant NAT; shorter values are allowed to model non-compliant ones)
 * @param inboundRefresh    whether inbound datagrams refresh a mapping (REQ-6 a)
 * @param minPort           lowest external port the NAT allocates
 * @param maxPort           highest external port the NAT allocates
 * @param conntrackClash    whether unadmitted inbound datagrams block their port for outbound flows
 *                          to their source, as Linux conntrack does (see above)
 */
public record NatConfig(
        MappingBehavior mapping,
        FilteringBehavior filtering,
        PortAllocation portAllocation,
        int portStep,
        boolean hairpinning,
        long mappingTimeoutNs,
        boolean inboundRefresh,
        int minPort,
        int maxPort,
        boolean conntrackClash) {

    /** RFC 4787 REQ-5: "A NAT UDP mapping timer MUST NOT expire in less than two minutes". */
    public static final long DEFAULT_MAPPING_TIMEOUT_NS = 120_000_000_000L;
    /** RFC 4787 REQ-3 b): external ports for ordinary traffic come from the non-privileged range. */
    public static final int DEFAULT_MIN_PORT = 1024;
    public static final int DEFAULT_MAX_PORT = 65_535;
    /** Linux {@code nf_conntrack_udp_timeout}: 30 s for a UDP flow that has seen no reply. */
    public static final long CONNTRACK_UNREPLIED_TIMEOUT_NS = 30_000_000_000L;

    /** RFC 3489's "full cone": endpoint-independent mapping and filtering; sequential ports; hairpinning. */
    public static final NatConfig FULL_CONE = new NatConfig(MappingBehavior.ENDPOINT_INDEPENDENT,
            FilteringBehavior.ENDPOINT_INDEPENDENT, PortAllocation.SEQUENTIAL, 1, true,
            DEFAULT_MAPPING_TIMEOUT_NS, false, DEFAULT_MIN_PORT, DEFAULT_MAX_PORT, false);
    /** RFC 3489's "restricted cone": endpoint-independent mapping, address-dependent filtering. */
    public static final NatConfig RESTRICTED_CONE = FULL_CONE.withFiltering(FilteringBehavior.ADDRESS_DEPENDENT);
    /** RFC 3489's "port restricted cone": endpoint-independent mapping, address-and-port-dependent filtering. */
    public static final NatConfig PORT_RESTRICTED_CONE =
            FULL_CONE.withFiltering(FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
    /**
     * RFC 3489's "symmetric": address-and-port-dependent mapping and filtering, random ports, no
     * hairpinning; the hardest case for hole punching.
     */
    public static final NatConfig SYMMETRIC = new NatConfig(MappingBehavior.ADDRESS_AND_PORT_DEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, PortAllocation.RANDOM, 1, false,
            DEFAULT_MAPPING_TIMEOUT_NS, false, DEFAULT_MIN_PORT, DEFAULT_MAX_PORT, false);
    /**
     * Linux {@code iptables -j MASQUERADE}, as measured in network namespaces: endpoint-independent mapping with
     * port preservation, address-and-port-dependent filtering, no hairpinning without extra rules,
     * conntrack refreshing on both directions, and the conntrack clash that defeats a naive
     * simultaneous punch. Conntrack's 30 s timeout for flows that saw no reply is not modelled for
     * mappings; the 120 s timeout of established flows applies to all.
     */
    public static final NatConfig LINUX_MASQUERADE = new NatConfig(MappingBehavior.ENDPOINT_INDEPENDENT,
            FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT, PortAllocation.PRESERVING, 1, false,
            DEFAULT_MAPPING_TIMEOUT_NS, true, DEFAULT_MIN_PORT, DEFAULT_MAX_PORT, true);

    public NatConfig {
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(filtering, "filtering");
        Objects.requireNonNull(portAllocation, "portAllocation");
        if (minPort < 1 || maxPort > 65_535 || minPort > maxPort) {
            throw new IllegalArgumentException(
                    "port range must satisfy 1 <= minPort <= maxPort <= 65535, was " + minPort + "-" + maxPort);
        }
        if (portStep < 1 || portStep > maxPort - minPort + 1) {
            throw new IllegalArgumentException(
                    "portStep must be in [1, size of the port range], was " + portStep);
        }
        if (mappingTimeoutNs <= 0) {
            throw new IllegalArgumentException("mappingTimeoutNs must be positive, was " + mappingTimeoutNs);
        }
    }

    public NatConfig withMapping(MappingBehavior mapping) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withFiltering(FilteringBehavior filtering) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withPortAllocation(PortAllocation portAllocation) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    /** Sequential allocation with the given increment between consecutive new mappings. */
    public NatConfig withSequentialPorts(int portStep) {
        return new NatConfig(mapping, filtering, PortAllocation.SEQUENTIAL, portStep, hairpinning,
                mappingTimeoutNs, inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withHairpinning(boolean hairpinning) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withMappingTimeoutNs(long mappingTimeoutNs) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withInboundRefresh(boolean inboundRefresh) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withConntrackClash(boolean conntrackClash) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    public NatConfig withPortRange(int minPort, int maxPort) {
        return new NatConfig(mapping, filtering, portAllocation, portStep, hairpinning, mappingTimeoutNs,
                inboundRefresh, minPort, maxPort, conntrackClash);
    }

    /** RFC 4787 §4.1: which destinations share one external mapping of an internal endpoint X:x. */
    public enum MappingBehavior {
        /** "Endpoint-Independent Mapping": one mapping X':x' for all destinations (REQ-1: a NAT MUST do this). */
        ENDPOINT_INDEPENDENT,
        /** "Address-Dependent Mapping": one mapping per destination IP address; ports do not matter. */
        ADDRESS_DEPENDENT,
        /** "Address and Port-Dependent Mapping": one mapping per destination IP address and port. */
        ADDRESS_AND_PORT_DEPENDENT
    }

    /** RFC 4787 §5: which external endpoints Y:y may send to the mapping X':x' of an internal endpoint. */
    public enum FilteringBehavior {
        /** "Endpoint-Independent Filtering": anyone, once the mapping exists. */
        ENDPOINT_INDEPENDENT,
        /** "Address-Dependent Filtering": only Y:any after the internal endpoint sent to Y through this mapping. */
        ADDRESS_DEPENDENT,
        /** "Address and Port-Dependent Filtering": only Y:y after the internal endpoint sent to Y:y through it. */
        ADDRESS_AND_PORT_DEPENDENT
    }

    /** RFC 4787 §4.2.1 port assignment: which external port a new mapping gets. */
    public enum PortAllocation {
        /**
         * "Port preservation": the internal port if it is free in the range; otherwise the next free port
         * above it, wrapping within the range. (Linux picks a pseudo-random free port instead; only the
         * fact that the port changes matters to a traversal protocol.)
         */
        PRESERVING,
        /** "No port preservation", sequential: a cursor starting at {@code minPort}, advanced by {@code portStep}. */
        SEQUENTIAL,
        /** "No port preservation", random: a uniformly random free port from the NAT's seeded stream. */
        RANDOM
    }
}
