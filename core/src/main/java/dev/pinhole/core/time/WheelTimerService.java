package dev.pinhole.core.time;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongObjConsumer;

/**
 * The real driver's {@link TimerService}: Agrona's {@link DeadlineTimerWheel} plus the two things the
 * wheel lacks, the earliest pending deadline (so the event loop knows how long it may sleep) and ids
 * that are never reused.
 *
 * <h2>Resolution</h2>
 * One tick is {@value #TICK_RESOLUTION_NS} ns (2<sup>20</sup> ns, about 1.05 ms). The wheel needs a power
 * of two; one millisecond is the granularity protocol timers ask for (RFC 9002 §6.1.2 kGranularity =
 * 1 ms) and the resolution {@code Selector.select(long)} sleeps with, so a finer tick would buy nothing
 * and a coarser one would delay loss detection. Ticks only decide which spoke a timer waits on: a timer
 * never fires before its exact deadline, because {@link #poll} compares deadlines, not ticks. Timers
 * whose deadlines fall in the same tick fire in no particular order among themselves; timers in
 * different ticks fire in deadline order, even when the loop polls late.
 *
 * <p>The wheel has {@value #TICKS_PER_WHEEL} spokes (one revolution is about 0.54 s, which covers
 * RTO, ack-delay and pacing timers; longer ones such as keepalives simply wait some revolutions) and
 * starts with room for {@value #INITIAL_TIMERS_PER_TICK} timers per spoke, growing when needed.
 *
 * <h2>Earliest deadline</h2>
 * The wheel cannot say when its next timer is due, so {@link #nextDeadlineNs()} is tracked here as a
 * lower bound that is exact most of the time: scheduling lowers it in O(1); firing or cancelling the
 * earliest timer leaves it stale, and the next call of {@code nextDeadlineNs()} recomputes it with one
 * pass over the pending timers' id map, O(pending timers) (measured for a whole schedule + poll +
 * nextDeadlineNs turn: about 0.4 µs with 10 other timers pending, 3.5 µs with 1,000). A pass over the
 * wheel ({@link DeadlineTimerWheel#forEach}) would cost O(spokes × slots per spoke), 4,096 slots even
 * for one timer. The event loop asks only when it is about to
 * sleep, so under load, when it does not sleep, no pass runs. While {@link #poll} catches up after a
 * late wake-up, the bound lets it jump over empty ticks instead of walking them.
 *
 * <h2>Identity and re-entrancy</h2>
 * The wheel reuses its slot ids as soon as a timer fires, so this service hands out its own ids from
 * a counter and maps them to wheel slots with {@link Long2ObjectHashMap}s; cancelling a fired timer's
 * id can never cancel a newer timer. A timer scheduled while {@link #poll} runs (from a handler) is
 * parked until that poll ends, so it fires on the next poll at the earliest, never in the same one and
 * never synchronously in {@link #schedule}. A handler that throws is counted and reported to the
 * failure callback; the remaining timers still fire.
 *
 * <p>Not thread-safe: one event loop owns it. Steady-state scheduling allocates nothing: timer
 * records are recycled and the maps are open-addressed.
 */
public final class WheelTimerService implements TimerService {
    /** Tick length of the wheel in nanoseconds: 2^20 ns, about 1.05 ms. */
    public static final long TICK_RESOLUTION_NS = 1L << 20;
    /** Spokes of the wheel; one revolution is TICKS_PER_WHEEL × TICK_RESOLUTION_NS, about 0.54 s. */
    public static final int TICKS_PER_WHEEL = 512;
    /** Initial timers per spoke before the wheel grows its arrays. */
    public static final int INITIAL_TIMERS_PER_TICK = 8;

    /** Marks a timer scheduled during a poll, not yet placed in the wheel. Wheel ids are non-negative. */
    private static final long NOT_IN_WHEEL = Long.MIN_VALUE;
    /** The wheel reserves Long.MAX_VALUE (its NULL_DEADLINE) for empty slots. */
    private static final long LATEST_WHEEL_DEADLINE = Long.MAX_VALUE - 1;

