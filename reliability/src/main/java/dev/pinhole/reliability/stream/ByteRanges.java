package dev.pinhole.reliability.stream;

import java.util.Arrays;

/**
 * A set of stream offsets as sorted, disjoint, non-adjacent half-open ranges {@code [start, end)}.
 *
 * <p>Two primitive arrays that grow by doubling and never shrink, so steady-state use allocates
 * nothing once they reached their high-water mark. The owners bound the number of ranges by their
 * capacity (a range holds at least one byte of a bounded buffer).
 */
final class ByteRanges {
    private long[] starts = new long[8];
    private long[] ends = new long[8];
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    long start(int index) {
        return starts[index];
    }

    long end(int index) {
        return ends[index];
    }

    void clear() {
        size = 0;
    }

    /** The index of the first range whose end is above {@code offset} ({@link #size} if none). */
    int firstEndingAfter(long offset) {
        int low = 0;
        int high = size;
        while (low < high) {
            final int mid = (low + high) >>> 1;
            if (ends[mid] <= offset) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** True if every offset of {@code [start, end)} is in the set. */
    boolean containsAll(long start, long end) {
        if (start >= end) {
            return true;
        }
        final int i = firstEndingAfter(start);
        return i < size && starts[i] <= start && ends[i] >= end;
    }

    /**
     * Adds {@code [start, end)}.
     *
     * @return how many of its offsets were not in the set before
     */
    long add(long start, long end) {
        if (start >= end) {
            return 0;
        }
        // Ranges i..j-1 overlap or touch [start, end) and merge with it.
        final int i = firstEndingAfter(start - 1);
        int j = i;
        long covered = 0;
        long mergedStart = start;
        long mergedEnd = end;
        while (j < size && starts[j] <= end) {
            covered += Math.max(0, Math.min(ends[j], end) - Math.max(starts[j], start));
            mergedStart = Math.min(mergedStart, starts[j]);
            mergedEnd = Math.max(mergedEnd, ends[j]);
            j++;
        }
        replace(i, j, mergedStart, mergedEnd, 0, 0, 1);
        return (end - start) - covered;
    }

    /** Removes {@code [start, end)}. */
    void remove(long start, long end) {
        if (start >= end) {
            return;
        }
        final int i = firstEndingAfter(start);
        int j = i;
        while (j < size && starts[j] < end) {
            j++;
        }
        if (i == j) {
            return;
        }
        final long leftStart = starts[i];
        final long rightEnd = ends[j - 1];
        final boolean keepLeft = leftStart < start;
        final boolean keepRight = rightEnd > end;
        if (keepLeft && keepRight) {
            replace(i, j, leftStart, start, end, rightEnd, 2);
        } else if (keepLeft) {
            replace(i, j, leftStart, start, 0, 0, 1);
        } else if (keepRight) {
            replace(i, j, end, rightEnd, 0, 0, 1);
        } else {
            replace(i, j, 0, 0, 0, 0, 0);
        }
    }

    /** Replaces ranges {@code [from, to)} by {@code count} (0..2) new ranges. */
    private void replace(int from, int to, long start1, long end1, long start2, long end2, int count) {
        final int newSize = size - (to - from) + count;
        if (newSize > starts.length) {
            starts = Arrays.copyOf(starts, Math.max(newSize, starts.length * 2));
            ends = Arrays.copyOf(ends, starts.length);
        }
        System.arraycopy(starts, to, starts, from + count, size - to);
        System.arraycopy(ends, to, ends, from + count, size - to);
        if (count >= 1) {
            starts[from] = start1;
            ends[from] = end1;
        }
        if (count == 2) {
            starts[from + 1] = start2;
            ends[from + 1] = end2;
        }
        size = newSize;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(starts[i]).append("..").append(ends[i]);
        }
        return sb.append(')').toString();
    }
}
