package dev.pinhole.protocol.nat;

/** Whether a NAT turns a datagram sent to its own external address back inside (RFC 4787 §6, RFC 5780 §4.5). */
public enum Hairpinning {
    SUPPORTED,
    /**
     * Our request to our own mapped address did not come back. Besides a NAT without hairpinning,
     * a NAT with endpoint-dependent mapping and endpoint-dependent filtering gives this result even
     * when it hairpins: the looped request leaves through a new mapping that the original mapping's
     * filter does not know, which is also what a peer behind the same NAT would see.
     */
    NOT_SUPPORTED,
    /** Not tested (not asked for, or no mapped address to test with). */
    UNKNOWN
}
