package dev.pinhole.protocol.stun;

/** Why a STUN client transaction ended without an accepted response. */
public enum StunTransactionFailure {
    /** Rc requests went unanswered and Rm × RTO passed after the last (RFC 8489 §6.2.1). */
    TIMED_OUT,
    /**
     * The response carried a comprehension-required attribute this client does not understand:
     * RFC 8489 §6.3.3 and §6.3.4 say the transaction has then failed.
     */
    UNKNOWN_ATTRIBUTE_IN_RESPONSE,
    /** The client was closed while the transaction was pending. */
    CLOSED
}
