package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.punch.node.ConnectedPeer;
import dev.pinhole.punch.node.NodeConfig;
import dev.pinhole.punch.node.NodeCore;
import dev.pinhole.punch.node.RelayConfig;
import dev.pinhole.punch.relay.ScriptedTurnServer;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.punch.rendezvous.Registration;
import dev.pinhole.punch.rendezvous.RendezvousClient;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.rendezvous.RendezvousListener;
import dev.pinhole.punch.traversal.CandidateGatherer;
import dev.pinhole.punch.traversal.GatheredCandidates;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.IceRole;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.punch.traversal.TraversalListener;
import dev.pinhole.punch.traversal.TraversalPath;
import dev.pinhole.punch.traversal.TraversalSession;
import dev.pinhole.reliability.Identity;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.server.relay.RelayGrants;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.Network;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.sim.TrackedEndpoint;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;

/**
 * The punch tests' layer on {@link SimFixture}: the parts of a simulated world that need the peer
 * library (TURN clients, probe sockets, endpoints whose buffers are counted apart from the simulator's),
 * and the worlds of the punch tests, each made by a factory that creates its hosts, servers and random
 * streams in a fixed order, so that a seed replays a run:
 * <ul>
 *   <li>{@link #withTurnServer}: a {@link TurnServer} at 198.51.100.1:3478 (relay sockets on ephemeral
 *       ports of the same host) and {@link TurnNode}s, behind NATs or not, each with the real
 *       {@link TurnClient};</li>
 *   <li>{@link #withScriptedTurnServer}: a {@link ScriptedTurnServer} at 198.51.100.1, one TURN
 *       {@link #node} at 192.0.2.10:5000 and a plain {@link #peer} at 203.0.113.7:6000;</li>
 *   <li>{@link #withRendezvousHost}: the host of a rendezvous server at {@value #SERVER_IP}:{@value #SERVER_PORT}
 *       ({@link #startServer}), and {@link Peer}s behind simulated NATs or on the public internet, whose
 *       protocol code allocates through {@link #tracked} endpoints;</li>
 *   <li>{@link #withStunServers}: STUN servers on 198.51.100.1, .2 and .3, and {@link TraversalPeer}s that
 *       gather candidates through them, get introduced, run a {@link TraversalSession} and then exchange a
 *       datagram over the path to prove it carries data;</li>
 *   <li>{@link #withNodeServers}: the rendezvous server on 198.51.100.10 and .11 (RFC 5780 alternates),
 *       optionally with its built-in relay on {@link #RELAY}, and {@link Node}s (a {@link NodeCore} each)
 *       behind NATs or on the public internet.</li>
 * </ul>
 * Every link of a TURN world has a fixed 10 ms delay ({@link #ONE_WAY_NS} host to host), so every
 * exchange takes virtual time. {@link #close()} closes the nodes, the rendezvous clients and server, the
 * built-in relay (and lets 100 ms pass in the nodes' world), the TURN nodes and the TURN server, then
 * checks as {@link SimFixture} does, so that no buffer leaked; failure messages carry the seed.
 */
public final class PunchSim extends SimFixture {
    /** The links of a TURN world: a fixed 10 ms delay. */
    public static final LinkConfig LINK = LinkConfig.builder().delay(10 * MS).build();
    /** Host to host in a TURN world: the sender's uplink and the receiver's downlink, 10 ms each. */
    public static final long ONE_WAY_NS = 20 * MS;
    public static final long RTT_NS = 2 * ONE_WAY_NS;
    /** The {@link #withTurnServer} world's users. */
    public static final String USER = "alice";
    public static final String PASSWORD = "correct horse";
    public static final String USER_2 = "bob";
    public static final String PASSWORD_2 = "battery staple";

    /** Where the {@link #withRendezvousHost} world's server listens. */
    public static final String SERVER_IP = "198.51.100.10";
    public static final int SERVER_PORT = 3478;

    /** Where the {@link #withNodeServers} world's built-in relay listens when it has one. */
    public static final InetSocketAddress RELAY = address("198.51.100.20", 3478);
    /** The simulator starts at time 0; credentials expire in Unix seconds, so the nodes' world starts in 2023. */
    public static final long UNIX_EPOCH_OFFSET_SECONDS = 1_700_000_000L;

    /** Every {@link TurnNode} made, closed by {@link #close()}. */
    public final List<TurnNode> turnNodes = new ArrayList<>();

