/**
 * Congestion control and pacing of a Pinhole connection (RFC 9002 §7, RFC 9438).
 *
 * <p>A connection makes one {@link dev.pinhole.reliability.cc.CongestionController} with
 * {@link dev.pinhole.reliability.cc.CongestionControl#create} (CUBIC by default) and one
 * {@link dev.pinhole.reliability.cc.Pacer}, both for its maximum datagram size, and drives them from
 * its event loop with virtual or real nanoseconds:
 *
 * <ol>
 *   <li>Before sending an ack-eliciting packet: it may go if {@code bytesInFlight + bytes <=
 *       congestionWindowBytes()} and {@code pacer.earliestSendTimeNs(now, bytes, cwnd, smoothedRtt)}
 *       returns {@code now}; if only the pacer holds it, arm a timer for the time returned.</li>
 *   <li>After sending it: {@code onPacketSent} on both.</li>
 *   <li>For every newly acknowledged in-flight packet: {@code onPacketAcked}, with the packet's send
 *       time and whether it was sent app-limited (RFC 9002 §7.8: bytes in flight were below the window
 *       and the pacer was not what held the sender back).</li>
 *   <li>When packets are declared lost: {@code onCongestionEvent} with the send time of the newest lost
 *       one, then {@code onPersistentCongestion} if the loss detector established it (RFC 9002 §B.8).</li>
 * </ol>
 *
 * <p>Nothing here reads a clock, allocates per packet, or is thread-safe.
 */
package dev.pinhole.reliability.cc;