    private final long originNs;
    private final DeadlineTimerWheel wheel;
    private final Long2ObjectHashMap<Timer> timersById = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Timer> timersByWheelId = new Long2ObjectHashMap<>();
    private final ArrayList<Timer> scheduledDuringPoll = new ArrayList<>();
    private final ArrayDeque<Timer> recycled = new ArrayDeque<>();
    private final Consumer<? super RuntimeException> handlerFailure;
    private final DeadlineTimerWheel.TimerHandler expiry = this::onExpiry;
    private final LongObjConsumer<Timer> lowerMinimum = this::lowerMinimum;

    private long lastId;
    /** Lower bound of every pending deadline, relative to originNs; exact when minimumExact. */
    private long minimumRelNs = Long.MAX_VALUE;
    private boolean minimumExact = true;
    private boolean polling;
    private long pollNowNs;
    private long handlerExceptions;

    /**
     * @param startNs the clock's current reading; the wheel's ticks count from here
     * @param handlerFailure told about every exception a timer handler throws (after it was counted)
     */
    public WheelTimerService(long startNs, Consumer<? super RuntimeException> handlerFailure) {
        this.originNs = startNs;
        this.handlerFailure = Objects.requireNonNull(handlerFailure, "handlerFailure");
        this.wheel = new DeadlineTimerWheel(
            TimeUnit.NANOSECONDS, 0, TICK_RESOLUTION_NS, TICKS_PER_WHEEL, INITIAL_TIMERS_PER_TICK);
    }

    /** A timer service whose handler exceptions are only counted. */
    public WheelTimerService(long startNs) {
        this(startNs, e -> { });
    }

    @Override
    public long schedule(long deadlineNs, TimerHandler handler) {
        Objects.requireNonNull(handler, "handler");
        final long relDeadlineNs = Math.min(saturatedSubtract(deadlineNs, originNs), LATEST_WHEEL_DEADLINE);
        final Timer timer = recycled.isEmpty() ? new Timer() : recycled.poll();
        timer.id = ++lastId;
        timer.relDeadlineNs = relDeadlineNs;
        timer.handler = handler;
        if (timersById.isEmpty()) {
            minimumRelNs = relDeadlineNs;
            minimumExact = true;
        } else if (relDeadlineNs < minimumRelNs) {
            minimumRelNs = relDeadlineNs;
        }
        timersById.put(timer.id, timer);
        if (polling) {
            timer.wheelId = NOT_IN_WHEEL;
            scheduledDuringPoll.add(timer);
        } else {
            placeInWheel(timer);
        }
        return timer.id;
    }

    @Override
    public boolean cancel(long timerId) {
        final Timer timer = timersById.remove(timerId);
        if (timer == null) {
            return false;
        }
        if (timer.wheelId == NOT_IN_WHEEL) {
            // Still parked in scheduledDuringPoll: the end of the poll sees the cleared handler and drops it.
            timer.handler = null;
        } else {
            wheel.cancelTimer(timer.wheelId);
            timersByWheelId.remove(timer.wheelId);
            recycle(timer);
        }
        forgetDeadline(timer.relDeadlineNs);
        return true;
    }

    /**
     * Fires every timer whose deadline is at or before {@code nowNs}, in deadline order across ticks,
     * on the calling thread.
     *
     * @return the number of timers that fired
     */
    public int poll(long nowNs) {
        if (polling) {
            throw new IllegalStateException("poll called from inside a timer handler");
        }
        final long relNowNs = saturatedSubtract(nowNs, originNs);
        int fired = 0;
        polling = true;
        pollNowNs = nowNs;
        try {
            if (wheel.timerCount() == 0) {
                wheel.currentTickTime(relNowNs);
            } else {
                // No timer waits on a spoke before the earliest deadline's tick: skip the empty ticks.
                wheel.currentTickTime(Math.min(relNowNs, minimumRelNs));
                while (true) {
                    final long tickEndNs = wheel.currentTickTime();
                    // Polling each tick "as of" its end keeps deadline order across ticks when the loop
                    // polls late: a timer a revolution ahead on an earlier spoke is not yet due.
                    final int firedThisTick = wheel.poll(Math.min(relNowNs, tickEndNs), expiry, Integer.MAX_VALUE);
                    fired += firedThisTick;
                    if (wheel.currentTickTime() == tickEndNs) {
                        break; // the wheel stayed on the tick that contains nowNs: caught up
                    }
                    if (wheel.timerCount() == 0) {
                        wheel.currentTickTime(relNowNs);
                        break;
                    }
                    if (firedThisTick == 0) {
                        // An empty tick while catching up: jump over the gap rather than walk it tick by tick.
                        wheel.currentTickTime(Math.min(relNowNs, exactMinimumRelNs()));
                    }
                }
            }
        } finally {
            polling = false;
            placeTimersScheduledDuringPoll();
        }
        return fired;
    }

