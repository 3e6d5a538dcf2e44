package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.turn.ChannelData;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The receive paths of an active allocation allocate nothing per datagram (no allocation per packet on the
 * steady-state path, docs/architecture.md principle 5):
 * ChannelData and Data indications are delivered as views of the received buffer, and the peer is
 * found without creating an address. (The send paths allocate exactly one pooled buffer per datagram,
 * the datagram itself; under the tests' paranoid leak detection a pooled buffer allocates tracking
 * records, so they are not metered here.)
 */
class TurnSteadyStateAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final PunchSim f = PunchSim.withScriptedTurnServer(0xA110CL);
    private long delivered;

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void receivingChannelDataAndDataIndicationsAllocatesNothing() {
        InetSocketAddress peer = f.peer.localAddress();
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        allocation.receiver((datagram, sender) -> delivered += datagram.readableBytes());
        InetSocketAddress server = f.scriptedServer.address();
        ByteBuf channelData = Unpooled.buffer().writeShort(ChannelData.MIN_CHANNEL).writeShort(1000).writeZero(1000);
        ByteBuf dataIndication = Unpooled.wrappedBuffer(DataIndications.encode(peer, new byte[1000]));

        long channelBytes = quietestWindow(() -> f.turn.onDatagram(channelData, server));
        long indicationBytes = quietestWindow(() -> f.turn.handleStun(dataIndication, server));

        assertEquals(0, channelBytes, "bytes allocated while receiving 10,000 ChannelData messages");
        assertEquals(0, indicationBytes, "bytes allocated while receiving 10,000 Data indications");
        assertEquals(2 * 1000L * (2_000 + 10 * 10_000), delivered, "every datagram was delivered, 1000 bytes each");
    }

    /**
     * Runs {@code task} 2,000 times to warm up, then ten windows of 10,000 runs, and returns the fewest
     * bytes one window allocated: a per-datagram allocation shows in every window, a JIT event in one.
     */
    private static long quietestWindow(Runnable task) {
        for (int i = 0; i < 2_000; i++) {
            task.run();
        }
        long threadId = Thread.currentThread().getId();
        long quietest = Long.MAX_VALUE;
        for (int window = 0; window < 10; window++) {
            long before = THREADS.getThreadAllocatedBytes(threadId);
            for (int i = 0; i < 10_000; i++) {
                task.run();
            }
            quietest = Math.min(quietest, THREADS.getThreadAllocatedBytes(threadId) - before);
        }
        return quietest;
    }
}
