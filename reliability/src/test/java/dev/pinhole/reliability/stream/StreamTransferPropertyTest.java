package dev.pinhole.reliability.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.wire.Frames;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Property;
import dev.pinhole.testkit.Shrinker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A SendBuffer and a ReceiveBuffer joined by a network that loses, duplicates and reorders packets,
 * with acknowledgements that arrive late and losses that are declared wrongly (spurious), always move
 * exactly the written bytes and the FIN, within the receiver's flow-control limit, and release all
 * their memory.
 */
class StreamTransferPropertyTest {
    private static final int MAX_STEPS = 2_000_000;

    /**
     * @param length       bytes the application writes
     * @param sendCapacity send buffer capacity
     * @param window       receive window
     * @param sendChunk    send buffer storage chunk size
     * @param receiveChunk receive buffer storage chunk size
     * @param lossPercent  chance that a packet or a MAX_DATA frame is lost
     * @param seed         content and the order of every event
     */
    record Scenario(int length, int sendCapacity, int window, int sendChunk, int receiveChunk, int lossPercent,
                    long seed) {
    }

    static final Gen<Scenario> SCENARIOS = r -> new Scenario(
            r.nextInt(4) == 0 ? r.nextInt(8) : r.nextInt(12_000),
            1 + r.nextInt(r.nextBoolean() ? 100 : 6000),
            1 + r.nextInt(r.nextBoolean() ? 100 : 6000),
            1 + r.nextInt(64),
            1 + r.nextInt(64),
            r.nextInt(40),
            r.nextLong());

    static final Shrinker<Scenario> SHRINKER = Shrinker.byFields(Scenario.class)
            .field(Scenario::length, Shrinker.intsToward(0), (s, v) -> new Scenario(v, s.sendCapacity(), s.window(),
                    s.sendChunk(), s.receiveChunk(), s.lossPercent(), s.seed()))
            .field(Scenario::sendCapacity, Shrinker.intsToward(1), (s, v) -> new Scenario(s.length(), v, s.window(),
                    s.sendChunk(), s.receiveChunk(), s.lossPercent(), s.seed()))
            .field(Scenario::window, Shrinker.intsToward(1), (s, v) -> new Scenario(s.length(), s.sendCapacity(), v,
                    s.sendChunk(), s.receiveChunk(), s.lossPercent(), s.seed()))
            .field(Scenario::sendChunk, Shrinker.intsToward(1), (s, v) -> new Scenario(s.length(), s.sendCapacity(),
                    s.window(), v, s.receiveChunk(), s.lossPercent(), s.seed()))
            .field(Scenario::receiveChunk, Shrinker.intsToward(1), (s, v) -> new Scenario(s.length(),
                    s.sendCapacity(), s.window(), s.sendChunk(), v, s.lossPercent(), s.seed()))
            .field(Scenario::lossPercent, Shrinker.intsToward(0), (s, v) -> new Scenario(s.length(),
                    s.sendCapacity(), s.window(), s.sendChunk(), s.receiveChunk(), v, s.seed()));

    /** One packet with one STREAM frame, as the sender tracks it until it is acked or declared lost. */
    private static final class Packet {
        final long offset;
        final int length;
        final boolean fin;
        final byte[] bytes;
        boolean delivered;
        boolean dropped;
        boolean declaredLost;

        Packet(long offset, int length, boolean fin, byte[] bytes) {
            this.offset = offset;
            this.length = length;
            this.fin = fin;
            this.bytes = bytes;
        }
    }

    @Test
    void lossDuplicationAndReorderingStillDeliverExactlyTheWrittenBytes() {
        Property.forAll(SCENARIOS).shrinkWith(SHRINKER).check(StreamTransferPropertyTest::transfer);
    }

