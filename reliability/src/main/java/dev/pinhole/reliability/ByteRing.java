package dev.pinhole.reliability;

import java.io.InterruptedIOException;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded single-producer single-consumer ring of bytes between an application thread and the
 * event loop, without locks: the producer publishes by advancing {@code tail}, the consumer by
 * advancing {@code head} (both volatile), and whichever side waits parks itself after announcing so in
 * a volatile field that the other side checks after publishing (no lost wake-ups: both sides write
 * their own field, then read the other's, in sequentially consistent order).
 *
 * <p>The event-loop side reaches the bytes in place through {@link #readableArray()} /
 * {@link #writableArray()} and the contiguous region methods, so data moves between the ring and the
 * connection's stream buffers with one copy.
 */
final class ByteRing {
    private final byte[] data;
    private final int mask;
    /** Total bytes ever consumed; written only by the consumer. */
    private volatile long head;
    /** Total bytes ever produced; written only by the producer. */
    private volatile long tail;
    private volatile Thread waitingProducer;
    private volatile Thread waitingConsumer;

    ByteRing(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two, got " + capacity);
        }
        data = new byte[capacity];
        mask = capacity - 1;
    }

    int capacity() {
        return data.length;
    }

    /** Bytes the consumer can take now. */
    int available() {
        return (int) (tail - head);
    }

    /** Bytes the producer can add now. */
    int space() {
        return data.length - (int) (tail - head);
    }

    // ---- producer side

    /** Copies up to {@code length} bytes in without blocking; returns how many. */
    int write(byte[] src, int offset, int length) {
        long t = tail;
        int n = Math.min(length, data.length - (int) (t - head));
        int start = (int) t & mask;
        int first = Math.min(n, data.length - start);
        System.arraycopy(src, offset, data, start, first);
        System.arraycopy(src, offset + first, data, 0, n - first);
        if (n > 0) {
            publishTail(t + n);
        }
        return n;
    }

    /** The array the producer writes into at {@link #writableOffset()}. */
    byte[] writableArray() {
        return data;
    }

    int writableOffset() {
        return (int) tail & mask;
    }

    /** Bytes writable contiguously at {@link #writableOffset()}. */
    int writableContiguous() {
        long t = tail;
        int free = data.length - (int) (t - head);
        return Math.min(free, data.length - ((int) t & mask));
    }

    /** Publishes {@code n} bytes the producer wrote in place. */
    void produced(int n) {
        if (n > 0) {
            publishTail(tail + n);
        }
    }

    private void publishTail(long newTail) {
        tail = newTail;
        Thread consumer = waitingConsumer;
        if (consumer != null) {
            LockSupport.unpark(consumer);
        }
    }

    /**
     * Parks the producer until there is space, {@code deadlineNs} (System.nanoTime; Long.MAX_VALUE for
     * none) passes, or {@code stop} says to give up. Returns true if there is space.
     */
    boolean awaitSpace(long deadlineNs, StopCondition stop) throws InterruptedIOException {
        return await(deadlineNs, stop, true);
    }

    // ---- consumer side

    /** Copies up to {@code length} bytes out without blocking; returns how many. */
    int read(byte[] dst, int offset, int length) {
        long h = head;
        int n = Math.min(length, (int) (tail - h));
        int start = (int) h & mask;
        int first = Math.min(n, data.length - start);
        System.arraycopy(data, start, dst, offset, first);
        System.arraycopy(data, 0, dst, offset + first, n - first);
        if (n > 0) {
            publishHead(h + n);
        }
        return n;
    }

    byte[] readableArray() {
        return data;
    }

    int readableOffset() {
        return (int) head & mask;
    }

    /** Bytes readable contiguously at {@link #readableOffset()}. */
    int readableContiguous() {
        long h = head;
        int used = (int) (tail - h);
        return Math.min(used, data.length - ((int) h & mask));
    }

    /** Releases {@code n} bytes the consumer took in place. */
    void consumed(int n) {
        if (n > 0) {
            publishHead(head + n);
        }
    }

    private void publishHead(long newHead) {
        head = newHead;
        Thread producer = waitingProducer;
        if (producer != null) {
            LockSupport.unpark(producer);
        }
    }

    /** Parks the consumer until data is available, the deadline passes, or {@code stop} says to give up. */
    boolean awaitData(long deadlineNs, StopCondition stop) throws InterruptedIOException {
        return await(deadlineNs, stop, false);
    }

    /** Wakes whichever thread waits on this ring (after a state change such as an error or end of stream). */
    void wakeAll() {
        Thread producer = waitingProducer;
        if (producer != null) {
            LockSupport.unpark(producer);
        }
        Thread consumer = waitingConsumer;
        if (consumer != null) {
            LockSupport.unpark(consumer);
        }
    }

    /** Tells a waiting side to stop waiting (the connection ended or the stream is finished). */
    @FunctionalInterface
    interface StopCondition {
        boolean stop();
    }

    private boolean await(long deadlineNs, StopCondition stop, boolean producer) throws InterruptedIOException {
        Thread me = Thread.currentThread();
        try {
            while (true) {
                if (producer ? space() > 0 : available() > 0) {
                    return true;
                }
                if (stop.stop()) {
                    return false;
                }
                if (producer) {
                    waitingProducer = me;
                } else {
                    waitingConsumer = me;
                }
                // Re-check after announcing: a publish that happened before the announcement is seen here.
                if (producer ? space() > 0 : available() > 0) {
                    return true;
                }
                if (stop.stop()) {
                    return false;
                }
                if (deadlineNs == Long.MAX_VALUE) {
                    LockSupport.park(this);
                } else {
                    long remainingNs = deadlineNs - System.nanoTime();
                    if (remainingNs <= 0) {
                        return false;
                    }
                    LockSupport.parkNanos(this, remainingNs);
                }
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting on a Pinhole connection");
                }
            }
        } finally {
            if (producer) {
                waitingProducer = null;
            } else {
                waitingConsumer = null;
            }
        }
    }
}
