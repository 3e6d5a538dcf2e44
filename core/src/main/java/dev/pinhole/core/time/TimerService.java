package dev.pinhole.core.time;

/**
 * One-shot timers on the thread that owns a node's protocol state.
 *
 * <p>The real driver implements this over Agrona's {@code DeadlineTimerWheel} (coarse ticks, O(1)
 * schedule and cancel); the simulator over its virtual-time event queue (exact deadlines). A protocol
 * core normally keeps one timer armed at its own next deadline and re-arms it as that moves.
 * All methods must be called on the owning event loop; none is thread-safe.
 */
public interface TimerService {
    /** Returned by nothing: a value protocol code may use to mean "no timer armed". */
    long NO_TIMER = -1L;

    /**
     * Schedules {@code handler} to run once at or after {@code deadlineNs}. A deadline in the past
     * fires on the next turn of the loop, never synchronously inside this call.
     *
     * @return an id, never {@link #NO_TIMER}, to {@link #cancel} the timer with
     */
    long schedule(long deadlineNs, TimerHandler handler);

    /** Cancels a timer that has not fired yet; returns false if it already fired or was cancelled. */
    boolean cancel(long timerId);
}
