package dev.pinhole.punch.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/** The simulated world of the node tests: a rendezvous server (optionally with its relay), nodes behind NATs, pumps. */
final class NodeSim {
    private NodeSim() {
    }

    static final class Pump implements ConnectionHandler {
        private final byte[] source;
        private final byte[] chunk = new byte[16 * 1024];
        private final MessageDigest sha;
        private int written;
        private boolean finishSent;
        long received;
        boolean finished;
        private byte[] digest;

        Pump(byte[] source) {
            this.source = source;
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void start(ConnectedPeer link) {
            onEvents(link.connection(), Connection.EVENT_WRITABLE | Connection.EVENT_READABLE);
            link.wake();
        }

        @Override
        public void onEvents(Connection connection, int events) {
            if (connection.state() != Connection.State.ESTABLISHED && !finished) {
                if ((events & Connection.EVENT_CLOSED) == 0) {
                    return;
                }
            }
            while (written < source.length && connection.writableBytes() > 0) {
                written += connection.write(source, written, source.length - written);
            }
            if (written == source.length && !finishSent && connection.state() == Connection.State.ESTABLISHED) {
                connection.finish();
                finishSent = true;
            }
            while (!finished) {
                int n = connection.read(chunk, 0, chunk.length);
                if (n > 0) {
                    sha.update(chunk, 0, n);
                    received += n;
                } else {
                    if (n < 0) {
                        finished = true;
                        digest = sha.digest();
                    }
                    break;
                }
            }
        }

        byte[] digest() {
            return digest;
        }
    }

    static final class Node {
        final NodeCore core;
        final SimEndpoint endpoint;
        /** The NAT in front of the node. */
        final Nat nat;
        final List<ConnectedPeer> incoming = new ArrayList<>();
        final String name;

        Node(SimEndpoint endpoint, NodeConfig nodeConfig, Simulator sim, String name, Nat nat) {
            this.endpoint = endpoint;
            this.nat = nat;
            this.name = name;
            this.core = new NodeCore(endpoint, nodeConfig, sim.random("node/" + name), new NodeCore.Listener() {
                @Override
                public void onIncoming(ConnectedPeer link) {
                    incoming.add(link);
                }
            });
        }
    }

    /**
     * The public internet with the rendezvous server on 198.51.100.10 and .11 (RFC 5780 alternates). {@link #close()}
     * closes nodes and servers, lets 100 ms pass, then checks as {@link PunchSim} does.
     */
    static final class World extends PunchSim {
        /** Where the built-in relay listens when the world has one. */
        static final InetSocketAddress RELAY = address("198.51.100.20", 3478);
        /** The simulator starts at time 0; credentials expire in Unix seconds, so the world starts in 2023. */
        static final long UNIX_EPOCH_OFFSET_SECONDS = 1_700_000_000L;
        final RendezvousServer server;
        /** The built-in relay, or null. */
        final TurnServer relayServer;
        final InetSocketAddress rendezvous = address("198.51.100.10", 3478);
        /**
         * Two ports of one IP, then another IP, as the gatherer wants them; the rendezvous server's own address
         * last, so that the mapping it observes (the peer's server-reflexive candidate) is the newest one and
         * port prediction counts on from it (RFC 4787 §4.2.1 sequential allocation).
         */
        List<InetSocketAddress> stunServers = List.of(address("198.51.100.11", 3478),
                address("198.51.100.11", 3479), address("198.51.100.10", 3479), rendezvous);
        final List<Node> nodes = new ArrayList<>();
        /** The relay settings of the nodes made from now on. */
        RelayConfig relay = RelayConfig.DEFAULT;

        World(long seed) {
            this(seed, false);
        }

        /**
         * @param withRelay whether the rendezvous server offers a built-in relay: a {@link TurnServer} on
         *                  {@link #RELAY} with TURN REST credentials the rendezvous server issues
         */
        World(long seed, boolean withRelay) {
            super(seed);
            SimHost primary = publicHost("198.51.100.10");
            SimHost alternate = publicHost("198.51.100.11");
            RendezvousServerConfig.Builder config = RendezvousServerConfig.builder().random(sim.random("server"));
            if (withRelay) {
                byte[] secret = "relay secret of this world".getBytes(StandardCharsets.UTF_8);
                LongSupplier unixSeconds = () -> UNIX_EPOCH_OFFSET_SECONDS + sim.nowNs() / SECOND;
                SimHost relayHost = publicHost(RELAY.getAddress().getHostAddress());
                relayServer = new TurnServer(relayHost.bind(RELAY.getPort()), () -> relayHost.bind(0),
                        new RestCredentials(secret, unixSeconds), TurnServerConfig.defaults(), sim.random("relay"))
                        .listen();
                config.relay(RELAY, secret).unixSeconds(unixSeconds);
            } else {
                relayServer = null;
            }
            server = RendezvousServer.listenRfc5780(primary.bind(3478), primary.bind(3479), alternate.bind(3478),
                    alternate.bind(3479), config.build());
        }

