package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Property;
import dev.pinhole.testkit.Shrinker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Key updates over a reordering, lossy channel: a sender that updates its keys as often as RFC 9001 §6.1
 * lets it (every {@code updateEvery} packets, once a packet of the current phase was acknowledged, the
 * acknowledgement instant), and a receiver that opens packets in the order the channel delivers them.
 *
 * <p>Property: a packet opens, with its own content and number, exactly when its key generation is the
 * opener's, the one before it or the one after it at delivery; a packet two or more generations behind
 * fails (its phase bit names the wrong generation, and RFC 9001 accepts losing it); nothing throws.
 */
class KeyPhasePropertyTest {

    record Scenario(int packets, int updateEvery, int maxDelay, int lossPercent, long seed) {
        static final Gen<Scenario> GEN = r -> new Scenario(Gen.ints(1, 300).next(r), Gen.ints(1, 40).next(r),
                Gen.ints(0, 30).next(r), Gen.ints(0, 30).next(r), r.nextLong());
        static final Shrinker<Scenario> SHRINKER = Shrinker.byFields(Scenario.class)
                .field(Scenario::packets, Shrinker.intsToward(1),
                        (s, v) -> new Scenario(v, s.updateEvery(), s.maxDelay(), s.lossPercent(), s.seed()))
                .field(Scenario::maxDelay, Shrinker.intsToward(0),
                        (s, v) -> new Scenario(s.packets(), s.updateEvery(), v, s.lossPercent(), s.seed()))
                .field(Scenario::lossPercent, Shrinker.intsToward(0),
                        (s, v) -> new Scenario(s.packets(), s.updateEvery(), s.maxDelay(), v, s.seed()));
    }

    private record InFlight(long packetNumber, long generation, int deliverAt, ByteBuf datagram) {
    }

    @Test
    void packetsOpenAcrossKeyUpdatesWithinOneGeneration() {
        // What the scenarios exercised, summed: updates, packets opened with the previous keys, packets that
        // switched the keys, packets too old to open.
        final long[] seen = new long[4];
        Property.forAll(Scenario.GEN).shrinkWith(Scenario.SHRINKER).scale(0.3).check(s -> {
            final SplittableRandom random = new SplittableRandom(s.seed());
            final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(60));
            final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(60));
            final List<InFlight> inFlight = new ArrayList<>();
            long largestOpened = -1;
            int opened = 0;
            for (int t = 0; t < s.packets() || !inFlight.isEmpty(); t++) {
                if (t < s.packets()) {
                    if (sealer.sealedWithCurrentKey() >= s.updateEvery() && sealer.mayInitiateKeyUpdate(largestOpened)) {
                        sealer.updateKeys();
                    }
                    final ByteBuf packet = Unpooled.buffer(HEADER + 64 + PacketProtection.TAG_LENGTH);
                    PacketHeader.write(packet, PacketHeader.TYPE_SHORT, ProtectionFixture.CID, t);
                    packet.writeBytes(ProtectionFixture.payload(t % 64, t));
                    sealer.seal(packet, HEADER, t);
                    if (random.nextInt(100) >= s.lossPercent()) {
                        inFlight.add(new InFlight(t, sealer.generation(), t + random.nextInt(s.maxDelay() + 1), packet));
                    }
                }
                final List<InFlight> due = new ArrayList<>();
                for (InFlight f : inFlight) {
                    if (f.deliverAt() <= t) {
                        due.add(f);
                    }
                }
                inFlight.removeAll(due);
                Collections.shuffle(due, new Random(random.nextLong()));
                for (InFlight f : due) {
                    final long before = opener.generation();
                    final boolean expectOpen = f.generation() >= before - 1 && f.generation() <= before + 1;
                    final int result = opener.open(f.datagram(), HEADER, largestOpened);
                    if (expectOpen) {
                        final int n = (int) f.packetNumber();
                        assertEquals(n % 64, result, () -> "packet " + n + " of generation " + f.generation()
                                + " at opener generation " + before + ": " + PacketProtection.resultName(result));
                        assertEquals(f.packetNumber(), opener.openedPacketNumber());
                        assertArrayEquals(ProtectionFixture.payload(n % 64, n),
                                ProtectionFixture.bytes(f.datagram(), HEADER, n % 64));
                        largestOpened = Math.max(largestOpened, f.packetNumber());
                        opened++;
                        seen[1] += f.generation() == before - 1 ? 1 : 0;
                        seen[2] += f.generation() == before + 1 ? 1 : 0;
                    } else {
                        assertTrue(result < 0, "packet " + f.packetNumber() + " of generation " + f.generation()
                                + " opened at generation " + before);
                        seen[3]++;
                    }
                    assertTrue(opener.generation() <= sealer.generation());
                }
            }
            seen[0] += sealer.generation();
            if (s.lossPercent() == 0 && s.maxDelay() == 0) {
                assertEquals(s.packets(), opened, "an in-order lossless channel delivers everything");
            }
        });
        System.out.printf("key phase property: %d updates, %d packets opened with previous keys, %d switches, "
                + "%d packets too old%n", seen[0], seen[1], seen[2], seen[3]);
    }
}