    /** The server's host, in a TURN or the rendezvous world. */
    public SimHost serverHost;
    /** The {@link #withTurnServer} world's server and its listening socket. */
    public TurnServer turnServer;
    public SimEndpoint listening;
    private int nextNat = 1;

    /** The {@link #withScriptedTurnServer} world's server, its TURN node's socket and parts, and its plain peer. */
    public ScriptedTurnServer scriptedServer;
    public SimEndpoint node;
    public DatagramDemultiplexer demux;
    public StunClient stun;
    public TurnClient turn;
    public SimEndpoint peer;
    /** What the scripted world's peer received. */
    public final List<Text> peerGot = new ArrayList<>();
    /** What the scripted world's node received on allocations made with {@link #allocate(TurnConfig)}. */
    public final List<Text> nodeGot = new ArrayList<>();

    /** The {@link #withRendezvousHost} world's server address, server (once started), its socket and peers. */
    public final InetSocketAddress serverAddress = address(SERVER_IP, SERVER_PORT);
    public RendezvousServer server;
    public SimEndpoint serverEndpoint;
    public final List<Peer> peers = new ArrayList<>();
    private int serverGeneration;

    /** The {@link #withNodeServers} world's built-in relay (or null), its nodes, and the settings of nodes to come. */
    public TurnServer relayServer;
    /** The grants the rendezvous server issues and the built-in relay enforces (with a relay), or null. */
    public RelayGrants relayGrants;
    public final List<Node> nodes = new ArrayList<>();
    /**
     * Two ports of one IP, then another IP, as the gatherer wants them; the rendezvous server's own address
     * last, so that the mapping it observes (the peer's server-reflexive candidate) is the newest one and
     * port prediction counts on from it (RFC 4787 §4.2.1 sequential allocation).
     */
    public List<InetSocketAddress> stunServers;
    /** The relay settings of the nodes made from now on. */
    public RelayConfig relay = RelayConfig.DEFAULT;
    private boolean settleOnClose;

    public PunchSim(long seed) {
        super(seed);
    }

    /** A datagram a {@link TurnNode} received: its bytes and its sender. */
    public record Got(byte[] bytes, InetSocketAddress from) {
    }

    /** A datagram the scripted world's peer or node received: its text and its sender. */
    public record Text(String text, InetSocketAddress from) {
    }

    /** A world with a {@link TurnServer} of {@code config} that knows {@link #USER} and {@link #USER_2}. */
    public static PunchSim withTurnServer(long seed, TurnServerConfig config) {
        return withTurnServer(seed, config, TurnAuthenticator.staticUsers(Map.of(USER, PASSWORD, USER_2, PASSWORD_2)));
    }

    public static PunchSim withTurnServer(long seed, TurnServerConfig config, TurnAuthenticator authenticator) {
        return withTurnServer(seed, config, authenticator, endpoint -> endpoint);
    }

    /** {@code wrap} may put a recording endpoint between the server and its listening socket. */
    public static PunchSim withTurnServer(long seed, TurnServerConfig config, TurnAuthenticator authenticator,
                                          Function<SimEndpoint, DatagramEndpoint> wrap) {
        PunchSim world = new PunchSim(seed);
        world.serverHost = world.publicHost("198.51.100.1", LINK);
        world.listening = world.serverHost.bind(3478);
        SimHost host = world.serverHost;
        world.turnServer = new TurnServer(wrap.apply(world.listening), () -> host.bind(0), authenticator, config,
            world.sim.random("server")).listen();
        return world;
    }

    /** A world with a {@link ScriptedTurnServer}, a TURN {@link #node} and a plain {@link #peer}. */
    public static PunchSim withScriptedTurnServer(long seed) {
        PunchSim world = new PunchSim(seed);
        world.serverHost = world.publicHost("198.51.100.1", LINK);
        world.scriptedServer = new ScriptedTurnServer(world.serverHost.bind(3478), world.serverHost.bind(49152));
        world.node = world.publicHost("192.0.2.10", LINK).bind(5000);
        world.peer = world.publicHost("203.0.113.7", LINK).bind(6000);
        world.peer.receiver((datagram, sender) ->
            world.peerGot.add(new Text(datagram.toString(StandardCharsets.UTF_8), sender)));
        TurnNode client = world.new TurnNode(world.node, "stun", "turn");
        world.demux = client.demux;
        world.stun = client.stun;
        world.turn = client.turn;
        return world;
    }

