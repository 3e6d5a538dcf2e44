package dev.pinhole.protocol.stun;

import java.util.random.RandomGenerator;

/**
 * A 96-bit STUN transaction id (RFC 8489 §5) as its first 64 bits ({@code high}) and last 32
 * bits ({@code low}), both in network byte order. Two primitives instead of a byte array, so that
 * pending transactions can live in a primitive-keyed map.
 */
public record TransactionId(long high, int low) {

    /**
     * A fresh id drawn from {@code random}. RFC 8489 §5 asks for cryptographically random ids:
     * production code passes a {@link java.security.SecureRandom}; simulations pass a seeded
     * generator so a run replays.
     */
    public static TransactionId random(RandomGenerator random) {
        return new TransactionId(random.nextLong(), random.nextInt());
    }

    /** The id in 12 bytes starting at {@code bytes[offset]}. */
    public static TransactionId fromBytes(byte[] bytes, int offset) {
        long high = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[offset + i] & 0xFF);
        }
        int low = 0;
        for (int i = 8; i < 12; i++) {
            low = (low << 8) | (bytes[offset + i] & 0xFF);
        }
        return new TransactionId(high, low);
    }

    /** Writes the 12 bytes of the id into {@code bytes} from {@code offset}. */
    public void toBytes(byte[] bytes, int offset) {
        for (int i = 0; i < 8; i++) {
            bytes[offset + i] = (byte) (high >>> (56 - 8 * i));
        }
        for (int i = 0; i < 4; i++) {
            bytes[offset + 8 + i] = (byte) (low >>> (24 - 8 * i));
        }
    }

    @Override
    public String toString() {
        return String.format("%016x%08x", high, low);
    }
}
