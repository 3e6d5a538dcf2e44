package dev.pinhole.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.Simulator;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

/** Loss injection for the demo and the benchmarks, on the deterministic simulator. */
class LossyEndpointTest {
    private static final long SEED = 0x1055L;
    private static final int DATAGRAMS = 10_000;

    private static int[] exchange(int firstByte, double loss) {
        try (Simulator sim = new Simulator(SEED)) {
            SimEndpoint a = sim.internet().addHost("198.51.100.1").bind(4000);
            SimEndpoint b = sim.internet().addHost("198.51.100.2").bind(4000);
            LossyEndpoint lossyA = new LossyEndpoint(a, loss, SEED, true);
            LossyEndpoint lossyB = new LossyEndpoint(b, loss, SEED + 1, true);
            int[] received = new int[1];
            lossyB.receiver((datagram, from) -> received[0]++);
            lossyA.receiver((datagram, from) -> {
            });
            for (int i = 0; i < DATAGRAMS; i++) {
                ByteBuf d = lossyA.allocator().buffer(16).writeByte(firstByte).writeInt(i);
                lossyA.send(d, b.localAddress());
            }
            sim.runFor(1_000_000_000L);
            return new int[] {received[0], (int) lossyA.dropped(), (int) lossyB.dropped()};
        }
    }

    @Test
    void dropsAboutTheFractionOfTransportPacketsOnSendAndReceive() {
        int[] r = exchange(0x80, 0.05);
        int dropped = r[1] + r[2];
        assertEquals(DATAGRAMS, r[0] + dropped, "every datagram either arrives or is counted as dropped: " + r[0]
                + " arrived, " + dropped + " dropped (seed " + SEED + ")");
        // Two 5 % stages lose 9.75 %; the binomial standard deviation at 10 000 is about 30.
        assertTrue(dropped > 800 && dropped < 1150, "dropped " + dropped + " of " + DATAGRAMS + " (seed " + SEED + ")");
    }

    @Test
    void rejectsLossFractionsOutsideZeroToOne() {
        try (Simulator sim = new Simulator(SEED)) {
            SimEndpoint a = sim.internet().addHost("198.51.100.1").bind(4000);
            for (double bad : new double[] {-0.1, 1.5, Double.NaN}) {
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new LossyEndpoint(a, bad, SEED, false), "loss fraction " + bad);
            }
        }
    }

    @Test
    void neverDropsStunOrRendezvousDatagrams() {
        int[] r = exchange(0x00, 0.4);
        assertEquals(DATAGRAMS, r[0], "STUN-range datagrams all arrive (seed " + SEED + ")");
        assertEquals(0, r[1] + r[2], "nothing counted as dropped");
    }
}
