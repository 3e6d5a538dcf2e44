package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.stream.ReceiveBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The connection's view of the receiving half of the stream: the {@link ReceiveBuffer}, flow-control
 * bookkeeping, and a discard mode for a closed or aborted reading side. Single-threaded.
 */
final class StreamReceiver {
    private static final int DISCARD_SCRATCH_BYTES = 16 * 1024;

    private final ReceiveBuffer buffer;
    private byte[] scratch;
    private boolean discarding;
    private boolean released;

    StreamReceiver(ByteBufAllocator allocator, int window) {
        buffer = new ReceiveBuffer(allocator, window);
    }

    /** Stores STREAM data; returns {@link TransportErrors#NO_ERROR} or the error to close with. */
    long onStream(long offset, ByteBuf data, boolean fin) {
        if (released) {
            return TransportErrors.NO_ERROR;
        }
        int result = buffer.onData(offset, data, fin);
        if (result == ReceiveBuffer.FLOW_CONTROL_VIOLATION) {
            return TransportErrors.FLOW_CONTROL_ERROR;
        }
        if (result == ReceiveBuffer.FINAL_SIZE_VIOLATION) {
            return TransportErrors.FINAL_SIZE_ERROR;
        }
        if (discarding) {
            drain();
        }
        return TransportErrors.NO_ERROR;
    }

    /** @return bytes copied, 0 if none ready, -1 at the end of the stream */
    int read(byte[] dst, int offset, int length) {
        if (released) {
            return -1;
        }
        return buffer.read(dst, offset, length);
    }

    int readable() {
        return released ? 0 : buffer.available();
    }

    /** True if a FIN arrived and every byte before it was read: a read returns -1. */
    boolean finReadable() {
        return !released && buffer.finished();
    }

    boolean finReceived() {
        return buffer.finReceived();
    }

    /** True once the stream ended and everything was read or discarded. */
    boolean finished() {
        return buffer.finished();
    }

    boolean maxDataUpdateDue() {
        return !released && buffer.shouldSendMaxData();
    }

    /** The MAX_DATA to advertise now (everything read plus one window). */
    long maxData() {
        return buffer.maxDataToAdvertise();
    }

    void onMaxDataSent() {
        buffer.onMaxDataSent(buffer.maxDataToAdvertise());
    }

    /**
     * From now on, drop received data as it arrives while still granting flow-control credit, so that
     * a peer still writing can finish (the application closed its reading side).
     */
    void discard() {
        discarding = true;
        drain();
    }

    private void drain() {
        if (released) {
            return;
        }
        if (scratch == null) {
            scratch = new byte[DISCARD_SCRATCH_BYTES];
        }
        while (buffer.read(scratch, 0, scratch.length) > 0) {
            // Dropped on purpose: the application no longer reads.
        }
    }

    long bufferedBytes() {
        return released ? 0 : buffer.allocatedBytes();
    }

    boolean released() {
        return released;
    }

    /** Gives the storage back; later data is ignored and reads return -1. Idempotent. */
    void release() {
        released = true;
        buffer.close();
    }
}
