package dev.pinhole.server;

/**
 * What a {@link TurnServer} counts ({@link TurnServer#count}). Every datagram the server does not
 * act on lands in exactly one of the {@code DROPPED_*} or {@code MALFORMED_*} counters.
 */
public enum RelayCounter {
    // ---- input that is not a TURN message we can use
    /** First byte neither STUN (0–3) nor ChannelData (64–79), RFC 7983 §7. */
    MALFORMED_NOT_TURN,
    /** A STUN message that failed the codec's checks (length, attributes, FINGERPRINT, ...). */
    MALFORMED_STUN,
    /** ChannelData too short, on a reserved channel number, or with a Length past the datagram (RFC 8656 §12.6). */
    MALFORMED_CHANNEL_DATA,
    /** A Send indication without XOR-PEER-ADDRESS or DATA, or with an unusable address. */
    MALFORMED_SEND_INDICATION,
    /** Responses and indications other than Send: a server has nothing to do with them. */
    DROPPED_UNEXPECTED_STUN,
    /** Requests for methods this server does not implement. */
    DROPPED_UNKNOWN_METHOD,

    // ---- authentication (RFC 8489 §9.2.4)
    /** Requests without MESSAGE-INTEGRITY, answered 401 with REALM and NONCE. */
    CHALLENGED,
    /** Unknown or expired user, wrong realm or a failed MESSAGE-INTEGRITY: 401. */
    REJECTED_CREDENTIALS,
    /** Nonce expired or not ours (checked after the integrity): 438. */
    STALE_NONCES,
    /** Requests the server could not use: 400 (missing USERNAME/REALM/NONCE, attributes a method needs). */
    BAD_REQUESTS,
    /** Unauthenticated answers not sent because their rate limit was exhausted. */
    DROPPED_UNAUTHENTICATED_RATE,

    // ---- allocations
    ALLOCATIONS_CREATED,
    /** Allocate retransmissions answered again with the original success (RFC 8656 §7.2). */
    ALLOCATE_RETRANSMISSIONS,
    /** Deleted by a Refresh with LIFETIME 0. */
    ALLOCATIONS_DELETED,
    /** Deleted because their lifetime ran out. */
    ALLOCATIONS_EXPIRED,
    /** Deleted because nothing was relayed and no permission or channel was asked for within the idle timeout. */
    ALLOCATIONS_IDLE_EXPIRED,
    /** 437: an Allocate on a 5-tuple that has one, or another request on one that has none. */
    ALLOCATION_MISMATCHES,
    /** 441: a request on an allocation with another user's credentials. */
    WRONG_CREDENTIALS,
    /** 486: the user has its quota of allocations. */
    QUOTA_REJECTIONS,
    /** 508: the server's cap on allocations, permissions or channels, or no relay socket. */
    CAPACITY_REJECTIONS,
    /** 403: a peer address the server does not relay to (loopback, wildcard, multicast, link-local). */
    FORBIDDEN_PEERS,
    /**
     * 403 under a grant table ({@code RelayGrants}): an Allocate whose username has no grant, or a
     * CreatePermission or ChannelBind for a peer the grant does not name (not the introduced peer).
     */
    NOT_GRANTED,
    /** 420, 440, 442, 443: unsupported attributes, families or transports. */
    UNSUPPORTED_REQUESTS,
    REFRESHES,
    PERMISSIONS_INSTALLED,
    CHANNELS_BOUND,

    // ---- data
    RELAYED_TO_PEERS,
    RELAYED_TO_PEERS_BYTES,
    RELAYED_TO_CLIENTS,
    RELAYED_TO_CLIENTS_BYTES,
    /** Data from a client (Send, ChannelData) without an allocation, or to a relay socket no allocation holds. */
    DROPPED_NO_ALLOCATION,
    /** Data to or from a peer IP without a permission (RFC 8656 §9). */
    DROPPED_NO_PERMISSION,
    /**
     * Data between two allocations of this relay that are not the two sides of one introduction (the
     * permission for the relay's IP does not open the relay's other allocations).
     */
    DROPPED_NOT_GRANTED,
    /** ChannelData on a channel number that is not bound (or whose binding lapsed). */
    DROPPED_UNBOUND_CHANNEL,
    /** Beyond the allocation's bytes-per-second bucket. */
    DROPPED_ALLOCATION_RATE,
    /** Beyond the server's bytes-per-second bucket. */
    DROPPED_SERVER_RATE,
    /** The socket refused to send (buffer full, closed). */
    SEND_FAILURES,
    /** A bug: an exception escaped the request handling; caught so the event loop carries on. */
    INTERNAL_ERRORS
}