    private static void transfer(Scenario scenario) {
        SplittableRandom random = new SplittableRandom(scenario.seed());
        byte[] data = new byte[scenario.length()];
        random.nextBytes(data);
        int sendCapacity = scenario.sendCapacity();
        int window = scenario.window();
        int lossPercent = scenario.lossPercent();
        CountingAllocator allocator = new CountingAllocator();
        ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        List<Packet> sentPackets = new ArrayList<>();
        List<Packet> network = new ArrayList<>();
        String setting = scenario.toString();
        try (SendBuffer sender = new SendBuffer(allocator, sendCapacity, window, scenario.sendChunk());
             ReceiveBuffer receiver = new ReceiveBuffer(allocator, window, scenario.receiveChunk())) {
            int written = 0;
            int steps = 0;
            while (!(sender.isAllAcked() && receiver.finished())) {
                assertTrue(++steps < MAX_STEPS, "no progress after " + MAX_STEPS + " steps " + setting);
                switch (random.nextInt(8)) {
                    case 0 -> {
                        if (written < data.length) {
                            written += sender.write(data, written, 1 + random.nextInt(data.length - written));
                        } else {
                            sender.finish();
                        }
                    }
                    case 1, 2 -> {
                        int room = 1 + random.nextInt(Frames.MAX_STREAM_HEADER_LENGTH + 1500);
                        if (sender.nextChunk(room)) {
                            assertTrue(sender.chunkOffset() + sender.chunkLength() <= sender.flowControlLimit(),
                                    "chunk beyond the peer's limit " + setting);
                            assertTrue(Frames.streamHeaderLength(sender.chunkOffset(), sender.chunkLength())
                                    + sender.chunkLength() <= room, "chunk larger than the room " + setting);
                            ByteBuf out = Unpooled.buffer(sender.chunkLength());
                            sender.copyTo(out, sender.chunkOffset(), sender.chunkLength());
                            Packet packet = new Packet(sender.chunkOffset(), sender.chunkLength(), sender.chunkFin(),
                                    out.array());
                            sentPackets.add(packet);
                            if (random.nextInt(100) < lossPercent) {
                                packet.dropped = true;
                            } else {
                                network.add(packet);
                                if (random.nextInt(20) == 0) {
                                    network.add(packet);
                                }
                            }
                        }
                    }
                    case 3, 4 -> {
                        if (!network.isEmpty()) {
                            Packet packet = network.remove(random.nextInt(network.size()));
                            int result = receiver.onData(packet.offset, Unpooled.wrappedBuffer(packet.bytes),
                                    packet.fin);
                            assertTrue(result >= 0, "receiver refused " + packet.offset + "+" + packet.length
                                    + ": " + result + " " + setting);
                            packet.delivered = true;
                        }
                    }
                    case 5 -> {
                        // The sender's loss detection and ack processing, in any order.
                        if (!sentPackets.isEmpty()) {
                            int index = random.nextInt(sentPackets.size());
                            Packet packet = sentPackets.get(index);
                            if (packet.delivered) {
                                sender.onAcked(packet.offset, packet.length, packet.fin);
                                sentPackets.remove(index);
                            } else if (packet.dropped) {
                                if (!packet.declaredLost) {
                                    sender.onLost(packet.offset, packet.length, packet.fin);
                                }
                                sentPackets.remove(index);
                            } else if (!packet.declaredLost && random.nextInt(4) == 0) {
                                // Spurious: still in the network, it may be acked later.
                                packet.declaredLost = true;
                                sender.onLost(packet.offset, packet.length, packet.fin);
                            }
                        }
                    }
                    default -> {
                        byte[] into = new byte[1 + random.nextInt(2 * window)];
                        int n = receiver.read(into, 0, into.length);
                        if (n > 0) {
                            delivered.write(into, 0, n);
                        }
                        if (receiver.shouldSendMaxData()) {
                            receiver.onMaxDataSent(receiver.maxDataToAdvertise());
                            // MAX_DATA frames can be lost and arrive late; a later one repeats the value.
                            if (random.nextInt(100) >= lossPercent) {
                                sender.flowControlLimit(receiver.advertisedMaxData());
                            }
                        } else if (sender.isBlockedByFlowControl()) {
                            // DATA_BLOCKED reaches the receiver, which repeats its current limit.
                            sender.flowControlLimit(receiver.advertisedMaxData());
                        }
                    }
                }
                assertTrue(sender.bufferedBytes() <= sendCapacity, "send buffer beyond capacity " + setting);
            }
            assertEquals(data.length, sender.writeOffset());
        }
        assertArrayEquals(data, delivered.toByteArray(), "delivered bytes " + setting);
        allocator.assertAllReleased();
    }
}
