package dev.pinhole.reliability.recovery;

/**
 * What the sender remembers about one packet it sent until the packet is acknowledged or declared
 * lost (RFC 9002 §A.1.1, "sent packet fields"), plus what the packet carried so that the sender can
 * put it back into its queues when the packet is lost (RFC 9000 §13.3: frames, not packets, are
 * retransmitted).
 *
 * <p>Instances are slots of a {@link SentPacketLog} ring and are reused: never keep a reference past
 * the callback that handed it to you.
 */
public final class SentPacket {
    /** Marks {@link #streamLength} when the packet carried no STREAM frame. */
    public static final int NO_STREAM = -1;
    /** Marks {@link #ackLargest} when the packet carried no ACK frame. */
    public static final long NO_ACK = -1L;

    enum State { EMPTY, OUTSTANDING, ACKED, LOST }

    State state = State.EMPTY;
    long packetNumber;
    long sentTimeNs;
    int sizeBytes;
    boolean ackEliciting;
    boolean inFlight;
    boolean appLimited;

    long streamOffset;
    int streamLength = NO_STREAM;
    boolean streamFin;
    int controlFrames;
    long ackLargest = NO_ACK;
    /**
     * Delivery-rate state at send time (draft-cardwell-iccrg-bbr-congestion-control §4.1.2, "per-packet
     * state"), written only by a controller that estimates the delivery rate: the connection's delivered
     * bytes, the time they were counted, the send time of the first packet of the current flight, and
     * whether the sender was app-limited. Primitive fields of the reused slot: nothing is allocated.
     */
    long rateDeliveredBytes;
    long rateDeliveredTimeNs;
    long rateFirstSentTimeNs;
    boolean rateAppLimited;
    /** When the packet was declared lost, and whether by the time threshold (else the packet threshold). */
    long lostTimeNs;
    boolean lostByTime;
    /** Neighbours in the log's outstanding or recently-lost list, in packet-number order. */
    SentPacket previous;
    SentPacket next;

    SentPacket() {
    }

    void reset() {
        state = State.EMPTY;
        packetNumber = 0;
        sentTimeNs = 0;
        sizeBytes = 0;
        ackEliciting = false;
        inFlight = false;
        appLimited = false;
        streamOffset = 0;
        streamLength = NO_STREAM;
        streamFin = false;
        controlFrames = 0;
        ackLargest = NO_ACK;
        rateDeliveredBytes = 0;
        rateDeliveredTimeNs = 0;
        rateFirstSentTimeNs = 0;
        rateAppLimited = false;
        lostTimeNs = 0;
        lostByTime = false;
        previous = null;
        next = null;
    }

    public long packetNumber() {
        return packetNumber;
    }

    public long sentTimeNs() {
        return sentTimeNs;
    }

    /** The size of the whole UDP payload in bytes, which is what congestion control counts. */
    public int sizeBytes() {
        return sizeBytes;
    }

    public boolean ackEliciting() {
        return ackEliciting;
    }

    public boolean inFlight() {
        return inFlight;
    }

    public boolean appLimited() {
        return appLimited;
    }

    public boolean hasStream() {
        return streamLength != NO_STREAM;
    }

    public long streamOffset() {
        return streamOffset;
    }

    /** Bytes of stream data carried; {@link #NO_STREAM} if none (a FIN-only frame has length 0). */
    public int streamLength() {
        return streamLength;
    }

    public boolean streamFin() {
        return streamFin;
    }

    /** A bit set of control frames the packet carried; its meaning belongs to the sender. */
    public int controlFrames() {
        return controlFrames;
    }

    /** The largest packet number acknowledged by an ACK frame in this packet, or {@link #NO_ACK}. */
    public long ackLargest() {
        return ackLargest;
    }

    /** The connection's delivered bytes when this packet was sent (delivery-rate state, see the field comment). */
    public long rateDeliveredBytes() {
        return rateDeliveredBytes;
    }

    /** When {@link #rateDeliveredBytes()} was last increased before this packet was sent. */
    public long rateDeliveredTimeNs() {
        return rateDeliveredTimeNs;
    }

    /** The send time of the first packet of the flight this packet belongs to. */
    public long rateFirstSentTimeNs() {
        return rateFirstSentTimeNs;
    }

    /** Whether the delivery-rate sampler considered the sender app-limited when this packet was sent. */
    public boolean rateAppLimited() {
        return rateAppLimited;
    }

    /** Records the delivery-rate state at send time; called by the congestion controller, not the sender. */
    public void rateState(long deliveredBytes, long deliveredTimeNs, long firstSentTimeNs, boolean appLimited) {
        this.rateDeliveredBytes = deliveredBytes;
        this.rateDeliveredTimeNs = deliveredTimeNs;
        this.rateFirstSentTimeNs = firstSentTimeNs;
        this.rateAppLimited = appLimited;
    }

    // Setters used by the sender while it fills the slot it was given by SentPacketLog.add.

    public SentPacket size(int sizeBytes) {
        this.sizeBytes = sizeBytes;
        return this;
    }

    public SentPacket ackEliciting(boolean ackEliciting) {
        this.ackEliciting = ackEliciting;
        this.inFlight = ackEliciting;
        return this;
    }

    public SentPacket appLimited(boolean appLimited) {
        this.appLimited = appLimited;
        return this;
    }

    public SentPacket stream(long offset, int length, boolean fin) {
        this.streamOffset = offset;
        this.streamLength = length;
        this.streamFin = fin;
        return this;
    }

    public SentPacket controlFrames(int controlFrames) {
        this.controlFrames = controlFrames;
        return this;
    }

    public SentPacket ackLargest(long ackLargest) {
        this.ackLargest = ackLargest;
        return this;
    }

    @Override
    public String toString() {
        return "SentPacket{pn=" + packetNumber + ", state=" + state + ", sentTimeNs=" + sentTimeNs
                + ", size=" + sizeBytes + ", ackEliciting=" + ackEliciting
                + (hasStream() ? ", stream=[" + streamOffset + "+" + streamLength + (streamFin ? " FIN" : "") + "]" : "")
                + ", controlFrames=0x" + Integer.toHexString(controlFrames) + "}";
    }
}
