package dev.pinhole.reliability.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Byte storage addressed by absolute stream offset, as a ring of fixed-size chunks taken from a
 * (pooled) allocator when first written and given back once the owner no longer needs the offsets
 * below some point. Holds any {@code capacity} consecutive offsets starting at or above the release
 * point; since such a window touches at most {@code ceil(capacity / chunkSize) + 1} chunks, memory
 * stays below {@code capacity + 2 * chunkSize} however the stream advances (the chunk size is capped
 * at the capacity).
 *
 * <p>Up to {@link #SPARE_CHUNKS} chunks given back below the window are kept and reused for the next
 * chunks the window needs: a steadily moving stream then takes nothing from the allocator (Netty
 * 4.2's pooled allocator creates a new buffer object on every call), and an idle ring holds at most
 * two chunks more than its data needs. Spares fill only on release and are drawn first, so the total
 * never exceeds the slot count.
 *
 * <p>Offsets outside the window are a bug of the owner and throw {@link IllegalArgumentException}.
 */
final class ChunkRing {
    private final ByteBufAllocator allocator;
    private final int chunkSize;
    private final ByteBuf[] slots;
    /**
     * Released chunks kept for reuse. Two, because a stream whose readers and writers meet exactly at
     * a chunk boundary drops to zero chunks in use and then needs two again.
     */
    static final int SPARE_CHUNKS = 2;

    private final ByteBuf[] spares = new ByteBuf[SPARE_CHUNKS];
    private int spareCount;
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
        this.chunkSize = Math.min(chunkSize, capacity);
        // One extra chunk: the window's first offset need not be chunk-aligned.
        this.slots = new ByteBuf[(int) ((capacity + (long) this.chunkSize - 1) / this.chunkSize) + 1];
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
                if (spareCount < SPARE_CHUNKS) {
                    spares[spareCount++] = slots[slot];
                } else {
                    slots[slot].release();
                    allocatedChunks--;
                }
                slots[slot] = null;
            }
            lowestChunk++;
        }
    }

    /** Bytes currently held from the allocator, spare chunks included. */
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
        while (spareCount > 0) {
            spares[--spareCount].release();
            spares[spareCount] = null;
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
            if (spareCount > 0) {
                chunk = spares[--spareCount];
                spares[spareCount] = null;
            } else {
                chunk = allocator.buffer(chunkSize, chunkSize);
                allocatedChunks++;
            }
            slots[slot] = chunk;
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
