package dev.pinhole.protocol.ice;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A transport address at which a peer may be reachable (RFC 8445 §5.1.1), with its priority.
 *
 * <p>Pinhole uses one UDP socket per node (docs/architecture.md, principle 2) and one component, so every
 * candidate of a node shares one base: the socket's bound address.
 *
 * @param type     how the address was learnt
 * @param address  the transport address peers send to
 * @param priority RFC 8445 §5.1.2 priority, see {@link #priority(CandidateType, int, int)}
 * @param base     the local address the candidate's datagrams leave from (RFC 8445 §5.1.1.2: the host
 *                 candidate's own address for host and reflexive candidates); for a peer's candidates
 *                 the base is unknown to us and set to {@code address}
 */
public record Candidate(CandidateType type, InetSocketAddress address, long priority, InetSocketAddress base) {
    /** RFC 8445 §5.1.2.1: with one component, its ID is 1. */
    public static final int COMPONENT_ID = 1;
    /**
     * RFC 8445 §5.1.2.1: "If there is only one IP address ... this value SHOULD be set to 65535",
     * the highest local preference.
     */
    public static final int MAX_LOCAL_PREFERENCE = 65_535;

    public Candidate {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(base, "base");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("candidate address must be resolved, was " + address);
        }
        if (priority < 1 || priority > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("priority must be a positive 32-bit value, was " + priority);
        }
    }

    /** A local candidate of {@code type} with the full local preference and component 1. */
    public static Candidate of(CandidateType type, InetSocketAddress address, InetSocketAddress base) {
        return new Candidate(type, address, priority(type, MAX_LOCAL_PREFERENCE, COMPONENT_ID), base);
    }

    /** A candidate whose base is itself (host candidates, and every candidate a peer reports). */
    public static Candidate of(CandidateType type, InetSocketAddress address) {
        return of(type, address, address);
    }

    /**
     * RFC 8445 §5.1.2.1: {@code priority = (2^24)*(type preference) + (2^8)*(local preference)
     * + (2^0)*(256 - component ID)}.
     *
     * @param type            gives the type preference (0–126)
     * @param localPreference 0–65535; higher for more preferred interfaces
     * @param componentId     1–256
     */
    public static long priority(CandidateType type, int localPreference, int componentId) {
        if (localPreference < 0 || localPreference > MAX_LOCAL_PREFERENCE) {
            throw new IllegalArgumentException("local preference must be in [0, 65535], was " + localPreference);
        }
        if (componentId < 1 || componentId > 256) {
            throw new IllegalArgumentException("component ID must be in [1, 256], was " + componentId);
        }
        return ((long) type.typePreference() << 24) + ((long) localPreference << 8) + (256 - componentId);
    }

    /** RFC 8445 §6.1.2.2 pairs only candidates of the same address family. */
    public boolean sameFamilyAs(Candidate other) {
        return address.getAddress().getClass() == other.address.getAddress().getClass();
    }
}
