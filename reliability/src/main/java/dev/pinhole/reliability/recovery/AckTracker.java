package dev.pinhole.reliability.recovery;

import dev.pinhole.reliability.wire.AckRanges;

/**
 * The receiver's side of acknowledgements (RFC 9000 §13.2): which packet numbers arrived, which are
 * duplicates, and when an ACK frame is due.
 *
 * <ul>
 *   <li>Received packet numbers are kept as at most {@code maxRanges} ranges; when a new range would
 *       exceed the bound, the lowest range is forgotten (RFC 9000 §13.2.4 lets a receiver limit the
 *       ranges it reports).</li>
 *   <li>Duplicate suppression (RFC 9000 §12.3) covers everything tracked; below the lowest number
 *       still tracked (ranges forgotten or pruned) every packet counts as a duplicate: its content, if
 *       it really was new, is retransmitted by the sender in a new packet anyway.</li>
 *   <li>An ACK is due (RFC 9000 §13.2.1, §13.2.2) immediately after the second ack-eliciting packet
 *       since the last ACK, immediately when an ack-eliciting packet arrives out of order (below a
 *       received ack-eliciting packet, or above the largest with a gap), and otherwise
 *       {@code maxAckDelay} after the first unacknowledged ack-eliciting packet.</li>
 *   <li>Once the peer acknowledges a packet that carried an ACK frame, the ranges up to that frame's
 *       largest acknowledged number are dropped (RFC 9000 §13.2.4).</li>
 * </ul>
 * Single-threaded, no allocation after construction; time is passed in ({@code nowNs}).
 */
public final class AckTracker {
    /** RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet. */
    public static final int ACK_ELICITING_THRESHOLD = 2;
    /** Ranges tracked by default: as many as one ACK frame carries. */
    public static final int DEFAULT_MAX_RANGES = AckRanges.DEFAULT_CAPACITY;

    private static final long NONE = -1L;

    private final long maxAckDelayNs;
    /** Ranges [lows[i], highs[i]], descending: index 0 holds the largest packet numbers. */
    private final long[] lows;
    private final long[] highs;
    private int size;
    /** Packet numbers below this are treated as duplicates. */
    private long floor;

    private long largestReceived = NONE;
    private long largestReceivedTimeNs;
    private long largestAckEliciting = NONE;

    private int ackElicitingSinceAck;
    private long firstUnackedTimeNs;
    private boolean immediate;
    private long immediateSinceNs;
    private boolean receivedSinceAck;

    private long duplicates;

    /** A tracker keeping {@link #DEFAULT_MAX_RANGES} ranges. */
    public AckTracker(long maxAckDelayNs) {
        this(maxAckDelayNs, DEFAULT_MAX_RANGES);
    }

    /**
     * @param maxAckDelayNs the longest an ACK may be delayed: this side's max_ack_delay transport
     *                      parameter (RFC 9000 §18.2, 25 ms by default)
     * @param maxRanges     how many ranges to keep
     */
    public AckTracker(long maxAckDelayNs, int maxRanges) {
        if (maxAckDelayNs < 0) {
            throw new IllegalArgumentException("maxAckDelayNs must not be negative, was " + maxAckDelayNs);
        }
        if (maxRanges < 1) {
            throw new IllegalArgumentException("maxRanges must be at least 1, was " + maxRanges);
        }
        this.maxAckDelayNs = maxAckDelayNs;
        lows = new long[maxRanges];
        highs = new long[maxRanges];
    }

    /**
     * Records a packet that was received and authenticated (decoded).
     *
     * @param packetNumber the full (reconstructed) packet number
     * @param ackEliciting true if the packet had any frame other than ACK, PADDING, CONNECTION_CLOSE
     * @return true if the packet is new and must be processed; false for a duplicate, or a packet
     *     older than anything still tracked, which the caller drops
     */
    public boolean onPacketReceived(long packetNumber, boolean ackEliciting, long nowNs) {
        if (packetNumber < floor || !insert(packetNumber)) {
            duplicates++;
            return false;
        }
        receivedSinceAck = true;
        if (packetNumber > largestReceived) {
            largestReceived = packetNumber;
            largestReceivedTimeNs = nowNs;
        }
        if (ackEliciting) {
            if (isOutOfOrder(packetNumber) && !immediate) {
                immediate = true;
                immediateSinceNs = nowNs;
            }
            if (ackElicitingSinceAck == 0) {
                firstUnackedTimeNs = nowNs;
            }
            ackElicitingSinceAck++;
            if (ackElicitingSinceAck >= ACK_ELICITING_THRESHOLD && !immediate) {
                immediate = true;
                immediateSinceNs = nowNs;
            }
            largestAckEliciting = Math.max(largestAckEliciting, packetNumber);
        }
        return true;
    }

    /**
     * True if {@code packetNumber} was received before, or is older than anything still tracked: a packet the
     * caller must drop before any of its frames takes effect (RFC 9000 §12.3; a replayed packet authenticates).
     */
    public boolean isDuplicate(long packetNumber) {
        if (packetNumber < floor) {
            return true;
        }
        for (int i = 0; i < size; i++) {
            if (packetNumber >= lows[i]) {
                return packetNumber <= highs[i];
            }
        }
        return false;
    }

