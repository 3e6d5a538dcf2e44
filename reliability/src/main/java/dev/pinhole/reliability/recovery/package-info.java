/**
 * Loss recovery of RFC 9002 and the receiver's acknowledgements of RFC 9000 §13.2.
 *
 * <ul>
 *   <li>{@link dev.pinhole.reliability.recovery.LossDetector}: acknowledgement processing, RTT samples,
 *       packet- and time-threshold loss detection (adapting to reordering), the probe timeout with
 *       exponential backoff, persistent congestion.</li>
 *   <li>{@link dev.pinhole.reliability.recovery.SentPacketLog} and
 *       {@link dev.pinhole.reliability.recovery.SentPacket}: what was sent, in a ring of reusable slots.</li>
 *   <li>{@link dev.pinhole.reliability.recovery.RttEstimator}: RFC 9002 §5.</li>
 *   <li>{@link dev.pinhole.reliability.recovery.AckTracker}: which packets arrived and when an ACK is due.</li>
 * </ul>
 */
package dev.pinhole.reliability.recovery;
