package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.CongestionControl;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * BBR against CUBIC on simulated paths, in virtual time: an 8 MiB client-to-server transfer, timed until
 * the server reads the end of the stream. The random-loss paths are the ones Pinhole promises to be fast
 * on (20 ms RTT, 400 Mbit/s, 1 % and 5 % loss each way); the shallow-queue path checks that BBR's model
 * keeps a tail-drop queue from overflowing over and over.
 */
class BbrGoodputSimTest {
    private static final int PAYLOAD_BYTES = 8 << 20;
    private static final long SEED = 0xBB4L;

    private record Run(CongestionControl cc, int payloadBytes, double seconds, ConnectionStats clientStats) {
        double goodputMbps() {
            return payloadBytes * 8.0 / seconds / 1e6;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s %.2f Mbit/s in %.3f s (retransmitted %d B, lost %d packets)", cc,
                    goodputMbps(), seconds, clientStats.bytesRetransmitted(), clientStats.packetsLost());
        }
    }

    private static Run transfer(CongestionControl cc, LinkConfig link, long seed) {
        return transfer(cc, link, seed, PAYLOAD_BYTES);
    }

    private static Run transfer(CongestionControl cc, LinkConfig link, long seed, int payloadBytes) {
        byte[] payload = new byte[payloadBytes];
        new Random(seed).nextBytes(payload);
        TransportConfig config = TransportConfig.builder().congestionControl(cc).build();
        try (SimTransfer t = new SimTransfer(seed, config, link, link, payload, new byte[0], 65_536, 65_536, 0)) {
            t.start();
            assertTrue(t.sim.runUntil(() -> t.serverSide.eof, 600 * SECOND),
                    cc + " transfer ends within 600 s of virtual time (seed " + seed + "): " + t.serverSide);
            long nowNs = t.sim.nowNs();
            ConnectionStats stats = t.clientSide.connection.stats();
            assertTrue(t.runToCompletion(60 * SECOND), "both sides close: " + t.clientSide + " / " + t.serverSide);
            assertEquals(payloadBytes, t.serverSide.received.length, "server received the whole payload");
            return new Run(cc, payloadBytes, nowNs / 1e9, stats);
        }
    }

    private static LinkConfig lossyPath(double loss) {
        return LinkConfig.builder().loss(loss).delay(10 * MS).bandwidth(400_000_000L, 4 << 20).build();
    }

    private static void compare(double loss, double atLeastTimes) {
        Run cubic = transfer(CongestionControl.CUBIC, lossyPath(loss), SEED);
        Run bbr = transfer(CongestionControl.BBR, lossyPath(loss), SEED);
        double ratio = bbr.goodputMbps() / cubic.goodputMbps();
        System.out.printf(Locale.ROOT, "[pinhole] sim: 8 MiB over 20 ms RTT, 400 Mbit/s, %.0f %% loss each way: %s;"
                + " %s; BBR/CUBIC %.1fx%n", loss * 100, cubic, bbr, ratio);
        assertTrue(ratio >= atLeastTimes, "expected BBR at least " + atLeastTimes + "x CUBIC's goodput at "
                + loss * 100 + " % loss, came " + ratio + "x: " + bbr + " against " + cubic);
    }

    @Test
    void bbrMovesFiveTimesMoreThanCubicAtOnePercentLoss() {
        compare(0.01, 5);
    }

    @Test
    void bbrMovesTenTimesMoreThanCubicAtFivePercentLoss() {
        compare(0.05, 10);
    }

    /**
     * Without loss, on the fast path of the lossy tests, BBR must not fall behind CUBIC: STARTUP finds the
     * 400 Mbit/s as fast as slow start does, and nothing backs off afterwards.
     */
    @Test
    void bbrKeepsUpWithCubicOnALossFreeFastPath() {
        Run cubic = transfer(CongestionControl.CUBIC, lossyPath(0), SEED);
        Run bbr = transfer(CongestionControl.BBR, lossyPath(0), SEED);
        double ratio = bbr.goodputMbps() / cubic.goodputMbps();
        System.out.printf(Locale.ROOT, "[pinhole] sim: 8 MiB over 20 ms RTT, 400 Mbit/s, no loss: %s; %s;"
                + " BBR/CUBIC %.2fx%n", cubic, bbr, ratio);
        assertTrue(ratio >= 0.9, "expected BBR within 10 % of CUBIC on a loss-free path, came " + ratio + "x: "
                + bbr + " against " + cubic);
    }

    /**
     * 50 Mbit/s, 20 ms RTT (a BDP of 125 kB) and a 64 KiB tail-drop queue. STARTUP's overshoot costs a
     * fixed amount once (as CUBIC's slow start does); after it BBR paces at the bandwidth it measured and
     * probes by a quarter BDP, which the queue holds, so a transfer four times longer must add almost no
     * retransmissions: the extra 24 MiB may add at most 0.5 % of themselves.
     */
    @Test
    void bbrDoesNotKeepOverflowingAShallowQueue() {
        LinkConfig link = LinkConfig.builder().delay(10 * MS).bandwidth(50_000_000L, 64 * 1024).build();
        Run cubic = transfer(CongestionControl.CUBIC, link, SEED);
        Run bbr = transfer(CongestionControl.BBR, link, SEED);
        Run bbrLong = transfer(CongestionControl.BBR, link, SEED, 4 * PAYLOAD_BYTES);
        long steadyStateRetransmitted = bbrLong.clientStats().bytesRetransmitted()
                - bbr.clientStats().bytesRetransmitted();
        double steadyStateShare = (double) steadyStateRetransmitted / (3 * PAYLOAD_BYTES);
        System.out.printf(Locale.ROOT, "[pinhole] sim: over 20 ms RTT, 50 Mbit/s, 64 KiB queue: 8 MiB %s; 8 MiB %s;"
                + " 32 MiB %s; retransmitted beyond STARTUP: %.3f %% of the extra 24 MiB%n", cubic, bbr, bbrLong,
                steadyStateShare * 100);
        assertTrue(steadyStateShare < 0.005, "expected the 24 MiB after STARTUP to add under 0.5 % retransmissions,"
                + " came " + steadyStateShare * 100 + " %: 8 MiB " + bbr + ", 32 MiB " + bbrLong);
        assertTrue(bbr.clientStats().bytesRetransmitted() < 4 * 125_000, "expected STARTUP's overshoot to cost"
                + " less than 4 BDP (500 kB), came " + bbr);
        assertTrue(bbrLong.goodputMbps() >= 0.85 * 50, "expected BBR to keep a 50 Mbit/s link at least 85 % busy,"
                + " came " + bbrLong);
    }
}
