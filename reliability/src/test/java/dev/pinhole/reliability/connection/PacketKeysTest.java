package dev.pinhole.reliability.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.crypto.PacketProtection;
import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Time-based key updates and the peer following them, on two PacketKeys facing each other. */
class PacketKeysTest {
    private static final long MINUTE = 60_000_000_000L;

    private final byte[] aToB = secret(1);
    private final byte[] bToA = secret(2);
    private final PacketKeys a = new PacketKeys(aToB.clone(), bToA.clone());
    private final PacketKeys b = new PacketKeys(bToA.clone(), aToB.clone());

    private static byte[] secret(long seed) {
        byte[] s = new byte[PacketProtection.SECRET_LENGTH];
        new SplittableRandom(seed).nextBytes(s);
        return s;
    }

    /** One sealed packet from {@code from} (number {@code pn}) opened by {@code to} at {@code nowNs}. */
    private static void send(PacketKeys from, PacketKeys to, long pn, long nowNs, long largestAcked, long ptoNs) {
        ByteBuf packet = Unpooled.buffer(64);
        PacketHeader.write(packet, PacketHeader.TYPE_SHORT, 7, pn);
        Frames.writePing(packet);
        from.beforeSeal(nowNs, largestAcked);
        assertTrue(from.seal(packet, PacketHeader.HEADER_LENGTH, pn), "sealed");
        assertTrue(to.open(packet, PacketHeader.HEADER_LENGTH, pn - 1) >= 0, "packet " + pn + " opens");
        to.afterOpen(nowNs, ptoNs);
    }

    @Test
    void aKeyIsUpdatedAfterTenMinutesAndThePeerFollows() {
        send(a, b, 0, 0, -1, MINUTE / 60);
        send(a, b, 1, 9 * MINUTE, 0, MINUTE / 60);
        assertEquals(0, a.keyUpdates(), "nine minutes: the first key still");
        send(a, b, 2, 10 * MINUTE, 1, MINUTE / 60);
        assertEquals(1, a.keyUpdates(), "ten minutes: updated");
        assertEquals(1, b.keyUpdates(), "the peer answered with its own update (RFC 9001 §6.2)");
        send(b, a, 0, 10 * MINUTE, -1, MINUTE / 60);
        send(a, b, 3, 19 * MINUTE, 2, MINUTE / 60);
        assertEquals(1, a.keyUpdates(), "the interval restarts at the update");
        send(a, b, 4, 21 * MINUTE, 3, MINUTE / 60);
        assertEquals(2, a.keyUpdates(), "and the next update comes ten minutes after it");
    }

    @Test
    void noTimeBasedUpdateBeforeAPacketOfTheCurrentKeyWasAcknowledged() {
        send(a, b, 0, 0, -1, MINUTE / 60);
        send(a, b, 1, 30 * MINUTE, -1, MINUTE / 60);
        assertEquals(0, a.keyUpdates(), "RFC 9001 §6.1: nothing acknowledged yet, no update");
    }
}
