package dev.pinhole.punch.rendezvous;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.server.RelayCounter;
import dev.pinhole.server.relay.RelayGrants;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The whole relay path the rendezvous server sets up, on the simulator: two peers behind SYMMETRIC NATs
 * (no punch can work) are introduced, each allocates on the built-in {@link TurnServer} with the
 * credentials its own RELAY-OFFER carries, trickles its relayed address to the other with CANDIDATE, and
 * data then flows relay to relay.
 */
class RendezvousRelayEndToEndTest {
    private static final byte[] REST_SECRET = "end-to-end-rest-secret-01234".getBytes(StandardCharsets.US_ASCII);
    private static final int TURN_PORT = 3479;
    private static final long WALL_UNIX_SECONDS = 1_795_262_400L;

    /** One node: its socket shared by the STUN, rendezvous and TURN clients through a demultiplexer. */
    private record Node(String name, RendezvousClient rendezvous, TurnClient turn, StunClient stun,
                        PunchSim.RecordingListener listener) {
    }

    @Test
    void peersBehindSymmetricNatsAllocateWithTheirOffersTrickleRelayedAddressesAndExchangeData() {
        long seed = 0xE2EL;
        try (PunchSim net = PunchSim.withRendezvousHost(seed)) {
            InetSocketAddress turnAddress = PunchSim.address(PunchSim.SERVER_IP, TURN_PORT);
            SimEndpoint turnSocket = net.serverHost.bind(TURN_PORT);
            RelayGrants grants = new RelayGrants();
            TurnServer relay = new TurnServer(turnSocket, () -> net.serverHost.bind(0),
                new RestCredentials(REST_SECRET, () -> WALL_UNIX_SECONDS), TurnServerConfig.defaults(),
                net.sim.random("turn-server"), grants).listen();
            net.startServer(b -> b.relay(turnAddress, REST_SECRET, grants).unixSeconds(() -> WALL_UNIX_SECONDS));
            List<Node> nodes = new ArrayList<>();
            try {
                Node alice = node(net, "alice", nodes);
                Node bob = node(net, "bob", nodes);
                net.await(alice.rendezvous().register("alice", List.of()), 5 * SECOND);
                net.await(bob.rendezvous().register("bob", List.of()), 5 * SECOND);

                Introduction forAlice = net.await(alice.rendezvous().connect("bob"), 5 * SECOND);
                net.runFor(1 * SECOND);
                Introduction forBob = bob.listener().introductions.get(0);

                TurnAllocation aliceAllocation = allocate(net, alice, forAlice.relay());
                TurnAllocation bobAllocation = allocate(net, bob, forBob.relay());
                Candidate aliceRelayed = Candidate.of(CandidateType.RELAYED, aliceAllocation.relayedAddress());
                Candidate bobRelayed = Candidate.of(CandidateType.RELAYED, bobAllocation.relayedAddress());
                net.await(alice.rendezvous().sendCandidate("bob", aliceRelayed), 5 * SECOND);
                net.await(bob.rendezvous().sendCandidate("alice", bobRelayed), 5 * SECOND);
                net.runFor(1 * SECOND);

                assertEquals(List.of(aliceRelayed), bob.listener().candidates, "bob learnt alice's relayed address");
                assertEquals(List.of(bobRelayed), alice.listener().candidates, "alice learnt bob's relayed address");

                // Each lets the other's relayed address in (RFC 8656 §9), then alice sends through both relays.
                Candidate toBob = alice.listener().candidates.get(0);
                Candidate toAlice = bob.listener().candidates.get(0);
                net.await(aliceAllocation.createPermission(toBob.address()), 5 * SECOND);
                net.await(bobAllocation.createPermission(toAlice.address()), 5 * SECOND);
                List<byte[]> bobGot = new ArrayList<>();
                bobAllocation.receiver((datagram, sender) -> bobGot.add(ByteBufUtil.getBytes(datagram)));
                byte[] hello = "hello over the relay".getBytes(StandardCharsets.UTF_8);
                aliceAllocation.sendTo(toBob.address(), Unpooled.wrappedBuffer(hello));
                net.runFor(1 * SECOND);

                assertEquals(1, bobGot.size(), "bob received alice's datagram through the relay (seed " + seed + ")");
                assertArrayEquals(hello, bobGot.get(0), "intact");

                // The offer's credentials relay to the introduced peer only (RelayGrants): a third address is refused.
                InetSocketAddress third = PunchSim.address("192.0.2.99", 9);
                CompletableFuture<Void> refused = aliceAllocation.createPermission(third);
                net.runFor(2 * SECOND);
                assertEquals(403, PunchSim.turnFailure(refused).code(), "403 Forbidden for a third address");
                assertEquals(1, relay.count(RelayCounter.NOT_GRANTED), "counted by the relay");

                // A candidate alice trickles through the rendezvous server (say, a relayed address on another TURN
                // server) extends bob's grant toward her: refused before, granted after.
                InetSocketAddress elsewhere = PunchSim.address("203.0.113.250", 5000);
                CompletableFuture<Void> early = bobAllocation.createPermission(elsewhere);
                net.runFor(2 * SECOND);
                assertEquals(403, PunchSim.turnFailure(early).code(), "not granted before alice trickles it");
                net.await(alice.rendezvous().sendCandidate("bob", Candidate.of(CandidateType.RELAYED, elsewhere)),
                    5 * SECOND);
                net.runFor(1 * SECOND);
                net.await(bobAllocation.createPermission(elsewhere), 5 * SECOND);
            } finally {
                for (Node node : nodes) {
                    node.turn().close();
                    node.rendezvous().close();
                    node.stun().close();
                }
                relay.close();
            }
        }
    }

    private static TurnAllocation allocate(PunchSim net, Node node, RelayOffer offer) {
        assertNotNull(offer, node.name() + "'s introduction offers a relay");
        TurnAllocation allocation = node.turn().allocate(TurnConfig.of(offer.server(), offer.username(),
            offer.password()));
        CompletableFuture<TurnAllocation> allocated = allocation.allocated();
        net.await(allocated, 10 * SECOND);
        return allocation;
    }

    private static Node node(PunchSim net, String name, List<Node> nodes) {
        Nat nat = net.sim.internet().addNat("203.0.113." + (nodes.size() + 1), NatConfig.SYMMETRIC);
        SimEndpoint endpoint = nat.inside().addHost("10.0.0.2").bind(4000);
        DatagramDemultiplexer demux = new DatagramDemultiplexer();
        endpoint.receiver(demux);
        StunClient stun = new StunClient(endpoint, StunTransactionConfig.DEFAULT, net.sim.random("stun-" + name));
        RendezvousClient rendezvous = new RendezvousClient(stun, net.serverAddress,
            RendezvousClientConfig.builder().random(net.sim.random("client-" + name)).build());
        TurnClient turn = new TurnClient(stun, net.sim.random("turn-" + name));
        turn.routeOn(demux, rendezvous::handle);
        PunchSim.RecordingListener listener = new PunchSim.RecordingListener(net.sim);
        rendezvous.listener(listener);
        Node node = new Node(name, rendezvous, turn, stun, listener);
        nodes.add(node);
        return node;
    }
}
