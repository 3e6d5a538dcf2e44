package dev.pinhole.protocol.nat;

/**
 * A NAT's (or firewall's) filtering behaviour in the terms of RFC 4787 §5, as RFC 5780 §4.4
 * measures it: who may send to a mapping.
 */
public enum NatFiltering {
    /** Anyone may send to an existing mapping. */
    ENDPOINT_INDEPENDENT,
    /** Only addresses the internal endpoint has sent to, from any port. */
    ADDRESS_DEPENDENT,
    /** Only address-and-port pairs the internal endpoint has sent to. */
    ADDRESS_AND_PORT_DEPENDENT,
    /** Not measured: the server lacks RFC 5780 or did not honour CHANGE-REQUEST. */
    UNKNOWN
}
