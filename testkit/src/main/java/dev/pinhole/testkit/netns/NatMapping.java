package dev.pinhole.testkit.netns;

import java.util.List;

/**
 * The mapping behaviour of a lab NAT (RFC 4787 section 4.1), and the iptables rule that gives it.
 * Filtering is address-and-port-dependent in both (RFC 4787 section 5): Linux conntrack lets in only
 * replies to a flow the inside host started.
 */
public enum NatMapping {
    /**
     * Plain {@code MASQUERADE}: one mapping per inside socket whatever the destination
     * (endpoint-independent mapping), keeping the inside port when it is free. A plain UDP punch
     * between two of these works (with a TTL-primed first packet: core's {@code UnicastTtl}).
     */
    ENDPOINT_INDEPENDENT(List.of()),

    /**
     * {@code MASQUERADE --random-fully}: a new random port for every destination
     * (address-and-port-dependent mapping, the "symmetric" NAT). A plain punch fails against it.
     */
    ADDRESS_AND_PORT_DEPENDENT(List.of("--random-fully"));

    private final List<String> masqueradeOptions;

    NatMapping(List<String> masqueradeOptions) {
        this.masqueradeOptions = masqueradeOptions;
    }

    /** Options appended to {@code -j MASQUERADE}. */
    public List<String> masqueradeOptions() {
        return masqueradeOptions;
    }
}
