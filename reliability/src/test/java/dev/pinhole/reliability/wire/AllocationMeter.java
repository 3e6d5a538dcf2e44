package dev.pinhole.reliability.wire;

import java.lang.management.ManagementFactory;

/**
 * Counts the bytes the current thread allocates on the heap while running a task, through HotSpot's
 * per-thread allocation counter. Used to pin "no allocation per packet" in tests: the count is exact,
 * not a timing, so the assertions do not flake.
 */
public final class AllocationMeter {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private AllocationMeter() {
    }

    /** Runs {@code task} {@code warmups} times, then returns the bytes allocated by {@code runs} more runs. */
    public static long bytesAllocated(int warmups, int runs, Runnable task) {
        for (int i = 0; i < warmups; i++) {
            task.run();
        }
        final long threadId = Thread.currentThread().getId();
        final long before = THREADS.getThreadAllocatedBytes(threadId);
        for (int i = 0; i < runs; i++) {
            task.run();
        }
        return THREADS.getThreadAllocatedBytes(threadId) - before;
    }
}
