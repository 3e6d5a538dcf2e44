package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.sendSeq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimFixture.Arrival;
import dev.pinhole.sim.SimFixture.Inbox;
import dev.pinhole.core.time.TimerHandler;
import java.net.InetSocketAddress;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each impairment of {@link LinkConfig}, measured over many datagrams of a seeded run. The runs are
 * deterministic, so the tolerances (about five standard deviations of the estimate) never flake;
 * they are there so that the checks say "the rate is right", not "the rate is what this seed gave".
 */
class LinkImpairmentTest {
    private static final long SEED = 20_261_101L;
    private final SimFixture f = new SimFixture(SEED);
    private final SimHost sender = f.sim.internet().addHost("198.51.100.1");
    private final SimHost receiver = f.sim.internet().addHost("198.51.100.2");
    private final SimEndpoint from = sender.bind(1000);
    private final SimEndpoint to = receiver.bind(2000);
    private final Inbox inbox = Inbox.on(to);

    @AfterEach
    void noLeaks() {
        f.close();
    }

    /** Sends {@code count} datagrams of {@code size} bytes, sequence numbers 0.., one every {@code intervalNs}, from now. */
    private void stream(int count, long intervalNs, int size) {
        InetSocketAddress destination = to.localAddress();
        from.timers().schedule(f.sim.nowNs(), new TimerHandler() {
            private long seq;

            @Override
            public void onTimer(long nowNs, long timerId) {
                sendSeq(from, destination, seq++, size);
                if (seq < count) {
                    from.timers().schedule(nowNs + intervalNs, this);
                }
            }
        });
    }

