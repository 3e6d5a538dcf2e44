/**
 * Congestion control and pacing of a Pinhole connection (RFC 9002 §7, RFC 9438, and BBR v1 from
 * draft-cardwell-iccrg-bbr-congestion-control).
 *
 * <p>A connection makes one {@link dev.pinhole.reliability.cc.CongestionController} with
 * {@link dev.pinhole.reliability.CongestionControl#create} (CUBIC by default) and one
 * {@link dev.pinhole.reliability.cc.Pacer}, both for its maximum datagram size, and drives them from
 * its event loop with virtual or real nanoseconds:
 *
 * <ol>
 *   <li>Before sending an ack-eliciting packet: it may go if {@code bytesInFlight + bytes <=
 *       congestionWindowBytes()} and {@code pacer.earliestSendTimeNs(now, bytes, cwnd, smoothedRtt)}
 *       returns {@code now} (passing {@code pacingRateBytesPerSecond()} too, which is -1 unless the
 *       controller paces at a rate of its own, as BBR does); if only the pacer holds it, arm a timer for
 *       the time returned.</li>
 *   <li>After sending it: {@code onPacketSent} on both.</li>
 *   <li>For every newly acknowledged in-flight packet: {@code onPacketAcked}, with the packet's send
 *       time and whether it was sent app-limited (RFC 9002 §7.8: bytes in flight were below the window
 *       and the pacer was not what held the sender back).</li>
 *   <li>When packets are declared lost: {@code onCongestionEvent} with the send time of the newest lost
 *       one, then {@code onPersistentCongestion} if the loss detector established it (RFC 9002 §B.8).</li>
 * </ol>
 *
 * <p>The loss detector makes these calls through the packet-level methods ({@code onPacketSent(SentPacket,
 * long)}, {@code onPacketAcked(long, SentPacket, long)}, {@code onPacketLost}, and {@code onAckProcessed}
 * once per ACK), which default to the byte-level ones above; BBR uses them to keep delivery-rate state in
 * the sent-packet slots.
 *
 * <p>Nothing here reads a clock, allocates per packet, or is thread-safe.
 */
package dev.pinhole.reliability.cc;
