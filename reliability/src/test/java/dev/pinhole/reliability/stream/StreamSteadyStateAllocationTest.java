package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.reliability.wire.AllocationMeter;
import dev.pinhole.reliability.wire.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/**
 * Moving data through a SendBuffer and a ReceiveBuffer on the shared pooled allocator allocates
 * nothing per packet once warm, chunk turnover included.
 */
class StreamSteadyStateAllocationTest {
    private static final int RUNS = 50_000;

    @Test
    void sendingAckingReceivingAndReadingAllocatesNothingPerPacket() {
        // Paranoid leak detection (on in tests) wraps and records every pooled buffer it hands out,
        // which is an allocation of the detector, not of this code: measure with it off.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        ByteBuf packet = Buffers.ALLOCATOR.buffer(1200, 1200);
        byte[] appData = new byte[1000];
        byte[] appRead = new byte[4096];
        try (SendBuffer sender = new SendBuffer(Buffers.ALLOCATOR, 64 * 1024, 64 * 1024);
             ReceiveBuffer receiver = new ReceiveBuffer(Buffers.ALLOCATOR, 64 * 1024)) {
            long[] received = {0};
            long allocated = AllocationMeter.bytesAllocated(20_000, RUNS, () -> {
                sender.write(appData, 0, appData.length);
                while (sender.nextChunk(1200)) {
                    packet.clear();
                    long offset = sender.chunkOffset();
                    int length = sender.chunkLength();
                    Frames.writeStreamHeader(packet, offset, length, sender.chunkFin());
                    int dataStart = packet.writerIndex();
                    sender.copyTo(packet, offset, length);
                    packet.readerIndex(dataStart);
                    if (receiver.onData(offset, packet, false) < 0) {
                        throw new AssertionError("refused at " + offset);
                    }
                    sender.onAcked(offset, length, false);
                }
                int n;
                while ((n = receiver.read(appRead, 0, appRead.length)) > 0) {
                    received[0] += n;
                }
                if (receiver.shouldSendMaxData()) {
                    receiver.onMaxDataSent(receiver.maxDataToAdvertise());
                    sender.flowControlLimit(receiver.advertisedMaxData());
                }
            });
            assertEquals(sender.writeOffset(), received[0], "every byte arrived");
            assertTrue(received[0] > 64L * 1024 * 100, "the rings wrapped many times");
            assertTrue(allocated < 4096, "expected no allocation per packet, " + RUNS + " rounds allocated "
                    + allocated + " bytes");
        } finally {
            packet.release();
            ResourceLeakDetector.setLevel(level);
        }
    }
}