    private static void assertNear(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(actual - expected) <= tolerance,
                what + ": expected " + expected + " ± " + tolerance + ", was " + actual + " (seed " + SEED + ")");
    }

    private BitSet receivedSeqs() {
        BitSet seen = new BitSet();
        for (Arrival a : inbox.arrivals) {
            seen.set((int) a.seq());
        }
        return seen;
    }

    @Test
    void independentLossDropsTheConfiguredFraction() {
        int n = 100_000;
        sender.uplink(LinkConfig.builder().loss(0.1).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        double lossRate = 1.0 - (double) inbox.size() / n;
        assertNear(0.1, lossRate, 0.005, "loss rate");
        assertEquals(n - inbox.size(), sender.counters().dropped(DropCause.LOSS), "every loss counted on the sender's link");
    }

    @Test
    void gilbertElliottGivesTheStationaryLossRateInBurstsOfMeanLengthOneOverR() {
        int n = 200_000;
        double p = 0.01;
        double r = 0.25;
        sender.uplink(LinkConfig.builder().gilbertElliott(p, r, 1.0, 0.0).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        BitSet seen = receivedSeqs();
        int lost = 0;
        int bursts = 0;
        for (int i = 0; i < n; i++) {
            if (!seen.get(i)) {
                lost++;
                if (i == 0 || seen.get(i - 1)) {
                    bursts++;
                }
            }
        }
        double expectedLoss = p / (p + r);
        assertNear(expectedLoss, (double) lost / n, 0.1 * expectedLoss, "average loss p/(p+r)");
        assertNear(1 / r, (double) lost / bursts, 0.1 / r, "mean burst length 1/r");
    }

    @Test
    void gilbertElliottLossInTheGoodStateAddsScatteredLosses() {
        int n = 100_000;
        sender.uplink(LinkConfig.builder().gilbertElliott(0.001, 0.5, 1.0, 0.02).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        double badShare = 0.001 / 0.501;
        double expected = badShare + (1 - badShare) * 0.02;
        assertNear(expected, 1.0 - (double) inbox.size() / n, 0.15 * expected, "loss with 2 % in GOOD");
    }

    @Test
    void duplicationAddsTheConfiguredFractionOfCopies() {
        int n = 100_000;
        sender.uplink(LinkConfig.builder().duplication(0.05).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        int copies = inbox.size() - n;
        assertNear(0.05, (double) copies / n, 0.004, "duplicate rate");
        assertEquals(copies, f.sim.counters().duplicated(), "every copy counted");
        assertEquals(n, receivedSeqs().cardinality(), "every datagram arrived at least once");
    }

    @Test
    void reorderingHoldsBackTheConfiguredFractionAndLaterDatagramsOvertakeThem() {
        int n = 100_000;
        sender.uplink(LinkConfig.builder().delay(10 * MS).reordering(0.1, 5 * MS).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        assertEquals(n, inbox.size(), "reordering loses nothing");
        long highest = -1;
        int late = 0;
        for (Arrival a : inbox.arrivals) {
            if (a.seq() < highest) {
                late++;
            }
            highest = Math.max(highest, a.seq());
        }
        assertNear(0.1, (double) late / n, 0.005, "fraction arriving after a later datagram");
        long heldBack = f.sim.counters().reordered();
        assertTrue(late <= heldBack && late >= heldBack - 5, "every held-back datagram (" + heldBack
                + ") was overtaken (" + late + "), except any among the last 5, which nothing followed within 5 ms");
    }

    @Test
    void jitterWithoutReorderingKeepsFifoOrderAndBounds() {
        int n = 20_000;
        sender.uplink(LinkConfig.builder().delay(10 * MS).jitter(50 * MS).build());
        stream(n, MS, 100);
        f.sim.runFor(n * MS + SECOND);
        assertEquals(n, inbox.size());
        for (int i = 0; i < n; i++) {
            Arrival a = inbox.arrivals.get(i);
            assertEquals(i, a.seq(), "datagram " + i + " arrived in order despite 50 ms jitter at 1 ms spacing");
            long delayNs = a.atNs() - i * MS;
            assertTrue(delayNs >= 10 * MS && delayNs <= 60 * MS, "delay " + delayNs + " ns within [10, 60] ms");
        }
    }

    @Test
    void delayIsTheFloorAndUniformJitterAddsHalfItsRangeOnAverage() {
        int n = 20_000;
        long interval = 100 * MS;
        sender.uplink(LinkConfig.builder().delay(20 * MS).jitter(10 * MS).build());
        stream(n, interval, 100);
        f.sim.runFor(n * interval + SECOND);
        assertEquals(n, inbox.size());
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        double sum = 0;
        for (Arrival a : inbox.arrivals) {
            long delayNs = a.atNs() - a.seq() * interval;
            min = Math.min(min, delayNs);
            max = Math.max(max, delayNs);
            sum += delayNs;
        }
        assertTrue(min >= 20 * MS, "no delay below 20 ms, min " + min);
        assertTrue(max <= 30 * MS, "no delay above 30 ms, max " + max);
        assertTrue(min < 20 * MS + 10_000 && max > 30 * MS - 10_000, "the whole jitter range is used: " + min + ".." + max);
        assertNear(25 * MS, sum / n, 0.2 * MS, "mean delay");
    }

    @Test
    void bandwidthLimitsDeliveredThroughputAndTailDropsTheExcess() {
        long bps = 1_000_000;
        int payload = 1000;
        int wire = payload + 28;
        sender.uplink(LinkConfig.builder().bandwidth(bps, 15_000).build());
        int n = 5000;
        stream(n, 4 * MS, payload);
        f.sim.runFor(n * 4 * MS + SECOND);
        List<Arrival> got = inbox.arrivals;
        double seconds = (got.get(got.size() - 1).atNs() - got.get(0).atNs()) / 1e9;
        double throughput = (got.size() - 1) * wire * 8.0 / seconds;
        assertNear(bps, throughput, 0.01 * bps, "delivered bits per second on the wire");
        double offered = wire * 8.0 / 0.004;
        long tailDrops = sender.counters().dropped(DropCause.QUEUE_OVERFLOW);
        assertNear(1 - bps / offered, (double) tailDrops / n, 0.01, "share of tail drops at 2x overload");
        assertEquals(n, got.size() + tailDrops, "everything else was delivered");
    }

    @Test
    void belowTheRateNothingQueuesAndEachDatagramTakesItsSerialisationTime() {
        sender.uplink(LinkConfig.builder().bandwidth(1_000_000).build());
        stream(100, 10 * MS, 1000);
        f.sim.runFor(2 * SECOND);
        assertEquals(100, inbox.size());
        for (Arrival a : inbox.arrivals) {
            assertEquals(8_224_000, a.atNs() - a.seq() * 10 * MS, "1028 wire bytes at 1 Mbit/s take 8.224 ms");
        }
    }

    @Test
    void queueAdmitsExactlyItsCapacityInABurst() {
        sender.uplink(LinkConfig.builder().bandwidth(1_000_000, 3000).build());
        for (int i = 0; i < 10; i++) {
            sendSeq(from, to.localAddress(), i, 972);
        }
        f.sim.runFor(SECOND);
        assertEquals(3, inbox.size(), "three 1000-byte wire datagrams fill a 3000-byte queue");
        assertEquals(List.of(8 * MS, 16 * MS, 24 * MS), inbox.arrivals.stream().map(Arrival::atNs).toList(),
                "back to back at 8 ms each");
        assertEquals(7, sender.counters().dropped(DropCause.QUEUE_OVERFLOW));
    }

    @Test
    void datagramsAboveMtuMinusHeadersAreDroppedOnTheLinkThatCannotCarryThem() {
        receiver.downlink(LinkConfig.builder().mtu(1280).build());
        sendSeq(from, to.localAddress(), 1, 1472);
        sendSeq(from, to.localAddress(), 2, 1473);
        sendSeq(from, to.localAddress(), 3, 1252);
        sendSeq(from, to.localAddress(), 4, 1253);
        f.sim.runFor(SECOND);
        assertEquals(List.of(3L), inbox.arrivals.stream().map(Arrival::seq).toList(),
                "only 1252 bytes fit the receiver's 1280 MTU");
        assertEquals(1, sender.counters().dropped(DropCause.MTU_EXCEEDED), "1473 > 1500 - 28 on the sender's link");
        assertEquals(2, receiver.counters().dropped(DropCause.MTU_EXCEEDED), "1472 and 1253 on the receiver's link");
    }

    @Test
    void blackholeScheduledMidRunDropsEverythingSentAfterIt() {
        sender.uplink(LinkConfig.builder().delay(100 * MS).build());
        f.sim.schedule(2 * SECOND, () -> sender.uplink(LinkConfig.BLACKHOLE));
        f.sim.schedule(3 * SECOND, () -> sender.uplink(LinkConfig.PERFECT));
        stream(4000, MS, 100);
        f.sim.runFor(5 * SECOND);
        BitSet seen = receivedSeqs();
        assertEquals(2000, seen.nextClearBit(0), "everything sent before 2 s arrived, even the 100 ms still in flight");
        assertEquals(3000, seen.nextSetBit(2000), "nothing sent in [2 s, 3 s) arrived");
        assertEquals(3000, inbox.size());
    }
}
