package dev.pinhole.reliability.stream;

import dev.pinhole.reliability.wire.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The receiving half of the stream: reassembles STREAM frame data that arrives out of order,
 * duplicated or overlapping into the original byte sequence, delivers it in order exactly once, and
 * runs the receiver's side of flow control (RFC 9000 §4).
 *
 * <pre>
 *   0      readOffset      contiguous end            advertisedMaxData   readOffset + window
 *   | read  | ready to read |  holes and out-of-order  |  not allowed yet  |
 * </pre>
 *
 * <ul>
 *   <li>The peer may send up to the last MAX_DATA advertised ({@link #advertisedMaxData()}, first the
 *       window itself as the initialMaxData transport parameter); data beyond it is a flow-control
 *       violation ({@link #FLOW_CONTROL_VIOLATION}, RFC 9000 §4.1 FLOW_CONTROL_ERROR).</li>
 *   <li>Bytes already received or already read are dropped and counted; only the missing parts of a
 *       segment are stored (RFC 9000 §2.2 lets the receiver keep either copy of identical data).</li>
 *   <li>The final size fixed by a FIN may not change and no data may lie beyond it
 *       ({@link #FINAL_SIZE_VIOLATION}, RFC 9000 §4.5).</li>
 *   <li>{@link #shouldSendMaxData()} turns true when the application consumed half a window since the
 *       last advertisement, so a MAX_DATA update is sent neither per packet nor too late.</li>
 * </ul>
 * Memory is bounded by the window: a ring of chunks from the given (pooled) allocator covering
 * [readOffset, readOffset + window), less than the window plus two chunks, plus the set of received
 * ranges. Single-threaded; {@link #close()}
 * releases all storage.
 */
public final class ReceiveBuffer implements AutoCloseable {
    /** {@link #onData} result: the data reaches beyond the advertised MAX_DATA (RFC 9000 §4.1). */
    public static final int FLOW_CONTROL_VIOLATION = -1;
    /** {@link #onData} result: the data contradicts the final size set by a FIN (RFC 9000 §4.5). */
    public static final int FINAL_SIZE_VIOLATION = -2;
    /** Size of the storage chunks taken from the allocator. */
    public static final int DEFAULT_CHUNK_SIZE = 16 * 1024;

    private final int window;
    private final ChunkRing ring;
    /** Received offsets; the first range may start below readOffset (read bytes are not trimmed). */
    private final ByteRanges received = new ByteRanges();

    private long readOffset;
    private long advertisedMaxData;
    /** One past the highest offset received. */
    private long highestReceived;
    private long finalSize = -1;
    private boolean closed;

    private long duplicateBytes;
    private long duplicateSegments;

    /** @param window the receive window in bytes; also the initial MAX_DATA this side advertises */
    public ReceiveBuffer(ByteBufAllocator allocator, int window) {
        this(allocator, window, Math.min(DEFAULT_CHUNK_SIZE, Math.max(1, window)));
    }

    /** With an explicit chunk size; small chunks let tests cross chunk boundaries often. */
    ReceiveBuffer(ByteBufAllocator allocator, int window, int chunkSize) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be positive, was " + window);
        }
        this.window = window;
        this.ring = new ChunkRing(allocator, window, chunkSize);
        this.advertisedMaxData = window;
    }

    /**
     * Stores the data of a STREAM frame: the readable bytes of {@code data} at stream {@code offset}.
     * The indices of {@code data} are not changed and it is not retained.
     *
     * @return the number of bytes that were new (0 for a pure duplicate), or
     *     {@link #FLOW_CONTROL_VIOLATION} or {@link #FINAL_SIZE_VIOLATION}; on a violation nothing is
     *     stored and the connection is expected to close with that error
     */
    public int onData(long offset, ByteBuf data, boolean fin) {
        if (closed) {
            return 0;
        }
        final int length = data.readableBytes();
        if (offset < 0 || offset > Frames.MAX_STREAM_OFFSET - length) {
            return FLOW_CONTROL_VIOLATION;
        }
        final long end = offset + length;
        if (finalSize >= 0 && (end > finalSize || (fin && end != finalSize))) {
            return FINAL_SIZE_VIOLATION;
        }
        if (fin && end < highestReceived) {
            return FINAL_SIZE_VIOLATION;
        }
        if (end > advertisedMaxData) {
            return FLOW_CONTROL_VIOLATION;
        }
        if (fin) {
            finalSize = end;
        }
        highestReceived = Math.max(highestReceived, end);

        // Store only the parts of [max(offset, readOffset), end) not received before.
        long position = Math.max(offset, readOffset);
        int fresh = 0;
        int i = received.firstEndingAfter(position);
        while (position < end) {
            if (i < received.size() && received.start(i) <= position) {
                position = received.end(i);
                i++;
                continue;
            }
            final long gapEnd = i < received.size() ? Math.min(end, received.start(i)) : end;
            final int n = (int) (gapEnd - position);
            ring.write(position, data, data.readerIndex() + (int) (position - offset), n);
            fresh += n;
            position = gapEnd;
        }
        if (fresh > 0) {
            received.add(Math.max(offset, readOffset), end);
        }
        if (fresh < length) {
            duplicateBytes += length - fresh;
            if (fresh == 0) {
                duplicateSegments++;
            }
        }
        return fresh;
    }

    /**
     * Copies up to {@code len} in-order bytes into {@code dst}.
     *
     * @return bytes copied; 0 if none is ready yet; -1 once every byte up to the FIN was read
     */
    public int read(byte[] dst, int off, int len) {
        final int n = Math.min(len, available());
        if (n <= 0) {
            return finished() ? -1 : 0;
        }
        ring.copyTo(readOffset, dst, off, n);
        consumed(n);
        return n;
    }

    /**
     * Appends up to {@code dst.writableBytes()} in-order bytes at the writer index of {@code dst}.
     *
     * @return bytes copied; 0 if none is ready yet (or {@code dst} is full); -1 once every byte up to
     *     the FIN was read
     */
    public int read(ByteBuf dst) {
        final int n = Math.min(dst.writableBytes(), available());
        if (n <= 0) {
            return finished() ? -1 : 0;
        }
        ring.copyTo(readOffset, dst, n);
        consumed(n);
        return n;
    }

    private void consumed(int n) {
        readOffset += n;
        ring.releaseBelow(readOffset);
    }

    /** Bytes ready to be read in order. */
    public int available() {
        if (received.isEmpty() || received.start(0) > readOffset) {
            return 0;
        }
        return (int) (received.end(0) - readOffset);
    }

    /** True once the FIN arrived and every byte before it was read. */
    public boolean finished() {
        return finalSize >= 0 && readOffset == finalSize;
    }

    /** True once a FIN arrived (some bytes before it may still be missing or unread). */
    public boolean finReceived() {
        return finalSize >= 0;
    }

    /** The final size of the stream set by the FIN, or -1 before it arrived. */
    public long finalSize() {
        return finalSize;
    }

    /** Bytes the application has read. */
    public long readOffset() {
        return readOffset;
    }

    /** The MAX_DATA value to advertise now: everything read plus one window (RFC 9000 §4.1). */
    public long maxDataToAdvertise() {
        return readOffset + window;
    }

    /**
     * True if a MAX_DATA frame should be sent: the application consumed at least half a window since
     * the last advertisement, and the stream's end has not arrived (then no more credit is needed).
     */
    public boolean shouldSendMaxData() {
        return finalSize < 0 && maxDataToAdvertise() - advertisedMaxData >= (window + 1) / 2;
    }

    /** A MAX_DATA frame with {@code maxData} was sent (or is being sent). */
    public void onMaxDataSent(long maxData) {
        advertisedMaxData = Math.max(advertisedMaxData, Math.min(maxData, maxDataToAdvertise()));
    }

    /** The limit the peer was last told, which data must not exceed. */
    public long advertisedMaxData() {
        return advertisedMaxData;
    }

    public int window() {
        return window;
    }

    /** Bytes that arrived again after being received or read already. */
    public long duplicateBytes() {
        return duplicateBytes;
    }

    /** Segments that carried no new byte at all. */
    public long duplicateSegments() {
        return duplicateSegments;
    }

    /** Bytes currently held from the allocator. */
    public long allocatedBytes() {
        return ring.allocatedBytes();
    }

    /** Releases all storage; later data is ignored. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ring.close();
        }
    }
}
