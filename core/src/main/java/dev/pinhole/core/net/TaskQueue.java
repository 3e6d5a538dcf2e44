package dev.pinhole.core.net;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The cross-thread side of a {@link UdpEventLoop}: the bounded queue through which any thread hands the loop
 * a task, and the handshake that wakes the loop from its sleep when a task arrives.
 *
 * <p>The queue is an Agrona {@link ManyToOneConcurrentArrayQueue}: many producers, the loop thread the only
 * consumer. A producer on another thread waits for space in a full queue (brief spinning, then parking with
 * exponential backoff up to 1 ms) until the timeout, then is rejected; the loop thread is rejected at once,
 * as it cannot wait for its own queue to drain.
 *
 * <p>Waking: the loop {@link #announceSleep() announces} that it is about to sleep before it checks the queue
 * for the last time, and a producer reads that announcement after it offered its task; so either the loop
 * sees the task or the producer sees the announcement and wakes it, and the loop never sleeps on a task.
 */
final class TaskQueue {
    private static final int SPINS_BEFORE_PARKING = 64;
    private static final long MIN_PARK_NS = TimeUnit.MICROSECONDS.toNanos(10);
    private static final long MAX_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);

    private final ManyToOneConcurrentArrayQueue<Runnable> tasks;
    private final long timeoutNs;
    private final String loopName;
    private final BooleanSupplier loopClosed;
    private final Runnable wakeUp;
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final AtomicLong waits = new AtomicLong();
    private final AtomicLong rejections = new AtomicLong();

    /**
     * @param capacity the bound, rounded up to a power of two
     * @param timeoutNs how long a producer on another thread waits for space
     * @param loopName the loop thread's name, for the rejections' messages
     * @param loopClosed whether the loop is closed: then every task is rejected
     * @param wakeUp ends the loop's sleep; any thread
     */
    TaskQueue(int capacity, long timeoutNs, String loopName, BooleanSupplier loopClosed, Runnable wakeUp) {
        this.tasks = new ManyToOneConcurrentArrayQueue<>(capacity);
        this.timeoutNs = timeoutNs;
        this.loopName = loopName;
        this.loopClosed = loopClosed;
        this.wakeUp = wakeUp;
    }

    /** As {@link UdpEventLoop#execute}; {@code onLoopThread} says whether the caller is the loop itself. */
    void execute(Runnable task, boolean onLoopThread) {
        Objects.requireNonNull(task, "task");
        if (loopClosed.getAsBoolean()) {
            throw new RejectedExecutionException("event loop " + loopName + " is closed");
        }
        if (tasks.offer(task)) {
            wakeUpIfSleeping();
            return;
        }
        if (onLoopThread) {
            rejections.incrementAndGet();
            throw new RejectedExecutionException("task queue of event loop " + loopName + " is full ("
                + tasks.capacity() + " tasks) and the caller is the event loop itself, which cannot wait "
                + "for its own queue to drain");
        }
        waits.incrementAndGet();
        awaitSpaceAndOffer(task);
    }

    /** As {@link UdpEventLoop#submit}; {@code onLoopThread} says whether the caller is the loop itself. */
    <T> CompletableFuture<T> submit(Callable<T> task, boolean onLoopThread) {
        final CompletableFuture<T> future = new CompletableFuture<>();
        execute(new SubmittedTask<>(Objects.requireNonNull(task, "task"), future), onLoopThread);
        if (loopClosed.getAsBoolean()) {
            // The loop may have drained the queue before this task arrived; never leave the caller waiting.
            future.completeExceptionally(new RejectedExecutionException("event loop " + loopName + " closed"));
        }
        return future;
    }

    /** Loop thread: hands every queued task, at most one queue's worth, to {@code runner}. */
    void drain(Consumer<Runnable> runner) {
        tasks.drain(runner, tasks.capacity());
    }

    /**
     * Loop thread: announces that the loop is about to sleep. Returns false if a task is already waiting, and
     * the loop must not sleep. Either way, {@link #awake()} must follow.
     */
    boolean announceSleep() {
        sleeping.set(true);
        return tasks.isEmpty();
    }

    /** Loop thread: the loop is awake again; producers need not wake it. */
    void awake() {
        sleeping.lazySet(false);
    }

    /** Loop thread: a task that will not run, because the loop closed; the future of a submitted one fails. */
    void reject(Runnable task) {
        if (task instanceof SubmittedTask) {
            ((SubmittedTask<?>) task).reject(loopName);
        }
    }

    /** Loop thread, or any thread once the loop is closed: takes every queued task out and rejects it. */
    void rejectAll() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            reject(task);
        }
    }

    /** The bound (the configured capacity rounded up to a power of two). */
    int capacity() {
        return tasks.capacity();
    }

    /** How often a producer found the queue full and waited for space. */
    long waits() {
        return waits.get();
    }

    /** How often a task was refused because the queue was full. */
    long rejections() {
        return rejections.get();
    }

    private void wakeUpIfSleeping() {
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            wakeUp.run();
        }
    }

    private void awaitSpaceAndOffer(Runnable task) {
        final long startNs = System.nanoTime();
        long parkNs = MIN_PARK_NS;
        int spins = 0;
        while (true) {
            wakeUpIfSleeping();
            final long waitedNs = System.nanoTime() - startNs;
            if (waitedNs >= timeoutNs) {
                rejections.incrementAndGet();
                throw new RejectedExecutionException("task queue of event loop " + loopName + " stayed full ("
                    + tasks.capacity() + " tasks) for " + TimeUnit.NANOSECONDS.toMillis(timeoutNs)
                    + " ms: the loop is blocked or cannot keep up; tasks must not block the loop, or raise "
                    + "taskQueueCapacity or taskQueueTimeout");
            }
            if (spins < SPINS_BEFORE_PARKING) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, Math.min(parkNs, timeoutNs - waitedNs));
                parkNs = Math.min(parkNs * 2, MAX_PARK_NS);
            }
            if (loopClosed.getAsBoolean()) {
                throw new RejectedExecutionException(
                    "event loop " + loopName + " closed while waiting for queue space");
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new RejectedExecutionException("interrupted while waiting for space in the task queue of "
                    + "event loop " + loopName);
            }
            if (tasks.offer(task)) {
                wakeUpIfSleeping();
                return;
            }
        }
    }

    /** A task from {@link #submit}: completes its future with the callable's outcome. */
    private static final class SubmittedTask<T> implements Runnable {
        private final Callable<T> callable;
        private final CompletableFuture<T> future;

        SubmittedTask(Callable<T> callable, CompletableFuture<T> future) {
            this.callable = callable;
            this.future = future;
        }

        @Override
        public void run() {
            if (future.isDone()) {
                return; // rejected by a concurrent close()
            }
            try {
                future.complete(callable.call());
            } catch (Exception e) {
                future.completeExceptionally(e);
            } catch (Error e) {
                future.completeExceptionally(e);
                throw e;
            }
        }

        void reject(String loopName) {
            future.completeExceptionally(
                new RejectedExecutionException("event loop " + loopName + " closed before the task ran"));
        }
    }
}
