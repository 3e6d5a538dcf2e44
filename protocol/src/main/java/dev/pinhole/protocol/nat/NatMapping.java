package dev.pinhole.protocol.nat;

/**
 * A NAT's mapping behaviour in the terms of RFC 4787 §4.1, as RFC 5780 §4.3 measures it: which
 * destinations share the external address and port of one internal endpoint.
 */
public enum NatMapping {
    /** Same mapping for every destination (RFC 4787 REQ-1: what a NAT must do). Also reported without a NAT. */
    ENDPOINT_INDEPENDENT,
    /** One mapping per destination IP address. */
    ADDRESS_DEPENDENT,
    /** One mapping per destination IP address and port. */
    ADDRESS_AND_PORT_DEPENDENT,
    /** Not measured: the server lacks RFC 5780 (no OTHER-ADDRESS) or a test got no answer. */
    UNKNOWN
}
