package dev.pinhole.reliability.cc;

/**
 * Congestion control of one connection, counted in bytes (RFC 9002 §7).
 *
 * <p>The loss detector drives it: every in-flight packet sent, acknowledged or declared lost is
 * reported here, and the sender keeps {@code bytesInFlight <= congestionWindowBytes()}. Called only on
 * the connection's event loop. Implementations: {@link NewRenoCongestionController} (RFC 9002 §7,
 * Appendix B) and {@link CubicCongestionController} (RFC 9438).
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
}
