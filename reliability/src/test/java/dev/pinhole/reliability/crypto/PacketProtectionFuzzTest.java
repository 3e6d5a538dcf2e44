package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Property;
import dev.pinhole.testkit.Shrinker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the opener: random datagrams, and sealed packets with random damage, only ever give a
 * failure result; never an exception, never moved indices, never a leaked buffer (the tests run with
 * Netty's paranoid leak detection, and the testkit's extension fails the class on a leak report).
 */
class PacketProtectionFuzzTest {
    private static final byte[] SECRET = ProtectionFixture.secret(40);

    /** A random datagram: its bytes come from {@code contentSeed}; maybe with a plausible first byte. */
    record Garbage(int length, boolean pinholeFirstByte, boolean direct, long contentSeed, long largestReceived) {
        static final Gen<Garbage> GEN = r -> new Garbage(
                Gen.ints(0, 1500).next(r), Gen.booleans(0.8).next(r), Gen.booleans().next(r),
                r.nextLong(), Gen.longs(-1, 1L << 40).next(r));
        static final Shrinker<Garbage> SHRINKER = Shrinker.byFields(Garbage.class)
                .field(Garbage::length, Shrinker.intsToward(0),
                        (g, v) -> new Garbage(v, g.pinholeFirstByte(), g.direct(), g.contentSeed(), g.largestReceived()))
                .field(Garbage::direct, Shrinker.booleans(),
                        (g, v) -> new Garbage(g.length(), g.pinholeFirstByte(), v, g.contentSeed(), g.largestReceived()))
                .field(Garbage::largestReceived, Shrinker.longsToward(-1),
                        (g, v) -> new Garbage(g.length(), g.pinholeFirstByte(), g.direct(), g.contentSeed(), v));
    }

    /** A genuine packet with {@code changes} bytes altered and its length moved by {@code lengthDelta}. */
    record Damage(int payloadLength, int changes, int lengthDelta, long seed) {
        static final Gen<Damage> GEN = r -> {
            final int changes = Gen.ints(0, 8).next(r);
            final int delta = Gen.ints(-20, 20).next(r);
            return new Damage(Gen.ints(0, 1400).next(r), changes == 0 && delta == 0 ? 1 : changes, delta, r.nextLong());
        };
        static final Shrinker<Damage> SHRINKER = Shrinker.byFields(Damage.class)
                .field(Damage::payloadLength, Shrinker.intsToward(0),
                        (d, v) -> new Damage(v, d.changes(), d.lengthDelta(), d.seed()))
                .field(Damage::changes, Shrinker.intsToward(1),
                        (d, v) -> new Damage(d.payloadLength(), v, d.lengthDelta(), d.seed()));
    }

    @Test
    void randomDatagramsOnlyFail() {
        Property.forAll(Garbage.GEN).shrinkWith(Garbage.SHRINKER).check(g -> {
            final SplittableRandom random = new SplittableRandom(g.contentSeed());
            final byte[] bytes = new byte[g.length()];
            random.nextBytes(bytes);
            if (g.pinholeFirstByte() && bytes.length > 0) {
                bytes[0] = (byte) (PacketHeader.firstByte(PacketHeader.TYPE_SHORT) | (bytes[0] & PacketProtection.KEY_PHASE_BIT));
            }
            final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
            final ByteBuf datagram = (g.direct() ? alloc.directBuffer(bytes.length) : alloc.heapBuffer(bytes.length));
            try {
                // An offset reader index, as a datagram read into a larger buffer would have.
                datagram.writeBytes(new byte[3]).readerIndex(3);
                datagram.writeBytes(bytes);
                final PacketOpener opener = PacketProtection.opener(SECRET);
                final int result = opener.open(datagram, HEADER, g.largestReceived());
                final int expected = g.length() < HEADER + PacketProtection.TAG_LENGTH
                        ? PacketProtection.OPEN_TOO_SHORT : PacketProtection.OPEN_AUTHENTICATION_FAILED;
                assertEquals(expected, result, PacketProtection.resultName(result));
                assertEquals(3, datagram.readerIndex());
                assertEquals(3 + g.length(), datagram.writerIndex());
                assertEquals(0, opener.generation());
            } finally {
                datagram.release();
            }
        });
    }

    @Test
    void damagedPacketsOnlyFail() {
        Property.forAll(Damage.GEN).shrinkWith(Damage.SHRINKER).check(d -> {
            final SplittableRandom random = new SplittableRandom(d.seed());
            final long pn = random.nextLong(1L << 40);
            final PacketSealer sealer = PacketProtection.sealer(SECRET);
            final ByteBuf packet = ProtectionFixture.packet(ProtectionFixture.Shape.HEAP, pn,
                    ProtectionFixture.payload(d.payloadLength(), d.seed()));
            try {
                final int sealedLength = sealer.seal(packet, HEADER, pn);
                // Distinct positions, each XORed with a non-zero value: two changes never cancel out.
                final boolean[] touched = new boolean[sealedLength];
                for (int i = 0; i < d.changes(); i++) {
                    int position;
                    do {
                        position = random.nextInt(sealedLength);
                    } while (touched[position]);
                    touched[position] = true;
                    final int index = packet.readerIndex() + position;
                    packet.setByte(index, packet.getByte(index) ^ (1 + random.nextInt(255)));
                }
                if (d.lengthDelta() < 0) {
                    packet.writerIndex(packet.writerIndex() + d.lengthDelta());
                } else {
                    for (int i = 0; i < d.lengthDelta(); i++) {
                        packet.writeByte(random.nextInt(256));
                    }
                }
                final int length = packet.readableBytes();
                final PacketOpener opener = PacketProtection.opener(SECRET);
                final int result = opener.open(packet, HEADER, pn - 1);
                assertTrue(result < 0, "damaged packet opened: " + PacketProtection.resultName(result));
                assertEquals(length, packet.readableBytes());
            } finally {
                packet.release();
            }
        });
    }
}
