package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.stream.SendBuffer;
import dev.pinhole.reliability.wire.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The connection's view of the sending half of the stream: the {@link SendBuffer} plus the STREAM
 * frame writing and the counters the connection reports. Single-threaded.
 */
final class StreamSender {
    /** The STREAM frame put into the packet being built, if any. */
    static final class Chunk {
        long offset;
        int length = -1;
        boolean fin;
        boolean retransmission;

        void clear() {
            length = -1;
        }

        boolean present() {
            return length >= 0;
        }
    }

    private final SendBuffer buffer;
    private long bytesLost;
    private long bytesAcked;
    private boolean released;

    StreamSender(ByteBufAllocator allocator, int capacity, long peerInitialMaxData) {
        buffer = new SendBuffer(allocator, capacity, peerInitialMaxData);
    }

    int write(byte[] src, int offset, int length) {
        return buffer.write(src, offset, length);
    }

    int space() {
        return released ? 0 : buffer.writableBytes();
    }

    void finish() {
        buffer.finish();
    }

    boolean finishRequested() {
        return buffer.isFinished();
    }

    void peerMaxData(long maxData) {
        buffer.flowControlLimit(maxData);
    }

    long peerMaxData() {
        return buffer.flowControlLimit();
    }

    boolean hasSendable() {
        return !released && buffer.hasDataToSend();
    }

    boolean blockedByFlowControl() {
        return !released && buffer.isBlockedByFlowControl();
    }

    /** Writes the next STREAM frame (retransmissions first) into {@code out} within {@code room} bytes. */
    void emit(ByteBuf out, int room, Chunk chunk) {
        if (released || !buffer.nextChunk(room)) {
            return;
        }
        chunk.offset = buffer.chunkOffset();
        chunk.length = buffer.chunkLength();
        chunk.fin = buffer.chunkFin();
        chunk.retransmission = buffer.chunkIsRetransmission();
        Frames.writeStreamHeader(out, chunk.offset, chunk.length, chunk.fin);
        if (chunk.length > 0) {
            buffer.copyTo(out, chunk.offset, chunk.length);
        }
    }

    /**
     * Queues the range of an unacknowledged packet to be sent again although it is not declared lost:
     * what a PTO probe sends when there is no new data (RFC 9002 §6.2.4).
     */
    void requeueForProbe(long offset, int length, boolean fin) {
        if (!released) {
            buffer.onLost(offset, length, fin);
        }
    }

    void onAcked(long offset, int length, boolean fin) {
        if (released) {
            return;
        }
        long before = buffer.ackedOffset();
        buffer.onAcked(offset, length, fin);
        bytesAcked += buffer.ackedOffset() - before;
    }

    void onLost(long offset, int length, boolean fin) {
        bytesLost += length;
        if (!released) {
            buffer.onLost(offset, length, fin);
        }
    }

    boolean allAcked() {
        return buffer.isAllAcked();
    }

    /** Contiguously acknowledged bytes (grows when send buffer space is freed). */
    long bytesAcked() {
        return bytesAcked;
    }

    long bytesLost() {
        return bytesLost;
    }

    long bytesSentOnce() {
        return buffer.sentOffset();
    }

    long bytesRetransmitted() {
        return buffer.retransmittedBytes();
    }

    long bytesWritten() {
        return buffer.writeOffset();
    }

    long bufferedBytes() {
        return released ? 0 : buffer.bufferedBytes();
    }

    /** Gives the storage back; nothing is sent afterwards. Idempotent. */
    void release() {
        released = true;
        buffer.close();
    }
}
