package dev.pinhole.core.net;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The counters of one event loop. The loop thread is the only writer, so an increment is a plain read
 * plus a release store (a plain store on x86, no fence, no CAS); any thread may read them.
 */
final class LoopCounters {
    static final int DATAGRAMS_RECEIVED = 0;
    static final int BYTES_RECEIVED = 1;
    static final int DATAGRAMS_SENT = 2;
    static final int BYTES_SENT = 3;
    static final int SEND_DROPS_BUFFER_FULL = 4;
    static final int SEND_DROPS_OVERSIZE = 5;
    static final int SEND_ERRORS = 6;
    static final int RECEIVE_DROPS_OVERSIZE = 7;
    static final int RECEIVE_DROPS_NO_RECEIVER = 8;
    static final int RECEIVE_ERRORS = 9;
    static final int RECEIVER_EXCEPTIONS = 10;
    static final int TASK_EXCEPTIONS = 11;
    static final int TIMER_EXCEPTIONS = 12;
    static final int TASKS_RUN = 13;
    static final int TIMERS_FIRED = 14;
    static final int WAKE_UPS = 15;
    private static final int COUNT = 16;

    private final AtomicLongArray values = new AtomicLongArray(COUNT);

    /** Loop thread only. */
    void add(int counter, long delta) {
        values.setRelease(counter, values.getPlain(counter) + delta);
    }

    /** Loop thread only. */
    void increment(int counter) {
        add(counter, 1);
    }

    /** Any thread. */
    long get(int counter) {
        return values.getAcquire(counter);
    }
}
