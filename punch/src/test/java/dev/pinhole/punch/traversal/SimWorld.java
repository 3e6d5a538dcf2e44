package dev.pinhole.punch.traversal;

import dev.pinhole.punch.TraversalFailedException;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Network;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * A simulated internet for traversal tests: STUN servers on three public addresses (an RFC 5780 server on
 * 198.51.100.1 and .2, ports 3478 and 3479, and a plain one on 198.51.100.3), NATs, and peers that gather
 * candidates through them, get introduced, run a {@link TraversalSession} and then exchange a datagram over
 * the path to prove it carries data.
 */
final class SimWorld extends PunchSim {
    static final int PEER_PORT = 4000;
    /** Gathering order: two ports of one IP first (address- vs port-dependent mapping), then two more IPs. */
    static final List<InetSocketAddress> STUN_SERVERS = List.of(address("198.51.100.1", 3478),
            address("198.51.100.1", 3479), address("198.51.100.2", 3478), address("198.51.100.3", 3478));
    /** First byte of the test's data datagrams: a Pinhole transport packet (128–191), never STUN. */
    static final byte DATA = (byte) 0x80;
    private static final int DATA_ATTEMPTS = 20;

    private final LinkConfig access;

    SimWorld(long seed) {
        this(seed, LinkConfig.PERFECT);
    }

    /** A world whose peers' access links all use {@code access} (delay, loss, ...). */
    SimWorld(long seed, LinkConfig access) {
        super(seed);
        this.access = access;
        SimHost s1 = publicHost("198.51.100.1");
        SimHost s2 = publicHost("198.51.100.2");
        SimHost s3 = publicHost("198.51.100.3");
        StunBindingServer.rfc5780(s1.bind(3478), s1.bind(3479), s2.bind(3478), s2.bind(3479), "pinhole-sim")
                .listen();
        StunBindingServer.basic(s3.bind(3478), "pinhole-sim").listen();
    }

    Peer peer(String name, Network realm, String ip) {
        return new Peer(this, name, realm.addHost(ip, access));
    }

    /** Gathers both peers' candidates (unless done), introduces them and starts both sessions. */
    void introduce(Peer controlling, Peer controlled, TraversalConfig config) {
        introduce(controlling, IceRole.CONTROLLING, controlled, IceRole.CONTROLLED, config);
    }

    /** As the rendezvous server would, but with the roles given (a misbehaving server may give both one role). */
    void introduce(Peer a, IceRole roleA, Peer b, IceRole roleB, TraversalConfig config) {
        a.gather();
        b.gather();
        runUntil(() -> a.gathered.isDone() && b.gathered.isDone(), 30 * SECOND);
        a.start(b, roleA, config);
        b.start(a, roleB, config);
    }

    /** Runs until both sessions have an outcome (or the timeout); true if both connected. */
    boolean runToOutcome(Peer a, Peer b, long timeoutNs) {
        runUntil(() -> a.done() && b.done(), timeoutNs);
        return a.path != null && b.path != null;
    }

    /**
     * Sends a data datagram each way over the two nominated paths, again every 100 ms until it arrived (lossy
     * links lose some, as a transport would retransmit) or 20 tries: the proof that the paths are real.
     */
    boolean exchangeData(Peer a, Peer b) {
        int aBefore = a.dataReceived.size();
        int bBefore = b.dataReceived.size();
        BooleanSupplier bothArrived = () -> a.dataReceived.size() > aBefore && b.dataReceived.size() > bBefore;
        for (int attempt = 0; attempt < DATA_ATTEMPTS && !bothArrived.getAsBoolean(); attempt++) {
            if (b.dataReceived.size() == bBefore) {
                a.sendData("hello from " + a.name);
            }
            if (a.dataReceived.size() == aBefore) {
                b.sendData("hello from " + b.name);
            }
            runUntil(bothArrived, 100 * MS);
        }
        return bothArrived.getAsBoolean();
    }

    /** One node: a host with its main socket, a STUN client on it, and (once introduced) a session. */
    static final class Peer implements TraversalListener {
        final SimWorld world;
        final String name;
        final SimHost host;
        final SimEndpoint endpoint;
        final StunClient stun;
        final Credentials credentials;
        final List<String> dataReceived = new ArrayList<>();
        final List<DatagramEndpoint> probeSockets = new ArrayList<>();
        CompletableFuture<GatheredCandidates> gathered;
        NatProfile.Filtering knownFiltering = NatProfile.Filtering.UNKNOWN;
        ProbeSockets sockets;
        SocketTtl ttl = SocketTtl.NONE;
        boolean holdChecks;
        TraversalSession session;
        TraversalPath path;
        TraversalFailedException failure;
        long connectedAtNs = -1;
        long failedAtNs = -1;

        Peer(SimWorld world, String name, SimHost host) {
            this.world = world;
            this.name = name;
            this.host = host;
            this.endpoint = host.bind(PEER_PORT);
            this.stun = new StunClient(endpoint, CandidateGatherer.DEFAULT_TIMING, world.sim.random("stun/" + name));
            this.credentials = Credentials.random(world.sim.random("credentials/" + name));
            this.sockets = probeSockets(host, probeSockets);
            endpoint.receiver(this::onDatagram);
        }

        private void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
            if (datagram.readableBytes() > 0 && datagram.getByte(datagram.readerIndex()) == DATA) {
                onData(datagram);
                return;
            }
            if (session != null && session.onDatagram(datagram, sender)) {
                return;
            }
            stun.handle(datagram, sender);
        }

        private void onData(ByteBuf datagram) {
            dataReceived.add(datagram.toString(datagram.readerIndex() + 1, datagram.readableBytes() - 1,
                    StandardCharsets.UTF_8));
        }

        void gather() {
            if (gathered == null) {
                gathered = CandidateGatherer.gather(stun, HostAddresses.of(List.of()), STUN_SERVERS,
                        CandidateGatherer.DEFAULT_TIMING);
            }
        }

        NatProfile profile() {
            return gathered.join().nat().withFiltering(knownFiltering);
        }

        void start(Peer peer, IceRole role, TraversalConfig config) {
            Introduction introduction = new Introduction(peer.name, peer.gathered.join().candidates(), credentials,
                    peer.credentials, role, peer.profile(), profile());
            TraversalSession.Builder builder = TraversalSession.builder(endpoint, introduction,
                    gathered.join().candidates());
            if (holdChecks) {
                builder.holdChecks();
            }
            session = builder
                    .config(config)
                    .random(world.sim.random("traversal/" + name))
                    .probeSockets(sockets)
                    .socketTtl(ttl)
                    .passThrough((datagram, sender) -> {
                        if (datagram.readableBytes() > 0 && datagram.getByte(datagram.readerIndex()) == DATA) {
                            onData(datagram);
                        }
                    })
                    .listener(this)
                    .start();
        }

        boolean done() {
            return path != null || failure != null;
        }

        void sendData(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            ByteBuf out = path.endpoint().allocator().buffer(bytes.length + 1);
            out.writeByte(DATA).writeBytes(bytes);
            path.endpoint().send(out, path.remote());
        }

        @Override
        public void onConnected(TraversalPath connected) {
            path = connected;
            connectedAtNs = world.sim.nowNs();
        }

        @Override
        public void onFailed(TraversalFailedException failed) {
            failure = failed;
            failedAtNs = world.sim.nowNs();
        }

        @Override
        public String toString() {
            return name + "@" + endpoint.localAddress();
        }
    }
}
