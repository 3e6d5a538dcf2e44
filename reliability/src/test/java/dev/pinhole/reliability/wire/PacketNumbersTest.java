package dev.pinhole.reliability.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PacketNumbersTest {

    @Test
    void decodesTheExampleOfRfc9000AppendixA3() {
        assertEquals(0xa82f9b32L, PacketNumbers.decode(0xa82f30eaL, 0x9b32L, 16));
    }

    @Test
    void decodesTheFirstPacketsWhenNothingWasReceived() {
        assertEquals(0L, PacketNumbers.decode(-1, 0));
        assertEquals(5L, PacketNumbers.decode(-1, 5));
    }

    @Test
    void reconstructsAcrossThe32BitWrapInBothDirections() {
        long largest = 0xFFFF_FFF0L;
        assertEquals(0x1_0000_0002L, PacketNumbers.decode(largest, 2), "just after the wrap");
        assertEquals(0x1_0000_0002L - 5, PacketNumbers.decode(0x1_0000_0002L, 0xFFFF_FFFDL), "late packet from before the wrap");
    }

    @Test
    void roundTripsNumbersWithinHalfTheWindowOfTheLargestReceived() {
        long seed = 0xA3L;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 100_000; i++) {
            long largest = random.nextLong(PacketNumbers.MAX_PACKET_NUMBER >>> 1);
            long pn = largest + random.nextLong(-(1L << 31) + 1, (1L << 31));
            if (pn < 0) {
                continue;
            }
            assertEquals(pn, PacketNumbers.decode(largest, PacketNumbers.truncate(pn)),
                    "pn " + pn + " with largest received " + largest + " (seed " + seed + ")");
        }
    }

    @Test
    void refusesToEncodeWhenTheUnackedSpanReaches2To31() {
        assertTrue(PacketNumbers.canEncode(0, -1));
        assertTrue(PacketNumbers.canEncode(PacketNumbers.MAX_UNACKED_SPAN + 10, 10));
        assertFalse(PacketNumbers.canEncode(PacketNumbers.MAX_UNACKED_SPAN + 11, 10));
        assertFalse(PacketNumbers.canEncode(PacketNumbers.MAX_PACKET_NUMBER + 1, PacketNumbers.MAX_PACKET_NUMBER));
        assertEquals(0x1234L, PacketNumbers.encode(0x7_0000_1234L, 0x7_0000_0000L));
        assertThrows(IllegalStateException.class, () -> PacketNumbers.encode(1L << 31, -1));
    }
}
