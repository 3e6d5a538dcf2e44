package dev.pinhole.punch.relay;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.relay.TurnServerCounter;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link TurnServer} on the simulator's public internet (198.51.100.1:3478, relay sockets on
 * ephemeral ports of the same host) and helpers to add Pinhole nodes, behind NATs or not, each with
 * the real {@link TurnClient}. Every link has a fixed 10 ms delay. {@link #close()} closes clients
 * and server, then checks as {@link PunchSim} does.
 */
final class RelaySimFixture extends PunchSim {
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
        private final TurnNode client;

        Node(SimEndpoint endpoint, String name) {
            this.endpoint = endpoint;
            client = new TurnNode(endpoint, "stun-" + name, "turn-" + name);
            stun = client.stun;
            turn = client.turn;
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
            awaitDone(allocation.allocated(), 10 * SECOND).join();
            return allocation;
        }

        TurnAllocation allocate() {
            return allocate(config(USER, PASSWORD));
        }
    }

    final SimHost serverHost;
    final SimEndpoint listening;
    final TurnServer server;
    final List<Node> nodes = new ArrayList<>();
    private int nextNat = 1;

    RelaySimFixture(long seed, TurnServerConfig config) {
        this(seed, config, TurnAuthenticator.staticUsers(Map.of(USER, PASSWORD, USER_2, PASSWORD_2)));
    }

    RelaySimFixture(long seed, TurnServerConfig config, TurnAuthenticator authenticator) {
        this(seed, config, authenticator, endpoint -> endpoint);
    }

    /** {@code wrap} may put a recording endpoint between the server and its listening socket. */
    RelaySimFixture(long seed, TurnServerConfig config, TurnAuthenticator authenticator,
                    Function<SimEndpoint, DatagramEndpoint> wrap) {
        super(seed);
        serverHost = publicHost("198.51.100.1", LINK);
        listening = serverHost.bind(3478);
        server = new TurnServer(wrap.apply(listening), () -> serverHost.bind(0), authenticator, config,
            sim.random("server")).listen();
    }

    /** A node behind its own NAT of the given behaviour (public IPs 203.0.113.1, .2, ...). */
    Node behindNat(NatConfig natConfig) {
        int n = nextNat++;
        SimHost host = nat("203.0.113." + n, natConfig, LINK).inside().addHost("10.0.0.2", LINK);
        return new Node(host.bind(4000), "nat" + n);
    }

    /** A node on the public internet. */
    Node publicNode(String ip, int port) {
        return new Node(publicHostOrExisting(ip, LINK).bind(port), ip + ":" + port);
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
                node.client.close();
            }
            server.close();
        }
        super.close();
    }
}