    public static PunchSim withNodeServers(long seed) {
        return withNodeServers(seed, false);
    }

    /**
     * A world with the rendezvous server listening on 198.51.100.10 and .11, ports 3478 and 3479 (RFC 5780),
     * for {@link Node}s.
     *
     * @param withRelay whether the rendezvous server offers a built-in relay: a {@link TurnServer} on
     *                  {@link #RELAY} with TURN REST credentials the rendezvous server issues
     */
    public static PunchSim withNodeServers(long seed, boolean withRelay) {
        PunchSim world = new PunchSim(seed);
        world.settleOnClose = true;
        world.stunServers = List.of(address("198.51.100.11", 3478), address("198.51.100.11", 3479),
                address("198.51.100.10", 3479), world.serverAddress);
        SimHost primary = world.publicHost("198.51.100.10");
        SimHost alternate = world.publicHost("198.51.100.11");
        RendezvousServerConfig.Builder config = RendezvousServerConfig.builder().random(world.sim.random("server"));
        if (withRelay) {
            byte[] secret = "relay secret of this world".getBytes(StandardCharsets.UTF_8);
            LongSupplier unixSeconds = () -> UNIX_EPOCH_OFFSET_SECONDS + world.sim.nowNs() / SECOND;
            SimHost relayHost = world.publicHost(RELAY.getAddress().getHostAddress());
            world.relayGrants = new RelayGrants();
            world.relayServer = new TurnServer(relayHost.bind(RELAY.getPort()), () -> relayHost.bind(0),
                    new RestCredentials(secret, unixSeconds), TurnServerConfig.defaults(), world.sim.random("relay"),
                    world.relayGrants).listen();
            config.relay(RELAY, secret, world.relayGrants).unixSeconds(unixSeconds);
        }
        world.server = RendezvousServer.listenRfc5780(primary.bind(3478), primary.bind(3479), alternate.bind(3478),
                alternate.bind(3479), config.build());
        return world;
    }

    /** A node behind its own NAT at {@code natIp} with perfect links; with a null {@code natConfig}, public at {@code privateIp}. */
    public Node node(String name, String natIp, NatConfig natConfig, String privateIp) {
        return node(name, natIp, natConfig, privateIp, LinkConfig.PERFECT);
    }

    /** A node on the public internet at {@code ip} (no NAT). */
    public Node publicNode(String name, String ip) {
        return node(name, null, null, ip, LinkConfig.PERFECT);
    }

    /** A node behind its own NAT at {@code natIp}; with a null {@code natConfig}, on the internet at {@code privateIp}. */
    public Node node(String name, String natIp, NatConfig natConfig, String privateIp, LinkConfig access) {
        SimHost host = addHost(natIp, natConfig, privateIp, access);
        SimEndpoint endpoint = host.bind(4000);
        ProbeSockets probeSockets = probeSockets(host, null);
        NodeConfig nodeConfig = new NodeConfig(name, serverAddress, stunServers, HostAddresses.of(List.of()),
                RendezvousClientConfig.builder().random(sim.random("rendezvous/" + name)).build(),
                TraversalConfig.DEFAULT, TransportConfig.DEFAULT, 30 * SECOND, SocketTtl.NONE, probeSockets)
                .withRelay(relay);
        Node node = new Node(endpoint, nodeConfig, sim, name, host.network().nat());
        nodes.add(node);
        return node;
    }

    /** Starts the nodes and requires each registered within 60 s. */
    public void register(Node... toRegister) {
        List<CompletableFuture<?>> started = new ArrayList<>();
        for (Node node : toRegister) {
            started.add(node.core.start());
        }
        sim.runUntil(() -> started.stream().allMatch(CompletableFuture::isDone), 60 * SECOND);
        for (CompletableFuture<?> f : started) {
            assertTrue(f.isDone() && !f.isCompletedExceptionally(), "seed " + seed + ": registration " + f);
        }
    }

    /** A world with the host of a rendezvous server at {@value #SERVER_IP}; {@link #startServer} starts one. */
    public static PunchSim withRendezvousHost(long seed) {
        PunchSim world = new PunchSim(seed);
        world.serverHost = world.publicHost(SERVER_IP);
        return world;
    }

