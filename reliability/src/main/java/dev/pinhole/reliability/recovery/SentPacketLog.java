package dev.pinhole.reliability.recovery;

/**
 * The packets a sender has sent and not yet seen acknowledged or declared lost, held in a ring of
 * reusable {@link SentPacket} slots indexed by packet number (slot = number mod capacity), so that
 * sending and acknowledging allocate nothing in the steady state.
 *
 * <p>Besides the ring, two intrusive lists link slots in packet-number order: the outstanding packets,
 * and the packets recently declared lost (kept a while so that a late acknowledgement reveals a
 * spurious loss). Acknowledgement processing and loss detection walk these lists instead of the ring,
 * so their cost grows with the number of packets still in question (holes below the largest
 * acknowledged, recent losses), not with the window.
 *
 * <p>The log also numbers packets: numbers start at 0 and each packet gets the next one, as RFC 9000
 * §12.3 requires (never reused, strictly increasing). Packets that are not ack-eliciting (ACK-only)
 * take a number but no slot: RFC 9002 §A.1 tracks them only to prune ACK ranges, which our bounded ACK
 * tracker does not need, and leaving them out keeps a pure receiver's log empty.
 *
 * <p>The ring grows (doubling) when a new packet would overwrite a slot still listed, up to
 * {@link #MAX_CAPACITY}; beyond that {@link #canTrack()} is false until acknowledgements or losses free
 * the oldest slots.
 */
public final class SentPacketLog {
    /** Ring size limit: 2^18 packets, about 300 MiB of 1200-byte packets, far beyond any window we allow. */
    public static final int MAX_CAPACITY = 1 << 18;
    private static final int INITIAL_CAPACITY = 256;

    private SentPacket[] slots;
    private int mask;
    private long next;

    private SentPacket outstandingHead;
    private SentPacket outstandingTail;
    private int outstandingCount;
    private SentPacket lostHead;
    private SentPacket lostTail;

    public SentPacketLog() {
        this(INITIAL_CAPACITY);
    }

