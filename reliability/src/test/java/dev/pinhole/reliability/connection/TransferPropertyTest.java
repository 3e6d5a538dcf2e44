package dev.pinhole.reliability.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimCounters;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.testkit.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded transfer scenarios over impaired simulated paths (loss, bursts, duplication, reordering,
 * delay with jitter, bandwidth limits), both directions at once. A failure prints its seed and the
 * replay command, and shrinks.
 */
@ExtendWith(SampledLeakDetection.class)
class TransferPropertyTest {
    private static final long VIRTUAL_TIMEOUT_NS = 3_600 * SimTransfer.SECOND;
    /** Retransmitted stream bytes may be at most this many datagrams' worth per datagram lost or reordered. */
    private static final int RETRANSMIT_FACTOR = 2;
    /** Plus this many datagrams' worth for probes and tail losses. */
    private static final int RETRANSMIT_SLACK_DATAGRAMS = 8;

    @Test
    void everyByteArrivesOnceInOrderOverImpairedPaths() {
        Property.forAll(TransferScenario.generator(1_500_000, true))
                .shrinkWith(TransferScenario.SHRINKER)
                .scale(1.0)
                .maxShrinkAttempts(60)
                .check(TransferPropertyTest::transferAndCheck);
    }

    @Test
    void cleanPathsNeverRetransmit() {
        Property.forAll(TransferScenario.generator(1_500_000, false))
                .shrinkWith(TransferScenario.SHRINKER)
                .scale(0.2)
                .maxShrinkAttempts(60)
                .check(TransferPropertyTest::transferAndCheck);
    }

    @Test
    void largeTransfersOverImpairedPaths() {
        Property.forAll(TransferScenario.generator(4_000_000, true)
                        .map(s -> s.with(Math.max(s.clientBytes(), 1_000_000), s.serverBytes())))
                .shrinkWith(TransferScenario.SHRINKER)
                .scale(0.1)
                .maxShrinkAttempts(30)
                .check(TransferPropertyTest::transferAndCheck);
    }

    /**
     * The same properties with an attacker on the path that replays, spoofs, flips bits in, truncates and
     * forges a fifth of all datagrams: every byte still arrives once and in order, both sides close
     * gracefully, nothing is retransmitted beyond what the network's own losses explain, the connection
     * never moves to the attacker's address, and every injected datagram was dropped.
     */
    @Test
    void anAttackerOnThePathChangesNothing() {
        long[] totals = new long[3];
        Property.forAll(TransferScenario.generator(1_500_000, true))
                .shrinkWith(TransferScenario.SHRINKER)
                .scale(0.2)
                .maxShrinkAttempts(30)
                .check(s -> {
                    SimTransfer t = transferAndCheck(s, 0.2);
                    totals[0]++;
                    totals[1] += t.adversary.injected();
                    totals[2] += t.rejectedDatagrams();
                });
        System.out.printf("attacker scenarios: %d, datagrams injected: %d, counted as dropped: %d%n",
                totals[0], totals[1], totals[2]);
        assertTrue(totals[1] > 10 * totals[0], "the attacker was active: " + totals[1] + " in " + totals[0]);
    }

    static void transferAndCheck(TransferScenario s) {
        transferAndCheck(s, 0);
    }

    static SimTransfer transferAndCheck(TransferScenario s, double attackShare) {
        byte[] up = s.clientPayload();
        byte[] down = s.serverPayload();
        TransportConfig config = s.config();
        SimTransfer transfer = new SimTransfer(s.simSeed(), config, s.uplink().toLinkConfig(),
                s.downlink().toLinkConfig(), up, down, s.maxWriteChunk(), s.maxReadChunk(), s.readBytesPerMs());
        try (SimTransfer t = transfer) {
            if (attackShare > 0) {
                t.adversary = new Adversary(t.sim, t.sim.random("test/adversary"), attackShare);
            }
            t.start();
            long wallStart = System.nanoTime();
            try {
                check(s, t, up, down, config);
                if (System.getProperty("pinhole.timing") != null) {
                    System.out.printf("%8.1f ms wall %10.1f ms virtual %s%n", (System.nanoTime() - wallStart) / 1e6,
                            t.sim.nowNs() / 1e6, s);
                }
            } catch (AssertionError e) {
                if (t.log != null) {
                    t.log.print();
                }
                throw e;
            }
        }
        assertEquals(0, transfer.leakedBuffers(), "transport buffers all released after the endpoints closed");
        return transfer;
    }

