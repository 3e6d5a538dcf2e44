package dev.pinhole.reliability.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Byte storage addressed by absolute stream offset, as a ring of fixed-size chunks taken from a
 * (pooled) allocator when first written and given back once the owner no longer needs the offsets
 * below some point. Holds any {@code capacity} consecutive offsets starting at or above the release
 * point, so memory stays within {@code capacity} plus one chunk however the stream advances.
 *
 * <p>Offsets outside the window are a bug of the owner and throw {@link IllegalArgumentException}.
 */
final class ChunkRing {
    private final ByteBufAllocator allocator;
    private final int chunkSize;
    private final ByteBuf[] slots;
    /** The lowest chunk number that may still hold data: chunk n covers [n * chunkSize, (n+1) * chunkSize). */
    private long lowestChunk;
    private int allocatedChunks;
    private boolean closed;

    ChunkRing(ByteBufAllocator allocator, int capacity, int chunkSize) {
        if (capacity < 1 || chunkSize < 1) {
            throw new IllegalArgumentException("capacity and chunk size must be positive, were " + capacity
                    + " and " + chunkSize);
        }
        this.allocator = allocator;
        this.chunkSize = chunkSize;
        // One extra chunk: the window's first offset need not be chunk-aligned.
        this.slots = new ByteBuf[(int) ((capacity + (long) chunkSize - 1) / chunkSize) + 1];
    }

    /** Copies {@code len} bytes of {@code src} from {@code srcIndex} to stream offset {@code offset}. */
    void write(long offset, ByteBuf src, int srcIndex, int len) {
        checkWindow(offset, len);
        while (len > 0) {
            final ByteBuf chunk = chunkFor(offset, true);
            final int within = (int) (offset % chunkSize);
            final int n = Math.min(len, chunkSize - within);
            chunk.setBytes(within, src, srcIndex, n);
            offset += n;
            srcIndex += n;
            len -= n;
        }
    }

    /** Copies {@code len} bytes of {@code src} from {@code srcOffset} to stream offset {@code offset}. */
    void write(long offset, byte[] src, int srcOffset, int len) {
        checkWindow(offset, len);
        while (len > 0) {
            final ByteBuf chunk = chunkFor(offset, true);
            final int within = (int) (offset % chunkSize);
            final int n = Math.min(len, chunkSize - within);
            chunk.setBytes(within, src, srcOffset, n);
            offset += n;
            srcOffset += n;
            len -= n;
        }
    }

    /** Appends {@code len} bytes from stream offset {@code offset} at the writer index of {@code dst}. */
    void copyTo(long offset, ByteBuf dst, int len) {
        checkWindow(offset, len);
        while (len > 0) {
            final ByteBuf chunk = chunkFor(offset, false);
            final int within = (int) (offset % chunkSize);
            final int n = Math.min(len, chunkSize - within);
            dst.writeBytes(chunk, within, n);
            offset += n;
            len -= n;
        }
    }

    /** Copies {@code len} bytes from stream offset {@code offset} into {@code dst} at {@code dstOffset}. */
    void copyTo(long offset, byte[] dst, int dstOffset, int len) {
        checkWindow(offset, len);
        while (len > 0) {
            final ByteBuf chunk = chunkFor(offset, false);
            final int within = (int) (offset % chunkSize);
            final int n = Math.min(len, chunkSize - within);
            chunk.getBytes(within, dst, dstOffset, n);
            offset += n;
            dstOffset += n;
            len -= n;
        }
    }

    /** Gives back every chunk that lies entirely below {@code offset}; the window moves up to it. */
    void releaseBelow(long offset) {
        while ((lowestChunk + 1) * chunkSize <= offset) {
            final int slot = slotOf(lowestChunk);
            if (slots[slot] != null) {
                slots[slot].release();
                slots[slot] = null;
                allocatedChunks--;
            }
            lowestChunk++;
        }
    }

    /** Bytes currently held from the allocator. */
    long allocatedBytes() {
        return (long) allocatedChunks * chunkSize;
    }

    /** Releases every chunk; the ring cannot be used afterwards. */
    void close() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                slots[i].release();
                slots[i] = null;
            }
        }
        allocatedChunks = 0;
        closed = true;
    }

    private ByteBuf chunkFor(long offset, boolean allocate) {
        final int slot = slotOf(offset / chunkSize);
        ByteBuf chunk = slots[slot];
        if (chunk == null) {
            if (!allocate) {
                throw new IllegalArgumentException("offset " + offset + " was never written");
            }
            chunk = allocator.buffer(chunkSize, chunkSize);
            slots[slot] = chunk;
            allocatedChunks++;
        }
        return chunk;
    }

    private int slotOf(long chunkNumber) {
        return (int) (chunkNumber % slots.length);
    }

    private void checkWindow(long offset, int len) {
        if (closed) {
            throw new IllegalStateException("buffer is closed");
        }
        final long windowStart = lowestChunk * chunkSize;
        final long windowEnd = (lowestChunk + slots.length) * chunkSize;
        if (len < 0 || offset < windowStart || offset + len > windowEnd) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + len)
                    + ") is outside the held window [" + windowStart + ", " + windowEnd + ")");
        }
    }
}
