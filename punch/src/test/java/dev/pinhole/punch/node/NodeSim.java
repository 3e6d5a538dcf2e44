package dev.pinhole.punch.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.punch.rendezvous.RendezvousClientConfig;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.punch.traversal.HostAddresses;
import dev.pinhole.punch.traversal.ProbeSockets;
import dev.pinhole.punch.traversal.SocketTtl;
import dev.pinhole.punch.traversal.TraversalConfig;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;

/** The simulated world of the node tests: a rendezvous server (optionally with its relay), nodes behind NATs, pumps. */
final class NodeSim {
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000_000_000L;

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

        void start(PeerLink link) {
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
        final List<PeerLink> incoming = new ArrayList<>();
        final String name;

        Node(SimEndpoint endpoint, NodeSettings settings, Simulator sim, String name, Nat nat) {
            this.endpoint = endpoint;
            this.nat = nat;
            this.name = name;
            this.core = new NodeCore(endpoint, settings, sim.random("node/" + name), new NodeCore.Listener() {
                @Override
                public void onIncoming(PeerLink link) {
                    incoming.add(link);
                }
            });
        }
    }

    /** The public internet with the rendezvous server on 198.51.100.10 and .11 (RFC 5780 alternates). */
    static final class World implements AutoCloseable {
        final long seed;
        final CountingAllocator allocator = new CountingAllocator();
        final Simulator sim;
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
        RelaySettings relay = RelaySettings.DEFAULT;

        World(long seed) {
            this(seed, false);
        }

        /**
         * @param withRelay whether the rendezvous server offers a built-in relay: a {@link TurnServer} on
         *                  {@link #RELAY} with TURN REST credentials the rendezvous server issues
         */
        World(long seed, boolean withRelay) {
            this.seed = seed;
            this.sim = new Simulator(seed, allocator);
            SimHost primary = sim.internet().addHost("198.51.100.10");
            SimHost alternate = sim.internet().addHost("198.51.100.11");
            RendezvousServerConfig.Builder config = RendezvousServerConfig.builder().random(sim.random("server"));
            if (withRelay) {
                byte[] secret = "relay secret of this world".getBytes(StandardCharsets.UTF_8);
                LongSupplier unixSeconds = () -> UNIX_EPOCH_OFFSET_SECONDS + sim.nowNs() / SECOND;
                SimHost relayHost = sim.internet().addHost(RELAY.getAddress().getHostAddress());
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
            Nat nat = natConfig == null ? null : sim.internet().addNat(natIp, natConfig);
            SimHost host = nat == null ? sim.internet().addHost(privateIp, access) : nat.inside().addHost(privateIp, access);
            SimEndpoint endpoint = host.bind(4000);
            ProbeSockets probeSockets = new ProbeSockets() {
                @Override
                public DatagramEndpoint open() {
                    return host.bind(0);
                }

                @Override
                public void close(DatagramEndpoint socket) {
                    ((SimEndpoint) socket).close();
                }
            };
            NodeSettings settings = new NodeSettings(name, rendezvous, stunServers, HostAddresses.of(List.of()),
                    RendezvousClientConfig.builder().random(sim.random("rendezvous/" + name)).build(),
                    TraversalConfig.DEFAULT, TransportConfig.DEFAULT, 30 * SECOND, SocketTtl.NONE, probeSockets)
                    .withRelay(relay);
            Node node = new Node(endpoint, settings, sim, name, nat);
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
            sim.runFor(100 * MS);
            sim.close();
            assertEquals(0, allocator.liveBuffers(), "seed " + seed + ": live buffers after close");
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

    static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    /** Both ends of the connection {@link #connect} opened. */
    record Linked(PeerLink alice, PeerLink bob) {
    }

    /**
     * {@code from} connects to {@code to}; fails the test, naming the seed and the failure, unless the connect
     * completes and {@code to} accepts within 60 s of virtual time.
     */
    static Linked connect(World world, Node from, Node to) {
        CompletableFuture<PeerLink> connecting = from.core.connect(to.name);
        world.sim.runUntil(() -> connecting.isDone() && !to.incoming.isEmpty(), 60 * SECOND);
        assertTrue(connecting.isDone() && !connecting.isCompletedExceptionally() && !to.incoming.isEmpty(),
                "seed " + world.seed + ": " + from.name + " should connect to " + to.name + ", got "
                + failureOf(connecting) + " and " + to.incoming.size() + " accepted");
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

    static String failureOf(CompletableFuture<?> future) {
        if (!future.isDone()) {
            return "no outcome yet";
        }
        try {
            future.get();
            return "no failure";
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
