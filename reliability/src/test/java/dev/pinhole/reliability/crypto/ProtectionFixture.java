package dev.pinhole.reliability.crypto;

import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.SplittableRandom;

/** Builds plaintext packets and keys for the packet protection tests. */
final class ProtectionFixture {
    static final int HEADER = PacketHeader.HEADER_LENGTH;
    static final long CID = 0x0102030405060708L;

    /** Where a test packet lives: the three shapes of buffer the sealer and opener must handle. */
    enum Shape { HEAP, DIRECT, COMPOSITE }

    private ProtectionFixture() {
    }

    static byte[] secret(int seed) {
        final byte[] secret = new byte[PacketProtection.SECRET_LENGTH];
        new SplittableRandom(seed).nextBytes(secret);
        return secret;
    }

    static byte[] payload(int length, long seed) {
        final byte[] payload = new byte[length];
        new SplittableRandom(seed).nextBytes(payload);
        return payload;
    }

    /** A SHORT packet with {@code payload}, room for the tag, in a pooled buffer of {@code shape}. */
    static ByteBuf packet(Shape shape, long packetNumber, byte[] payload) {
        final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        final int capacity = HEADER + payload.length + PacketProtection.TAG_LENGTH;
        switch (shape) {
            case HEAP: {
                final ByteBuf buf = alloc.heapBuffer(capacity);
                PacketHeader.write(buf, PacketHeader.TYPE_SHORT, CID, packetNumber);
                return buf.writeBytes(payload);
            }
            case DIRECT: {
                final ByteBuf buf = alloc.directBuffer(capacity);
                PacketHeader.write(buf, PacketHeader.TYPE_SHORT, CID, packetNumber);
                return buf.writeBytes(payload);
            }
            default: {
                // Header and payload in separate components, as a sender assembling a packet might have them.
                final ByteBuf header = alloc.directBuffer(HEADER);
                PacketHeader.write(header, PacketHeader.TYPE_SHORT, CID, packetNumber);
                final ByteBuf body = alloc.heapBuffer(payload.length + PacketProtection.TAG_LENGTH).writeBytes(payload);
                final CompositeByteBuf composite = alloc.compositeBuffer();
                return composite.addComponents(true, header, body);
            }
        }
    }

    /** A heap copy of the readable bytes, for a test that damages one copy per attempt. */
    static ByteBuf copy(ByteBuf packet) {
        final ByteBuf copy = PooledByteBufAllocator.DEFAULT.heapBuffer(packet.readableBytes());
        return copy.writeBytes(packet, packet.readerIndex(), packet.readableBytes());
    }

    static byte[] bytes(ByteBuf buf, int from, int length) {
        final byte[] out = new byte[length];
        buf.getBytes(buf.readerIndex() + from, out);
        return out;
    }
}
