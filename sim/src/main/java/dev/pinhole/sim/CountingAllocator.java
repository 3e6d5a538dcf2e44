package dev.pinhole.sim;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * An allocator for simulation runs that counts live buffers exactly, as a deterministic
 * alternative to Netty's GC-driven leak detection: give it to
 * {@link Simulator#Simulator(long, ByteBufAllocator)}, run the scenario, {@code close()} the
 * simulator, and require {@link #liveBuffers()} to be 0.
 *
 * <p>Its buffers are unpooled heap buffers that are not wrapped for leak detection, so they cost
 * no stack traces even with {@code -Dio.netty.leakDetection.level=paranoid}; under paranoid
 * detection the pooled allocator makes a simulated run an order of magnitude slower. The count
 * says how many buffers leaked, not where: to find the allocation site, replay the seed on the
 * pooled allocator ({@link Simulator#Simulator(long)}) with paranoid detection.
 *
 * <p>Tests of code that allocates outside a simulation (buffers, codecs, or protocol code behind an
 * endpoint wrapper whose {@code allocator()} is this one) use it the same way, and end with
 * {@link #assertAllReleased()}.
 *
 * <p>Not thread-safe: allocate and release on the simulator's thread.
 */
public final class CountingAllocator implements ByteBufAllocator {
    /** As Netty's allocators: 256 bytes unless asked otherwise, growable to {@code Integer.MAX_VALUE}. */
    private static final int DEFAULT_INITIAL_CAPACITY = 256;
    private static final int DEFAULT_MAX_CAPACITY = Integer.MAX_VALUE;
    private static final int DEFAULT_MAX_COMPONENTS = 16;

    private long allocated;
    private long live;

    /** Buffers allocated and not yet released to reference count 0. */
    public long liveBuffers() {
        return live;
    }

    /** Buffers allocated since creation. */
    public long allocatedBuffers() {
        return allocated;
    }

    /** Throws an {@link AssertionError} unless every buffer allocated was released. */
    public void assertAllReleased() {
        if (live != 0) {
            throw new AssertionError(live + " buffers still held out of " + allocated + " allocated");
        }
    }

    @Override
    public ByteBuf buffer() {
        return heapBuffer(DEFAULT_INITIAL_CAPACITY, DEFAULT_MAX_CAPACITY);
    }

    @Override
    public ByteBuf buffer(int initialCapacity) {
        return heapBuffer(initialCapacity, DEFAULT_MAX_CAPACITY);
    }

    @Override
    public ByteBuf buffer(int initialCapacity, int maxCapacity) {
        return heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf ioBuffer() {
        return buffer();
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity) {
        return buffer(initialCapacity);
    }

    @Override
    public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
        return buffer(initialCapacity, maxCapacity);
    }

    @Override
    public ByteBuf heapBuffer() {
        return buffer();
    }

    @Override
    public ByteBuf heapBuffer(int initialCapacity) {
        return buffer(initialCapacity);
    }

    @Override
    public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf buffer = new CountedBuf(this, initialCapacity, maxCapacity);
        allocated++;
        live++;
        return buffer;
    }

    /** Simulated datagrams never touch a socket, so "direct" buffers are heap buffers here. */
    @Override
    public ByteBuf directBuffer() {
        return buffer();
    }

    @Override
    public ByteBuf directBuffer(int initialCapacity) {
        return buffer(initialCapacity);
    }

    @Override
    public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
        return buffer(initialCapacity, maxCapacity);
    }

    @Override
    public CompositeByteBuf compositeBuffer() {
        return compositeHeapBuffer();
    }

    @Override
    public CompositeByteBuf compositeBuffer(int maxNumComponents) {
        return compositeHeapBuffer(maxNumComponents);
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer() {
        return compositeHeapBuffer(DEFAULT_MAX_COMPONENTS);
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return new CompositeByteBuf(this, false, maxNumComponents);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer() {
        return compositeHeapBuffer();
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return compositeHeapBuffer(maxNumComponents);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    @Override
    public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
        return UnpooledByteBufAllocator.DEFAULT.calculateNewCapacity(minNewCapacity, maxCapacity);
    }

    @Override
    public String toString() {
        return "CountingAllocator{live=" + live + ", allocated=" + allocated + "}";
    }

    private final class CountedBuf extends UnpooledHeapByteBuf {
        CountedBuf(ByteBufAllocator allocator, int initialCapacity, int maxCapacity) {
            super(allocator, initialCapacity, maxCapacity);
        }

        @Override
        protected void deallocate() {
            super.deallocate();
            live--;
        }
    }
}
