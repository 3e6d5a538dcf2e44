package dev.pinhole.core.buffer;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The one buffer allocator of Pinhole.
 *
 * <p>Netty 4.2's default allocator is adaptive, not pooled; Pinhole asks for
 * {@link PooledByteBufAllocator} explicitly so that steady-state sending allocates nothing.
 *
 * <h2>Release rules (Netty reference counting)</h2>
 * <ul>
 *   <li>A new buffer has reference count 1 and belongs to whoever allocated it.</li>
 *   <li>Handing a buffer to {@link dev.pinhole.core.net.DatagramEndpoint#send} hands over ownership:
 *       the endpoint releases it.</li>
 *   <li>A buffer given to a {@link dev.pinhole.core.net.DatagramReceiver} is lent for the call; the
 *       driver releases it afterwards. Keep it only by {@code retain()}ing it.</li>
 *   <li>Otherwise, the last code to touch a buffer releases it, in a {@code finally} block.</li>
 * </ul>
 * Tests run with {@code -Dio.netty.leakDetection.level=paranoid}, which reports any buffer that is
 * garbage-collected without having been released.
 */
public final class Buffers {
    /** Shared pooled allocator; direct buffers when the platform supports them. */
    public static final ByteBufAllocator ALLOCATOR = PooledByteBufAllocator.DEFAULT;

    private Buffers() {
    }
}
