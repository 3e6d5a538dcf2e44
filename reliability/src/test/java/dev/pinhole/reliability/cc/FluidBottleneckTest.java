package dev.pinhole.reliability.cc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Drives each controller through a deterministic round-by-round model of one bottleneck: a fixed base
 * RTT, a link that carries {@code capacityPackets} per base RTT and a drop-tail queue of
 * {@code bufferPackets}. A round sends one window; what exceeds link plus queue is dropped (the tail of
 * the round), what exceeds the link alone waits in the queue and stretches the round. Acks come one RTT
 * after each send; the losses of a round are detected after its last ack, when the next round is
 * already in flight, so the next round falls in the recovery period as on a real path.
 *
 * <p>Utilisation is what the link delivered over what it could have, in time:
 * {@code sum(delivered) / sum(max(capacity, delivered))}, counted after a warm-up that excludes the
 * initial slow-start overshoot. No wall-clock time, no randomness: the same arithmetic every run.
 */
class FluidBottleneckTest {
    private static final int MSS = 1200;

    private record Result(double utilisation, int congestionEvents, long maxWindowPackets) {}

    private static Result run(CongestionController cc, int capacityPackets, int bufferPackets, long baseRttNs,
                              int rounds, int warmupRounds) {
        long roundStartNs = 1_000_000_000L;
        boolean lossPending = false;
        long lossDetectedNs = 0;
        long largestLostSentNs = 0;
        long delivered = 0;
        long possible = 0;
        int events = 0;
        long maxWindow = 0;
        for (int round = 0; round < rounds; round++) {
            int window = (int) Math.max(1, cc.congestionWindowBytes() / MSS);
            maxWindow = Math.max(maxWindow, window);
            int carried = Math.min(window, capacityPackets + bufferPackets);
            long roundRttNs = baseRttNs * Math.max(capacityPackets, carried) / capacityPackets;

            // The previous round's losses are detected as this round's acks begin.
            if (lossPending) {
                long before = cc.congestionWindowBytes();
                cc.onCongestionEvent(lossDetectedNs, largestLostSentNs);
                if (cc.congestionWindowBytes() < before) {
                    events++;
                }
                lossPending = false;
            }
            for (int k = 0; k < carried; k++) {
                long sentNs = roundStartNs + roundRttNs * k / window;
                cc.onPacketAcked(sentNs + roundRttNs, sentNs, MSS, false, roundRttNs);
            }
            if (carried < window) {
                lossPending = true;
                largestLostSentNs = roundStartNs + roundRttNs * (window - 1) / window;
                lossDetectedNs = roundStartNs + 2 * roundRttNs;
            }
            if (round >= warmupRounds) {
                delivered += carried;
                possible += Math.max(capacityPackets, carried);
            }
            roundStartNs += roundRttNs;
        }
        return new Result((double) delivered / possible, events, maxWindow);
    }

    private static void assertUtilisation(String name, Result result, double atLeast, int minEvents) {
        assertTrue(result.utilisation() > atLeast,
                name + ": expected link utilisation above " + atLeast + ", came " + result);
        assertTrue(result.congestionEvents() >= minEvents,
                name + ": expected the window to keep probing (at least " + minEvents + " reductions), came " + result);
    }

    @Test
    void newRenoKeepsAShallowBufferedLinkMostlyBusy() {
        Result result = run(new NewRenoCongestionController(MSS), 100, 10, 50_000_000L, 3000, 200);
        assertUtilisation("NewReno, 100 packets/RTT, 10-packet buffer", result, 0.60, 20);
    }

    @Test
    void cubicKeepsAShallowBufferedLinkBusy() {
        Result result = run(new CubicCongestionController(MSS), 100, 10, 50_000_000L, 3000, 200);
        assertUtilisation("CUBIC, 100 packets/RTT, 10-packet buffer", result, 0.70, 20);
    }

    @Test
    void newRenoWithoutBufferStaysAboveSixtyPercent() {
        Result result = run(new NewRenoCongestionController(MSS), 100, 0, 50_000_000L, 3000, 200);
        assertUtilisation("NewReno, 100 packets/RTT, no buffer", result, 0.60, 20);
    }

    @Test
    void cubicWithoutBufferBeatsNewRenoThanksToItsGentlerReduction() {
        Result cubic = run(new CubicCongestionController(MSS), 100, 0, 50_000_000L, 3000, 200);
        Result reno = run(new NewRenoCongestionController(MSS), 100, 0, 50_000_000L, 3000, 200);
        assertUtilisation("CUBIC, 100 packets/RTT, no buffer", cubic, 0.70, 20);
        assertTrue(cubic.utilisation() > reno.utilisation(),
                "β = 0.7 must waste less than β = 0.5 without a buffer: CUBIC " + cubic + ", NewReno " + reno);
    }

    @Test
    void cubicFillsALongFatPipe() {
        // 1000 packets per 100 ms (96 Mbit/s at 1200 bytes), a 5% buffer.
        Result result = run(new CubicCongestionController(MSS), 1000, 50, 100_000_000L, 3000, 300);
        assertUtilisation("CUBIC, 1000 packets per 100 ms, 50-packet buffer", result, 0.70, 5);
    }

    @Test
    void newRenoFillsALongFatPipeSlowlyButAboveSixtyPercent() {
        Result result = run(new NewRenoCongestionController(MSS), 1000, 50, 100_000_000L, 3000, 300);
        assertUtilisation("NewReno, 1000 packets per 100 ms, 50-packet buffer", result, 0.60, 3);
    }
}