    SentPacketLog(int initialCapacity) {
        if (Integer.bitCount(initialCapacity) != 1 || initialCapacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be a power of two up to " + MAX_CAPACITY
                    + ", got " + initialCapacity);
        }
        slots = newSlots(initialCapacity);
        mask = initialCapacity - 1;
    }

    private static SentPacket[] newSlots(int capacity) {
        SentPacket[] array = new SentPacket[capacity];
        for (int i = 0; i < capacity; i++) {
            array[i] = new SentPacket();
        }
        return array;
    }

    /** The number the next packet sent will carry. */
    public long nextPacketNumber() {
        return next;
    }

    /** How many packets are outstanding (sent, ack-eliciting, neither acknowledged nor lost). */
    public int outstandingCount() {
        return outstandingCount;
    }

    /** The smallest packet number still listed (outstanding or recently lost), or the next number. */
    private long lowestListed() {
        long lowest = next;
        if (outstandingHead != null) {
            lowest = outstandingHead.packetNumber;
        }
        if (lostHead != null && lostHead.packetNumber < lowest) {
            lowest = lostHead.packetNumber;
        }
        return lowest;
    }

    /** Whether {@link #track} can record one more packet now. */
    public boolean canTrack() {
        return outstandingHead == null || next - outstandingHead.packetNumber < MAX_CAPACITY;
    }

    /**
     * Records the packet numbered {@link #nextPacketNumber()} as sent at {@code sentTimeNs} and returns
     * its slot for the caller to fill in (size, flags, contents). Requires {@link #canTrack()}.
     */
    public SentPacket track(long sentTimeNs) {
        if (next - lowestListed() >= slots.length && !grow()) {
            // Out of room even at the largest ring: give up the spurious-loss memory first.
            forgetLost(Long.MAX_VALUE);
            if (next - lowestListed() >= slots.length) {
                throw new IllegalStateException("sent packet log full: " + outstandingCount
                        + " packets outstanding from " + outstandingHead.packetNumber + " to " + next);
            }
        }
        long packetNumber = next++;
        SentPacket slot = slots[(int) packetNumber & mask];
        slot.reset();
        slot.state = SentPacket.State.OUTSTANDING;
        slot.packetNumber = packetNumber;
        slot.sentTimeNs = sentTimeNs;
        slot.previous = outstandingTail;
        if (outstandingTail == null) {
            outstandingHead = slot;
        } else {
            outstandingTail.next = slot;
        }
        outstandingTail = slot;
        outstandingCount++;
        return slot;
    }

    /** Consumes the next packet number for a packet that is not tracked (not ack-eliciting) and returns it. */
    public long skip() {
        return next++;
    }

    /** The outstanding packet with this number, or null if it is not outstanding (or was never tracked). */
    public SentPacket outstanding(long packetNumber) {
        if (packetNumber >= next || next - packetNumber > slots.length) {
            return null;
        }
        SentPacket slot = slots[(int) packetNumber & mask];
        return slot.packetNumber == packetNumber && slot.state == SentPacket.State.OUTSTANDING ? slot : null;
    }

    /** Whether the packet with this number was acknowledged (as far as the ring still remembers). */
    boolean acknowledged(long packetNumber) {
        if (packetNumber >= next || next - packetNumber > slots.length) {
            return false;
        }
        SentPacket slot = slots[(int) packetNumber & mask];
        return slot.packetNumber == packetNumber && slot.state == SentPacket.State.ACKED;
    }

    /** The oldest outstanding packet, or null if none; follow {@link SentPacket#next} for the others. */
    public SentPacket oldestOutstanding() {
        return outstandingHead;
    }

    /** The oldest packet kept as recently lost, or null; follow {@link SentPacket#next} for the others. */
    SentPacket oldestLost() {
        return lostHead;
    }

    /** Unlinks an outstanding packet that was acknowledged. */
    void markAcked(SentPacket packet) {
        unlinkOutstanding(packet);
        packet.state = SentPacket.State.ACKED;
    }

    /** Moves an outstanding packet to the recently-lost list. */
    void markLost(SentPacket packet, long nowNs) {
        unlinkOutstanding(packet);
        packet.state = SentPacket.State.LOST;
        packet.lostTimeNs = nowNs;
        packet.previous = lostTail;
        if (lostTail == null) {
            lostHead = packet;
        } else {
            lostTail.next = packet;
        }
        lostTail = packet;
    }

    /** Removes a recently-lost packet that turned out to be acknowledged after all. */
    void markLostAcked(SentPacket packet) {
        unlinkLost(packet);
        packet.state = SentPacket.State.ACKED;
    }

    /** Stops remembering packets declared lost before {@code keepLostSinceNs}. */
    void forgetLost(long keepLostSinceNs) {
        while (lostHead != null && lostHead.lostTimeNs < keepLostSinceNs) {
            SentPacket packet = lostHead;
            unlinkLost(packet);
            packet.state = SentPacket.State.EMPTY;
        }
    }

    private void unlinkOutstanding(SentPacket packet) {
        if (packet.previous == null) {
            outstandingHead = packet.next;
        } else {
            packet.previous.next = packet.next;
        }
        if (packet.next == null) {
            outstandingTail = packet.previous;
        } else {
            packet.next.previous = packet.previous;
        }
        packet.previous = null;
        packet.next = null;
        outstandingCount--;
    }

    private void unlinkLost(SentPacket packet) {
        if (packet.previous == null) {
            lostHead = packet.next;
        } else {
            packet.previous.next = packet.next;
        }
        if (packet.next == null) {
            lostTail = packet.previous;
        } else {
            packet.next.previous = packet.previous;
        }
        packet.previous = null;
        packet.next = null;
    }

    /** Doubles the ring until the listed span fits; false at {@link #MAX_CAPACITY}. */
    private boolean grow() {
        long lowest = lowestListed();
        int capacity = slots.length;
        while (capacity < MAX_CAPACITY && next - lowest >= capacity) {
            capacity *= 2;
        }
        if (next - lowest >= capacity) {
            return false;
        }
        SentPacket[] grown = new SentPacket[capacity];
        int newMask = capacity - 1;
        for (SentPacket p = outstandingHead; p != null; p = p.next) {
            grown[(int) p.packetNumber & newMask] = p;
        }
        for (SentPacket p = lostHead; p != null; p = p.next) {
            grown[(int) p.packetNumber & newMask] = p;
        }
        for (int i = 0; i < capacity; i++) {
            if (grown[i] == null) {
                grown[i] = new SentPacket();
            }
        }
        slots = grown;
        mask = newMask;
        return true;
    }
}
