package dev.pinhole.reliability.wire;

/**
 * A reusable, bounded list of acknowledged packet-number ranges {@code [low, high]} (both inclusive)
 * in descending order, the content of an ACK frame (RFC 9000 §19.3.1).
 *
 * <p>Ranges are appended from the largest down; each must lie strictly below the previous one with at
 * least one missing packet number between them, which is exactly what the ACK encoding can express.
 * Storage is two primitive arrays sized once: {@link #clear()} and refill allocates nothing.
 */
public final class AckRanges {
    /** Ranges an ACK frame carries at most, on the writing and on the reading side. */
    public static final int DEFAULT_CAPACITY = 32;

    private final long[] lows;
    private final long[] highs;
    private int size;

    public AckRanges() {
        this(DEFAULT_CAPACITY);
    }

    public AckRanges(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        lows = new long[capacity];
        highs = new long[capacity];
    }

    /** Removes all ranges. */
    public void clear() {
        size = 0;
    }

    /**
     * Appends {@code [low, high]} below the ranges already held.
     *
     * @return false, appending nothing, if the list is full
     * @throws IllegalArgumentException if the range is empty, negative, or not strictly below the last
     *     range with a gap of at least one packet number (a caller bug)
     */
    public boolean add(long low, long high) {
        if (low < 0 || high < low) {
            throw new IllegalArgumentException("invalid range [" + low + ", " + high + "]");
        }
        if (size > 0 && high >= lows[size - 1] - 1) {
            throw new IllegalArgumentException("range [" + low + ", " + high
                    + "] is not below the previous range [" + lows[size - 1] + ", " + highs[size - 1]
                    + "] with a gap");
        }
        if (size == lows.length) {
            return false;
        }
        lows[size] = low;
        highs[size] = high;
        size++;
        return true;
    }

    /** Replaces the content with a copy of {@code other}'s ranges (up to this list's capacity). */
    public void copyFrom(AckRanges other) {
        size = Math.min(other.size, lows.length);
        System.arraycopy(other.lows, 0, lows, 0, size);
        System.arraycopy(other.highs, 0, highs, 0, size);
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int capacity() {
        return lows.length;
    }

    /** The smallest packet number of range {@code index} (0 is the highest range). */
    public long low(int index) {
        checkIndex(index);
        return lows[index];
    }

    /** The largest packet number of range {@code index} (0 is the highest range). */
    public long high(int index) {
        checkIndex(index);
        return highs[index];
    }

    /** The largest acknowledged packet number. */
    public long largest() {
        return high(0);
    }

    /** The smallest acknowledged packet number. */
    public long smallest() {
        return low(size - 1);
    }

    /** True if {@code packetNumber} lies in one of the ranges. */
    public boolean contains(long packetNumber) {
        for (int i = 0; i < size; i++) {
            if (packetNumber > highs[i]) {
                return false;
            }
            if (packetNumber >= lows[i]) {
                return true;
            }
        }
        return false;
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("range " + index + " of " + size);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AckRanges[");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(lows[i]).append("..").append(highs[i]);
        }
        return sb.append(']').toString();
    }
}
