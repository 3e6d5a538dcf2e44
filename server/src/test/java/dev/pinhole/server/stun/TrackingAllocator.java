package dev.pinhole.server.stun;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * Counts buffers alive (allocated, reference count not yet 0). Unpooled, so the count is exact.
 * Tests hand it to protocol code through {@link TrackedEndpoint} and require zero live buffers at
 * the end.
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private long allocated;
    private long live;

    TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        allocated++;
        live++;
        return new TrackedBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return newHeapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    long allocated() {
        return allocated;
    }

    long live() {
        return live;
    }

    private final class TrackedBuf extends UnpooledHeapByteBuf {
        TrackedBuf(TrackingAllocator allocator, int initialCapacity, int maxCapacity) {
            super(allocator, initialCapacity, maxCapacity);
        }

        @Override
        protected void deallocate() {
            super.deallocate();
            live--;
        }
    }
}