    /**
     * Probe sockets for birthday probing: ephemeral ports on {@code host}, each also added to {@code opened}
     * unless it is null.
     */
    public static ProbeSockets probeSockets(SimHost host, List<DatagramEndpoint> opened) {
        return new ProbeSockets() {
            @Override
            public DatagramEndpoint open() {
                SimEndpoint extra = host.bind(0);
                if (opened != null) {
                    opened.add(extra);
                }
                return extra;
            }

            @Override
            public void close(DatagramEndpoint socket) {
                ((SimEndpoint) socket).close();
            }
        };
    }

    /** {@code length} bytes, each uniform from a {@link SplittableRandom} of {@code seed}: a test payload. */
    public static byte[] bytes(long seed, int length) {
        byte[] data = new byte[length];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) {
            data[i] = (byte) random.nextInt(256);
        }
        return data;
    }

    /** The {@link TurnException} a completed future failed with. */
    public static TurnException turnFailure(CompletableFuture<?> future) {
        assertTrue(future.isCompletedExceptionally(), "expected a failure, got " + future);
        try {
            future.join();
            throw new AssertionError("unreachable");
        } catch (CompletionException e) {
            return assertInstanceOf(TurnException.class, e.getCause(), "cause");
        }
    }

    /** Starts a rendezvous server with the defaults changed by {@code settings}; a seeded random per server instance. */
    public RendezvousServer startServer(UnaryOperator<RendezvousServerConfig.Builder> settings) {
        RendezvousServerConfig config = settings.apply(RendezvousServerConfig.builder())
            .random(sim.random("server-" + serverGeneration++)).build();
        serverEndpoint = serverHost.bind(SERVER_PORT);
        server = RendezvousServer.listen(tracked(serverEndpoint), config);
        return server;
    }

    public RendezvousServer startServer() {
        return startServer(b -> b);
    }

    /** Stops the rendezvous server and unbinds its port, as a crashed or restarted process would. */
    public void stopServer() {
        server.close();
        serverEndpoint.close();
    }

    /** A rendezvous peer behind its own NAT with external address 203.0.113.(n+1), inside address 10.0.0.2:4000. */
    public Peer peerBehindNat(String name, NatConfig natConfig, UnaryOperator<RendezvousClientConfig.Builder> settings) {
        return peerBehindNat(name, natConfig, settings, UnaryOperator.identity());
    }

    /** As above, with the client's endpoint wrapped by {@code wrap} (to intercept what it sends). */
    public Peer peerBehindNat(String name, NatConfig natConfig, UnaryOperator<RendezvousClientConfig.Builder> settings,
                              UnaryOperator<DatagramEndpoint> wrap) {
        int n = nextNat++;
        Nat nat = nat("203.0.113." + n, natConfig);
        SimEndpoint endpoint = nat.inside().addHost("10.0.0.2").bind(4000);
        return peer(name, endpoint, nat, settings, wrap);
    }

    public Peer peerBehindNat(String name) {
        return peerBehindNat(name, NatConfig.PORT_RESTRICTED_CONE, b -> b);
    }

    /** A rendezvous peer with a public address 192.0.2.(n+1):5000. */
    public Peer publicPeer(String name, UnaryOperator<RendezvousClientConfig.Builder> settings) {
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

    /** The host candidate of a rendezvous peer's socket. */
    public static List<Candidate> hostCandidates(Peer peer) {
        return List.of(Candidate.of(CandidateType.HOST, peer.endpoint().localAddress()));
    }

    /** Registers {@code peer} with its host candidate and requires success within 5 s. */
    public Registration register(Peer peer) {
        return await(peer.client().register(peer.name(), hostCandidates(peer)), 5 * SECOND);
    }

    /** A node behind its own NAT of the given behaviour (public IPs 203.0.113.1, .2, ...). */
    public TurnNode behindNat(NatConfig natConfig) {
        int n = nextNat++;
        SimHost host = nat("203.0.113." + n, natConfig, LINK).inside().addHost("10.0.0.2", LINK);
        return new TurnNode(host.bind(4000), "nat" + n);
    }

    /** A node on the public internet. */
    public TurnNode publicNode(String ip, int port) {
        return new TurnNode(publicHostOrExisting(ip, LINK).bind(port), ip + ":" + port);
    }

    /** A buffer of the server's socket holding {@code bytes}. */
    public ByteBuf buffer(byte[] bytes) {
        return listening.allocator().buffer(bytes.length).writeBytes(bytes);
    }

    public long count(RelayCounter counter) {
        return turnServer.count(counter);
    }

    /** The scripted world's TURN settings: its server and credentials. */
    public TurnConfig config() {
        return TurnConfig.of(scriptedServer.address(), ScriptedTurnServer.USER, ScriptedTurnServer.PASSWORD);
    }

    /** The scripted world's node allocates with {@code config} and requires success; the receiver records into {@link #nodeGot}. */
    public TurnAllocation allocate(TurnConfig config) {
        TurnAllocation allocation = turn.allocate(config);
        allocation.receiver((datagram, sender) -> nodeGot.add(new Text(datagram.toString(StandardCharsets.UTF_8), sender)));
        awaitDone(allocation.allocated(), 10 * SECOND).join();
        return allocation;
    }

    /** {@code s} in a buffer of the scripted world's node. */
    public ByteBuf text(String s) {
        return node.allocator().buffer().writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The scripted world's peer sends {@code s} to {@code to} (the relayed address). */
    public void peerSends(String s, InetSocketAddress to) {
        peer.send(peer.allocator().buffer().writeBytes(s.getBytes(StandardCharsets.UTF_8)), to);
    }

    /**
     * Closes the nodes and the rendezvous clients, runs the simulator until their DEREGISTERs are answered or
     * given up (at most 1.25 s), closes the rendezvous server and the built-in relay, and lets 100 ms pass in the
     * nodes' world; unless the simulator is closed already, closes every TURN node (releasing queued data and pending
     * requests) and the TURN server; then closes the simulator and checks as {@link SimFixture#close()} does.
     */
    @Override
    public void close() {
        List<CompletableFuture<?>> deregistrations = new ArrayList<>();
        for (Node n : nodes) {
            deregistrations.add(n.core.close());
        }
        for (Peer rendezvousPeer : peers) {
            rendezvousPeer.client().close();
            if (rendezvousPeer.client().deregistration() != null) {
                deregistrations.add(rendezvousPeer.client().deregistration());
            }
        }
        // A close keeps the STUN client (and its request buffers) until the DEREGISTER is answered or given
        // up, as a real shutdown does: let that happen while the server still answers.
        if (!sim.isClosed()) {
            sim.runUntil(() -> deregistrations.stream().allMatch(CompletableFuture::isDone),
                RendezvousClient.DEREGISTER_TIMING.timeoutNs() + SECOND);
        }
        if (server != null) {
            server.close();
        }
        if (relayServer != null) {
            relayServer.close();
        }
        if (settleOnClose) {
            runFor(100 * MS);
        }
        if (!sim.isClosed()) {
            for (TurnNode turnNode : turnNodes) {
                turnNode.close();
            }
            if (turnServer != null) {
                turnServer.close();
            }
        }
        super.close();
    }

    /**
     * A Pinhole node's TURN side on one socket: a demultiplexer receiving on it, a STUN client and a TURN
     * client routed on the demultiplexer, with the simulator's random streams of the given names. What its
     * allocations made with {@link #startAllocation} receive is recorded in {@link #got}.
     */
    public final class TurnNode {
        public final SimEndpoint endpoint;
        public final DatagramDemultiplexer demux = new DatagramDemultiplexer();
        public final StunClient stun;
        public final TurnClient turn;
        public final List<Got> got = new ArrayList<>();

        /** A node whose random streams are "stun-{@code name}" and "turn-{@code name}". */
        public TurnNode(SimEndpoint endpoint, String name) {
            this(endpoint, "stun-" + name, "turn-" + name);
        }

        public TurnNode(SimEndpoint endpoint, String stunStream, String turnStream) {
            this.endpoint = endpoint;
            endpoint.receiver(demux);
            stun = new StunClient(endpoint, StunTransactionConfig.DEFAULT, sim.random(stunStream));
            turn = new TurnClient(stun, sim.random(turnStream));
            turn.routeOn(demux, null);
            turnNodes.add(this);
        }

        /** Settings for the {@link #withTurnServer} world's server with these credentials. */
        public TurnConfig config(String user, String password) {
            return TurnConfig.of(turnServer.address(), user, password);
        }

        /** Starts an allocation whose receiver records into {@link #got}. */
        public TurnAllocation startAllocation(TurnConfig config) {
            TurnAllocation allocation = turn.allocate(config);
            allocation.receiver((datagram, sender) -> got.add(new Got(bytes(datagram), sender)));
            return allocation;
        }

        /** Allocates and requires success. */
        public TurnAllocation allocate(TurnConfig config) {
            TurnAllocation allocation = startAllocation(config);
            awaitDone(allocation.allocated(), 10 * SECOND).join();
            return allocation;
        }

        public TurnAllocation allocate() {
            return allocate(config(USER, PASSWORD));
        }

        /** Closes the TURN client (releasing queued data) and the STUN client (pending requests). */
        public void close() {
            turn.close();
            stun.close();
        }
    }

    /** A rendezvous peer: its socket, client, the NAT in front of it (null if public) and what its listener heard. */
    public record Peer(String name, SimEndpoint endpoint, RendezvousClient client, Nat nat, RecordingListener listener) {
        /** The process dies: its socket goes first, so nothing (no deregistration) reaches the server. */
        public void crash() {
            endpoint.close();
            client.close();
        }

        /** The NAT's mapping of this peer's socket towards the server, or its own address if public. */
        public InetSocketAddress mappedTowards(InetSocketAddress destination) {
            return nat == null ? endpoint.localAddress() : nat.mappingOf(endpoint.localAddress(), destination).orElseThrow();
        }
    }

    /** Records what a rendezvous client's listener hears, with the virtual time of each introduction. */
    public static final class RecordingListener implements RendezvousListener {
        public final List<Introduction> introductions = new ArrayList<>();
        public final List<Long> introductionTimesNs = new ArrayList<>();
        public final List<String> messages = new ArrayList<>();
        /** The sender's key of each message, in the order of {@link #messages}. */
        public final List<byte[]> messageKeys = new ArrayList<>();
        public final List<String> candidateSenders = new ArrayList<>();
        /** The sender's key of each candidate, in the order of {@link #candidates}. */
        public final List<byte[]> candidateKeys = new ArrayList<>();
        public final List<Candidate> candidates = new ArrayList<>();
        public final List<RendezvousException> refreshFailures = new ArrayList<>();
        public final List<RendezvousException> lost = new ArrayList<>();
        private final Simulator sim;

        public RecordingListener(Simulator sim) {
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
        public void onMessage(String fromPeer, byte[] fromKey, String text) {
            messageKeys.add(fromKey);
            onMessage(fromPeer, text);
        }

        @Override
        public void onCandidate(String fromPeer, Candidate candidate) {
            candidateSenders.add(fromPeer);
            candidates.add(candidate);
        }

        @Override
        public void onCandidate(String fromPeer, byte[] fromKey, Candidate candidate) {
            candidateKeys.add(fromKey);
            onCandidate(fromPeer, candidate);
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

    /** A node of the {@link #withNodeServers} world: a {@link NodeCore} on one socket, and the peers it accepted. */
    public static final class Node {
        public final NodeCore core;
        public final SimEndpoint endpoint;
        /** The NAT in front of the node. */
        public final Nat nat;
        public final List<ConnectedPeer> incoming = new ArrayList<>();
        public final String name;

        Node(SimEndpoint endpoint, NodeConfig nodeConfig, Simulator sim, String name, Nat nat) {
            this.endpoint = endpoint;
            this.nat = nat;
            this.name = name;
            this.core = new NodeCore(endpoint, nodeConfig,
                    Identity.generate(seeded(sim.random("node/" + name + "/identity"))),
                    sim.random("node/" + name), new NodeCore.Listener() {
                @Override
                public void onIncoming(ConnectedPeer link) {
                    incoming.add(link);
                }
            });
        }
    }

    // ---- the traversal world: STUN servers and traversal peers ----------------------------------

    public static final int PEER_PORT = 4000;
    /** Gathering order: two ports of one IP first (address- vs port-dependent mapping), then two more IPs. */
    public static final List<InetSocketAddress> STUN_SERVERS = List.of(address("198.51.100.1", 3478),
            address("198.51.100.1", 3479), address("198.51.100.2", 3478), address("198.51.100.3", 3478));
    /** First byte of the test's data datagrams: a Pinhole transport packet (128–191), never STUN. */
    public static final byte DATA = (byte) 0x80;
    private static final int DATA_ATTEMPTS = 20;

    /** The access links of the {@link #withStunServers} world's traversal peers. */
    private LinkConfig access = LinkConfig.PERFECT;

    /**
     * A world with STUN servers on three public addresses (an RFC 5780 server on 198.51.100.1 and .2, ports
     * 3478 and 3479, and a plain one on 198.51.100.3) for {@link TraversalPeer}s.
     */
    public static PunchSim withStunServers(long seed) {
        return withStunServers(seed, LinkConfig.PERFECT);
    }

    /** As above, with the peers' access links all {@code access} (delay, loss, ...). */
    public static PunchSim withStunServers(long seed, LinkConfig access) {
        PunchSim world = new PunchSim(seed);
        world.access = access;
        SimHost s1 = world.publicHost("198.51.100.1");
        SimHost s2 = world.publicHost("198.51.100.2");
        SimHost s3 = world.publicHost("198.51.100.3");
        StunBindingServer.rfc5780(s1.bind(3478), s1.bind(3479), s2.bind(3478), s2.bind(3479), "pinhole-sim")
                .listen();
        StunBindingServer.basic(s3.bind(3478), "pinhole-sim").listen();
        return world;
    }

    public TraversalPeer peer(String name, Network realm, String ip) {
        return new TraversalPeer(this, name, realm.addHost(ip, access));
    }

    /** Gathers both peers' candidates (unless done), introduces them and starts both sessions. */
    public void introduce(TraversalPeer controlling, TraversalPeer controlled, TraversalConfig config) {
        introduce(controlling, IceRole.CONTROLLING, controlled, IceRole.CONTROLLED, config);
    }

    /** As the rendezvous server would, but with the roles given (a misbehaving server may give both one role). */
    public void introduce(TraversalPeer a, IceRole roleA, TraversalPeer b, IceRole roleB, TraversalConfig config) {
        a.gather();
        b.gather();
        runUntil(() -> a.gathered.isDone() && b.gathered.isDone(), 30 * SECOND);
        a.start(b, roleA, config);
        b.start(a, roleB, config);
    }

    /** Runs until both sessions have an outcome (or the timeout); true if both connected. */
    public boolean runToOutcome(TraversalPeer a, TraversalPeer b, long timeoutNs) {
        runUntil(() -> a.done() && b.done(), timeoutNs);
        return a.path != null && b.path != null;
    }

    /**
     * Sends a data datagram each way over the two nominated paths, again every 100 ms until it arrived (lossy
     * links lose some, as a transport would retransmit) or 20 tries: the proof that the paths are real.
     */
    public boolean exchangeData(TraversalPeer a, TraversalPeer b) {
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

    /** A traversal peer: a host with its main socket, a STUN client on it, and (once introduced) a session. */
    public static final class TraversalPeer implements TraversalListener {
        public final PunchSim world;
        public final String name;
        public final SimHost host;
        public final SimEndpoint endpoint;
        public final StunClient stun;
        public final Credentials credentials;
        public final List<String> dataReceived = new ArrayList<>();
        public final List<DatagramEndpoint> probeSockets = new ArrayList<>();
        public CompletableFuture<GatheredCandidates> gathered;
        public NatProfile.Filtering knownFiltering = NatProfile.Filtering.UNKNOWN;
        public ProbeSockets sockets;
        public SocketTtl ttl = SocketTtl.NONE;
        public boolean holdChecks;
        public TraversalSession session;
        public TraversalPath path;
        public TraversalFailedException failure;
        public long connectedAtNs = -1;
        public long failedAtNs = -1;

        TraversalPeer(PunchSim world, String name, SimHost host) {
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

        public void gather() {
            if (gathered == null) {
                gathered = CandidateGatherer.gather(stun, HostAddresses.of(List.of()), STUN_SERVERS,
                        CandidateGatherer.DEFAULT_TIMING);
            }
        }

        public NatProfile profile() {
            return gathered.join().nat().withFiltering(knownFiltering);
        }

        public void start(TraversalPeer peer, IceRole role, TraversalConfig config) {
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

        public boolean done() {
            return path != null || failure != null;
        }

        public void sendData(String text) {
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

    /** A SecureRandom whose bytes come from a seeded generator, so that simulated identities repeat. */
    public static java.security.SecureRandom seeded(java.util.random.RandomGenerator generator) {
        return new java.security.SecureRandom(new byte[0]) {
            private static final long serialVersionUID = 1L;

            @Override
            public void nextBytes(byte[] bytes) {
                generator.nextBytes(bytes);
            }
        };
    }
}
