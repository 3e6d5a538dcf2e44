package dev.pinhole.punch.rendezvous;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.punch.TraversalFailedException;
import dev.pinhole.punch.traversal.TraversalListener;
import dev.pinhole.punch.traversal.TraversalPath;
import dev.pinhole.punch.traversal.TraversalSession;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * From names to a punched path: two peers behind port-restricted NATs register, one connects by name, and
 * each side feeds its {@link Introduction} to a {@link TraversalSession} on the same socket. The socket is
 * shared as a node shares it: traversal first, then the STUN client's transactions, then the rendezvous
 * client's INTRODUCTION handling.
 */
class RendezvousTraversalTest {
    private static final long SEED = 0xEE04L;

    @Test
    void introducedPeersBehindTwoRestrictedNatsPunchADirectPath() {
        try (PunchSim net = PunchSim.withRendezvousHost(SEED)) {
            net.startServer();
            Node alice = new Node(net, "alice", 1);
            Node bob = new Node(net, "bob", 2);
            bob.client.listener(new RendezvousListener() {
                @Override
                public void onIntroduction(Introduction introduction) {
                    bob.traverse(net, introduction);
                }
            });
            net.await(alice.client.register("alice", List.of(alice.host())), 5 * SECOND);
            net.await(bob.client.register("bob", List.of(bob.host())), 5 * SECOND);

            alice.traverse(net, net.await(alice.client.connect("bob"), 5 * SECOND));
            net.sim.runUntil(() -> alice.done() && bob.done(), 30 * SECOND);

            assertNotNull(alice.path, "alice connected, failure: " + alice.failure + " (seed " + SEED + ")");
            assertNotNull(bob.path, "bob connected, failure: " + bob.failure + " (seed " + SEED + ")");
            assertEquals(bob.nat.externalAddress(), alice.path.remote().getAddress(), "through bob's NAT");
            assertEquals(alice.nat.externalAddress(), bob.path.remote().getAddress(), "through alice's NAT");
            assertEquals(TraversalSession.State.CONNECTED, alice.session.state(), "alice's session connected");
            assertTrue(alice.path.elapsedNs() < 5 * SECOND, "punched within the first seconds: " + alice.path.elapsedNs());
            alice.close();
            bob.close();
        }
    }

    /** A node's single socket, shared by traversal, STUN transactions and the rendezvous client. */
    private static final class Node implements TraversalListener {
        final SimEndpoint socket;
        final Nat nat;
        final DatagramEndpoint endpoint;
        final StunClient stun;
        final RendezvousClient client;
        TraversalSession session;
        TraversalPath path;
        TraversalFailedException failure;

        Node(PunchSim net, String name, int index) {
            nat = net.sim.internet().addNat("203.0.113." + index, NatConfig.PORT_RESTRICTED_CONE);
            socket = nat.inside().addHost("10.0." + index + ".2").bind(4000);
            endpoint = net.tracked(socket);
            stun = new StunClient(endpoint, RendezvousClientConfig.builder().build().timing(), net.sim.random("stun-" + name));
            client = new RendezvousClient(stun, net.serverAddress,
                RendezvousClientConfig.builder().random(net.sim.random("client-" + name)).build());
            endpoint.receiver((datagram, sender) -> {
                if (session != null && session.onDatagram(datagram, sender)) {
                    return;
                }
                if (!stun.handle(datagram, sender)) {
                    client.handle(datagram, sender);
                }
            });
        }

        Candidate host() {
            return Candidate.of(CandidateType.HOST, socket.localAddress());
        }

        void traverse(PunchSim net, Introduction introduction) {
            List<Candidate> local = List.of(host(), Candidate.of(CandidateType.SERVER_REFLEXIVE,
                client.registration().observedAddress(), socket.localAddress()));
            session = TraversalSession.builder(endpoint, introduction, local)
                .random(net.sim.random("traversal-" + introduction.peerName()))
                .listener(this)
                .start();
        }

        boolean done() {
            return path != null || failure != null;
        }

        @Override
        public void onConnected(TraversalPath connected) {
            path = connected;
        }

        @Override
        public void onFailed(TraversalFailedException failed) {
            failure = failed;
        }

        void close() {
            if (session != null) {
                session.close();
            }
            client.close();
            stun.close();
        }
    }
}
