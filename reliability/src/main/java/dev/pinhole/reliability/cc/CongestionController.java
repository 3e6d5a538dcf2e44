package dev.pinhole.reliability.cc;

import dev.pinhole.reliability.recovery.SentPacket;

/**
 * Congestion control of one connection, counted in bytes (RFC 9002 §7).
 *
 * <p>The loss detector drives it: every in-flight packet sent, acknowledged or declared lost is
 * reported here, and the sender keeps {@code bytesInFlight <= congestionWindowBytes()}. Called only on
 * the connection's event loop. Implementations: {@link NewRenoCongestionController} (RFC 9002 §7,
 * Appendix B), {@link CubicCongestionController} (RFC 9438) and {@link BbrCongestionController}
 * (draft-cardwell-iccrg-bbr-congestion-control, BBR v1).
 *
 * <p>The loss detector calls the packet-level methods ({@link #onPacketSent(SentPacket, long)},
 * {@link #onPacketAcked(long, SentPacket, long)}, {@link #onPacketLost}, {@link #onAckProcessed}); their
 * defaults reduce them to the byte-level methods the loss-based controllers implement, so those see
 * exactly the calls they saw before. A model-based controller overrides them to keep delivery-rate
 * state in the packet's reused slot and to update its model once per acknowledgement.
 */
public interface CongestionController {

    /** The most bytes that may be in flight now. */
    long congestionWindowBytes();

    /** The slow-start threshold; {@link Long#MAX_VALUE} until the first congestion event. */
    long slowStartThresholdBytes();

    /** True while the window grows exponentially (cwnd below ssthresh, RFC 9002 §7.3.1). */
    boolean inSlowStart();

    /** True between a congestion event and the acknowledgement of a packet sent after it (§7.3.2). */
    boolean inRecovery();

    /** An ack-eliciting packet of {@code bytes} bytes was sent at {@code nowNs}. */
    void onPacketSent(long nowNs, int bytes);

    /**
     * A packet sent at {@code sentTimeNs} carrying {@code bytes} in-flight bytes was newly acknowledged
     * (RFC 9002 §B.5, OnPacketsAcked, called once per packet).
     *
     * @param appLimited true if the sender did not fill the window when this packet was sent (§7.8):
     *     the window must then not grow
     * @param smoothedRttNs the current smoothed RTT, which CUBIC's Reno-friendly region needs
     */
    void onPacketAcked(long nowNs, long sentTimeNs, int bytes, boolean appLimited, long smoothedRttNs);

    /**
     * Packets were declared lost; {@code largestLostSentTimeNs} is the send time of the newest of them
     * (RFC 9002 §B.6, OnCongestionEvent). At most one window reduction per round trip: a loss of a packet
     * sent before the current recovery period began does nothing.
     */
    void onCongestionEvent(long nowNs, long largestLostSentTimeNs);

    /**
     * Persistent congestion was established (RFC 9002 §7.6): collapse to the minimum window and end any
     * recovery period. Call it after {@link #onCongestionEvent} for the same lost packets, in the order
     * of RFC 9002 §B.8, so that the slow-start threshold has been lowered first.
     */
    void onPersistentCongestion(long nowNs);

    /**
     * An in-flight packet was sent; {@code bytesInFlightBefore} excludes it. The default forwards to
     * {@link #onPacketSent(long, int)}; a rate-estimating controller also records its delivery-rate
     * state in the packet with {@link SentPacket#rateState}.
     */
    default void onPacketSent(SentPacket packet, long bytesInFlightBefore) {
        onPacketSent(packet.sentTimeNs(), packet.sizeBytes());
    }

    /** An in-flight packet was newly acknowledged; the default forwards to the byte-level method. */
    default void onPacketAcked(long nowNs, SentPacket packet, long smoothedRttNs) {
        onPacketAcked(nowNs, packet.sentTimeNs(), packet.sizeBytes(), packet.appLimited(), smoothedRttNs);
    }

    /**
     * An in-flight packet was declared lost, before the {@link #onCongestionEvent} for the same loss.
     * Loss-based controllers react to the congestion event only, so the default does nothing.
     */
    default void onPacketLost(long nowNs, SentPacket packet) {
    }

    /**
     * Every packet newly acknowledged by one ACK frame has been reported, and losses it revealed too;
     * {@code bytesInFlight} is what remains in flight. The default does nothing.
     */
    default void onAckProcessed(long nowNs, long bytesInFlight) {
    }

    /**
     * The rate at which the sender should pace, in bytes per second, or {@link #DERIVE_PACING_RATE} to
     * derive it from the window and the smoothed RTT (RFC 9002 §7.7), which is what the default does.
     */
    default long pacingRateBytesPerSecond() {
        return DERIVE_PACING_RATE;
    }

    /** {@link #pacingRateBytesPerSecond()} when the controller has no rate of its own. */
    long DERIVE_PACING_RATE = -1;
}
