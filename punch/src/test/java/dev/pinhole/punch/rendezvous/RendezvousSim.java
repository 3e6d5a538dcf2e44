package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.RendezvousException;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A rendezvous server at 198.51.100.10:3478 on a seeded simulator, and peers behind simulated NATs or on
 * the public internet. Protocol code allocates through {@link #tracked} endpoints, so that {@link #close()}
 * (closing clients and server, then checking as {@link PunchSim} does) proves no buffer leaked. Failure
 * messages carry the seed.
 */
final class RendezvousSim extends PunchSim {
    static final String SERVER_IP = "198.51.100.10";
    static final int SERVER_PORT = 3478;

    final SimHost serverHost;
    final InetSocketAddress serverAddress = address(SERVER_IP, SERVER_PORT);
    final List<Peer> peers = new ArrayList<>();
    SimEndpoint serverEndpoint;
    RendezvousServer server;
    private int serverGeneration;
    private int natCount;

    RendezvousSim(long seed) {
        super(seed);
        this.serverHost = publicHost(SERVER_IP);
    }

    /** Starts a server with the defaults changed by {@code settings}; a seeded random per server instance. */
    RendezvousServer startServer(UnaryOperator<RendezvousServerConfig.Builder> settings) {
        RendezvousServerConfig config = settings.apply(RendezvousServerConfig.builder())
            .random(sim.random("server-" + serverGeneration++)).build();
        serverEndpoint = serverHost.bind(SERVER_PORT);
        server = RendezvousServer.listen(tracked(serverEndpoint), config);
        return server;
    }

    RendezvousServer startServer() {
        return startServer(b -> b);
    }

    /** Stops the server and unbinds its port, as a crashed or restarted process would. */
    void stopServer() {
        server.close();
        serverEndpoint.close();
    }

    /** A peer behind its own NAT with external address 203.0.113.(n+1), inside address 10.0.0.2:4000. */
    Peer peerBehindNat(String name, NatConfig natConfig, UnaryOperator<RendezvousClientConfig.Builder> settings) {
        return peerBehindNat(name, natConfig, settings, UnaryOperator.identity());
    }

    /** As above, with the client's endpoint wrapped by {@code wrap} (to intercept what it sends). */
    Peer peerBehindNat(String name, NatConfig natConfig, UnaryOperator<RendezvousClientConfig.Builder> settings,
                       UnaryOperator<DatagramEndpoint> wrap) {
        natCount++;
        Nat nat = nat("203.0.113." + natCount, natConfig);
        SimEndpoint endpoint = nat.inside().addHost("10.0.0.2").bind(4000);
        return peer(name, endpoint, nat, settings, wrap);
    }

    Peer peerBehindNat(String name) {
        return peerBehindNat(name, NatConfig.PORT_RESTRICTED_CONE, b -> b);
    }

    /** A peer with a public address 192.0.2.(n+1):5000. */
    Peer publicPeer(String name, UnaryOperator<RendezvousClientConfig.Builder> settings) {
        SimEndpoint endpoint = publicHost("192.0.2." + (peers.size() + 1)).bind(5000);
        return peer(name, endpoint, null, settings, UnaryOperator.identity());
    }

    private Peer peer(String name, SimEndpoint endpoint, Nat nat, UnaryOperator<RendezvousClientConfig.Builder> settings,
                      UnaryOperator<DatagramEndpoint> wrap) {
        RendezvousClientConfig config = settings.apply(RendezvousClientConfig.builder())
            .random(sim.random("client-" + name + "-" + peers.size())).build();
        RendezvousClient client = RendezvousClient.listen(wrap.apply(tracked(endpoint)),
            serverAddress, config);
        RecordingListener listener = new RecordingListener(sim);
        client.listener(listener);
        Peer peer = new Peer(name, endpoint, client, nat, listener);
        peers.add(peer);
        return peer;
    }

    /** The host candidate of a peer's socket. */
    static List<Candidate> hostCandidates(Peer peer) {
        return List.of(Candidate.of(CandidateType.HOST, peer.endpoint().localAddress()));
    }

    Registration register(Peer peer) {
        return await(peer.client().register(peer.name(), hostCandidates(peer)), 5 * SECOND);
    }

    /** Closes clients and server, then the simulator, and checks that every buffer was released. */
    @Override
    public void close() {
        for (Peer peer : peers) {
            peer.client().close();
        }
        if (server != null) {
            server.close();
        }
        super.close();
    }

    record Peer(String name, SimEndpoint endpoint, RendezvousClient client, Nat nat, RecordingListener listener) {
        /** The process dies: its socket goes first, so nothing (no deregistration) reaches the server. */
        void crash() {
            endpoint.close();
            client.close();
        }

        /** The NAT's mapping of this peer's socket towards the server, or its own address if public. */
        InetSocketAddress mappedTowards(InetSocketAddress destination) {
            return nat == null ? endpoint.localAddress() : nat.mappingOf(endpoint.localAddress(), destination).orElseThrow();
        }
    }

    /** Records what a client's listener hears, with the virtual time of each introduction. */
    static final class RecordingListener implements RendezvousListener {
        final List<Introduction> introductions = new ArrayList<>();
        final List<Long> introductionTimesNs = new ArrayList<>();
        final List<String> messages = new ArrayList<>();
        final List<String> candidateSenders = new ArrayList<>();
        final List<Candidate> candidates = new ArrayList<>();
        final List<RendezvousException> refreshFailures = new ArrayList<>();
        final List<RendezvousException> lost = new ArrayList<>();
        private final Simulator sim;

        RecordingListener(Simulator sim) {
            this.sim = sim;
        }

        @Override
        public void onIntroduction(Introduction introduction) {
            introductions.add(introduction);
            introductionTimesNs.add(sim.nowNs());
        }

        @Override
        public void onMessage(String fromPeer, String text) {
            messages.add(fromPeer + ": " + text);
        }

        @Override
        public void onCandidate(String fromPeer, Candidate candidate) {
            candidateSenders.add(fromPeer);
            candidates.add(candidate);
        }

        @Override
        public void onRefreshFailed(RendezvousException cause) {
            refreshFailures.add(cause);
        }

        @Override
        public void onRegistrationLost(RendezvousException cause) {
            lost.add(cause);
        }
    }
}
