package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.recovery.LossDetector;
import dev.pinhole.reliability.recovery.RttEstimator;
import dev.pinhole.reliability.recovery.SentPacket;
import dev.pinhole.reliability.recovery.SentPacketLog;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.function.LongUnaryOperator;

/**
 * A deterministic packet-level path for driving a {@link BbrCongestionController} through the real loss
 * detector and pacer: a bottleneck that serialises packets at a fixed rate behind an unbounded FIFO
 * queue, a base RTT (which may change over time), optional seeded random loss, and an acknowledgement
 * for every packet that arrives. The sender always has data unless {@link #appLimited} says otherwise.
 * Virtual time only.
 */
final class BbrPath {
    static final int MSS = 1200;
    static final long MS = 1_000_000L;

    final BbrCongestionController bbr = new BbrCongestionController(MSS);
    final RttEstimator rtt = new RttEstimator();
    final SentPacketLog log = new SentPacketLog();
    final Pacer pacer = new Pacer(MSS);
    final LossDetector detector;
    private final long bottleneckBytesPerSecond;
    private final LongUnaryOperator baseRttNsAt;
    private final double lossProbability;
    private final SplittableRandom random;
    /** Packets that will be acknowledged: {packet number, ack arrival time}, in arrival order. */
    private final ArrayDeque<long[]> pendingAcks = new ArrayDeque<>();
    private final long[] ranges = new long[2];
    private long bottleneckFreeNs;
    long nowNs = 1_000_000_000L;
    long deliveredBytes;
    long lostBytes;
    boolean appLimited;

    BbrPath(long bottleneckBytesPerSecond, LongUnaryOperator baseRttNsAt, double lossProbability, long seed) {
        this.bottleneckBytesPerSecond = bottleneckBytesPerSecond;
        this.baseRttNsAt = baseRttNsAt;
        this.lossProbability = lossProbability;
        this.random = new SplittableRandom(seed);
        this.detector = new LossDetector(log, rtt, bbr, 0, new LossDetector.Listener() {
            @Override
            public void onPacketAcked(SentPacket packet) {
                deliveredBytes += packet.sizeBytes();
            }

            @Override
            public void onPacketLost(SentPacket packet) {
                lostBytes += packet.sizeBytes();
            }
        });
    }

    /** Runs until {@code untilNs}, calling {@code observer} after every acknowledgement. */
    void runUntil(long untilNs, Runnable observer) {
        while (nowNs < untilNs) {
            long nextSendNs = trySend();
            long nextAckNs = pendingAcks.isEmpty() ? Long.MAX_VALUE : pendingAcks.peekFirst()[1];
            long nextTimerNs = detector.timerDeadlineNs();
            long next = Math.min(Math.min(nextSendNs, nextAckNs), Math.min(nextTimerNs, untilNs));
            nowNs = Math.max(nowNs, next);
            if (nowNs == nextAckNs) {
                long[] ack = pendingAcks.pollFirst();
                ranges[0] = ack[0];
                ranges[1] = ack[0];
                detector.onAckReceived(nowNs, ranges, 1, 0);
                observer.run();
            } else if (nowNs == nextTimerNs && detector.onTimeout(nowNs) == LossDetector.TimeoutAction.SEND_PROBE) {
                send(true);
            }
        }
    }

    /** Sends what window and pacer allow now; returns when the pacer allows the next packet, or MAX_VALUE. */
    private long trySend() {
        while (!appLimited && detector.bytesInFlight() + MSS <= bbr.congestionWindowBytes()) {
            long earliest = pacer.earliestSendTimeNs(nowNs, MSS, bbr.congestionWindowBytes(), rtt.smoothedRttNs(),
                    bbr.pacingRateBytesPerSecond());
            if (earliest > nowNs) {
                return earliest;
            }
            send(false);
        }
        return Long.MAX_VALUE;
    }

    private void send(boolean probe) {
        long cwnd = bbr.congestionWindowBytes();
        SentPacket packet = detector.newPacket(nowNs).size(MSS).ackEliciting(true).appLimited(appLimited);
        long packetNumber = packet.packetNumber();
        detector.onPacketSent(packet);
        if (!probe) {
            pacer.onPacketSent(nowNs, MSS, cwnd, rtt.smoothedRttNs(), bbr.pacingRateBytesPerSecond());
        }
        if (lossProbability > 0 && random.nextDouble() < lossProbability) {
            return;
        }
        long departNs = Math.max(nowNs, bottleneckFreeNs) + MSS * 1_000_000_000L / bottleneckBytesPerSecond;
        bottleneckFreeNs = departNs;
        long arrivalNs = departNs + baseRttNsAt.applyAsLong(nowNs);
        long last = pendingAcks.isEmpty() ? Long.MIN_VALUE : pendingAcks.peekLast()[1];
        // FIFO: an RTT that shrank must not let a packet overtake the one before it.
        pendingAcks.addLast(new long[] {packetNumber, Math.max(arrivalNs, last)});
    }

    /** Bytes the path can carry per second, for assertions. */
    long bottleneckBytesPerSecond() {
        return bottleneckBytesPerSecond;
    }
}
