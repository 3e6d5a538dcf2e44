package dev.pinhole.reliability.recovery;

import dev.pinhole.reliability.cc.CongestionController;
import java.util.Arrays;

/**
 * Loss detection of RFC 9002 §6 and Appendix A for the one packet number space a Pinhole connection
 * has after its handshake: acknowledgement processing, RTT sampling (§5.1), packet- and time-threshold
 * loss detection (§6.1), the probe timeout with exponential backoff (§6.2) and persistent congestion
 * (§7.6). It reports to the {@link CongestionController} and the {@link RttEstimator}, and tells its
 * {@link Listener} which packets were acknowledged or lost so that their frames can be forgotten or
 * queued again.
 *
 * <p>Sans-IO: every method takes the current time; the owner arms one timer at
 * {@link #timerDeadlineNs()} and calls {@link #onTimeout} when it fires. Single-threaded.
 */
public final class LossDetector {
    /** RFC 9002 §6.1.1 kPacketThreshold: a packet is lost when a packet sent 3 or more numbers later is acked. */
    public static final int PACKET_THRESHOLD = 3;
    /** RFC 9002 §6.1.2 kTimeThreshold = 9/8, as numerator and denominator. */
    public static final int TIME_THRESHOLD_NUMERATOR = 9;
    public static final int TIME_THRESHOLD_DENOMINATOR = 8;
    /** RFC 9002 §6.1.2 kGranularity (1 ms). */
    public static final long GRANULARITY_NS = RttEstimator.GRANULARITY_NS;
    /** RFC 9002 §7.6.1 kPersistentCongestionThreshold. */
    public static final int PERSISTENT_CONGESTION_THRESHOLD = 3;
    /** The packet threshold never grows beyond this many packets; the time threshold still applies. */
    public static final int MAX_PACKET_THRESHOLD = 1024;
    /** The time threshold never grows beyond 2 RTT (16 eighths). */
    public static final int MAX_TIME_THRESHOLD_EIGHTHS = 16;
    /** How many packets between two lost ones {@link #ackedBetween} inspects before assuming one was acked. */
    private static final int MAX_PERSISTENT_GAP_CHECK = 1024;
    /** {@link #timerDeadlineNs()} when no timer is needed. */
    public static final long NO_DEADLINE = Long.MAX_VALUE;
    /** The backoff exponent stops growing here so that the PTO cannot overflow (2^16 PTOs is hours). */
    private static final int MAX_BACKOFF_EXPONENT = 16;

    /** What the owner of the detector hears about individual packets. */
    public interface Listener {
        /** The packet was acknowledged for the first time; its frames need no retransmission. */
        void onPacketAcked(SentPacket packet);

        /** The packet was declared lost; its retransmittable frames must be queued again (RFC 9000 §13.3). */
        void onPacketLost(SentPacket packet);
    }

    /** What {@link #onTimeout} asks the owner to do. */
    public enum TimeoutAction {
        /** Nothing to send: the timer was early, or it was the loss timer and lost packets were reported. */
        NONE,
        /**
         * The probe timeout expired (§6.2.4): send one ack-eliciting probe packet now, even beyond the
         * congestion window — new data if there is any, otherwise the oldest unacknowledged data, otherwise a PING.
         */
        SEND_PROBE
    }

    private final SentPacketLog sent;
    private final RttEstimator rtt;
    private final CongestionController congestion;
    private final Listener listener;

    /** The peer's max_ack_delay: caps reported ack delays and enters the PTO (RFC 9002 §5.3, §6.2.1). */
    private long peerMaxAckDelayNs;

    private long largestAcked = -1;
    private long lossTimeNs = NO_DEADLINE;
    private long timeOfLastAckElicitingNs;
    private int ptoCount;
    private long bytesInFlight;
    private int ackElicitingInFlight;
    private long firstRttSampleTimeNs = NO_DEADLINE;
    /** Since when ack-eliciting packets have been outstanding without any newly acknowledged; NO_DEADLINE if none are. */
    private long awaitingAckSinceNs = NO_DEADLINE;