        Node node(String name, String natIp, NatConfig natConfig, String privateIp) {
            return node(name, natIp, natConfig, privateIp, LinkConfig.PERFECT);
        }

        /** A node on the public internet at {@code ip} (no NAT). */
        Node publicNode(String name, String ip) {
            return node(name, null, null, ip, LinkConfig.PERFECT);
        }

        /** A node behind its own NAT at {@code natIp}; with a null {@code natConfig}, on the internet at {@code privateIp}. */
        Node node(String name, String natIp, NatConfig natConfig, String privateIp, LinkConfig access) {
            SimHost host = addHost(natIp, natConfig, privateIp, access);
            SimEndpoint endpoint = host.bind(4000);
            ProbeSockets probeSockets = probeSockets(host, null);
            NodeConfig nodeConfig = new NodeConfig(name, rendezvous, stunServers, HostAddresses.of(List.of()),
                    RendezvousClientConfig.builder().random(sim.random("rendezvous/" + name)).build(),
                    TraversalConfig.DEFAULT, TransportConfig.DEFAULT, 30 * SECOND, SocketTtl.NONE, probeSockets)
                    .withRelay(relay);
            Node node = new Node(endpoint, nodeConfig, sim, name, host.network().nat());
            nodes.add(node);
            return node;
        }

        void register(Node... toRegister) {
            List<CompletableFuture<?>> started = new ArrayList<>();
            for (Node node : toRegister) {
                started.add(node.core.start());
            }
            sim.runUntil(() -> started.stream().allMatch(CompletableFuture::isDone), 60 * SECOND);
            for (CompletableFuture<?> f : started) {
                assertTrue(f.isDone() && !f.isCompletedExceptionally(), "seed " + seed + ": registration " + f);
            }
        }

        @Override
        public void close() {
            for (Node node : nodes) {
                node.core.close();
            }
            server.close();
            if (relayServer != null) {
                relayServer.close();
            }
            runFor(100 * MS);
            super.close();
        }
    }

    static byte[] bytes(long seed, int length) {
        byte[] data = new byte[length];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) {
            data[i] = (byte) random.nextInt(256);
        }
        return data;
    }

    static byte[] sha256(byte[] data) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    /** Both ends of the connection {@link #connect} opened. */
    record Linked(ConnectedPeer alice, ConnectedPeer bob) {
    }

    /**
     * {@code from} connects to {@code to}; fails the test, naming the seed and the failure, unless the connect
     * completes and {@code to} accepts within 60 s of virtual time.
     */
    static Linked connect(World world, Node from, Node to) {
        CompletableFuture<ConnectedPeer> connecting = from.core.connect(to.name);
        world.sim.runUntil(() -> connecting.isDone() && !to.incoming.isEmpty(), 60 * World.SECOND);
        assertTrue(connecting.isDone() && !connecting.isCompletedExceptionally() && !to.incoming.isEmpty(),
                "seed " + world.seed + ": " + from.name + " should connect to " + to.name + ", got "
                + World.failureOf(connecting) + " and " + to.incoming.size() + " accepted");
        return new Linked(connecting.join(), to.incoming.get(0));
    }

    /** Pumps on both ends of a connection, started: each sends its payload and reads the other's. */
    record Pumps(Pump alice, Pump bob) {
        boolean finished() {
            return alice.finished && bob.finished;
        }
    }

    static Pumps startPumps(Linked link, byte[] toBob, byte[] toAlice) {
        Pumps pumps = new Pumps(new Pump(toBob), new Pump(toAlice));
        link.alice().handler(pumps.alice());
        link.bob().handler(pumps.bob());
        pumps.alice().start(link.alice());
        pumps.bob().start(link.bob());
        return pumps;
    }
}
