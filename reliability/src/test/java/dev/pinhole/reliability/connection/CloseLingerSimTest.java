package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.sim.LinkConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code close()} right after writing more than the path carries in the close timeout: the linger lasts as
 * long as the peer keeps acknowledging (a slow transfer must not lose its tail), and ends a close timeout
 * after the acknowledgements stop.
 */
class CloseLingerSimTest {
    private static final int BYTES = 8 * 1024 * 1024;

    @Test
    void aCloseWaitsAsLongAsThePeerKeepsAcknowledging() {
        byte[] up = payload();
        // 2 Mbit/s: the 8 MiB take about 34 s, more than three close timeouts of 10 s.
        LinkConfig link = LinkConfig.builder().delay(25 * MS).bandwidth(2_000_000).build();
        try (SimTransfer t = new SimTransfer(21, TransportConfig.DEFAULT, link, link, up, new byte[0], 1 << 20,
                65_536, 0)) {
            t.clientSide.closeAfterWriting = true;
            t.start();
            assertTrue(t.runToCompletion(600 * SECOND), "both ends; client " + t.clientSide);
            assertTrue(t.serverSide.receivedExactly(up), "the server read all 8 MiB: " + t.serverSide);
            assertTrue(t.clientSide.closeReason.graceful(), "the client's close ended gracefully after "
                    + t.clientSide.closedAtNs / MS + " ms: " + t.clientSide.closeReason);
            assertTrue(t.clientSide.closedAtNs > 30 * SECOND, "the close lasted the whole transfer, past the 10 s"
                    + " close timeout: " + t.clientSide.closedAtNs / MS + " ms");
        }
    }

    @Test
    void aCloseGivesUpACloseTimeoutAfterTheAcknowledgementsStop() {
        byte[] up = payload();
        LinkConfig link = LinkConfig.builder().delay(25 * MS).bandwidth(2_000_000).build();
        try (SimTransfer t = new SimTransfer(22, TransportConfig.DEFAULT, link, link, up, new byte[0], 1 << 20,
                65_536, 0)) {
            t.clientSide.closeAfterWriting = true;
            t.start();
            t.sim.schedule(15 * SECOND, () -> t.clientHost.link(LinkConfig.BLACKHOLE));
            assertTrue(t.runToCompletion(600 * SECOND), "the client's connection ends: " + t.clientSide);
            assertFalse(t.clientSide.closeReason.graceful(), "not gracefully: the peer never got everything: "
                    + t.clientSide.closeReason);
            long after = t.clientSide.closedAtNs - 15 * SECOND;
            assertTrue(after <= 11 * SECOND, "it gave up about 10 s (the close and ack timeouts) after the path"
                    + " died, not later: " + after / MS + " ms, " + t.clientSide.closeReason);
        }
    }

    private static byte[] payload() {
        byte[] up = new byte[BYTES];
        new SplittableRandom(7).nextBytes(up);
        return up;
    }
}