    /** kPacketThreshold, raised by spurious losses (see {@link #detectSpuriousLosses}). */
    private int packetThreshold = PACKET_THRESHOLD;
    /** kTimeThreshold in eighths of an RTT: 9, raised by spurious losses up to 16. */
    private int timeThresholdEighths = TIME_THRESHOLD_NUMERATOR;
    private long spuriousLosses;
    private SentPacket[] newlyAcked = new SentPacket[64];
    private int newlyAckedCount;
    private long packetsLost;
    private long bytesLost;
    private long probesSent;

    public LossDetector(SentPacketLog sent, RttEstimator rtt, CongestionController congestion,
                        long peerMaxAckDelayNs, Listener listener) {
        this.sent = sent;
        this.rtt = rtt;
        this.congestion = congestion;
        this.peerMaxAckDelayNs = peerMaxAckDelayNs;
        this.listener = listener;
    }

    public void peerMaxAckDelayNs(long peerMaxAckDelayNs) {
        this.peerMaxAckDelayNs = peerMaxAckDelayNs;
    }

    /**
     * Returns a slot for the ack-eliciting packet about to be sent, numbered
     * {@link SentPacketLog#nextPacketNumber()}. The caller fills in its size and contents, then calls
     * {@link #onPacketSent}. If the log is full (a packet far older than everything else is still
     * outstanding), that oldest packet is declared lost first: it cannot plausibly still arrive.
     */
    public SentPacket newPacket(long nowNs) {
        while (!sent.canTrack()) {
            SentPacket oldest = sent.oldestOutstanding();
            declareLost(oldest, nowNs);
            if (oldest.inFlight) {
                congestion.onCongestionEvent(nowNs, oldest.sentTimeNs);
            }
            sent.forgetLost(Long.MAX_VALUE);
        }
        return sent.track(nowNs);
    }

    /** RFC 9002 §A.5 OnPacketSent, for a packet filled in after {@link #newPacket}. */
    public void onPacketSent(SentPacket packet) {
        if (packet.inFlight) {
            if (packet.ackEliciting) {
                timeOfLastAckElicitingNs = packet.sentTimeNs;
                if (ackElicitingInFlight == 0) {
                    awaitingAckSinceNs = packet.sentTimeNs;
                }
                ackElicitingInFlight++;
            }
            congestion.onPacketSent(packet, bytesInFlight);
            bytesInFlight += packet.sizeBytes;
        }
    }

    /** Counts a PTO probe the owner sent in answer to {@link TimeoutAction#SEND_PROBE}. */
    public void onProbeSent() {
        probesSent++;
    }

