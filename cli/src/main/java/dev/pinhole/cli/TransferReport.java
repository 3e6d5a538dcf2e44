package dev.pinhole.cli;

import dev.pinhole.cli.transfer.TransferSummary;
import dev.pinhole.punch.PathInfo;
import dev.pinhole.reliability.ConnectionStats;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The summary a transfer prints: as one JSON line, or as a few human lines.
 *
 * @param role "send", "receive" or "demo"
 * @param peer the other side's name
 * @param peerId the node id the other side's handshake proved
 * @param summary what was verified
 * @param path the path the connection ran on
 * @param connectMs rendezvous + punching + handshake, in milliseconds
 * @param transferNs from the first byte of the session to the receiver's confirmation
 * @param stats the transport's counters at the end (this side's)
 */
record TransferReport(String role, String peer, String peerId, TransferSummary summary, PathInfo path, long connectMs,
                      long transferNs, ConnectionStats stats) {

    double seconds() {
        return transferNs / 1e9;
    }

    /** Application bytes that crossed the path per second, in Mbit/s (10^6 bit/s). */
    double goodputMbps() {
        return transferNs <= 0 ? 0 : summary.bytesOnWire() * 8.0 / seconds() / 1e6;
    }

    Json json() {
        return Json.object().put("ok", true).put("role", role).put("peer", peer)
                .put("peer_id", peerId).put("peer_fingerprint", Trust.fingerprint(peerId))
                .put("files", summary.files().size()).put("bytes", summary.bytes())
                .put("bytes_on_wire", summary.bytesOnWire())
                .put("resumed_bytes", summary.bytes() - summary.bytesOnWire())
                .put("sha256", summary.sha256())
                .put("path", path.kind().name().toLowerCase(Locale.ROOT))
                .put("local", Addresses.format(path.local())).put("remote", Addresses.format(path.remote()))
                .put("via", path.via())
                .put("connect_ms", connectMs).put("seconds", seconds()).put("goodput_mbps", goodputMbps())
                .put("retransmitted_packets", stats == null ? 0 : stats.packetsRetransmitted())
                .put("lost_packets", stats == null ? 0 : stats.packetsLost())
                .put("packets_sent", stats == null ? 0 : stats.packetsSent())
                .put("srtt_ms", stats == null || stats.smoothedRtt() == null ? Double.NaN
                        : stats.smoothedRtt().toNanos() / 1e6);
    }

    void print(PrintStream out, boolean json) {
        if (json) {
            out.println(json());
            return;
        }
        out.printf(Locale.ROOT, "peer:        %s (fingerprint %s)%n", peer, Trust.fingerprint(peerId));
        out.printf(Locale.ROOT, "path:        %s %s -> %s (%s)%n", path.kind().name().toLowerCase(Locale.ROOT),
                Addresses.format(path.local()), Addresses.format(path.remote()), path.via());
        out.printf(Locale.ROOT, "connect:     %d ms (rendezvous, punching, handshake)%n", connectMs);
        out.printf(Locale.ROOT, "transferred: %d bytes in %d file(s)%s in %.2f s%n", summary.bytes(),
                summary.files().size(), summary.bytes() > summary.bytesOnWire()
                    ? " (" + (summary.bytes() - summary.bytesOnWire()) + " resumed)" : "", seconds());
        out.printf(Locale.ROOT, "goodput:     %.1f Mbit/s%n", goodputMbps());
        if (stats != null) {
            out.printf(Locale.ROOT, "packets:     %d sent, %d retransmitted, %d declared lost%n", stats.packetsSent(),
                    stats.packetsRetransmitted(), stats.packetsLost());
        }
        out.printf(Locale.ROOT, "sha256:      %s (verified by both sides)%n", summary.sha256());
    }
}
