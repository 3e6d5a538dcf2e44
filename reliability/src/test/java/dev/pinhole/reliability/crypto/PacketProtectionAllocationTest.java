package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.AllocationMeter;
import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * What sealing and opening one packet allocates in steady state. Not zero: JDK 17's AES-GCM allocates about
 * 1 kB per encryption or decryption inside the JCE (its per-nonce GCM engine state; 136 bytes of it in
 * {@code Cipher.init}), whatever the payload size and whether the buffers are arrays or ByteBuffers, and
 * {@code GCMParameterSpec} copies the nonce. Measured 2112 bytes per seal+open on JDK 17.0.15. The bound
 * sits above that and below it plus a per-packet copy of the 1171-byte payload, so such a copy, or a new
 * Cipher per packet (kilobytes), would fail the test. Figures: docs/decisions/0011-packet-protection.md.
 */
class PacketProtectionAllocationTest {
    private static final int PAYLOAD = 1200 - HEADER - PacketProtection.TAG_LENGTH;
    private static final int RUNS = 2_000;
    /** The JCE's 2112 bytes with some slack, less than those plus a payload copy. */
    private static final long BOUND_PER_PACKET = 3000;

    @Test
    void sealAndOpenAllocateOnlyWhatTheJceAllocates() {
        assertBounded(false);
    }

    @Test
    void theDirectBufferPathAllocatesNoMore() {
        assertBounded(true);
    }

    private static void assertBounded(boolean direct) {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(50));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(50));
        final byte[] payload = ProtectionFixture.payload(PAYLOAD, 1);
        final int capacity = HEADER + PAYLOAD + PacketProtection.TAG_LENGTH;
        // Wrapped buffers carry no leak-detection wrapper, which under the tests' paranoid level records a
        // stack trace on every access and would swamp the figure; the transport runs at Netty's default level.
        final ByteBuf packet = direct ? Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(capacity)).clear()
                : Unpooled.wrappedBuffer(new byte[capacity]).clear();
        final long[] pn = {0};
        try {
            final long bytes = AllocationMeter.bytesAllocated(20_000, RUNS, () -> {
                final long number = pn[0]++;
                packet.clear();
                PacketHeader.write(packet, PacketHeader.TYPE_SHORT, ProtectionFixture.CID, number);
                packet.writeBytes(payload);
                sealer.seal(packet, HEADER, number);
                if (opener.open(packet, HEADER, number - 1) != PAYLOAD) {
                    throw new AssertionError("packet " + number + " did not open");
                }
            });
            final long perPacket = bytes / RUNS;
            System.out.printf("packet protection (%s): %d bytes allocated per seal+open of a 1200-byte packet%n",
                    direct ? "direct" : "heap", perPacket);
            assertTrue(perPacket <= BOUND_PER_PACKET, perPacket + " bytes per packet");
            assertEquals(PAYLOAD, packet.readableBytes() - HEADER);
        } finally {
            packet.release();
        }
    }
}
