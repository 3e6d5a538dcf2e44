package dev.pinhole.protocol.turn;



/**
 * Why a TURN request failed: the error codes a TURN server answers with (RFC 8656 §18 and RFC 8489
 * §14.8), and the local reasons (no answer, client closed, a response the client could not use,
 * a local limit). Each carries advice a user can act on; {@code TurnException} puts it in its message.
 */
public enum TurnError {
    /** 300: the server redirects to ALTERNATE-SERVER (RFC 8489 §10). Pinhole does not follow redirects. */
    TRY_ALTERNATE(300, "Try Alternate", "the server redirects clients to another server; configure that server instead"),
    /** 400: the server could not parse or accept the request. */
    BAD_REQUEST(400, "Bad Request", "the server rejected the request as malformed; this is a client bug or an "
        + "incompatible server: report it with the server's software version"),
    /** 401: no or wrong credentials. On a request that carried credentials it means user or password is wrong. */
    UNAUTHORIZED(401, "Unauthorized", "the server did not accept the username and password: check them and the realm "
        + "the server expects"),
    /** 403: the server refuses, e.g. a peer address its policy forbids (RFC 8656 §9, §11). */
    FORBIDDEN(403, "Forbidden", "the server's policy refuses this request (often a peer address it does not relay to, "
        + "such as loopback or private ranges)"),
    /** 405: mobility not allowed (RFC 8656 §7). */
    MOBILITY_FORBIDDEN(405, "Mobility Forbidden", "the server does not allow mobility for this allocation"),
    /** 420: the server does not understand a comprehension-required attribute we sent. */
    UNKNOWN_ATTRIBUTE(420, "Unknown Attribute", "the server does not support an attribute the client sent; the server "
        + "may be too old for RFC 8656"),
    /** 437: the 5-tuple already has another allocation, or none for a Refresh (RFC 8656 §7.2, §8). */
    ALLOCATION_MISMATCH(437, "Allocation Mismatch", "this local socket already has an allocation on the server (an "
        + "earlier run that did not deallocate?) or the allocation no longer exists: wait for it to expire or use "
        + "another local port"),
    /** 438: the nonce expired; the client retries with the new one, so this surfaces only after repeated 438s. */
    STALE_NONCE(438, "Stale Nonce", "the server kept declaring the nonce stale; check that the server's clock and "
        + "nonce lifetime are sane"),
    /** 440: the server cannot allocate the requested address family (RFC 8656 §7.2). */
    ADDRESS_FAMILY_NOT_SUPPORTED(440, "Address Family not Supported", "the server has no relay address of the "
        + "requested family"),
    /** 441: the credentials differ from those the allocation was made with (RFC 8656 §7.2). */
    WRONG_CREDENTIALS(441, "Wrong Credentials", "the request used other credentials than the allocation was made "
        + "with; use the same username for the allocation's whole life"),
    /** 442: the server does not relay the requested transport (RFC 8656 §7.2). */
    UNSUPPORTED_TRANSPORT_PROTOCOL(442, "Unsupported Transport Protocol", "the server does not relay UDP; check "
        + "that UDP relaying is enabled on the server"),
    /** 443: the peer's address family differs from the relayed address's (RFC 8656 §9.1, §11.1). */
    PEER_ADDRESS_FAMILY_MISMATCH(443, "Peer Address Family Mismatch", "the peer's address family (IPv4/IPv6) differs "
        + "from the relayed address's; allocate a relayed address of the peer's family"),
    /** 486: the user has as many allocations as the server allows (RFC 8656 §7.2). */
    ALLOCATION_QUOTA_REACHED(486, "Allocation Quota Reached", "this user already has as many allocations as the "
        + "server allows; close unused allocations or raise the server's per-user quota"),
    /** 500: the server failed. */
    SERVER_ERROR(500, "Server Error", "the server reported an internal error; try again later or another server"),
    /** 508: the server has no relay resources left (RFC 8656 §7.2). */
    INSUFFICIENT_CAPACITY(508, "Insufficient Capacity", "the server has no free relay ports or capacity; try again "
        + "later or another server"),
    /** Any error code not listed here; {@code TurnException#code()} has the number. */
    OTHER_ERROR(0, "Error", "the server answered with an error this client does not know"),

    /** No response after all retransmissions (RFC 8489 §6.2.1 timing). */
    TIMED_OUT(-1, "Timed Out", "the server did not answer: check its address and port and that UDP reaches it"),
    /** The client or allocation was closed before the request finished. */
    CLOSED(-1, "Closed", "the allocation or client was closed"),
    /** The allocation is not active: still being made, closed, or lost. */
    NOT_ACTIVE(-1, "Not Active", "the allocation is not active (still being made, closed or lost); wait for "
        + "allocated() or allocate again"),
    /** A success response lacked what the method must return (e.g. XOR-RELAYED-ADDRESS). */
    BAD_RESPONSE(-1, "Bad Response", "the server's response lacked a required attribute; the server is not a "
        + "compliant TURN server"),
    /** A local bound (permissions, channels, peers) was reached. */
    LIMIT_REACHED(-1, "Limit Reached", "a local bound of the allocation was reached; raise it in TurnConfig or "
        + "use fewer peers"),
    /** The allocation expired because refreshing it failed. */
    EXPIRED(-1, "Expired", "the allocation expired because it could not be refreshed; allocate again");

    private final int code;
    private final String phrase;
    private final String advice;

    TurnError(int code, String phrase, String advice) {
        this.code = code;
        this.phrase = phrase;
        this.advice = advice;
    }

    /** The error code this constant stands for; 0 for {@link #OTHER_ERROR}, -1 for local reasons. */
    public int code() {
        return code;
    }

    /** The RFC's reason phrase for the code, or a short name of the local reason. */
    public String phrase() {
        return phrase;
    }

    /** What a user can do about it. */
    public String advice() {
        return advice;
    }

    /** Whether the server sent this (an error response) rather than the client deciding it. */
    public boolean fromServer() {
        return code >= 0;
    }

    /** The constant for an ERROR-CODE number; {@link #OTHER_ERROR} for numbers not listed. */
    public static TurnError ofCode(int code) {
        return switch (code) {
            case 300 -> TRY_ALTERNATE;
            case 400 -> BAD_REQUEST;
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 405 -> MOBILITY_FORBIDDEN;
            case 420 -> UNKNOWN_ATTRIBUTE;
            case 437 -> ALLOCATION_MISMATCH;
            case 438 -> STALE_NONCE;
            case 440 -> ADDRESS_FAMILY_NOT_SUPPORTED;
            case 441 -> WRONG_CREDENTIALS;
            case 442 -> UNSUPPORTED_TRANSPORT_PROTOCOL;
            case 443 -> PEER_ADDRESS_FAMILY_MISMATCH;
            case 486 -> ALLOCATION_QUOTA_REACHED;
            case 500 -> SERVER_ERROR;
            case 508 -> INSUFFICIENT_CAPACITY;
            default -> OTHER_ERROR;
        };
    }
}
