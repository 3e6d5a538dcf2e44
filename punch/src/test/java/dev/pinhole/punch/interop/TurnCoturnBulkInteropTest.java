package dev.pinhole.punch.interop;

import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.punch.relay.RelayedEndpoint;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnStats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A bulk exchange through a real coturn: 2 MiB of datagrams each way at once, between a node that
 * sends and receives through a {@link RelayedEndpoint} (the adapter the reliable transport will use)
 * and a plain UDP peer. UDP may drop a few under load, so the test counts what arrived and requires
 * every arrived datagram intact, from the right sender, and not duplicated, not that none was lost.
 */
class TurnCoturnBulkInteropTest {
    private static final int PAYLOAD_BYTES = 1000;
    private static final int DATAGRAMS = 2 * 1024 * 1024 / PAYLOAD_BYTES + 1;
    /** Datagrams a sender may have ahead of what its receiver counted: keeps socket buffers from overflowing. */
    private static final int WINDOW = 64;
    /** Pacing tick of the senders. */
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** A window that made no progress for this long is written off as lost, so a loss cannot stall the sender. */
    private static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final byte NODE_TO_PEER = 1;
    private static final byte PEER_TO_NODE = 2;
    private static CoturnTurnServer coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = CoturnTurnServer.start(4);
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    @Test
    void twoMebibytesEachWayArriveIntactThroughTheRelay() throws Exception {
        try (RealNode node = RealNode.start("turn-bulk-node"); UdpEventLoop peer = UdpEventLoop.builder()
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).threadName("turn-bulk-peer").daemon(true)
            .build().start()) {
            InetSocketAddress peerAddress = peer.localAddress();
            TurnAllocation allocation = node.allocate(coturn.config());
            InetSocketAddress relayedAddress = allocation.relayedAddress();
            RelayedEndpoint relayed = node.run(allocation::asEndpoint);
            assertEquals(relayedAddress, node.run(relayed::localAddress), "the endpoint's address is the relayed one");
            node.call(() -> allocation.bindChannel(peerAddress));

            Tally atPeer = new Tally(NODE_TO_PEER, relayedAddress);
            Tally atNode = new Tally(PEER_TO_NODE, peerAddress);
            peer.submit(() -> {
                peer.receiver(atPeer::onDatagram);
                return null;
            }).get(RealNode.TIMEOUT_S, TimeUnit.SECONDS);
            node.run(() -> {
                relayed.receiver(atNode::onDatagram);
                return null;
            });

            long startNs = System.nanoTime();
            Pump fromNode = new Pump(relayed, peerAddress, NODE_TO_PEER, atPeer);
            Pump fromPeer = new Pump(peer, relayedAddress, PEER_TO_NODE, atNode);
            node.loop.execute(fromNode::pump);
            peer.execute(fromPeer::pump);
            fromNode.done.get(120, TimeUnit.SECONDS);
            fromPeer.done.get(120, TimeUnit.SECONDS);
            atPeer.awaitAllOrQuiet();
            atNode.awaitAllOrQuiet();
            double seconds = (System.nanoTime() - startNs) / 1e9;

            TurnStats stats = node.run(allocation::stats);
            System.out.printf("TURN bulk via coturn: %d x %d B each way in %.2f s (%.1f MB/s each way); "
                    + "node->peer arrived %d, peer->node arrived %d; %s%n", DATAGRAMS, PAYLOAD_BYTES, seconds,
                DATAGRAMS * (double) PAYLOAD_BYTES / seconds / 1e6, atPeer.intact.get(), atNode.intact.get(), stats);
            for (Tally tally : new Tally[] {atPeer, atNode}) {
                String direction = tally.direction == NODE_TO_PEER ? "node to peer" : "peer to node";
                assertEquals(0, tally.corrupt.get(), direction + ": corrupt datagrams");
                assertEquals(0, tally.duplicates.get(), direction + ": duplicated datagrams");
                assertEquals(0, tally.wrongSender.get(), direction + ": datagrams from an unexpected sender");
                assertTrue(tally.intact.get() >= DATAGRAMS / 2, direction + ": at least half of " + DATAGRAMS
                    + " arrive, got " + tally.intact.get());
            }
            assertEquals(fromNode.sent, stats.sentChannelData(), "the node sent everything as ChannelData");
            assertEquals(atNode.intact.get(), stats.receivedChannelData(), "and received everything as ChannelData");
            assertEquals(0, stats.droppedOnSend() + stats.droppedOnReceive(), "the allocation dropped nothing: " + stats);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ncoturn said:\n" + coturn.logTail(), e);
        }
    }

    /** Byte {@code i} of datagram {@code seq} in {@code direction}: a pattern that catches shifted or mixed data. */
    private static byte patternByte(byte direction, int seq, int i) {
        return (byte) (seq * 131 + i * 7 + direction);
    }

    /** Sends the datagrams of one direction on its loop, at most {@link #WINDOW} ahead of its receiver. */
    private static final class Pump {
        final DatagramEndpoint endpoint;
        final InetSocketAddress destination;
        final byte direction;
        final Tally receiver;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        int sent;
        int writtenOff;
        int lastSeenArrivals = -1;
        long lastProgressNs;

        Pump(DatagramEndpoint endpoint, InetSocketAddress destination, byte direction, Tally receiver) {
            this.endpoint = endpoint;
            this.destination = destination;
            this.direction = direction;
            this.receiver = receiver;
        }

        void pump() {
            long nowNs = endpoint.clock().nanoTime();
            int arrived = receiver.intact.get();
            if (arrived != lastSeenArrivals) {
                lastSeenArrivals = arrived;
                lastProgressNs = nowNs;
            } else if (nowNs - lastProgressNs > STALL_NS) {
                writtenOff = sent - arrived;
                lastProgressNs = nowNs;
            }
            while (sent < DATAGRAMS && sent - arrived - writtenOff < WINDOW) {
                ByteBuf datagram = endpoint.allocator().buffer(PAYLOAD_BYTES);
                datagram.writeByte(direction).writeInt(sent);
                for (int i = 5; i < PAYLOAD_BYTES; i++) {
                    datagram.writeByte(patternByte(direction, sent, i));
                }
                endpoint.send(datagram, destination);
                sent++;
            }
            if (sent < DATAGRAMS) {
                endpoint.timers().schedule(nowNs + TICK_NS, (t, id) -> pump());
            } else {
                done.complete(null);
            }
        }
    }

    /** Checks and counts the datagrams of one direction, on the receiving loop. */
    private static final class Tally {
        final byte direction;
        final InetSocketAddress expectedSender;
        final AtomicInteger intact = new AtomicInteger();
        final AtomicInteger corrupt = new AtomicInteger();
        final AtomicInteger duplicates = new AtomicInteger();
        final AtomicInteger wrongSender = new AtomicInteger();
        final BitSet seen = new BitSet(DATAGRAMS);
        final CompletableFuture<Void> all = new CompletableFuture<>();
        volatile long lastArrivalNs = System.nanoTime();

        Tally(byte direction, InetSocketAddress expectedSender) {
            this.direction = direction;
            this.expectedSender = expectedSender;
        }

        void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
            lastArrivalNs = System.nanoTime();
            if (!expectedSender.equals(sender)) {
                wrongSender.incrementAndGet();
                return;
            }
            int at = datagram.readerIndex();
            if (datagram.readableBytes() != PAYLOAD_BYTES || datagram.getByte(at) != direction) {
                corrupt.incrementAndGet();
                return;
            }
            int seq = datagram.getInt(at + 1);
            if (seq < 0 || seq >= DATAGRAMS) {
                corrupt.incrementAndGet();
                return;
            }
            for (int i = 5; i < PAYLOAD_BYTES; i++) {
                if (datagram.getByte(at + i) != patternByte(direction, seq, i)) {
                    corrupt.incrementAndGet();
                    return;
                }
            }
            if (seen.get(seq)) {
                duplicates.incrementAndGet();
                return;
            }
            seen.set(seq);
            if (intact.incrementAndGet() == DATAGRAMS) {
                all.complete(null);
            }
        }

        /** Waits until every datagram arrived, or until none arrived for a second (the rest were lost). */
        void awaitAllOrQuiet() throws Exception {
            while (true) {
                try {
                    all.get(1, TimeUnit.SECONDS);
                    return;
                } catch (TimeoutException notYet) {
                    if (System.nanoTime() - lastArrivalNs > TimeUnit.SECONDS.toNanos(1)) {
                        return;
                    }
                }
            }
        }
    }
}
