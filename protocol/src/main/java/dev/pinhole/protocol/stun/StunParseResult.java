package dev.pinhole.protocol.stun;

/**
 * The outcome of parsing or authenticating a STUN message: {@link #OK} or the reason it was
 * rejected. Callers on the event loop count these by {@link #ordinal()} and drop the datagram;
 * nothing is thrown on that path. {@link StunParseException} carries one for callers that prefer
 * an exception.
 */
public enum StunParseResult {
    OK("valid"),
    /** Fewer than the 20 header bytes. */
    TOO_SHORT("shorter than the 20-byte header"),
    /** RFC 8489 §5: the two most significant bits of a STUN message are zero. */
    NOT_STUN("first two bits are not zero"),
    BAD_MAGIC_COOKIE("magic cookie is not 0x2112A442"),
    /** RFC 8489 §5: the Message Length is a multiple of four. */
    LENGTH_NOT_MULTIPLE_OF_4("message length is not a multiple of 4"),
    /** The Message Length does not match the datagram: it runs past the end or leaves bytes over. */
    LENGTH_MISMATCH("message length does not match the datagram size"),
    /** An attribute header or (padded) value runs past the end of the message. */
    ATTRIBUTE_OVERRUN("an attribute runs past the end of the message"),
    /** A known attribute has an impossible length or value (address family, error class, ...). */
    BAD_ATTRIBUTE_VALUE("a known attribute has an invalid length or value"),
    /** RFC 8489 §14.7: FINGERPRINT is the last attribute. */
    FINGERPRINT_NOT_LAST("attributes follow FINGERPRINT"),
    BAD_FINGERPRINT("FINGERPRINT does not match the message"),
    /**
     * A comprehension-required attribute this agent does not understand (RFC 8489 §14). The
     * header and the list of unknown types stay readable so a server can answer 420.
     */
    UNKNOWN_COMPREHENSION_REQUIRED("unknown comprehension-required attribute"),
    /** Authentication was asked for but the message carries no MESSAGE-INTEGRITY(-SHA256). */
    INTEGRITY_MISSING("no MESSAGE-INTEGRITY attribute"),
    /** The HMAC does not match: wrong key, or the message was altered. */
    BAD_INTEGRITY("MESSAGE-INTEGRITY does not match");

    private final String description;

    StunParseResult(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    public boolean isOk() {
        return this == OK;
    }
}
