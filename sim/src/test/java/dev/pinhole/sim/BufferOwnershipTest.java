package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.sendSeq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.buffer.Buffers;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The buffer rules of DatagramEndpoint and DatagramReceiver, and no leaks on any path. */
class BufferOwnershipTest {

    @Test
    void sendCopiesTheBytesAndReleasesTheCallersBuffer() {
        try (SimFixture f = new SimFixture(1)) {
            SimEndpoint a = f.sim.internet().addHost("198.51.100.1").bind(1);
            SimEndpoint b = f.sim.internet().addHost("198.51.100.2").bind(2);
            List<Long> got = new ArrayList<>();
            b.receiver((datagram, sender) -> got.add(datagram.getLong(datagram.readerIndex())));
            ByteBuf kept = a.allocator().buffer(8).writeLong(42);
            kept.retain();
            a.send(kept, b.localAddress());
            assertEquals(1, kept.refCnt(), "send released one reference");
            kept.setLong(0, 7);
            kept.release();
            f.sim.runFor(SECOND);
            assertEquals(List.of(42L), got, "the receiver got the bytes as they were at send time");
        }
    }

    @Test
    void deliveredBuffersAreLentForTheCallAndReleasedAfterIt() {
        try (SimFixture f = new SimFixture(1)) {
            SimEndpoint a = f.sim.internet().addHost("198.51.100.1").bind(1);
            SimEndpoint b = f.sim.internet().addHost("198.51.100.2").bind(2);
            List<ByteBuf> lent = new ArrayList<>();
            List<ByteBuf> retained = new ArrayList<>();
            b.receiver((datagram, sender) -> {
                lent.add(datagram);
                if (lent.size() == 2) {
                    retained.add(datagram.retain());
                }
            });
            sendSeq(a, b.localAddress(), 1, 8);
            sendSeq(a, b.localAddress(), 2, 8);
            f.sim.runFor(SECOND);
            assertEquals(0, lent.get(0).refCnt(), "released after the call");
            assertEquals(1, retained.get(0).refCnt(), "a retained one survives the call");
            assertEquals(2, retained.get(0).getLong(0), "with its bytes");
            retained.get(0).release();
        }
    }

    @Test
    void aThrowingReceiverStillHasItsDatagramReleased() {
        try (SimFixture f = new SimFixture(1)) {
            SimEndpoint a = f.sim.internet().addHost("198.51.100.1").bind(1);
            SimEndpoint b = f.sim.internet().addHost("198.51.100.2").bind(2);
            b.receiver((datagram, sender) -> {
                throw new IllegalStateException("receiver bug");
            });
            sendSeq(a, b.localAddress(), 1, 8);
            assertThrows(IllegalStateException.class, () -> f.sim.runFor(SECOND));
        }
    }

    @Test
    void everyDropPathAndCloseWithDatagramsInFlightReleaseEverything() {
        try (SimFixture f = new SimFixture(99)) {
            Network internet = f.sim.internet();
            SimHost server = internet.addHost("198.51.100.1", LinkConfig.builder().delay(50 * MS).jitter(10 * MS)
                    .loss(0.2).duplication(0.2).reordering(0.2, 5 * MS).bandwidth(2_000_000, 4000).mtu(600).build());
            SimEndpoint s = server.bind(3478);
            s.receiver((datagram, sender) -> { });
            Nat nat = internet.addNat("203.0.113.5", NatConfig.SYMMETRIC.withPortRange(5000, 5003));
            SimEndpoint c = nat.inside().addHost("10.0.0.2").bind(4000);
            for (int i = 0; i < 400; i++) {
                int size = 8 + (i * 37) % 800;
                sendSeq(c, SimFixture.address("198.51.100.1", 3478 + i % 6), i, size);
                sendSeq(s, SimFixture.address("203.0.113.5", 5000 + i % 8), i, size);
                sendSeq(s, SimFixture.address("192.0.2.1", 1), i, size);
                f.sim.runFor(MS);
            }
            SimCounters c1 = f.sim.counters();
            for (DropCause cause : new DropCause[] {DropCause.LOSS, DropCause.QUEUE_OVERFLOW, DropCause.MTU_EXCEEDED,
                    DropCause.UNROUTABLE, DropCause.NO_LISTENER, DropCause.NO_MAPPING, DropCause.FILTERED,
                    DropCause.PORT_EXHAUSTED}) {
                assertTrue(c1.dropped(cause) > 0, cause + " exercised: " + c1);
            }
            assertTrue(f.sim.inFlight() > 0, "datagrams still in flight when the run ends");
        }
    }

    @Test
    void thePublicConstructorUsesTheSharedPooledAllocator() {
        try (Simulator sim = new Simulator(1)) {
            SimEndpoint a = sim.internet().addHost("198.51.100.1").bind(1);
            assertSame(Buffers.ALLOCATOR, a.allocator());
            sendSeq(a, a.localAddress(), 1, 100);
            assertEquals(1, sim.inFlight());
        }
    }
}
