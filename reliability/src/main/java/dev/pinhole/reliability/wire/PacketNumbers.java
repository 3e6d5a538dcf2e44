package dev.pinhole.reliability.wire;

/**
 * Packet number truncation and reconstruction of RFC 9000 §17.1 and Appendix A.2/A.3, with the
 * encoding fixed at 32 bits: the header carries the low 32 bits, the receiver picks the full number
 * closest to one more than the largest packet number it has received.
 *
 * <p>Reconstruction is unambiguous as long as the sender keeps the distance between a packet number
 * and the largest acknowledged one below 2^31 (RFC 9000 §17.1: twice the range of unacknowledged
 * packets must fit the encoding); {@link #canEncode} tells the sender when it must stop sending new
 * packets until acknowledgements arrive.
 */
public final class PacketNumbers {
    /** Bits of the packet number carried on the wire. */
    public static final int TRUNCATED_BITS = 32;
    /** Largest packet number (RFC 9000 §12.3: packet numbers are in [0, 2^62 - 1]). */
    public static final long MAX_PACKET_NUMBER = (1L << 62) - 1;
    /** Largest allowed span between a new packet number and the largest acknowledged one. */
    public static final long MAX_UNACKED_SPAN = (1L << (TRUNCATED_BITS - 1)) - 1;

    private static final long MASK = (1L << TRUNCATED_BITS) - 1;

    private PacketNumbers() {
    }

    /** The low 32 bits of {@code packetNumber}, as written into the header. */
    public static long truncate(long packetNumber) {
        return packetNumber & MASK;
    }

    /**
     * True if {@code packetNumber} can be sent now so that the peer reconstructs it (RFC 9000 §A.2):
     * the number of packets from the largest acknowledged one up to it must stay within 2^31 - 1.
     *
     * @param largestAcked the largest packet number the peer has acknowledged, or -1 if none
     */
    public static boolean canEncode(long packetNumber, long largestAcked) {
        return packetNumber >= 0 && packetNumber <= MAX_PACKET_NUMBER
                && packetNumber - largestAcked <= MAX_UNACKED_SPAN;
    }

    /**
     * Truncates {@code packetNumber} for the header after checking {@link #canEncode}.
     *
     * @throws IllegalStateException if the span to the largest acknowledged number is too large; the
     *     sender must not send such a packet
     */
    public static long encode(long packetNumber, long largestAcked) {
        if (!canEncode(packetNumber, largestAcked)) {
            throw new IllegalStateException("packet number " + packetNumber
                    + " is 2^31 or more past the largest acknowledged " + largestAcked);
        }
        return truncate(packetNumber);
    }

    /**
     * Reconstructs a full packet number from its low 32 bits (RFC 9000 §A.3, DecodePacketNumber).
     *
     * @param largestReceived the largest packet number received so far in this connection, or -1
     * @param truncated       the unsigned 32-bit value from the header
     */
    public static long decode(long largestReceived, long truncated) {
        return decode(largestReceived, truncated, TRUNCATED_BITS);
    }

    /** DecodePacketNumber of RFC 9000 §A.3 for any encoding width; package-private for the RFC's vectors. */
    static long decode(long largestReceived, long truncated, int bits) {
        final long window = 1L << bits;
        final long halfWindow = window / 2;
        final long mask = window - 1;
        final long expected = largestReceived + 1;
        final long candidate = (expected & ~mask) | (truncated & mask);
        if (candidate <= expected - halfWindow && candidate < (1L << 62) - window) {
            return candidate + window;
        }
        if (candidate > expected + halfWindow && candidate >= window) {
            return candidate - window;
        }
        return candidate;
    }
}
