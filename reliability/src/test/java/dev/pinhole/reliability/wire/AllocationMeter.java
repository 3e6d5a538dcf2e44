package dev.pinhole.reliability.wire;

import java.lang.management.ManagementFactory;

/**
 * Counts the bytes the current thread allocates on the heap while running a task, through HotSpot's
 * per-thread allocation counter. Used to pin "no allocation per packet" in tests.
 *
 * <p>The count is exact, but the JVM itself occasionally allocates on the running thread when a
 * method is compiled, recompiled or deoptimized, and on a loaded machine that can happen late. A
 * per-packet allocation shows in every measurement window, such an event in one: so the meter runs
 * several windows and reports the quietest, which keeps the assertion deterministic.
 */
public final class AllocationMeter {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int MAX_WINDOWS = 10;

    private AllocationMeter() {
    }

    /**
     * Runs {@code task} {@code warmups} times, then up to 10 windows of {@code runs} runs each, and
     * returns the fewest bytes one window allocated (stopping early at a window that allocated nothing).
     */
    public static long bytesAllocated(int warmups, int runs, Runnable task) {
        for (int i = 0; i < warmups; i++) {
            task.run();
        }
        final long threadId = Thread.currentThread().getId();
        long quietest = Long.MAX_VALUE;
        for (int window = 0; window < MAX_WINDOWS && quietest > 0; window++) {
            final long before = THREADS.getThreadAllocatedBytes(threadId);
            for (int i = 0; i < runs; i++) {
                task.run();
            }
            quietest = Math.min(quietest, THREADS.getThreadAllocatedBytes(threadId) - before);
        }
        return quietest;
    }
}
