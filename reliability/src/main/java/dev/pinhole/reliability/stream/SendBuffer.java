package dev.pinhole.reliability.stream;

import dev.pinhole.reliability.wire.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The sending half of the stream: the bytes the application wrote, kept until the peer acknowledged
 * them, and the choice of what to put in the next STREAM frame.
 *
 * <pre>
 *   0        ackedOffset          sentOffset        writeOffset      ackedOffset + capacity
 *   |  freed  |  in flight, acked  |  written, never  |  free space    |
 *   |         |  or declared lost  |  sent            |  (writable)    |
 * </pre>
 *
 * <ul>
 *   <li>{@link #write} accepts at most {@link #writableBytes()} bytes: the capacity bounds what is
 *       buffered but not yet acknowledged, which is the back-pressure on the application.</li>
 *   <li>{@link #nextChunk} picks what to send: ranges declared lost first (RFC 9000 §13.3: lost data
 *       is sent again in new packets), then new data up to the peer's MAX_DATA
 *       ({@link #flowControlLimit(long)}, RFC 9000 §4.1), then a FIN on its own.</li>
 *   <li>{@link #onAcked} and {@link #onLost} take byte ranges as the connection's loss detection
 *       reports them; a range may be acked after it was declared lost, or acked twice. Memory is given
 *       back as the contiguous acknowledged prefix ({@link #ackedOffset()}) advances.</li>
 * </ul>
 * Storage is a ring of chunks from the given (pooled) allocator; nothing is allocated per write or per
 * packet in steady state. Single-threaded (the connection's event loop); {@link #close()} releases all.
 */
public final class SendBuffer implements AutoCloseable {
    /** Size of the storage chunks taken from the allocator. */
    public static final int DEFAULT_CHUNK_SIZE = 16 * 1024;

    private final int capacity;
    private final ChunkRing ring;
    /** Acknowledged ranges above {@link #ackedOffset}. */
    private final ByteRanges acked = new ByteRanges();
    /** Ranges declared lost and not yet sent again or acknowledged. */
    private final ByteRanges lost = new ByteRanges();

    private long ackedOffset;
    private long sentOffset;
    private long writeOffset;
    private long flowControlLimit;

    private boolean finished;
    private boolean finSent;
    private boolean finLost;
    private boolean finAcked;
    private boolean closed;

    private long chunkOffset;
    private int chunkLength;
    private boolean chunkFin;
    private boolean chunkRetransmission;

    private long retransmittedBytes;

    /**
     * @param capacity         most bytes buffered (written and not yet acknowledged)
     * @param flowControlLimit the peer's initial MAX_DATA (its initialMaxData transport parameter)
     */
    public SendBuffer(ByteBufAllocator allocator, int capacity, long flowControlLimit) {
        this(allocator, capacity, flowControlLimit, Math.min(DEFAULT_CHUNK_SIZE, Math.max(1, capacity)));
    }

    /** With an explicit chunk size; small chunks let tests cross chunk boundaries often. */
    SendBuffer(ByteBufAllocator allocator, int capacity, long flowControlLimit, int chunkSize) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive, was " + capacity);
        }
        this.capacity = capacity;
        this.ring = new ChunkRing(allocator, capacity, chunkSize);
        flowControlLimit(flowControlLimit);
    }

    /**
     * Buffers up to {@link #writableBytes()} bytes of {@code src}.
     *
     * @return the number of bytes accepted (0 when full)
     * @throws IllegalStateException after {@link #finish()} or {@link #close()}
     */
    public int write(byte[] src, int off, int len) {
        checkWritable();
        final int n = Math.min(len, writableBytes());
        ring.write(writeOffset, src, off, n);
        writeOffset += n;
        return n;
    }

    /**
     * Buffers up to {@link #writableBytes()} bytes of {@code src} from {@code index}; does not move the
     * indices of {@code src}.
     *
     * @return the number of bytes accepted (0 when full)
     */
    public int write(ByteBuf src, int index, int len) {
        checkWritable();
        final int n = Math.min(len, writableBytes());
        ring.write(writeOffset, src, index, n);
        writeOffset += n;
        return n;
    }

    /** Buffers as many readable bytes of {@code src} as fit and advances its reader index past them. */
    public int write(ByteBuf src) {
        final int n = write(src, src.readerIndex(), src.readableBytes());
        src.skipBytes(n);
        return n;
    }

    private void checkWritable() {
        if (closed) {
            throw new IllegalStateException("send buffer is closed");
        }
        if (finished) {
            throw new IllegalStateException("stream already finished");
        }
    }

    /** Marks the end of the stream: no more writes; the last chunk sent carries FIN. Idempotent. */
    public void finish() {
        finished = true;
    }

    public boolean isFinished() {
        return finished;
    }

    /** Bytes {@link #write} would accept now. */
    public int writableBytes() {
        return (int) (capacity - (writeOffset - ackedOffset));
    }

    /** Bytes written and not yet acknowledged. */
    public int bufferedBytes() {
        return (int) (writeOffset - ackedOffset);
    }

    /**
     * Raises the limit new data may reach to the peer's MAX_DATA; smaller values are ignored, as a
     * reordered MAX_DATA must not shrink the window (RFC 9000 §4.1).
     */
    public void flowControlLimit(long maxData) {
        flowControlLimit = Math.max(flowControlLimit, maxData);
    }

    public long flowControlLimit() {
        return flowControlLimit;
    }

    /**
     * Chooses the next STREAM frame: retransmissions first, then new data within the flow-control
     * limit, then a bare FIN. On true, the choice is in {@link #chunkOffset()}, {@link #chunkLength()},
     * {@link #chunkFin()} and counts as sent from now on: write the frame header
     * ({@code Frames.writeStreamHeader}) and then {@link #copyTo} the bytes into the packet.
     *
     * @param maxFrameLength room left in the packet for the whole STREAM frame, header included
     * @return false if there is nothing to send, or the room is too small for header and one byte
     */
    public boolean nextChunk(int maxFrameLength) {
        if (closed) {
            return false;
        }
        if (!lost.isEmpty()) {
            final long start = lost.start(0);
            final int length = fit(start, lost.end(0) - start, maxFrameLength);
            if (length <= 0) {
                return false;
            }
            lost.remove(start, start + length);
            retransmittedBytes += length;
            return choose(start, length, true);
        }
        final long newBytes = Math.min(writeOffset, flowControlLimit) - sentOffset;
        if (newBytes > 0) {
            final int length = fit(sentOffset, newBytes, maxFrameLength);
            if (length <= 0) {
                return false;
            }
            final long start = sentOffset;
            sentOffset += length;
            return choose(start, length, false);
        }
        if (finished && (!finSent || finLost) && !finAcked && sentOffset == writeOffset
                && Frames.streamHeaderLength(writeOffset, 0) <= maxFrameLength) {
            return choose(writeOffset, 0, finSent);
        }
        return false;
    }

    /** The longest data length at {@code offset}, at most {@code wanted}, whose frame fits. */
    private static int fit(long offset, long wanted, int maxFrameLength) {
        final int length = (int) Math.min(wanted, Math.max(0, maxFrameLength));
        // The header for a longer length is never shorter, so this may waste a byte, never overflow.
        return Math.min(length, maxFrameLength - Frames.streamHeaderLength(offset, length));
    }

    private boolean choose(long offset, int length, boolean retransmission) {
        chunkOffset = offset;
        chunkLength = length;
        chunkRetransmission = retransmission;
        chunkFin = finished && offset + length == writeOffset;
        if (chunkFin) {
            finSent = true;
            finLost = false;
        }
        return true;
    }

    /** Stream offset of the chunk chosen by the last successful {@link #nextChunk}. */
    public long chunkOffset() {
        return chunkOffset;
    }

    /** Data length of the chunk chosen by the last successful {@link #nextChunk} (0 for a bare FIN). */
    public int chunkLength() {
        return chunkLength;
    }

    /** Whether the chosen chunk ends the stream (its frame carries FIN). */
    public boolean chunkFin() {
        return chunkFin;
    }

    /** Whether the chosen chunk resends data (or a FIN) declared lost. */
    public boolean chunkIsRetransmission() {
        return chunkRetransmission;
    }

    /**
     * Appends {@code len} buffered bytes from stream {@code offset} at the writer index of {@code out}.
     *
     * @throws IllegalArgumentException if the range is not buffered (acknowledged or never written)
     */
    public void copyTo(ByteBuf out, long offset, int len) {
        if (offset < ackedOffset || offset + len > writeOffset) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + len)
                    + ") is not buffered; buffered is [" + ackedOffset + ", " + writeOffset + ")");
        }
        ring.copyTo(offset, out, len);
    }

    /**
     * The peer acknowledged a packet carrying {@code [offset, offset + len)} (and the FIN if
     * {@code fin}). Repeated and overlapping acknowledgements are harmless; parts that were declared
     * lost are no longer resent.
     */
    public void onAcked(long offset, int len, boolean fin) {
        final long start = Math.max(offset, ackedOffset);
        final long end = Math.min(offset + len, sentOffset);
        if (start < end) {
            lost.remove(start, end);
            acked.add(start, end);
            if (acked.start(0) <= ackedOffset) {
                ackedOffset = acked.end(0);
                acked.remove(acked.start(0), ackedOffset);
                ring.releaseBelow(ackedOffset);
            }
        }
        if (fin && finSent) {
            finAcked = true;
            finLost = false;
        }
    }

    /**
     * A packet carrying {@code [offset, offset + len)} (and the FIN if {@code fin}) was declared lost:
     * the parts not acknowledged meanwhile are queued to be sent again.
     */
    public void onLost(long offset, int len, boolean fin) {
        long position = Math.max(offset, ackedOffset);
        final long end = Math.min(offset + len, sentOffset);
        int i = acked.firstEndingAfter(position);
        while (position < end) {
            if (i < acked.size() && acked.start(i) <= position) {
                position = acked.end(i);
                i++;
                continue;
            }
            final long gapEnd = i < acked.size() ? Math.min(end, acked.start(i)) : end;
            lost.add(position, gapEnd);
            position = gapEnd;
        }
        if (fin && finSent && !finAcked) {
            finLost = true;
        }
    }

    /** True if {@link #nextChunk} has something to offer given enough room. */
    public boolean hasDataToSend() {
        return !lost.isEmpty() || Math.min(writeOffset, flowControlLimit) > sentOffset
                || (finished && (!finSent || finLost) && !finAcked && sentOffset == writeOffset);
    }

    /**
     * True if written data waits only because of the peer's flow-control limit: the connection then
     * sends DATA_BLOCKED at {@link #flowControlLimit()} (RFC 9000 §4.1).
     */
    public boolean isBlockedByFlowControl() {
        return writeOffset > sentOffset && sentOffset >= flowControlLimit;
    }

    /** True once the stream was finished and every byte and the FIN were acknowledged. */
    public boolean isAllAcked() {
        return finished && finAcked && ackedOffset == writeOffset;
    }

    /** Every byte below this offset was acknowledged and its memory given back. */
    public long ackedOffset() {
        return ackedOffset;
    }

    /** One past the highest offset ever sent; new data starts here. */
    public long sentOffset() {
        return sentOffset;
    }

    /** Total bytes the application wrote. */
    public long writeOffset() {
        return writeOffset;
    }

    /** Bytes sent again after being declared lost. */
    public long retransmittedBytes() {
        return retransmittedBytes;
    }

    /** Bytes currently held from the allocator. */
    public long allocatedBytes() {
        return ring.allocatedBytes();
    }

    /** Releases all storage; afterwards nothing is sent and writes fail. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            ring.close();
        }
    }
}
