package dev.pinhole.core.net;

/**
 * What a datagram on a node's single UDP socket is, judged by its first bytes (docs/architecture.md,
 * principle 2, following the first-byte ranges of RFC 7983 §7). Three kinds are routed; the others name the reason
 * a datagram is dropped.
 */
public enum PacketKind {
    /** First byte 0–3 and a well-formed STUN header (RFC 8489 §5). */
    STUN(true),
    /** First byte 64–79: a TURN ChannelData message, channel numbers 0x4000–0x4FFF (RFC 8656 §12.3). */
    CHANNEL_DATA(true),
    /** First byte 128–191: a Pinhole transport packet (the range RFC 7983 gives RTP/RTCP). */
    TRANSPORT(true),

    /** A datagram with no bytes. */
    EMPTY(false),
    /** A first byte outside every range Pinhole uses (4–63, 80–127, 192–255). */
    UNKNOWN_FIRST_BYTE(false),
    /** First byte 0–3 but shorter than the 20-byte STUN header. */
    STUN_TOO_SHORT(false),
    /** First byte 0–3 but without the magic cookie 0x2112A442 at offset 4. */
    STUN_BAD_COOKIE(false),
    /** First byte 0–3 but a message length that is not a multiple of 4 or not the datagram's length − 20. */
    STUN_BAD_LENGTH(false),
    /** First byte 64–79 but shorter than the 4-byte ChannelData header. */
    CHANNEL_DATA_TOO_SHORT(false),
    /** First byte 64–79 but a length field that claims more bytes than the datagram holds (RFC 8656 §12.5). */
    CHANNEL_DATA_BAD_LENGTH(false);

    private final boolean routed;

    PacketKind(boolean routed) {
        this.routed = routed;
    }

    /** True for the kinds a demultiplexer hands to a receiver; false for the reasons to drop. */
    public boolean routed() {
        return routed;
    }
}
