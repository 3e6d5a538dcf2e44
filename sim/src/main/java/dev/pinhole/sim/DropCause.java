package dev.pinhole.sim;

/** Why the simulator dropped a datagram; each cause has its own counter in {@link SimCounters}. */
public enum DropCause {
    /** {@code send} refused it locally and returned false: endpoint closed, simulator closed, a
     *  destination that is not a resolved IPv4 address, or a payload above 65507 bytes. */
    SEND_REJECTED,
    /** Larger than the link's MTU minus 28 header bytes (no fragmentation). */
    MTU_EXCEEDED,
    /** The link's queue in front of its bandwidth limit was full (tail drop). */
    QUEUE_OVERFLOW,
    /** Random loss on a link: independent or Gilbert–Elliott (a blackhole is loss 1). */
    LOSS,
    /** No host or NAT has the destination address in the realm the datagram reached. */
    UNROUTABLE,
    /** Reached the destination host, but no endpoint is bound to the port (or it has no receiver yet). */
    NO_LISTENER,
    /** Reached a NAT's external address on a port that no mapping ever used. */
    NO_MAPPING,
    /** Reached a NAT's external address on a port whose mapping has expired or was cleared (RFC 4787 §4.3). */
    MAPPING_EXPIRED,
    /** The mapping exists but its filtering rejected the source (RFC 4787 §5). */
    FILTERED,
    /** Sent from inside to the NAT's own external address, and the NAT does not hairpin (RFC 4787 §6). */
    HAIRPIN_DISABLED,
    /** The NAT needed a new mapping and had no free external port. */
    PORT_EXHAUSTED,
    /** The NAT's firewall blocks the destination ({@link Nat#block}): a network that drops UDP to it. */
    BLOCKED
}
