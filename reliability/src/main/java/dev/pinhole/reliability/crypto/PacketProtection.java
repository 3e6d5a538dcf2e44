package dev.pinhole.reliability.crypto;

import dev.pinhole.reliability.wire.PacketHeader;

/**
 * Packet protection for the Pinhole transport, modelled on QUIC's (RFC 9001 §5): after the handshake
 * every packet is sealed with AEAD_AES_256_GCM (RFC 5116 §5.2), the header as associated data, the nonce
 * the IV XOR the packet number (RFC 9001 §5.3); then header protection (RFC 9001 §5.4) hides the packet
 * number and the key phase bit; keys are updated as RFC 9001 §6 describes.
 *
 * <p>One {@link PacketSealer} protects what this side sends, one {@link PacketOpener} checks what it
 * receives; each is built from the 32-byte traffic secret of its direction, which the handshake yields
 * (the Noise handshake's two split keys, one per direction). The key, IV and header protection key come
 * from the secret by HKDF-SHA256 (RFC 5869) with the labels "key", "iv" and "hp", the next key
 * generation's secret with "ku".
 *
 * <p>Sealed packet: {@code header (13 bytes, AAD) | encrypted payload | tag (16 bytes)}. This class holds
 * the constants both sides agree on and the result codes of {@link PacketOpener}.
 *
 * <p>Replay: a replayed packet opens again, as it would in QUIC. The transport's packet number duplicate
 * detection must drop a packet whose number was already received, after it opened and before any frame
 * takes effect.
 */
public final class PacketProtection {
    /** Bytes a sealed packet carries beyond the plaintext: the AEAD tag. */
    public static final int TAG_LENGTH = PacketAead.TAG_LENGTH;
    /** Length of a traffic secret, and of the AES-256 keys derived from it. */
    public static final int SECRET_LENGTH = Hkdf.HASH_LENGTH;

    /**
     * The key phase bit in the first header byte (RFC 9001 §6.1), hidden by header protection. It is the
     * top bit of today's 4-bit type field: the types in use (0..2) fit the remaining 3 bits, which stay
     * readable, as do the fixed bits and the version, because a receiver needs them before it has keys.
     */
    public static final int KEY_PHASE_BIT = PacketHeader.KEY_PHASE_BIT;

    /**
     * Packets a sealer should protect with one key before it updates the key: half of
     * {@link #CONFIDENTIALITY_LIMIT}, so that the update, which may wait for an acknowledgement of the
     * current phase (RFC 9001 §6.1), finishes long before the hard limit.
     */
    public static final long KEY_UPDATE_THRESHOLD = 1L << 22;

    /**
     * Packets one AES-GCM key may protect at most: 2^23, RFC 9001 §6.6's confidentiality limit for
     * AEAD_AES_256_GCM, an attacker advantage of at most 2^-57 for packets up to 2^16 bytes (Appendix
     * B.1.1). The same appendix allows 2^28 packets to an endpoint that never sends more than 2^11 bytes, as
     * Pinhole (below a 1500-byte MTU); keeping 2^23 leaves a factor of 32 in hand. A sealer at this count
     * refuses to seal ({@link #SEAL_KEY_EXHAUSTED}).
     */
    public static final long CONFIDENTIALITY_LIMIT = 1L << 23;

    /**
     * Packets that fail authentication across all keys of a connection before the connection must close:
     * 2^52 for AEAD_AES_256_GCM (RFC 9001 §6.6, Appendix B.1.2).
     */
    public static final long INTEGRITY_LIMIT = 1L << 52;

    /**
     * Packets opened with the new keys after a key update, after which an opener discards the previous
     * generation's keys on its own. RFC 9001 §6.5 suggests three probe timeouts; the transport, which has
     * the clock, calls {@link PacketOpener#discardPreviousKeys()} then, and this count is the backstop that
     * bounds how long old-phase packets are accepted even if it never does.
     */
    public static final long PREVIOUS_KEYS_PACKET_LIMIT = 1L << 16;

    /** Open result: the datagram is too short to hold a header, a sample and a tag. */
    public static final int OPEN_TOO_SHORT = -1;
    /** Open result: the tag did not verify (forged, corrupted, or a wrong packet number). */
    public static final int OPEN_AUTHENTICATION_FAILED = -2;
    /** Open result: the packet belongs to a key phase whose keys were discarded. */
    public static final int OPEN_KEY_UNAVAILABLE = -3;
    /** Open result: {@link #INTEGRITY_LIMIT} was reached; the connection must close. */
    public static final int OPEN_INTEGRITY_LIMIT_REACHED = -4;
    /** Seal result: {@link #CONFIDENTIALITY_LIMIT} was reached without a key update. */
    public static final int SEAL_KEY_EXHAUSTED = -5;

    private PacketProtection() {
    }

    /** The sealer for the direction whose 32-byte traffic secret is given (copied, not kept by reference). */
    public static PacketSealer sealer(byte[] trafficSecret) {
        return new PacketSealer(TrafficKeys.fromSecret(trafficSecret), CONFIDENTIALITY_LIMIT);
    }

    /** The opener for the direction whose 32-byte traffic secret is given (copied, not kept by reference). */
    public static PacketOpener opener(byte[] trafficSecret) {
        return new PacketOpener(TrafficKeys.fromSecret(trafficSecret), PREVIOUS_KEYS_PACKET_LIMIT,
                INTEGRITY_LIMIT);
    }

    /** A readable name for a result code of this class, for logs and test messages. */
    public static String resultName(int result) {
        return switch (result) {
            case OPEN_TOO_SHORT -> "TOO_SHORT";
            case OPEN_AUTHENTICATION_FAILED -> "AUTHENTICATION_FAILED";
            case OPEN_KEY_UNAVAILABLE -> "KEY_UNAVAILABLE";
            case OPEN_INTEGRITY_LIMIT_REACHED -> "INTEGRITY_LIMIT_REACHED";
            case SEAL_KEY_EXHAUSTED -> "KEY_EXHAUSTED";
            default -> result >= 0 ? "OK(" + result + ")" : "UNKNOWN(" + result + ")";
        };
    }
}
