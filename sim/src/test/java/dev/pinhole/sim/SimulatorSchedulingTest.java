package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.time.TimerService;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Virtual time, the event queue, timers and named random streams. */
class SimulatorSchedulingTest {
    private final SimFixture f = new SimFixture(3);
    private final Simulator sim = f.sim;
    private final List<String> log = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        f.close();
    }

    @Test
    void clockStartsAtZeroAndMovesOnlyWithEvents() {
        assertEquals(0, sim.clock().nanoTime());
        sim.schedule(5 * MS, () -> log.add("at " + sim.nowNs()));
        assertTrue(sim.step());
        assertEquals(5 * MS, sim.clock().nanoTime(), "step advanced to the event");
        assertFalse(sim.step(), "nothing left");
        sim.runFor(SECOND);
        assertEquals(5 * MS + SECOND, sim.nowNs(), "runFor advances to its end even when idle");
        assertEquals(List.of("at 5000000"), log);
    }

    @Test
    void timersFireAtTheirExactDeadlinesAndTiesInInsertionOrder() {
        SimEndpoint ep = sim.internet().addHost("198.51.100.1").bind(1);
        TimerService timers = ep.timers();
        timers.schedule(30, (now, id) -> log.add("c@" + now));
        timers.schedule(10, (now, id) -> log.add("a@" + now));
        timers.schedule(10, (now, id) -> log.add("b@" + now));
        sim.schedule(10, () -> log.add("task@" + sim.nowNs()));
        sim.runFor(SECOND);
        assertEquals(List.of("a@10", "b@10", "task@10", "c@30"), log);
    }

    @Test
    void aDeadlineInThePastFiresOnTheNextTurnNeverInsideSchedule() {
        sim.runFor(SECOND);
        sim.timers().schedule(0, (now, id) -> log.add("late@" + now));
        assertTrue(log.isEmpty(), "not run synchronously");
        sim.step();
        assertEquals(List.of("late@" + SECOND), log, "fired now, without moving the clock back");
    }

    @Test
    void cancelledTimersNeverFireAndCancelReportsWhetherItDidAnything() {
        long keep = sim.timers().schedule(10, (now, id) -> log.add("kept"));
        long drop = sim.timers().schedule(5, (now, id) -> log.add("cancelled"));
        assertNotEquals(TimerService.NO_TIMER, keep);
        assertTrue(sim.timers().cancel(drop));
        assertFalse(sim.timers().cancel(drop), "second cancel does nothing");
        sim.runFor(SECOND);
        assertFalse(sim.timers().cancel(keep), "already fired");
        assertEquals(List.of("kept"), log);
        assertEquals(0, sim.pendingEvents());
    }

    @Test
    void manyRearmedTimersLeaveNoDeadEventsBehind() {
        long[] id = {TimerService.NO_TIMER};
        for (int i = 0; i < 10_000; i++) {
            if (id[0] != TimerService.NO_TIMER) {
                sim.timers().cancel(id[0]);
            }
            id[0] = sim.timers().schedule(SECOND + i, (now, t) -> log.add("fired@" + now));
        }
        assertEquals(1, sim.pendingEvents(), "cancelled timers left the queue at once");
        sim.runFor(2 * SECOND);
        assertEquals(List.of("fired@" + (SECOND + 9_999)), log);
    }

    @Test
    void runUntilStopsAtTheEventThatSatisfiesTheConditionOrAtTheTimeout() {
        int[] count = {0};
        for (int i = 1; i <= 10; i++) {
            sim.schedule(i * SECOND, () -> count[0]++);
        }
        assertTrue(sim.runUntil(() -> count[0] == 3, 60 * SECOND));
        assertEquals(3 * SECOND, sim.nowNs(), "stopped at the third event");
        assertFalse(sim.runUntil(() -> count[0] == 100, 2 * SECOND + 500 * MS));
        assertEquals(5 * SECOND + 500 * MS, sim.nowNs(), "clock at the deadline after a timeout");
        assertEquals(5, count[0], "events up to the deadline ran");
    }

    @Test
    void scheduledActionsCanBeCancelled() {
        long id = sim.schedule(SECOND, () -> log.add("no"));
        sim.scheduleAfter(2 * SECOND, () -> log.add("yes@" + sim.nowNs()));
        assertTrue(sim.cancel(id));
        sim.runFor(3 * SECOND);
        assertEquals(List.of("yes@" + 2 * SECOND), log);
    }

    @Test
    void namedRandomStreamsAreReproducibleAndIndependentOfEachOther() {
        RandomGenerator a = sim.random("a");
        assertSame(a, sim.random("a"), "one generator per name");
        long firstOfA = a.nextLong();
        try (SimFixture other = new SimFixture(3)) {
            other.sim.random("b").nextLong();
            other.sim.random("c").nextLong();
            assertEquals(firstOfA, other.sim.random("a").nextLong(), "other streams' use does not perturb 'a'");
        }
        try (SimFixture otherSeed = new SimFixture(4)) {
            assertNotEquals(firstOfA, otherSeed.sim.random("a").nextLong(), "another seed, another stream");
        }
        assertNotEquals(sim.random("Aa").nextLong(), sim.random("BB").nextLong(),
                "names with equal String.hashCode still get different streams");
    }

    @Test
    void closedSimulatorRefusesToRunOrSend() {
        SimEndpoint ep = sim.internet().addHost("198.51.100.1").bind(1);
        sim.close();
        assertThrows(IllegalStateException.class, sim::step);
        assertThrows(IllegalStateException.class, () -> sim.runFor(1));
        assertFalse(SimFixture.sendText(ep, ep.localAddress(), "x"), "send after close is rejected");
    }

    @Test
    void exceptionsFromCallbacksPropagateAndLeaveTheSimulatorUsable() {
        sim.schedule(1, () -> {
            throw new IllegalStateException("bug in protocol code");
        });
        sim.schedule(2, () -> log.add("next"));
        assertThrows(IllegalStateException.class, () -> sim.runFor(SECOND));
        sim.runFor(SECOND);
        assertEquals(List.of("next"), log);
    }

    @Test
    void runningTheSimulatorFromInsideAnEventIsRefused() {
        sim.schedule(1, () -> sim.runFor(SECOND));
        assertThrows(IllegalStateException.class, () -> sim.runFor(SECOND));
        sim.schedule(sim.nowNs() + 1, () -> log.add("still runs"));
        sim.runFor(SECOND);
        assertEquals(List.of("still runs"), log);
    }
}
