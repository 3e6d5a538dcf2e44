package dev.pinhole.punch.relay.server;

import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.relay.TurnServerCounter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A {@link TurnServer} on the simulator's public internet (198.51.100.1:3478, relay sockets on
 * ephemeral ports of the same host) and helpers to add Pinhole nodes, behind NATs or not, each with
 * the real {@link TurnClient}. Every link has a fixed 10 ms delay. {@link #close()} closes clients,
 * server and simulator and requires every buffer to have been released.
 */
final class RelaySimFixture implements AutoCloseable {
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000_000_000L;
    static final LinkConfig LINK = LinkConfig.builder().delay(10 * MS).build();
    static final String USER = "alice";
    static final String PASSWORD = "correct horse";
    static final String USER_2 = "bob";
    static final String PASSWORD_2 = "battery staple";

    /** A datagram a node received: its bytes and its sender. */
    record Got(byte[] bytes, InetSocketAddress from) {
    }

    /** A Pinhole node: one socket, demultiplexer, STUN and TURN client; what its allocation receives is recorded. */
    final class Node {
        final SimEndpoint endpoint;
        final StunClient stun;
        final TurnClient turn;
        final List<Got> got = new ArrayList<>();

        Node(SimEndpoint endpoint, String name) {
            this.endpoint = endpoint;
            DatagramDemultiplexer demux = new DatagramDemultiplexer();
            endpoint.receiver(demux);
            stun = new StunClient(endpoint, StunTransactionConfig.DEFAULT, sim.random("stun-" + name));
            turn = new TurnClient(stun, sim.random("turn-" + name));
            turn.routeOn(demux, null);
            nodes.add(this);
        }

        TurnConfig config(String user, String password) {
            return TurnConfig.of(server.address(), user, password);
        }

        /** Starts an allocation whose receiver records into {@link #got}. */
        TurnAllocation startAllocation(TurnConfig config) {
            TurnAllocation allocation = turn.allocate(config);
            allocation.receiver((datagram, sender) -> got.add(new Got(bytes(datagram), sender)));
            return allocation;
        }

        /** Allocates and requires success. */
        TurnAllocation allocate(TurnConfig config) {
            TurnAllocation allocation = startAllocation(config);
            await(allocation.allocated(), 10 * SECOND).join();
            return allocation;
        }

        TurnAllocation allocate() {
            return allocate(config(USER, PASSWORD));
        }
    }

    final long seed;
    final CountingAllocator allocator = new CountingAllocator();
    final Simulator sim;
    final SimHost serverHost;
    final SimEndpoint listening;
    final TurnServer server;
    final List<Node> nodes = new ArrayList<>();
    private int nextNat = 1;

    RelaySimFixture(long seed, TurnServerConfig config) {
        this(seed, config, TurnAuthenticator.staticUsers(java.util.Map.of(USER, PASSWORD, USER_2, PASSWORD_2)));
    }

    RelaySimFixture(long seed, TurnServerConfig config, TurnAuthenticator authenticator) {
        this(seed, config, authenticator, endpoint -> endpoint);
    }

    /** {@code wrap} may put a recording endpoint between the server and its listening socket. */
    RelaySimFixture(long seed, TurnServerConfig config, TurnAuthenticator authenticator,
                    java.util.function.Function<SimEndpoint, dev.pinhole.core.net.DatagramEndpoint> wrap) {
        this.seed = seed;
        sim = new Simulator(seed, allocator);
        serverHost = sim.internet().addHost("198.51.100.1", LINK);
        listening = serverHost.bind(3478);
        server = new TurnServer(wrap.apply(listening), () -> serverHost.bind(0), authenticator, config,
            sim.random("server")).listen();
    }

    /** A node behind its own NAT of the given behaviour (public IPs 203.0.113.1, .2, ...). */
    Node behindNat(NatConfig natConfig) {
        int n = nextNat++;
        Nat nat = sim.internet().addNat("203.0.113." + n, natConfig, LINK);
        SimHost host = nat.inside().addHost("10.0.0.2", LINK);
        return new Node(host.bind(4000), "nat" + n);
    }

    /** A node on the public internet. */
    Node publicNode(String ip, int port) {
        SimHost host = sim.internet().host(ip);
        if (host == null) {
            host = sim.internet().addHost(ip, LINK);
        }
        return new Node(host.bind(port), ip + ":" + port);
    }

    /** Runs the simulation until {@code future} completes (at most {@code timeoutNs} of virtual time). */
    <T> CompletableFuture<T> await(CompletableFuture<T> future, long timeoutNs) {
        assertTrue(sim.runUntil(future::isDone, timeoutNs), "no outcome within " + timeoutNs / MS + " ms (seed " + seed + ")");
        return future;
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

    static byte[] bytes(ByteBuf datagram) {
        byte[] b = new byte[datagram.readableBytes()];
        datagram.getBytes(datagram.readerIndex(), b);
        return b;
    }

    ByteBuf buffer(byte[] bytes) {
        return listening.allocator().buffer(bytes.length).writeBytes(bytes);
    }

    long count(TurnServerCounter counter) {
        return server.count(counter);
    }

    @Override
    public void close() {
        if (!sim.isClosed()) {
            for (Node node : nodes) {
                node.turn.close();
                node.stun.close();
            }
            server.close();
        }
        sim.close();
        assertEquals(0, allocator.liveBuffers(), "buffers still alive of " + allocator.allocatedBuffers()
            + " allocated (seed " + seed + ")");
    }
}
