package dev.pinhole.core.sim;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * An allocator that counts buffers alive: allocated and not yet deallocated (reference count 0).
 * Unpooled, so a released buffer object is never recycled into a new allocation and the count is
 * exact. Tests run the simulator on it and require zero live buffers after {@code close()}.
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