    private static void check(TransferScenario s, SimTransfer t, byte[] up, byte[] down, TransportConfig config) {
        {
            boolean done = t.runToCompletion(VIRTUAL_TIMEOUT_NS);
            String both = "; client " + t.clientSide + "; server " + t.serverSide;
            assertTrue(done, "both connections end within an hour of virtual time; client " + t.clientSide
                    + "; server " + t.serverSide);
            assertTrue(t.serverSide.receivedExactly(up), "server read the client's " + up.length
                    + " bytes exactly once in order; first difference at " + t.serverSide.firstMismatch(up) + "; "
                    + both);
            assertTrue(t.clientSide.receivedExactly(down), "client read the server's " + down.length
                    + " bytes exactly once in order; first difference at " + t.clientSide.firstMismatch(down) + "; "
                    + both);
            assertTrue(t.clientSide.eof && t.serverSide.eof, "both sides read the end of the stream" + both);
            assertTrue(t.clientSide.closeReason != null && t.clientSide.closeReason.graceful(),
                    "client connection closed gracefully" + both);
            assertTrue(t.serverSide.closeReason != null && t.serverSide.closeReason.graceful(),
                    "server connection closed gracefully" + both);

            long retransmitted = t.clientSide.finalStats.bytesRetransmitted()
                    + t.serverSide.finalStats.bytesRetransmitted();
            SimCounters c = t.clientHost.counters();
            SimCounters sc = t.serverHost.counters();
            long disturbed = c.droppedTotal() + sc.droppedTotal() + c.reordered() + sc.reordered();
            if (s.clean()) {
                assertEquals(0, retransmitted, "nothing retransmitted on paths without loss, jitter or reordering");
            }
            long bound = (long) s.datagramSize() * (RETRANSMIT_FACTOR * disturbed + RETRANSMIT_SLACK_DATAGRAMS
                    + t.clientSide.finalStats.probesSent() + t.serverSide.finalStats.probesSent());
            assertTrue(retransmitted <= bound, "retransmitted " + retransmitted + " bytes, more than " + bound
                    + " allowed for " + disturbed + " datagrams lost or reordered");

            if (t.adversary != null) {
                String attack = t.adversary + both;
                assertFalse(Adversary.THIRD_PARTY.equals(t.clientSide.finalStats.path())
                        || Adversary.THIRD_PARTY.equals(t.serverSide.finalStats.path()),
                        "no connection moved to the attacker's address: " + attack);
                long damaged = t.adversary.bitFlipped + t.adversary.truncated + t.adversary.forged;
                if (damaged >= 20) {
                    assertTrue(t.rejectedDatagrams() > 0, "damaged datagrams were counted as dropped: " + attack);
                }
            }

            long sendLimit = config.sendBufferSize();
            long receiveLimit = config.receiveWindow() + 2L * 16 * 1024;
            for (SimTransfer.Side side : new SimTransfer.Side[] {t.clientSide, t.serverSide}) {
                assertTrue(side.maxSendBuffered <= sendLimit, side.name + " buffered " + side.maxSendBuffered
                        + " bytes to send, more than the send buffer " + sendLimit);
                assertTrue(side.maxReceiveBuffered <= receiveLimit, side.name + " buffered "
                        + side.maxReceiveBuffered + " received bytes, more than the window allows " + receiveLimit);
            }
        }
    }
}
