package dev.pinhole.reliability;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A snapshot of one connection's counters, taken on its event loop.
 *
 * @param bytesSent          stream bytes sent for the first time (each written byte counts once)
 * @param bytesReceived      stream bytes delivered in order (each received byte counts once)
 * @param bytesRetransmitted stream bytes sent again after a loss or as a probe
 * @param packetsSent        packets sent, of every kind
 * @param packetsReceived    packets received and processed
 * @param packetsLost        ack-eliciting packets declared lost (RFC 9002 §6.1)
 * @param packetsRetransmitted packets that carried retransmitted stream bytes
 * @param probesSent         probe timeouts that fired (RFC 9002 §6.2)
 * @param smoothedRtt        smoothed round-trip time (RFC 9002 §5.3); 333 ms before the first sample
 * @param minRtt             smallest round-trip time seen; zero before the first sample
 * @param congestionWindow   congestion window in bytes
 * @param bytesInFlight      bytes sent and neither acknowledged nor declared lost
 * @param path               the peer's current address
 * @param packetsUnauthenticated received packets that failed to open (forged, damaged, truncated, or for
 *                           discarded keys), dropped before they could change anything
 * @param packetsDuplicated  authenticated packets dropped because their number was seen before (the
 *                           network's duplicates, or replays)
 */
public record ConnectionStats(long bytesSent, long bytesReceived, long bytesRetransmitted, long packetsSent,
                              long packetsReceived, long packetsLost, long packetsRetransmitted, long probesSent,
                              Duration smoothedRtt, Duration minRtt, long congestionWindow, long bytesInFlight,
                              InetSocketAddress path, long packetsUnauthenticated, long packetsDuplicated) {
}
