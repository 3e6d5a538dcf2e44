package dev.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.Test;

class CountingAllocatorTest {

    @Test
    void countsBuffersUntilTheirLastReleaseIncludingGrowthAndDerivedBuffers() {
        CountingAllocator allocator = new CountingAllocator();
        ByteBuf a = allocator.directBuffer(4);
        ByteBuf b = allocator.buffer();
        assertEquals(2, allocator.liveBuffers());
        a.writeZero(10_000);
        assertEquals(10_000, a.readableBytes(), "grows like any Netty buffer");
        ByteBuf slice = a.retainedSlice(0, 10);
        a.release();
        assertEquals(2, allocator.liveBuffers(), "a retained slice keeps its parent alive");
        slice.release();
        b.release();
        assertEquals(0, allocator.liveBuffers());
        assertEquals(2, allocator.allocatedBuffers());
    }

    @Test
    void compositeBuffersCountTheirComponents() {
        CountingAllocator allocator = new CountingAllocator();
        CompositeByteBuf composite = allocator.compositeBuffer();
        composite.addComponent(true, allocator.buffer(8).writeLong(1));
        composite.addComponent(true, allocator.buffer(8).writeLong(2));
        assertSame(allocator, composite.alloc());
        assertEquals(16, composite.readableBytes());
        assertEquals(2, allocator.liveBuffers(), "components are counted, the composite shell is not");
        composite.release();
        assertEquals(0, allocator.liveBuffers());
    }

    @Test
    void aSimulationOnItReportsALeakedReceivedBuffer() {
        CountingAllocator allocator = new CountingAllocator();
        try (Simulator sim = new Simulator(5, allocator)) {
            SimEndpoint a = sim.internet().addHost("198.51.100.1").bind(1);
            SimEndpoint b = sim.internet().addHost("198.51.100.2").bind(2);
            ByteBuf[] kept = new ByteBuf[1];
            b.receiver((datagram, sender) -> kept[0] = datagram.retain());
            SimFixture.sendText(a, b.localAddress(), "keep me");
            sim.runFor(SimFixture.SECOND);
            assertEquals(1, allocator.liveBuffers(), "the receiver's retained buffer is the one live buffer");
            kept[0].release();
        }
        assertEquals(0, allocator.liveBuffers());
    }
}
