package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.sim.LinkConfig;
import dev.pinhole.reliability.TransportConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Transfers over simulated paths, each a fixed scenario that names one behaviour. */
class ConnectionSimTest {

    private static byte[] payload(long seed, int size) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    private static void assertTransferred(SimTransfer t, byte[] clientPayload, byte[] serverPayload) {
        assertTrue(t.serverSide.receivedExactly(clientPayload),
                "server received the client's bytes exactly; first mismatch at " + t.serverSide.firstMismatch(clientPayload)
                        + ": " + t.serverSide);
        assertTrue(t.clientSide.receivedExactly(serverPayload),
                "client received the server's bytes exactly; first mismatch at " + t.clientSide.firstMismatch(serverPayload)
                        + ": " + t.clientSide);
        assertTrue(t.clientSide.closeReason != null && t.clientSide.closeReason.graceful(),
                "client closed gracefully, got " + t.clientSide);
        assertTrue(t.serverSide.closeReason != null && t.serverSide.closeReason.graceful(),
                "server closed gracefully, got " + t.serverSide);
    }

    @Test
    void transfersBothDirectionsOverPerfectPath() {
        byte[] up = payload(1, 1_000_000);
        byte[] down = payload(2, 700_000);
        LinkConfig link = LinkConfig.builder().delay(10 * MS).build();
        try (SimTransfer t = new SimTransfer(42, TransportConfig.DEFAULT, link, link, up, down, 65536, 65536, 0)) {
            t.start();
            assertTrue(t.runToCompletion(60 * SECOND), "both sides terminate within 60 s: " + t.clientSide + " / "
                    + t.serverSide);
            assertTransferred(t, up, down);
            assertEquals(0, t.clientSide.finalStats.bytesRetransmitted(), "nothing retransmitted on a clean path");
            assertEquals(0, t.serverSide.finalStats.bytesRetransmitted(), "nothing retransmitted on a clean path");
        }
    }

    @Test
    void transfersOverLossyPath() {
        byte[] up = payload(3, 300_000);
        byte[] down = payload(4, 200_000);
        LinkConfig link = LinkConfig.builder().delay(20 * MS).jitter(5 * MS).loss(0.1).build();
        try (SimTransfer t = new SimTransfer(43, TransportConfig.DEFAULT, link, link, up, down, 4000, 3000, 0)) {
            t.start();
            assertTrue(t.runToCompletion(120 * SECOND), "both sides terminate: " + t.clientSide + " / " + t.serverSide);
            assertTransferred(t, up, down);
        }
    }
}