    /**
     * RFC 9002 §A.7 OnAckReceived.
     *
     * @param ranges     acknowledged ranges, largest first, as pairs {@code [largest, smallest]}:
     *                   {@code ranges[2i]} is the largest and {@code ranges[2i+1]} the smallest of range i
     * @param rangeCount number of ranges
     * @param ackDelayNs the ack delay the peer reported (uncapped)
     * @return false if the ACK acknowledges a packet number never sent (a broken or forged ACK); it is
     *     then ignored entirely
     */
    public boolean onAckReceived(long nowNs, long[] ranges, int rangeCount, long ackDelayNs) {
        if (rangeCount <= 0) {
            return false;
        }
        long ackLargest = ranges[0];
        if (ackLargest >= sent.nextPacketNumber()) {
            return false;
        }
        for (int i = 0; i < rangeCount; i++) {
            long high = ranges[2 * i];
            long low = ranges[2 * i + 1];
            if (low > high || low < 0 || (i > 0 && high >= ranges[2 * i - 1])) {
                return false;
            }
        }
        long largestAckedBefore = largestAcked;
        largestAcked = Math.max(largestAcked, ackLargest);
        detectSpuriousLosses(ranges, rangeCount, largestAckedBefore);

        // §A.7 DetectAndRemoveAckedPackets. Newly acknowledged are (1) outstanding packets at or below the
        // previous largest acknowledged that the ranges now cover (holes filled), found by walking the
        // outstanding list, and (2) packets above it, found by number. Both in increasing order.
        newlyAckedCount = 0;
        int rangeIndex = rangeCount - 1;
        for (SentPacket p = sent.oldestOutstanding(); p != null && p.packetNumber <= largestAckedBefore; p = p.next) {
            while (rangeIndex >= 0 && ranges[2 * rangeIndex] < p.packetNumber) {
                rangeIndex--;
            }
            if (rangeIndex < 0) {
                break;
            }
            if (p.packetNumber >= ranges[2 * rangeIndex + 1]) {
                addNewlyAcked(p);
            }
        }
        for (int i = rangeCount - 1; i >= 0; i--) {
            long high = ranges[2 * i];
            long low = Math.max(ranges[2 * i + 1], largestAckedBefore + 1);
            for (long pn = low; pn <= high; pn++) {
                SentPacket packet = sent.outstanding(pn);
                if (packet != null) {
                    addNewlyAcked(packet);
                }
            }
        }
        if (newlyAckedCount == 0) {
            sent.forgetLost(keepLostSinceNs(nowNs));
            return true;
        }

        // §5.1: an RTT sample only if the largest acknowledged is newly acknowledged and at least one
        // newly acknowledged packet was ack-eliciting; the peer's ack delay counts at most max_ack_delay (§5.3).
        SentPacket largestNewlyAcked = newlyAcked[newlyAckedCount - 1];
        boolean newlyAckedAckEliciting = false;
        for (int i = 0; i < newlyAckedCount; i++) {
            newlyAckedAckEliciting |= newlyAcked[i].ackEliciting;
        }
        if (largestNewlyAcked.packetNumber == ackLargest && newlyAckedAckEliciting) {
            long latestRttNs = nowNs - largestNewlyAcked.sentTimeNs;
            rtt.onSample(latestRttNs, Math.min(Math.max(ackDelayNs, 0), peerMaxAckDelayNs));
            if (firstRttSampleTimeNs == NO_DEADLINE) {
                firstRttSampleTimeNs = nowNs;
            }
        }

        // Remove the newly acknowledged packets; losses are detected before the CC hears of the acks (§A.7).
        for (int i = 0; i < newlyAckedCount; i++) {
            SentPacket packet = newlyAcked[i];
            sent.markAcked(packet);
            removeFromFlight(packet);
        }

        detectAndRemoveLostPackets(nowNs);

        long smoothedRttNs = rtt.smoothedRttNs();
        for (int i = 0; i < newlyAckedCount; i++) {
            SentPacket packet = newlyAcked[i];
            if (packet.inFlight) {
                congestion.onPacketAcked(nowNs, packet, smoothedRttNs);
            }
            listener.onPacketAcked(packet);
            newlyAcked[i] = null;
        }
        newlyAckedCount = 0;
        congestion.onAckProcessed(nowNs, bytesInFlight);
        sent.forgetLost(keepLostSinceNs(nowNs));

        ptoCount = 0;
        awaitingAckSinceNs = ackElicitingInFlight > 0 ? nowNs : NO_DEADLINE;
        return true;
    }

    private void addNewlyAcked(SentPacket packet) {
        if (newlyAckedCount == newlyAcked.length) {
            newlyAcked = Arrays.copyOf(newlyAcked, newlyAckedCount * 2);
        }
        newlyAcked[newlyAckedCount++] = packet;
    }

    /**
     * RFC 9002 §6.1 lets the thresholds adapt to reordering. A packet declared lost and acknowledged
     * afterwards was only late: its frames were sent again for nothing. Then (as RACK, RFC 8985, does)
     * raise the packet threshold to the reordering distance seen, and, if the time threshold declared it,
     * the time threshold by 1/8 RTT, up to 2 RTT. Its frames count as delivered now (no second
     * retransmission); congestion control already reacted and is not undone.
     */
    private void detectSpuriousLosses(long[] ranges, int rangeCount, long largestAckedBefore) {
        long smallest = ranges[2 * rangeCount - 1];
        long largest = ranges[0];
        SentPacket p = sent.oldestLost();
        while (p != null) {
            SentPacket following = p.next;
            if (p.packetNumber >= smallest && p.packetNumber <= largest && covered(ranges, rangeCount, p.packetNumber)) {
                spuriousLosses++;
                long distance = Math.max(largestAckedBefore, largestAcked) - p.packetNumber;
                packetThreshold = (int) Math.max(packetThreshold, Math.min(distance + 1, MAX_PACKET_THRESHOLD));
                if (p.lostByTime) {
                    timeThresholdEighths = Math.min(timeThresholdEighths + 1, MAX_TIME_THRESHOLD_EIGHTHS);
                }
                sent.markLostAcked(p);
                listener.onPacketAcked(p);
            }
            p = following;
        }
    }

