package dev.pinhole.reliability.cc;

/**
 * The maximum of the samples seen within a window of "time" (any monotonic counter; BBR uses round
 * trips), kept in constant space with Kathleen Nichols' algorithm, which the BBR draft names for its
 * BtlBw filter (draft-cardwell-iccrg-bbr-congestion-control §4.1.1.2): the best, second best and third
 * best estimates, each younger than the one before, so that when the best ages out of the window the
 * next one takes its place without a rescan.
 *
 * <p>Values are non-negative {@code long}s; the empty filter answers 0. Not thread-safe.
 */
final class WindowedMaxFilter {
    private final long windowLength;
    private final long[] values = new long[3];
    private final long[] times = new long[3];
    private boolean empty = true;

    /** @param windowLength how long (in the caller's time unit) a sample can stay the maximum */
    WindowedMaxFilter(long windowLength) {
        if (windowLength <= 0) {
            throw new IllegalArgumentException("windowLength must be positive, was " + windowLength);
        }
        this.windowLength = windowLength;
    }

    /** The maximum of the samples of the last {@code windowLength}; 0 when empty. */
    long best() {
        return empty ? 0 : values[0];
    }

    /** Forgets every sample. */
    void reset() {
        empty = true;
        values[0] = values[1] = values[2] = 0;
    }

    /** Adds a sample taken at {@code time} (non-decreasing across calls) and returns the new maximum. */
    long update(long value, long time) {
        if (empty || value >= values[0] || time - times[2] > windowLength) {
            // A new overall maximum, or nothing in the window any more: it becomes all three estimates.
            resetTo(value, time);
            return values[0];
        }
        if (value >= values[1]) {
            values[1] = values[2] = value;
            times[1] = times[2] = time;
        } else if (value >= values[2]) {
            values[2] = value;
            times[2] = time;
        }
        // Age out the estimates from the front; the younger ones move up.
        long age = time - times[0];
        if (age > windowLength) {
            values[0] = values[1];
            times[0] = times[1];
            values[1] = values[2];
            times[1] = times[2];
            values[2] = value;
            times[2] = time;
            if (time - times[0] > windowLength) {
                values[0] = values[1];
                times[0] = times[1];
                values[1] = values[2];
                times[1] = times[2];
            }
        } else if (times[1] == times[0] && age > windowLength / 4) {
            // A quarter of the window passed without a second-best distinct from the best: take a fresh
            // second (and third) best from now, so that the filter does not keep only stale values.
            values[1] = values[2] = value;
            times[1] = times[2] = time;
        } else if (times[2] == times[1] && age > windowLength / 2) {
            values[2] = value;
            times[2] = time;
        }
        return values[0];
    }

    private void resetTo(long value, long time) {
        empty = false;
        values[0] = values[1] = values[2] = value;
        times[0] = times[1] = times[2] = time;
    }
}
