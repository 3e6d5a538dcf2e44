package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.reliability.ConnectionException;
import dev.pinhole.reliability.ConnectionTimeoutException;
import dev.pinhole.reliability.IdleTimeoutException;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.CongestionControl;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Transfers over simulated paths, each a fixed scenario that names one behaviour. */
@ExtendWith(SampledLeakDetection.class)
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

    @Test
    void blackholeMidTransferEndsBothSidesWithConnectionTimeout() {
        byte[] up = payload(5, 50_000_000);
        LinkConfig link = LinkConfig.builder().delay(20 * MS).bandwidth(20_000_000, 256 * 1024).build();
        try (SimTransfer t = new SimTransfer(44, TransportConfig.DEFAULT, link, link, up, new byte[0], 65536, 65536, 0)) {
            t.start();
            long deathNs = 3 * SECOND;
            t.sim.schedule(deathNs, () -> t.clientHost.link(LinkConfig.BLACKHOLE));
            assertTrue(t.runToCompletion(120 * SECOND), "both sides give up: " + t.clientSide + " / " + t.serverSide);

            // The sender had data outstanding: it fails exactly connectionTimeout (10 s) after the last
            // acknowledgement arrived (packets queued on the link still arrive after the path died).
            assertInstanceOf(ConnectionTimeoutException.class, exception(t.clientSide),
                    "sender fails with ConnectionTimeoutException: " + t.clientSide);
            assertEquals(t.clientSide.lastDatagramNs + 10 * SECOND, t.clientSide.closedAtNs,
                    "sender gives up 10 s after the last acknowledgement");
            assertTrue(t.clientSide.lastDatagramNs - deathNs < 200 * MS, "the last acknowledgement came right after"
                    + " the path died, at " + t.clientSide.lastDatagramNs);
            assertTrue(exception(t.clientSide).getMessage().startsWith("no acknowledgement from /203.0.113.7:4433 for 10.0 s"),
                    "message says what happened: " + exception(t.clientSide).getMessage());

            // The receiver only acknowledged: after 15 s of silence it sends a keep-alive PING, which goes
            // unacknowledged for connectionTimeout: it fails 25 s after the last packet arrived.
            assertInstanceOf(ConnectionTimeoutException.class, exception(t.serverSide),
                    "receiver fails with ConnectionTimeoutException: " + t.serverSide);
            assertEquals(t.serverSide.lastDatagramNs + 25 * SECOND, t.serverSide.closedAtNs,
                    "receiver gives up 15 s + 10 s after the last packet arrived");
        }
    }

    @Test
    void receiverWithoutKeepAliveEndsWithIdleTimeout() {
        byte[] up = payload(6, 50_000_000);
        LinkConfig link = LinkConfig.builder().delay(20 * MS).bandwidth(20_000_000, 256 * 1024).build();
        TransportConfig config = TransportConfig.builder().keepAliveInterval(Duration.ZERO).build();
        try (SimTransfer t = new SimTransfer(45, config, link, link, up, new byte[0], 65536, 65536, 0)) {
            t.start();
            long deathNs = 3 * SECOND;
            t.sim.schedule(deathNs, () -> t.clientHost.link(LinkConfig.BLACKHOLE));
            assertTrue(t.runToCompletion(120 * SECOND), "both sides give up: " + t.clientSide + " / " + t.serverSide);
            assertInstanceOf(IdleTimeoutException.class, exception(t.serverSide),
                    "a receiver that never sends ack-eliciting packets ends at the idle timeout: " + t.serverSide);
            assertEquals(t.serverSide.lastDatagramNs + 30 * SECOND, t.serverSide.closedAtNs,
                    "idle timeout 30 s after the last packet arrived");
        }
    }

    @Test
    void natRebindingMidTransferIsValidatedAndTransferCompletes() {
        byte[] up = payload(7, 3_000_000);
        byte[] down = payload(8, 3_000_000);
        LinkConfig link = LinkConfig.builder().delay(15 * MS).bandwidth(10_000_000, 128 * 1024).build();
        try (SimTransfer t = new SimTransfer(46, TransportConfig.DEFAULT, link, link, NatConfig.PORT_RESTRICTED_CONE,
                up, down, 65536, 65536, 0)) {
            t.start();
            long[] before = new long[1];
            long[] sentBeforeValidation = new long[1];
            long[] receivedBeforeValidation = new long[1];
            t.sim.schedule(1 * SECOND, () -> {
                before[0] = t.serverSide.connection.remoteAddress().getPort();
                t.nat.clearMappings();
            });
            // Snapshot the server's traffic with the client's new address when the path is validated,
            // before the server sends it anything else.
            t.serverSide.pathChanged = () -> {
                InetSocketAddress newAddress = t.serverSide.connection.remoteAddress();
                sentBeforeValidation[0] = t.serverEndpoint.bytesSentTo.getOrDefault(newAddress, 0L);
                receivedBeforeValidation[0] = t.bytesReceivedFrom.getOrDefault(newAddress, 0L);
            };
            assertTrue(t.runToCompletion(120 * SECOND), "transfer ends: " + t.clientSide + " / " + t.serverSide);
            assertTrue(sentBeforeValidation[0] > 0, "server challenged the new address");
            assertTrue(sentBeforeValidation[0] <= 3 * receivedBeforeValidation[0], "before validation the server"
                    + " sent at most 3x what it received from the new address (RFC 9000 §8.1): sent "
                    + sentBeforeValidation[0] + ", received " + receivedBeforeValidation[0]);
            assertTransferred(t, up, down);
            assertEquals(1, t.serverSide.connection.pathsValidated(), "server validated the client's new address once");
            assertTrue(t.serverSide.connection.remoteAddress().getPort() != before[0],
                    "server sends to the new NAT port, not the old " + before[0]);
        }
    }

    private static ConnectionException exception(SimTransfer.Side side) {
        assertNotNull(side.closeReason, side.name + " closed");
        return side.closeReason.toException(side.connection.remoteAddress());
    }

    @Test
    void zeroWindowDoesNotDeadlockWhileTheReaderPauses() {
        byte[] up = payload(9, 1_000_000);
        LinkConfig link = LinkConfig.builder().delay(25 * MS).loss(0.05).build();
        TransportConfig config = TransportConfig.builder().receiveWindow(TransportConfig.MIN_WINDOW_BYTES).build();
        try (SimTransfer t = new SimTransfer(47, config, link, link, up, new byte[0], 65536, 65536, 0)) {
            t.serverSide.readFromNs = 90 * SECOND;
            t.start();
            assertTrue(t.runToCompletion(600 * SECOND), "transfer ends: " + t.clientSide + " / " + t.serverSide);
            assertTransferred(t, up, new byte[0]);
            assertTrue(t.clientSide.closedAtNs > 90 * SECOND, "nothing could finish before the reader resumed");
            assertTrue(t.serverSide.maxReceiveBuffered <= TransportConfig.MIN_WINDOW_BYTES + 16 * 1024,
                    "receiver buffered at most one window: " + t.serverSide.maxReceiveBuffered);
        }
    }

    @Test
    void anEndpointShutDownAfterItsApplicationClosedEndsTheConnectionGracefullyForThePeer() {
        LinkConfig link = LinkConfig.builder().delay(10 * MS).build();
        byte[] up = payload(12, 50_000);
        byte[] down = payload(13, 5_000);
        try (SimTransfer t = new SimTransfer(49, TransportConfig.DEFAULT, link, link, up, down, 65536, 65536, 0)) {
            t.serverSide.holdOutput = true;
            t.start();
            Connection client = t.clientSide.connection;
            assertTrue(t.sim.runUntil(() -> t.serverSide.eof && client.allDataAcknowledged(), 30 * SECOND),
                    "the client's stream is delivered and acknowledged: " + t.clientSide);
            // The server finishes too, but its FIN never reaches the client before the client's process ends:
            // the application closed, its node shuts down right after (as `pinhole receive --once` does).
            t.clientHost.downlink(LinkConfig.BLACKHOLE);
            t.serverSide.releaseOutput();
            client.close(t.sim.nowNs());
            t.client.wake(client);
            t.client.close();
            t.sim.runFor(5 * SECOND);
            CloseReason serverSaw = t.serverSide.connection.closeReason();
            assertNotNull(serverSaw, "the server's connection ended");
            assertTrue(serverSaw.graceful(), "nothing the client wrote was lost and it closed on purpose: the server"
                    + " sees a graceful end, not a reset; got " + serverSaw);
        }
    }

    @Test
    void keepAliveHoldsAnIdleConnectionOpen() {
        LinkConfig link = LinkConfig.builder().delay(30 * MS).build();
        byte[] up = payload(10, 1000);
        byte[] down = payload(11, 2000);
        try (SimTransfer t = new SimTransfer(48, TransportConfig.DEFAULT, link, link, up, down, 65536, 65536, 0)) {
            t.clientSide.holdOutput = true;
            t.serverSide.holdOutput = true;
            t.start();
            t.sim.runFor(300 * SECOND);
            assertEquals(Connection.State.ESTABLISHED, t.clientSide.connection.state(),
                    "client connection still open after 5 idle minutes: " + t.clientSide);
            assertEquals(Connection.State.ESTABLISHED, t.serverSide.connection.state(),
                    "server connection still open after 5 idle minutes: " + t.serverSide);
            long packets = t.clientSide.connection.stats().packetsSent() + t.serverSide.connection.stats().packetsSent();
            assertTrue(packets <= 60, "keep-alives are sparse (one PING and its ACK per 15 s): " + packets + " packets");
            t.clientSide.releaseOutput();
            t.serverSide.releaseOutput();
            assertTrue(t.runToCompletion(60 * SECOND), "transfer ends: " + t.clientSide + " / " + t.serverSide);
            assertTransferred(t, up, down);
        }
    }

    @Test
    void bulkTransferUsesMostOfABottleneck() {
        for (CongestionControl cc : CongestionControl.values()) {
            byte[] up = payload(12, 20_000_000);
            long bitsPerSecond = 50_000_000L;
            LinkConfig link = LinkConfig.builder().delay(20 * MS).bandwidth(bitsPerSecond, 256 * 1024).build();
            TransportConfig config = TransportConfig.builder().congestionControl(cc).build();
            try (SimTransfer t = new SimTransfer(49, config, link, link, up, new byte[0], 65536, 65536, 0)) {
                t.start();
                assertTrue(t.sim.runUntil(() -> t.serverSide.eof, 120 * SECOND), "transfer ends: " + t.serverSide);
                double seconds = t.sim.nowNs() / 1e9;
                double goodputBits = up.length * 8 / seconds;
                System.out.printf(java.util.Locale.ROOT, "[pinhole] sim: %s moved %d MB over a 50 Mbit/s, 40 ms RTT"
                        + " path in %.2f s of virtual time: goodput %.1f Mbit/s (%.0f%% of the link)%n", cc,
                        up.length / 1_000_000, seconds, goodputBits / 1e6, 100 * goodputBits / bitsPerSecond);
                assertTrue(goodputBits >= 0.75 * bitsPerSecond, cc + " goodput " + goodputBits / 1e6
                        + " Mbit/s is below 75 % of the 50 Mbit/s bottleneck");
                assertTrue(t.runToCompletion(60 * SECOND), "both sides close: " + t.clientSide + " / " + t.serverSide);
            }
        }
    }
}
