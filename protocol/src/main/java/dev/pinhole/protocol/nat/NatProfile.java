package dev.pinhole.protocol.nat;



import dev.pinhole.protocol.nat.NatBehavior;
import java.util.Objects;

/**
 * What a peer knows about the NAT in front of it, in RFC 4787 terms, as far as it measured it
 * (RFC 5780 behaviour discovery). The rendezvous server passes each side's profile to the other so that
 * traversal can choose its tactics: port prediction for sequentially allocating endpoint-dependent NATs,
 * birthday probing against random ones, and an error message that names both behaviours.
 *
 * <p>This is a value the traversal session reads, not a discovery procedure. RFC 5780 discovery
 * ({@code NatBehaviorDiscovery}) gives mapping and filtering ({@link #from(NatBehavior)});
 * {@code CandidateGatherer} measures mapping and port allocation from consecutive mappings. The enums add
 * to punch/nat's {@code NatMapping} a {@link Mapping#NO_NAT} value, and a port-allocation measurement that
 * RFC 5780 does not define.
 *
 * @param mapping        RFC 4787 §4.1 mapping behaviour, or {@link Mapping#NO_NAT} when the reflexive
 *                       address equals the local one
 * @param filtering      RFC 4787 §5 filtering behaviour
 * @param portAllocation RFC 4787 §4.2.1 port assignment, as measured by consecutive mappings
 * @param portStep       for {@link PortAllocation#SEQUENTIAL}: the measured difference between two
 *                       consecutively allocated external ports (may be negative); 0 when not measured
 */
public record NatProfile(Mapping mapping, Filtering filtering, PortAllocation portAllocation, int portStep) {
    /** Nothing known about the NAT. */
    public static final NatProfile UNKNOWN =
            new NatProfile(Mapping.UNKNOWN, Filtering.UNKNOWN, PortAllocation.UNKNOWN, 0);
    /** A host with a public address: nothing maps, nothing filters. */
    public static final NatProfile NO_NAT =
            new NatProfile(Mapping.NO_NAT, Filtering.ENDPOINT_INDEPENDENT, PortAllocation.PRESERVING, 0);

    public NatProfile {
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(filtering, "filtering");
        Objects.requireNonNull(portAllocation, "portAllocation");
        if (portStep != 0 && portAllocation != PortAllocation.SEQUENTIAL) {
            throw new IllegalArgumentException("a port step is meaningful only for sequential allocation, got "
                    + portStep + " with " + portAllocation);
        }
        if (Math.abs(portStep) > 65_535) {
            throw new IllegalArgumentException("port step must be within +-65535, was " + portStep);
        }
    }

    /** Mapping and filtering as RFC 5780 discovery measured them; port allocation unknown. */
    public static NatProfile from(NatBehavior behavior) {
        if (behavior.udpBlocked() || behavior.mappedAddress() == null) {
            return UNKNOWN;
        }
        if (!behavior.behindNat()) {
            return NO_NAT;
        }
        Mapping mapping = switch (behavior.mapping()) {
            case ENDPOINT_INDEPENDENT -> Mapping.ENDPOINT_INDEPENDENT;
            case ADDRESS_DEPENDENT -> Mapping.ADDRESS_DEPENDENT;
            case ADDRESS_AND_PORT_DEPENDENT -> Mapping.ADDRESS_AND_PORT_DEPENDENT;
            case UNKNOWN -> Mapping.UNKNOWN;
        };
        Filtering filtering = switch (behavior.filtering()) {
            case ENDPOINT_INDEPENDENT -> Filtering.ENDPOINT_INDEPENDENT;
            case ADDRESS_DEPENDENT -> Filtering.ADDRESS_DEPENDENT;
            case ADDRESS_AND_PORT_DEPENDENT -> Filtering.ADDRESS_AND_PORT_DEPENDENT;
            case UNKNOWN -> Filtering.UNKNOWN;
        };
        return new NatProfile(mapping, filtering, PortAllocation.UNKNOWN, 0);
    }

    public NatProfile withFiltering(Filtering value) {
        return new NatProfile(mapping, value, portAllocation, portStep);
    }

    public NatProfile withMapping(Mapping value) {
        return new NatProfile(value, filtering, portAllocation, portStep);
    }

    /** This profile with a measured port allocation (and step, for {@link PortAllocation#SEQUENTIAL}). */
    public NatProfile withPortAllocation(PortAllocation value, int step) {
        return new NatProfile(mapping, filtering, value, step);
    }

    /** The NAT gives each destination its own external port: a plain punch cannot reach it. */
    public boolean endpointDependentMapping() {
        return mapping == Mapping.ADDRESS_DEPENDENT || mapping == Mapping.ADDRESS_AND_PORT_DEPENDENT;
    }

    /** Port prediction applies: endpoint-dependent mapping with a measured sequential step. */
    public boolean predictable() {
        return endpointDependentMapping() && portAllocation == PortAllocation.SEQUENTIAL && portStep != 0;
    }

    /** A short human-readable form for diagnostics, e.g. "mapping ADDRESS_AND_PORT_DEPENDENT, ...". */
    public String describe() {
        if (mapping == Mapping.NO_NAT) {
            return "no NAT";
        }
        if (mapping == Mapping.UNKNOWN && filtering == Filtering.UNKNOWN) {
            // One STUN server shows the public address only; the behaviour needs two (RFC 5780 §4.3).
            return "behaviour not measured (it takes two STUN server addresses, e.g. a rendezvous server with"
                    + " --alt; with one, only the public address is known)";
        }
        return "mapping " + mapping + ", filtering " + filtering + ", ports " + portAllocation
                + (portAllocation == PortAllocation.SEQUENTIAL && portStep != 0 ? " (step " + portStep + ")" : "");
    }

    /** RFC 4787 §4.1 mapping behaviour. */
    public enum Mapping {
        UNKNOWN,
        /** Not behind a NAT: the server-reflexive address equals the host address. */
        NO_NAT,
        ENDPOINT_INDEPENDENT,
        ADDRESS_DEPENDENT,
        ADDRESS_AND_PORT_DEPENDENT
    }

    /** RFC 4787 §5 filtering behaviour. */
    public enum Filtering {
        UNKNOWN,
        ENDPOINT_INDEPENDENT,
        ADDRESS_DEPENDENT,
        ADDRESS_AND_PORT_DEPENDENT
    }

    /** RFC 4787 §4.2.1 external port assignment. */
    public enum PortAllocation {
        UNKNOWN,
        /** The external port equals the internal one when free. */
        PRESERVING,
        /** Consecutive new mappings get ports a fixed step apart. */
        SEQUENTIAL,
        /** New mappings get unpredictable ports. */
        RANDOM
    }
}
