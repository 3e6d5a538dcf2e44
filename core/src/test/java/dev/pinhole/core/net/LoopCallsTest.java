package dev.pinhole.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class LoopCallsTest {
    /** Words each end of a wait so that the test can tell which one it was. */
    private static final LoopCalls.Failures WORDING = new LoopCalls.Failures() {
        @Override
        public InterruptedIOException interrupted() {
            return new InterruptedIOException("interrupted");
        }

        @Override
        public IOException timedOut(long timeoutNs, TimeoutException timeout) {
            return new IOException("timed out after " + TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms", timeout);
        }

        @Override
        public IOException failed(Throwable cause) {
            return new IOException("failed", cause);
        }
    };

    @Test
    void callRunsTheTaskOnTheExecutorAndAwaitReturnsItsValue() throws IOException {
        Executor inline = Runnable::run;
        assertEquals("done", LoopCalls.await(LoopCalls.call(inline, () -> "done"), TimeUnit.SECONDS.toNanos(1),
                WORDING));
    }

    @Test
    void aRefusedTaskFailsItsFutureInsteadOfThrowing() {
        RejectedExecutionException refusal = new RejectedExecutionException("closed");
        CompletableFuture<String> future = LoopCalls.call(task -> {
            throw refusal;
        }, () -> "never");
        IOException e = assertThrows(IOException.class,
                () -> LoopCalls.await(future, TimeUnit.SECONDS.toNanos(1), WORDING));
        assertEquals("failed", e.getMessage());
        assertSame(refusal, e.getCause());
    }

    @Test
    void theTasksExceptionReachesTheWordingWithoutCompletionWrappers() {
        IOException original = new IOException("the protocol said no");
        CompletableFuture<String> future = new CompletableFuture<>();
        future.completeExceptionally(new CompletionException(new CompletionException(original)));
        IOException e = assertThrows(IOException.class,
                () -> LoopCalls.await(future, TimeUnit.SECONDS.toNanos(1), WORDING));
        assertSame(original, e.getCause());
    }

    @Test
    void aFutureThatDoesNotCompleteInTimeIsWordedAsATimeout() {
        IOException e = assertThrows(IOException.class,
                () -> LoopCalls.await(new CompletableFuture<>(), TimeUnit.MILLISECONDS.toNanos(20), WORDING));
        assertEquals("timed out after 20 ms", e.getMessage());
        assertInstanceOf(TimeoutException.class, e.getCause());
    }

    @Test
    void anInterruptedWaitKeepsTheInterruptFlag() {
        Thread.currentThread().interrupt();
        try {
            assertThrows(InterruptedIOException.class,
                    () -> LoopCalls.await(new CompletableFuture<>(), TimeUnit.SECONDS.toNanos(1), WORDING));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is set again");
        } finally {
            Thread.interrupted();
        }
    }
}
