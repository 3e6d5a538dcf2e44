package dev.pinhole.punch.relay.turn;

import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A node with a {@link TurnClient} on the simulator, a {@link ScriptedTurnServer}, and a plain peer
 * on the public internet. Every link has a fixed 10 ms delay ({@link #ONE_WAY_NS} host to host),
 * so every exchange takes virtual time.
 * {@link #close()} closes the simulator and requires every buffer to have been released.
 */
final class TurnSimFixture implements AutoCloseable {
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000_000_000L;
    static final LinkConfig LINK = LinkConfig.builder().delay(10 * MS).build();
    /** Host to host: the sender's uplink and the receiver's downlink, 10 ms each. */
    static final long ONE_WAY_NS = 20 * MS;
    static final long RTT_NS = 2 * ONE_WAY_NS;

    /** A datagram the peer or the node received: its text and its sender. */
    record Got(String text, InetSocketAddress from) {
    }

    final long seed;
    final CountingAllocator allocator = new CountingAllocator();
    final Simulator sim;
    final SimHost serverHost;
    final ScriptedTurnServer server;
    final SimEndpoint node;
    final SimEndpoint peer;
    final DatagramDemultiplexer demux = new DatagramDemultiplexer();
    final StunClient stun;
    final TurnClient turn;
    final List<Got> peerGot = new ArrayList<>();
    final List<Got> nodeGot = new ArrayList<>();

    TurnSimFixture(long seed) {
        this.seed = seed;
        sim = new Simulator(seed, allocator);
        serverHost = sim.internet().addHost("198.51.100.1", LINK);
        server = new ScriptedTurnServer(serverHost.bind(3478), serverHost.bind(49152));
        node = sim.internet().addHost("192.0.2.10", LINK).bind(5000);
        peer = sim.internet().addHost("203.0.113.7", LINK).bind(6000);
        peer.receiver((datagram, sender) -> peerGot.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
        node.receiver(demux);
        stun = new StunClient(node, StunTransactionConfig.DEFAULT, sim.random("stun"));
        turn = new TurnClient(stun, sim.random("turn"));
        turn.routeOn(demux, null);
    }

    TurnConfig config() {
        return TurnConfig.of(server.address(), ScriptedTurnServer.USER, ScriptedTurnServer.PASSWORD);
    }

    /** Runs the simulation until {@code future} completes (at most {@code timeoutNs} of virtual time). */
    <T> CompletableFuture<T> await(CompletableFuture<T> future, long timeoutNs) {
        assertTrue(sim.runUntil(future::isDone, timeoutNs), "no outcome within " + timeoutNs / MS + " ms (seed " + seed + ")");
        return future;
    }

    /** Allocates with {@code config} and requires success; the receiver records into {@link #nodeGot}. */
    TurnAllocation allocate(TurnConfig config) {
        TurnAllocation allocation = turn.allocate(config);
        allocation.receiver((datagram, sender) -> nodeGot.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
        await(allocation.allocated(), 10 * SECOND).join();
        return allocation;
    }

    /** The TurnException a future failed with. */
    static TurnException failure(CompletableFuture<?> future) {
        assertTrue(future.isCompletedExceptionally(), "expected a failure, got " + future);
        try {
            future.join();
            throw new AssertionError("unreachable");
        } catch (CompletionException e) {
            return assertInstanceOf(TurnException.class, e.getCause(), "cause");
        }
    }

    ByteBuf text(String s) {
        return node.allocator().buffer().writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The peer sends {@code s} to {@code to} (the relayed address). */
    void peerSends(String s, InetSocketAddress to) {
        peer.send(peer.allocator().buffer().writeBytes(s.getBytes(StandardCharsets.UTF_8)), to);
    }

    /** Closes the TURN and STUN clients (releasing queued data and pending requests), then the simulator. */
    @Override
    public void close() {
        if (!sim.isClosed()) {
            turn.close();
            stun.close();
        }
        sim.close();
        assertEquals(0, allocator.liveBuffers(), "buffers still alive of " + allocator.allocatedBuffers()
            + " allocated (seed " + seed + ")");
    }
}
