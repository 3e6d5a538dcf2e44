package dev.pinhole.punch.relay;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A node with a {@link TurnClient} on the simulator, a {@link ScriptedTurnServer}, and a plain peer
 * on the public internet. Every link has a fixed 10 ms delay ({@link #ONE_WAY_NS} host to host),
 * so every exchange takes virtual time.
 * {@link #close()} closes the clients, then checks as {@link PunchSim} does.
 */
final class TurnSimFixture extends PunchSim {
    static final LinkConfig LINK = LinkConfig.builder().delay(10 * MS).build();
    /** Host to host: the sender's uplink and the receiver's downlink, 10 ms each. */
    static final long ONE_WAY_NS = 20 * MS;
    static final long RTT_NS = 2 * ONE_WAY_NS;

    /** A datagram the peer or the node received: its text and its sender. */
    record Got(String text, InetSocketAddress from) {
    }

    final SimHost serverHost;
    final ScriptedTurnServer server;
    final SimEndpoint node;
    final SimEndpoint peer;
    final DatagramDemultiplexer demux;
    final StunClient stun;
    final TurnClient turn;
    final List<Got> peerGot = new ArrayList<>();
    final List<Got> nodeGot = new ArrayList<>();
    private final TurnNode client;

    TurnSimFixture(long seed) {
        super(seed);
        serverHost = publicHost("198.51.100.1", LINK);
        server = new ScriptedTurnServer(serverHost.bind(3478), serverHost.bind(49152));
        node = publicHost("192.0.2.10", LINK).bind(5000);
        peer = publicHost("203.0.113.7", LINK).bind(6000);
        peer.receiver((datagram, sender) -> peerGot.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
        client = new TurnNode(node, "stun", "turn");
        demux = client.demux;
        stun = client.stun;
        turn = client.turn;
    }

    TurnConfig config() {
        return TurnConfig.of(server.address(), ScriptedTurnServer.USER, ScriptedTurnServer.PASSWORD);
    }

    /** Allocates with {@code config} and requires success; the receiver records into {@link #nodeGot}. */
    TurnAllocation allocate(TurnConfig config) {
        TurnAllocation allocation = turn.allocate(config);
        allocation.receiver((datagram, sender) -> nodeGot.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
        awaitDone(allocation.allocated(), 10 * SECOND).join();
        return allocation;
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
            client.close();
        }
        super.close();
    }
}