    /**
     * The earliest deadline of a pending timer, in the clock's nanoseconds, or {@link Long#MAX_VALUE} if
     * no timer is pending. May scan the wheel (see the class comment).
     */
    public long nextDeadlineNs() {
        if (timersById.isEmpty()) {
            return Long.MAX_VALUE;
        }
        final long relNs = exactMinimumRelNs();
        // A deadline clamped to the end of the wheel's range (e.g. Long.MAX_VALUE) means "never".
        return relNs >= LATEST_WHEEL_DEADLINE ? Long.MAX_VALUE : saturatedAdd(relNs, originNs);
    }

    /** Number of timers scheduled and neither fired nor cancelled. */
    public int pendingTimers() {
        return timersById.size();
    }

    /** Number of exceptions timer handlers have thrown. */
    public long handlerExceptions() {
        return handlerExceptions;
    }

    /** Cancels every pending timer. */
    public void clear() {
        if (polling) {
            throw new IllegalStateException("clear called from inside a timer handler");
        }
        wheel.clear();
        timersById.clear();
        timersByWheelId.clear();
        scheduledDuringPoll.clear();
        minimumRelNs = Long.MAX_VALUE;
        minimumExact = true;
    }

    private boolean onExpiry(TimeUnit unit, long relNowNs, long wheelId) {
        final Timer timer = timersByWheelId.remove(wheelId);
        if (timer == null) {
            return true; // cannot happen: every wheel slot is mapped; consume it rather than stall the wheel
        }
        timersById.remove(timer.id);
        forgetDeadline(timer.relDeadlineNs);
        final TimerHandler handler = timer.handler;
        final long id = timer.id;
        recycle(timer);
        try {
            handler.onTimer(pollNowNs, id);
        } catch (RuntimeException e) {
            handlerExceptions++;
            handlerFailure.accept(e);
        }
        return true;
    }

    private void placeTimersScheduledDuringPoll() {
        for (int i = 0, n = scheduledDuringPoll.size(); i < n; i++) {
            final Timer timer = scheduledDuringPoll.get(i);
            if (timer.handler == null) {
                recycle(timer); // cancelled before it reached the wheel
            } else {
                placeInWheel(timer);
            }
        }
        scheduledDuringPoll.clear();
    }

    private void placeInWheel(Timer timer) {
        timer.wheelId = wheel.scheduleTimer(timer.relDeadlineNs);
        timersByWheelId.put(timer.wheelId, timer);
    }

    private void forgetDeadline(long relDeadlineNs) {
        if (timersById.isEmpty()) {
            minimumRelNs = Long.MAX_VALUE;
            minimumExact = true;
        } else if (relDeadlineNs == minimumRelNs) {
            minimumExact = false; // the bound stays valid (no deadline is lower), only maybe not tight
        }
    }

    private long exactMinimumRelNs() {
        if (!minimumExact) {
            minimumRelNs = Long.MAX_VALUE;
            timersById.forEachLong(lowerMinimum); // includes timers parked during a poll
            minimumExact = true;
        }
        return minimumRelNs;
    }

    private void lowerMinimum(long ignoredTimerId, Timer timer) {
        if (timer.relDeadlineNs < minimumRelNs) {
            minimumRelNs = timer.relDeadlineNs;
        }
    }

    private void recycle(Timer timer) {
        timer.handler = null;
        recycled.add(timer);
    }

    private static long saturatedSubtract(long a, long b) {
        final long r = a - b;
        if (((a ^ b) & (a ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    private static long saturatedAdd(long a, long b) {
        final long r = a + b;
        if (((a ^ r) & (b ^ r)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return r;
    }

    /** One pending timer; recycled after it fires or is cancelled. */
    private static final class Timer {
        long id;
        long wheelId;
        long relDeadlineNs;
        TimerHandler handler;
    }
}