    /**
     * RFC 9000 §13.2.1: the packet is below an ack-eliciting packet already received, or above the
     * largest with packets missing in between. Must be called after inserting {@code packetNumber}.
     */
    private boolean isOutOfOrder(long packetNumber) {
        if (largestAckEliciting == NONE) {
            return false;
        }
        if (packetNumber < largestAckEliciting) {
            return true;
        }
        // Everything below the floor counts as received, so contiguity down to it is no gap.
        final long lowOfItsRange = lows[indexOfRangeContaining(packetNumber)];
        return lowOfItsRange > Math.max(largestAckEliciting + 1, floor);
    }

    private int indexOfRangeContaining(long packetNumber) {
        for (int i = 0; i < size; i++) {
            if (packetNumber >= lows[i]) {
                return i;
            }
        }
        throw new IllegalStateException("packet " + packetNumber + " is not tracked");
    }

    /** Adds {@code pn} to the ranges; false if it was already there (or too old to track). */
    private boolean insert(long pn) {
        int i = 0;
        while (i < size && highs[i] >= pn) {
            i++;
        }
        // Ranges 0..i-1 have high >= pn; range i (if any) is entirely below pn.
        if (i > 0 && lows[i - 1] <= pn) {
            return false;
        }
        final boolean joinsAbove = i > 0 && lows[i - 1] == pn + 1;
        final boolean joinsBelow = i < size && highs[i] == pn - 1;
        if (joinsAbove && joinsBelow) {
            lows[i - 1] = lows[i];
            removeRange(i);
        } else if (joinsAbove) {
            lows[i - 1] = pn;
        } else if (joinsBelow) {
            highs[i] = pn;
        } else {
            if (size == lows.length) {
                if (i == size) {
                    // Older than every tracked range and no room: too old to track.
                    return false;
                }
                // Forget the lowest range to make room.
                size--;
                floor = highs[size] + 1;
            }
            System.arraycopy(lows, i, lows, i + 1, size - i);
            System.arraycopy(highs, i, highs, i + 1, size - i);
            lows[i] = pn;
            highs[i] = pn;
            size++;
        }
        return true;
    }

    private void removeRange(int index) {
        System.arraycopy(lows, index + 1, lows, index, size - index - 1);
        System.arraycopy(highs, index + 1, highs, index, size - index - 1);
        size--;
    }

    /**
     * The time by which an ACK must be sent: {@link Long#MAX_VALUE} if no ack-eliciting packet is
     * unacknowledged; the arrival time of the triggering packet if an ACK is due immediately; else the
     * arrival of the first unacknowledged ack-eliciting packet plus max_ack_delay.
     */
    public long ackDeadlineNs() {
        if (ackElicitingSinceAck == 0) {
            return Long.MAX_VALUE;
        }
        if (immediate) {
            return immediateSinceNs;
        }
        return firstUnackedTimeNs + maxAckDelayNs;
    }

    /** True if an ACK frame must be sent now. */
    public boolean ackDueNow(long nowNs) {
        return ackDeadlineNs() <= nowNs;
    }

    /**
     * True if packets arrived since the last ACK was sent, so an ACK frame would tell the peer
     * something new: worth adding to a packet that goes out anyway, even when no ACK is due.
     */
    public boolean hasNewAckInfo() {
        return receivedSinceAck && size > 0;
    }

    /**
     * Fills {@code ranges} with the tracked ranges, highest first (as many as it holds), for an ACK
     * frame sent at {@code nowNs}.
     *
     * @return the ACK delay in microseconds: how long ago the largest acknowledged packet arrived
     *     (RFC 9000 §19.3); 0 and {@code ranges} empty if nothing was received yet
     */
    public long fillAck(AckRanges ranges, long nowNs) {
        ranges.clear();
        final int count = Math.min(size, ranges.capacity());
        for (int i = 0; i < count; i++) {
            ranges.add(lows[i], highs[i]);
        }
        if (size == 0) {
            return 0;
        }
        return Math.max(0, nowNs - largestReceivedTimeNs) / 1_000L;
    }

    /** An ACK frame with the current ranges was sent: no ACK is pending any more. */
    public void onAckSent(long nowNs) {
        ackElicitingSinceAck = 0;
        immediate = false;
        receivedSinceAck = false;
    }

    /**
     * The peer acknowledged a packet carrying an ACK frame whose largest acknowledged number was
     * {@code largestAckedInThatFrame}: the peer knows about everything up to it, so those ranges need
     * not be sent again (RFC 9000 §13.2.4), and packets up to it are from now on treated as duplicates.
     */
    public void onAckOfAckReceived(long largestAckedInThatFrame) {
        if (largestAckedInThatFrame < floor) {
            return;
        }
        floor = largestAckedInThatFrame + 1;
        while (size > 0 && highs[size - 1] < floor) {
            size--;
        }
        if (size > 0 && lows[size - 1] < floor) {
            lows[size - 1] = floor;
        }
    }

    /** The largest packet number received, or -1; the reference for {@code PacketNumbers.decode}. */
    public long largestReceived() {
        return largestReceived;
    }

    /** Packets rejected by {@link #onPacketReceived} as duplicates or too old. */
    public long duplicatePackets() {
        return duplicates;
    }

    /** The number of ranges currently tracked. */
    public int rangeCount() {
        return size;
    }

    /** Packet numbers below this are treated as duplicates (0 until ranges were dropped or pruned). */
    public long lowestTrackedPacketNumber() {
        return floor;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AckTracker[");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(lows[i]).append("..").append(highs[i]);
        }
        return sb.append("; floor=").append(floor).append(", pendingAckEliciting=").append(ackElicitingSinceAck)
                .append(']').toString();
    }
}
