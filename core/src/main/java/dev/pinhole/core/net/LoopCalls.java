package dev.pinhole.core.net;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Calls from an application thread into an event loop: hand the loop a task, then block until its future
 * completes, with a timeout. Every blocking API over a loop (the peer node's, the reliable transport's)
 * shares the mechanics here: how the wait ends (interruption, timeout, the task's failure) is decided once,
 * while each API words the resulting {@link IOException} for its own callers through {@link Failures}.
 *
 * <p>Never call {@link #await} on the loop thread: the task cannot run until the current one returns.
 */
public final class LoopCalls {
    private LoopCalls() {
    }

    /**
     * How one blocking API turns the ways a wait on the loop can end into the exceptions its callers see.
     * Called on the waiting thread.
     */
    public interface Failures {
        /** The waiting thread was interrupted; its interrupt flag is already set again. */
        InterruptedIOException interrupted();

        /** The future did not complete within {@code timeoutNs}: the loop is stuck or overloaded. */
        IOException timedOut(long timeoutNs, TimeoutException timeout);

        /**
         * The task failed with {@code cause}, the exception it threw or completed its future with, freed of
         * {@link CompletionException} wrappers; a {@link RejectedExecutionException} says the loop refused it.
         */
        IOException failed(Throwable cause);
    }

    /**
     * Runs {@code task} on the loop that {@code loop} hands tasks to; the returned future completes there with
     * the task's result or exception. A loop that refuses the task (closed, or its queue stayed full) fails
     * the future with the {@link RejectedExecutionException} rather than throwing it, so that the caller has
     * one place, {@link #await}, to handle every failure.
     */
    public static <T> CompletableFuture<T> call(Executor loop, Callable<T> task) {
        Objects.requireNonNull(task, "task");
        CompletableFuture<T> future = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                try {
                    future.complete(task.call());
                } catch (Exception | LinkageError e) {
                    future.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            future.completeExceptionally(e);
        }
        return future;
    }

    /**
     * Waits up to {@code timeoutNs} for {@code future} and returns its value; every other end of the wait
     * becomes the exception {@code failures} makes of it.
     */
    public static <T> T await(CompletableFuture<T> future, long timeoutNs, Failures failures) throws IOException {
        try {
            return future.get(timeoutNs, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failures.interrupted();
        } catch (TimeoutException e) {
            throw failures.timedOut(timeoutNs, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            while (cause instanceof CompletionException && cause.getCause() != null) {
                cause = cause.getCause();
            }
            throw failures.failed(cause);
        }
    }
}
