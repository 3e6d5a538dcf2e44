package dev.pinhole.protocol.nat;

import dev.pinhole.protocol.nat.NatFiltering;
import dev.pinhole.protocol.nat.NatMapping;

/**
 * The classic NAT names of RFC 3489 §5, derived from the RFC 4787 behaviours as the literature
 * maps them (RFC 5780 §1 explains why the classic names are too coarse; they remain what users
 * recognise). RFC 3489's "symmetric UDP firewall" — no translation but filtering — is kept.
 */
public enum NatType {
    /** No NAT and endpoint-independent filtering: reachable by anyone. */
    OPEN_INTERNET,
    /** No NAT, but a firewall filters by address or address and port. */
    SYMMETRIC_UDP_FIREWALL,
    /** Endpoint-independent mapping and filtering. */
    FULL_CONE,
    /** Endpoint-independent mapping, address-dependent filtering. */
    RESTRICTED_CONE,
    /** Endpoint-independent mapping, address-and-port-dependent filtering. */
    PORT_RESTRICTED_CONE,
    /** Address-dependent or address-and-port-dependent mapping, whatever the filtering. */
    SYMMETRIC,
    /** The server never answered: UDP is blocked (or the server is down). */
    UDP_BLOCKED,
    /** Not enough was measured to name it (server without RFC 5780, tests without answers). */
    UNKNOWN;

    /** The classic name for the measured behaviours. */
    public static NatType classify(boolean udpBlocked, boolean behindNat, NatMapping mapping, NatFiltering filtering) {
        if (udpBlocked) {
            return UDP_BLOCKED;
        }
        if (!behindNat) {
            return switch (filtering) {
                case ENDPOINT_INDEPENDENT -> OPEN_INTERNET;
                case ADDRESS_DEPENDENT, ADDRESS_AND_PORT_DEPENDENT -> SYMMETRIC_UDP_FIREWALL;
                case UNKNOWN -> UNKNOWN;
            };
        }
        return switch (mapping) {
            case ADDRESS_DEPENDENT, ADDRESS_AND_PORT_DEPENDENT -> SYMMETRIC;
            case UNKNOWN -> UNKNOWN;
            case ENDPOINT_INDEPENDENT -> switch (filtering) {
                case ENDPOINT_INDEPENDENT -> FULL_CONE;
                case ADDRESS_DEPENDENT -> RESTRICTED_CONE;
                case ADDRESS_AND_PORT_DEPENDENT -> PORT_RESTRICTED_CONE;
                case UNKNOWN -> UNKNOWN;
            };
        };
    }
}
