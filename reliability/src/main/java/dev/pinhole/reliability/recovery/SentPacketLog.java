package dev.pinhole.reliability.recovery;

/**
 * The packets a sender has sent and not yet seen acknowledged or declared lost, held in a ring of
 * reusable {@link SentPacket} slots indexed by packet number (slot = number mod capacity), so that
 * sending and acknowledging allocate nothing in the steady state.
 *
 * <p>The log also numbers packets: packet numbers start at 0 and each packet gets the next one, as RFC
 * 9000 §12.3 requires (never reused, strictly increasing). Packets that are not ack-eliciting (ACK-only)
 * take a number but no slot: RFC 9002 §A.1 tracks them only to prune ACK ranges, which our bounded ACK
 * tracker does not need, and leaving them out keeps a pure receiver's log empty.
 *
 * <p>The ring grows (doubling) when a new packet would overwrite a slot still in use, up to
 * {@link #MAX_CAPACITY}; beyond that {@link #canTrack()} is false and the sender must wait for
 * acknowledgements or losses before sending more ack-eliciting packets.
 */
public final class SentPacketLog {
    /** Ring size limit: 2^18 packets, about 300 MiB of 1200-byte packets, far beyond any window we allow. */
    public static final int MAX_CAPACITY = 1 << 18;
    private static final int INITIAL_CAPACITY = 256;

    private SentPacket[] slots;
    private int mask;
    /** Every tracked packet number is at least this; numbers below it are acknowledged, lost or untracked. */
    private long lowest;
    private long next;
    private int tracked;
    private long keepLostSinceNs = Long.MIN_VALUE;

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

    /** The smallest packet number that may still be outstanding. */
    public long lowestOutstanding() {
        return lowest;
    }

    /** How many packets are tracked (sent, ack-eliciting, neither acknowledged nor lost). */
    public int outstandingCount() {
        return tracked;
    }

    /** Whether {@link #track} can record one more packet now. */
    public boolean canTrack() {
        return tracked == 0 || next - lowest < MAX_CAPACITY;
    }

    /** Forgets everything below the next packet number that is not outstanding (no packet is). */
    private void skipToNextIfIdle() {
        if (tracked == 0 && next - lowest >= slots.length) {
            lowest = next - slots.length + 1;
        }
    }

    /**
     * Records the packet numbered {@link #nextPacketNumber()} as sent at {@code sentTimeNs} and returns
     * its slot for the caller to fill in (size, flags, contents). Requires {@link #canTrack()}.
     */
    public SentPacket track(long sentTimeNs) {
        skipToNextIfIdle();
        if (next - lowest >= slots.length) {
            if (!grow()) {
                throw new IllegalStateException("sent packet log full: " + tracked + " packets outstanding from "
                        + lowest + " to " + next);
            }
        }
        long packetNumber = next++;
        SentPacket slot = slots[(int) packetNumber & mask];
        slot.reset();
        slot.state = SentPacket.State.OUTSTANDING;
        slot.packetNumber = packetNumber;
        slot.sentTimeNs = sentTimeNs;
        tracked++;
        return slot;
    }

    /** Consumes the next packet number for a packet that is not tracked (not ack-eliciting) and returns it. */
    public long skip() {
        return next++;
    }

    /** The outstanding packet with this number, or null if it is not outstanding (or was never tracked). */
    public SentPacket outstanding(long packetNumber) {
        if (packetNumber < lowest || packetNumber >= next) {
            return null;
        }
        SentPacket slot = slots[(int) packetNumber & mask];
        return slot.packetNumber == packetNumber && slot.state == SentPacket.State.OUTSTANDING ? slot : null;
    }

    /** The slot holding this packet number in any state but empty, or null. */
    SentPacket slotOf(long packetNumber) {
        if (packetNumber < lowest || packetNumber >= next) {
            return null;
        }
        SentPacket slot = slots[(int) packetNumber & mask];
        return slot.packetNumber == packetNumber && slot.state != SentPacket.State.EMPTY ? slot : null;
    }

    /** The oldest outstanding packet, or null if none. */
    public SentPacket oldestOutstanding() {
        return tracked == 0 ? null : outstanding(lowest);
    }

    void markAcked(SentPacket packet) {
        packet.state = SentPacket.State.NEWLY_ACKED;
        tracked--;
    }

    void markLost(SentPacket packet) {
        packet.state = SentPacket.State.LOST;
        tracked--;
    }

    /**
     * Advances {@link #lowestOutstanding()} past acknowledged and untracked numbers, and past lost
     * packets declared lost before {@code keepLostSinceNs}: lost packets are kept a while so that a late
     * acknowledgement can reveal a spurious loss (reordering). Slots need no clearing: {@link #track}
     * resets a slot before reuse and lookups check number and state.
     */
    void trim(long keepLostSinceNs) {
        this.keepLostSinceNs = keepLostSinceNs;
        while (lowest < next) {
            SentPacket slot = slots[(int) lowest & mask];
            if (slot.packetNumber == lowest) {
                if (slot.state == SentPacket.State.OUTSTANDING || slot.state == SentPacket.State.NEWLY_ACKED
                        || (slot.state == SentPacket.State.LOST && slot.lostTimeNs >= keepLostSinceNs)) {
                    return;
                }
            }
            lowest++;
        }
    }

    private boolean grow() {
        trim(keepLostSinceNs);
        if (next - lowest >= slots.length && slots.length >= MAX_CAPACITY) {
            // Out of room: forget the lost packets kept for spurious-loss detection first.
            trim(Long.MAX_VALUE);
        }
        if (next - lowest < slots.length) {
            return true;
        }
        int capacity = slots.length;
        while (capacity < MAX_CAPACITY && next - lowest >= capacity) {
            capacity *= 2;
        }
        if (next - lowest >= capacity) {
            return false;
        }
        SentPacket[] grown = new SentPacket[capacity];
        int newMask = capacity - 1;
        for (SentPacket slot : slots) {
            if (slot.state != SentPacket.State.EMPTY && slot.packetNumber >= lowest && slot.packetNumber < next) {
                grown[(int) slot.packetNumber & newMask] = slot;
            }
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