    /** Whether the ranges (largest first, disjoint) contain {@code packetNumber}: a binary search. */
    private static boolean covered(long[] ranges, int rangeCount, long packetNumber) {
        int low = 0;
        int high = rangeCount - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (packetNumber > ranges[2 * mid]) {
                high = mid - 1;
            } else if (packetNumber < ranges[2 * mid + 1]) {
                low = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** Lost packets are kept for spurious-loss detection for two RTTs plus the peer's ack delay. */
    private long keepLostSinceNs(long nowNs) {
        return nowNs - 2 * Math.max(rtt.smoothedRttNs(), rtt.latestRttNs()) - peerMaxAckDelayNs;
    }

    private void removeFromFlight(SentPacket packet) {
        if (packet.inFlight) {
            bytesInFlight -= packet.sizeBytes;
            if (packet.ackEliciting && --ackElicitingInFlight == 0) {
                // Nothing is awaited any more (the last packets may have been declared lost rather than
                // acknowledged, e.g. a lost PING that nobody resends): no acknowledgement is overdue.
                awaitingAckSinceNs = NO_DEADLINE;
            }
        }
    }

    /**
     * RFC 9002 §A.10 DetectAndRemoveLostPackets, followed by §A.11/§B.8 OnPacketsLost: the congestion
     * event for the newest lost packet and the persistent-congestion check (§7.6.2) over the lost packets.
     */
    private void detectAndRemoveLostPackets(long nowNs) {
        lossTimeNs = NO_DEADLINE;
        if (largestAcked < 0) {
            return;
        }
        long lossDelayNs = Math.max(rtt.latestRttNs(), rtt.smoothedRttNs())
                * timeThresholdEighths / TIME_THRESHOLD_DENOMINATOR;
        lossDelayNs = Math.max(lossDelayNs, GRANULARITY_NS);
        long lostSendTimeNs = nowNs - lossDelayNs;

        boolean anyInFlightLost = false;
        long largestLostSentTimeNs = 0;
        // Persistent congestion (§7.6.2): ack-eliciting packets lost over a span longer than the duration,
        // all sent after the first RTT sample, and no packet in between acknowledged.
        long persistentDurationNs = (rtt.smoothedRttNs() + Math.max(4 * rtt.rttVarNs(), GRANULARITY_NS)
                + peerMaxAckDelayNs) * PERSISTENT_CONGESTION_THRESHOLD;
        boolean persistent = false;
        long spanStartNs = NO_DEADLINE;

        SentPacket previousLost = null;
        SentPacket p = sent.oldestOutstanding();
        while (p != null && p.packetNumber <= largestAcked) {
            SentPacket following = p.next;
            boolean byTime = p.sentTimeNs <= lostSendTimeNs;
            if (byTime || largestAcked >= p.packetNumber + packetThreshold) {
                p.lostByTime = byTime;
                if (p.inFlight) {
                    anyInFlightLost = true;
                    largestLostSentTimeNs = Math.max(largestLostSentTimeNs, p.sentTimeNs);
                }
                if (p.ackEliciting && firstRttSampleTimeNs != NO_DEADLINE && p.sentTimeNs > firstRttSampleTimeNs) {
                    if (spanStartNs == NO_DEADLINE || ackedBetween(previousLost, p)) {
                        spanStartNs = p.sentTimeNs;
                    } else if (p.sentTimeNs - spanStartNs > persistentDurationNs) {
                        persistent = true;
                    }
                    previousLost = p;
                }
                declareLost(p, nowNs);
            } else {
                lossTimeNs = Math.min(lossTimeNs, p.sentTimeNs + lossDelayNs);
            }
            p = following;
        }
        if (anyInFlightLost) {
            congestion.onCongestionEvent(nowNs, largestLostSentTimeNs);
            if (persistent) {
                congestion.onPersistentCongestion(nowNs);
            }
        }
    }

    /**
     * §7.6.2: whether a packet sent between two lost ones was acknowledged, which denies persistent
     * congestion. Looks at the slots in between; a long stretch counts as acknowledged (conservative).
     */
    private boolean ackedBetween(SentPacket earlier, SentPacket later) {
        if (earlier == null) {
            return false;
        }
        long gap = later.packetNumber - earlier.packetNumber;
        if (gap > MAX_PERSISTENT_GAP_CHECK) {
            return true;
        }
        for (long pn = earlier.packetNumber + 1; pn < later.packetNumber; pn++) {
            if (sent.acknowledged(pn)) {
                return true;
            }
        }
        return false;
    }

    private void declareLost(SentPacket packet, long nowNs) {
        if (packet.inFlight) {
            congestion.onPacketLost(nowNs, packet);
        }
        sent.markLost(packet, nowNs);
        removeFromFlight(packet);
        packetsLost++;
        bytesLost += packet.sizeBytes;
        listener.onPacketLost(packet);
    }

    /** RFC 9002 §A.8 SetLossDetectionTimer: the loss time if set, otherwise the PTO deadline. */
    public long timerDeadlineNs() {
        if (lossTimeNs != NO_DEADLINE) {
            return lossTimeNs;
        }
        if (ackElicitingInFlight == 0) {
            return NO_DEADLINE;
        }
        return timeOfLastAckElicitingNs + probeTimeoutNs();
    }

    /** The current probe timeout including backoff: {@code PTO * 2^pto_count} (§6.2.1). */
    public long probeTimeoutNs() {
        return rtt.probeTimeoutNs(peerMaxAckDelayNs) << Math.min(ptoCount, MAX_BACKOFF_EXPONENT);
    }

    /** RFC 9002 §A.9 OnLossDetectionTimeout. Early calls (before {@link #timerDeadlineNs()}) do nothing. */
    public TimeoutAction onTimeout(long nowNs) {
        long deadlineNs = timerDeadlineNs();
        if (deadlineNs == NO_DEADLINE || nowNs < deadlineNs) {
            return TimeoutAction.NONE;
        }
        if (lossTimeNs != NO_DEADLINE) {
            detectAndRemoveLostPackets(nowNs);
            sent.forgetLost(keepLostSinceNs(nowNs));
            return TimeoutAction.NONE;
        }
        // §6.2.4: the PTO fired; the probe is sent by the owner, and the next PTO is twice as long.
        ptoCount++;
        return TimeoutAction.SEND_PROBE;
    }

    /** Bytes of in-flight packets neither acknowledged nor declared lost (RFC 9002 §2). */
    public long bytesInFlight() {
        return bytesInFlight;
    }

    public int ackElicitingInFlight() {
        return ackElicitingInFlight;
    }

    /** The number of consecutive PTOs since the last acknowledgement. */
    public int ptoCount() {
        return ptoCount;
    }

    /**
     * Since when ack-eliciting packets have been outstanding without any acknowledgement of new packets
     * arriving, or {@link #NO_DEADLINE} if none are outstanding. The owner declares the path dead when
     * this is too long ago.
     */
    public long awaitingAckSinceNs() {
        return awaitingAckSinceNs;
    }

    public long largestAcked() {
        return largestAcked;
    }

    public long packetsLost() {
        return packetsLost;
    }

    public long bytesLost() {
        return bytesLost;
    }

    public long probesSent() {
        return probesSent;
    }

    /** Packets declared lost that were acknowledged later (they had only been reordered or delayed). */
    public long spuriousLosses() {
        return spuriousLosses;
    }

    /** The current packet reordering threshold (3 until spurious losses raise it). */
    public int packetThreshold() {
        return packetThreshold;
    }

    public RttEstimator rtt() {
        return rtt;
    }

    public CongestionController congestion() {
        return congestion;
    }
}
