package dev.pinhole.server;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.server.relay.RelayGrants;
import dev.pinhole.server.relay.RelaySockets;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.server.RendezvousServerStats;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A complete Pinhole server in one object, for embedding and for the {@code pinhole rendezvous} and
 * {@code pinhole demo} commands: the {@link RendezvousServer} with its STUN Binding responder (RFC 8489
 * §6.3) on the listen address, optionally the three more sockets of an RFC 5780 §6 NAT behaviour
 * discovery server, and by default the built-in TURN relay ({@link TurnServer}, RFC 8656) that every
 * introduction offers with TURN REST credentials; or instead an external TURN server (coturn with
 * {@code use-auth-secret}) offered under its shared secret.
 *
 * <p>Every socket is served by one {@link UdpEventLoop}: the server's own, bound to the listen address,
 * or one given to the builder (already started; the server then adds its sockets to it and removes them
 * again on {@link #close()}). The methods of this class may be called from any thread.
 */
public final class PinholeServer implements AutoCloseable {
    /** The shortest TURN REST secret {@link Builder#externalRelay} accepts: 128 bits. */
    public static final int MIN_REST_SECRET_BYTES = RendezvousServerConfig.MIN_REST_SECRET_BYTES;
    /** Live registrations one source address (IPv4 address, IPv6 /64) may hold by default. */
    public static final int DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS =
        RendezvousServerConfig.DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS;
    /** Live registrations one network (IPv4 /24, IPv6 /56) may hold by default. */
    public static final int DEFAULT_MAX_REGISTRATIONS_PER_PREFIX = RendezvousServerConfig.DEFAULT_MAX_REGISTRATIONS_PER_PREFIX;
    /** How long {@link Builder#build()} and {@link #stats()} wait for the event loop. */
    private static final long LOOP_WAIT_S = 10;

    private final UdpEventLoop loop;
    private final boolean ownsLoop;
    /** Sockets this server added to a given loop (relay sockets included); touched on the loop thread only. */
    private final List<DatagramEndpoint> addedSockets;
    private final RendezvousServer rendezvous;
    private final TurnServer relay;
    private final InetSocketAddress alternateAddress;
    private final InetSocketAddress relayAddress;
    private final boolean secretRequired;
    private final List<ListeningSocket> sockets;
    private boolean closed;

    /**
     * What one of the server's listening sockets is for. RFC 5780 §6 names the server's addresses IP1/IP2
     * and its ports PORT1/PORT2: the listen address is IP1:PORT1, the alternate address IP2:PORT2.
     */
    public enum SocketRole {
        /** IP1:PORT1, the listen address: rendezvous, and STUN Binding (the RFC 5780 primary address). */
        RENDEZVOUS("rendezvous", "rendezvous and STUN socket"),
        /** IP1:PORT2 (RFC 5780): answers a CHANGE-REQUEST for another port. */
        ALTERNATE_PORT("rfc5780_alt_port", "RFC 5780 alternate-port socket (IP1:PORT2)"),
        /** IP2:PORT1 (RFC 5780): answers a CHANGE-REQUEST for another IP. */
        ALTERNATE_IP("rfc5780_alt_ip", "RFC 5780 alternate-address socket (IP2:PORT1)"),
        /** IP2:PORT2, the alternate address: RFC 5780's OTHER-ADDRESS. */
        OTHER_ADDRESS("rfc5780_other", "RFC 5780 other-address socket (IP2:PORT2)"),
        /** Where the built-in TURN relay listens (its allocations get ephemeral ports of their own). */
        RELAY("relay_listen", "TURN relay socket");

        private final String key;
        private final String description;

        SocketRole(String key, String description) {
            this.key = key;
            this.description = description;
        }

        /** A short stable name for scripts (the {@code pinhole rendezvous --json} keys), e.g. {@code rfc5780_alt_port}. */
        public String key() {
            return key;
        }

        /** What the socket is, for messages: e.g. "RFC 5780 alternate-port socket (IP1:PORT2)". */
        public String description() {
            return description;
        }
    }

    /** One socket the server listens on, and what for. */
    public record ListeningSocket(SocketRole role, InetSocketAddress address) {
        public ListeningSocket {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(address, "address");
        }

        /** Whether binding {@code other} would collide with this socket: the same port on the same IP or a wildcard. */
        boolean overlaps(InetSocketAddress other) {
            return other.getPort() != 0 && other.getPort() == address.getPort()
                && (other.getAddress().equals(address.getAddress()) || other.getAddress().isAnyLocalAddress()
                    || address.getAddress().isAnyLocalAddress());
        }
    }

    private PinholeServer(UdpEventLoop loop, boolean ownsLoop, List<DatagramEndpoint> addedSockets,
                          RendezvousServer rendezvous, TurnServer relay, InetSocketAddress alternateAddress,
                          InetSocketAddress relayAddress, boolean secretRequired, List<ListeningSocket> sockets) {
        this.sockets = List.copyOf(sockets);
        this.loop = loop;
        this.ownsLoop = ownsLoop;
        this.addedSockets = addedSockets;
        this.rendezvous = rendezvous;
        this.relay = relay;
        this.alternateAddress = alternateAddress;
        this.relayAddress = relayAddress;
        this.secretRequired = secretRequired;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The bound address of the rendezvous server and its STUN responder: where peers send. */
    public InetSocketAddress rendezvousAddress() {
        return rendezvous.localAddress();
    }

    /**
     * The RFC 5780 other address (alternate IP and alternate port: the OTHER-ADDRESS of requests to the
     * rendezvous address), or null without an alternate address.
     */
    public InetSocketAddress alternateAddress() {
        return alternateAddress;
    }

    /**
     * The TURN server every introduction offers: the built-in relay at the address peers are told (the
     * relay IP and its bound port), or the external TURN server; null when no relay is offered.
     */
    public InetSocketAddress relayAddress() {
        return relayAddress;
    }

    /**
     * Every socket the server listens on, as bound (ephemeral ports resolved), in the order the listen
     * socket, the RFC 5780 ones (IP1:PORT2, IP2:PORT1, IP2:PORT2) and the built-in relay's. The relay's
     * allocations, on ephemeral ports, are not listed; neither is an external TURN server.
     */
    public List<ListeningSocket> sockets() {
        return sockets;
    }

    /** Whether peers must prove the shared secret (MESSAGE-INTEGRITY-SHA256). */
    public boolean secretRequired() {
        return secretRequired;
    }

    /** The event loop the server runs on. */
    public UdpEventLoop eventLoop() {
        return loop;
    }

    /**
     * A snapshot of the counters, taken on the event loop.
     *
     * @throws IllegalStateException if the server is closed or its loop does not answer
     */
    public Stats stats() {
        Callable<Stats> snapshot = () -> {
            if (closed) {
                throw new IllegalStateException("the server is closed");
            }
            return new Stats(rendezvous.stats(), relay == null ? null : RelayStats.of(relay));
        };
        try {
            return loop.inEventLoop() ? snapshot.call() : loop.submit(snapshot).get(LOOP_WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while taking the server's stats", e);
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof IllegalStateException closedServer) {
                throw closedServer;
            }
            throw new IllegalStateException("the server's event loop did not answer: " + cause, cause);
        }
    }

    /**
     * Stops the rendezvous server and the relay and releases their ports: the server's own loop closes;
     * on a given loop the sockets this server added are closed. Idempotent.
     */
    @Override
    public void close() {
        if (ownsLoop) {
            if (!loop.isClosed()) {
                onLoopQuietly(this::stop);
            }
            loop.close();
        } else if (!loop.isClosed()) {
            onLoopQuietly(() -> {
                stop();
                for (DatagramEndpoint socket : addedSockets) {
                    loop.closeSocket(socket);
                }
                addedSockets.clear();
            });
        }
    }

    /** Loop thread. */
    private void stop() {
        if (closed) {
            return;
        }
        closed = true;
        rendezvous.close();
        if (relay != null) {
            relay.close();
        }
    }

    private void onLoopQuietly(Runnable task) {
        if (loop.inEventLoop()) {
            // Closed from one of the loop's own callbacks: waiting for a task would wait for ourselves.
            task.run();
            return;
        }
        try {
            loop.submit(() -> {
                task.run();
                return null;
            }).get(LOOP_WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // The loop is gone or stuck: closing it (or its owner closing it) releases the sockets anyway.
        }
    }

    @Override
    public String toString() {
        return "PinholeServer[rendezvous " + rendezvousAddress()
            + (alternateAddress == null ? "" : ", RFC 5780 other address " + alternateAddress)
            + (relayAddress == null ? "" : ", relay " + relayAddress) + "]";
    }

    /**
     * A snapshot of the server's counters.
     *
     * @param rendezvous the rendezvous server's (its STUN Binding answers included)
     * @param relay      the built-in relay's, or null when it does not run
     */
    public record Stats(RendezvousServerStats rendezvous, RelayStats relay) {
    }

    /**
     * A snapshot of the built-in relay.
     *
     * @param allocations  allocations alive now
     * @param relaySockets relay sockets opened so far
     * @param permissions  permissions held by all allocations
     * @param channels     channel bindings held by all allocations
     * @param counters     every {@link RelayCounter} (unmodifiable)
     */
    public record RelayStats(int allocations, int relaySockets, int permissions, int channels,
                             Map<RelayCounter, Long> counters) {
        public RelayStats {
            counters = Map.copyOf(counters);
        }

        static RelayStats of(TurnServer server) {
            return new RelayStats(server.allocationCount(), server.relaySocketCount(), server.permissionCount(),
                server.channelCount(), server.counters());
        }

        public long count(RelayCounter counter) {
            return counters.getOrDefault(counter, 0L);
        }
    }

    /** Settings of a {@link PinholeServer}; {@link #build()} binds and starts it. */
    public static final class Builder {
        private InetSocketAddress listen;
        private InetSocketAddress alternate;
        private String secret;
        private String software = "pinhole";
        private boolean builtInRelay = true;
        private InetSocketAddress relayListen;
        private InetAddress relayIp;
        private Long relayBytesPerSecond;
        private Integer maxRegistrationsPerAddress;
        private Integer maxRegistrationsPerPrefix;
        private boolean allowList;
        private InetSocketAddress externalRelay;
        private byte[] externalRelaySecret;
        private Duration relayCredentialLifetime;
        private UdpEventLoop eventLoop;
        private String threadName = "rendezvous";

        private Builder() {
        }

        /** The primary UDP address of the rendezvous server and its STUN responder (port 0: ephemeral). Required. */
        public Builder listen(InetSocketAddress address) {
            this.listen = Objects.requireNonNull(address, "address");
            return this;
        }

        /**
         * The second IP address and port for RFC 5780 §6: the server also listens on IP1:PORT2, IP2:PORT1
         * and IP2:PORT2. Both must differ from the listen address's (port 0: ephemeral).
         */
        public Builder alternate(InetSocketAddress address) {
            this.alternate = address;
            return this;
        }

        /** The shared secret peers must prove with MESSAGE-INTEGRITY-SHA256, or null (the default) for none. */
        public Builder secret(String secret) {
            this.secret = secret;
            return this;
        }

        /**
         * Whether peers may list the registered names (LIST_PEERS). Default false: the server answers 403
         * "listing is disabled on this server", so it reveals no names; a peer connects to a name it knows.
         */
        public Builder allowList(boolean allowList) {
            this.allowList = allowList;
            return this;
        }

        /** SOFTWARE of the rendezvous server's and the relay's answers (default "pinhole"), or null for none. */
        public Builder software(String software) {
            this.software = software;
            return this;
        }

        /**
         * Whether the built-in relay runs and is offered (the default); false offers no relay, unless
         * {@link #externalRelay} names one.
         */
        public Builder builtInRelay(boolean run) {
            this.builtInRelay = run;
            return this;
        }

        /**
         * Where the built-in relay listens. Default: the listen address's IP and the first port after every
         * port the server's own sockets use: the listen port + 1, or with an {@link #alternate} the higher of
         * the two ports + 1 (3478 and 3479: 3480), so it never takes one of the RFC 5780 sockets' ports; an
         * ephemeral port when the listen or alternate port is 0 (or the next port would pass 65535).
         */
        public Builder relayListen(InetSocketAddress address) {
            this.relayListen = address;
            return this;
        }

        /**
         * The address peers are told to reach the built-in relay at (offers and relayed addresses). Default:
         * the relay's listening IP, or for the wildcard the first non-loopback IPv4 address of this host. An
         * address in front of this host (1:1 NAT) needs a specific {@link #relayListen} to bind to.
         *
         * @throws IllegalArgumentException for the wildcard address: peers send to it
         */
        public Builder relayIp(InetAddress ip) {
            if (ip != null && ip.isAnyLocalAddress()) {
                throw new IllegalArgumentException("the relay IP must be a specific address, not "
                    + ip.getHostAddress() + " (peers send to it)");
            }
            this.relayIp = ip;
            return this;
        }

        /**
         * Relayed bytes per second per allocation, both directions together, or null for
         * {@link TurnServerConfig#DEFAULT_ALLOCATION_BYTES_PER_SECOND}; the burst is an eighth of it (at
         * least the default), and the whole server's limit is raised to at least this rate.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder relayRate(Long bytesPerSecond) {
            if (bytesPerSecond != null && bytesPerSecond <= 0) {
                throw new IllegalArgumentException("the relay rate must be positive, got " + bytesPerSecond);
            }
            this.relayBytesPerSecond = bytesPerSecond;
            return this;
        }

        /**
         * Live registrations one source address (IPv4 address, IPv6 /64) may hold, or null for
         * {@link RendezvousServerConfig#DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS}.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxRegistrationsPerAddress(Integer max) {
            this.maxRegistrationsPerAddress = quota("per address", max);
            return this;
        }

        /**
         * Live registrations one network (IPv4 /24, IPv6 /56) may hold, or null for
         * {@link RendezvousServerConfig#DEFAULT_MAX_REGISTRATIONS_PER_PREFIX}.
         *
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxRegistrationsPerPrefix(Integer max) {
            this.maxRegistrationsPerPrefix = quota("per prefix", max);
            return this;
        }

        private static Integer quota(String what, Integer max) {
            if (max != null && max < 1) {
                throw new IllegalArgumentException("the registration quota " + what + " must be positive, got " + max);
            }
            return max;
        }

        /**
         * Offers this TURN server instead of running the built-in relay: it must accept TURN REST credentials
         * made with {@code restSecret} (coturn: {@code --use-auth-secret --static-auth-secret=SECRET}), a
         * secret of its own: {@link #build()} refuses the rendezvous shared secret. Which peers coturn relays
         * to is its own configuration (docs/nat-traversal.md, "Running coturn": {@code --denied-peer-ip} and others).
         *
         * @param restSecret at least {@link #MIN_REST_SECRET_BYTES} bytes (copied)
         */
        public Builder externalRelay(InetSocketAddress server, byte[] restSecret) {
            Objects.requireNonNull(server, "server");
            Objects.requireNonNull(restSecret, "restSecret");
            if (restSecret.length < RendezvousServerConfig.MIN_REST_SECRET_BYTES) {
                throw new IllegalArgumentException("the TURN server's REST secret needs at least "
                    + RendezvousServerConfig.MIN_REST_SECRET_BYTES + " bytes, got " + restSecret.length);
            }
            this.externalRelay = server;
            this.externalRelaySecret = restSecret.clone();
            return this;
        }

        /**
         * How long the relay credentials of an introduction admit new allocations, or null for
         * {@link RendezvousServerConfig#DEFAULT_RELAY_CREDENTIAL_LIFETIME} (10 minutes); an allocation made
         * in time keeps refreshing past it.
         */
        public Builder relayCredentialLifetime(Duration lifetime) {
            this.relayCredentialLifetime = lifetime;
            return this;
        }

        /**
         * Runs on this started loop instead of an own one: the server adds its sockets to it, and
         * {@link PinholeServer#close()} removes them but leaves the loop running.
         */
        public Builder eventLoop(UdpEventLoop loop) {
            this.eventLoop = loop;
            return this;
        }

        /** The name of the server's own loop thread (default "rendezvous"). */
        public Builder threadName(String name) {
            this.threadName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Binds every socket and starts serving: first the listen socket, then the RFC 5780 sockets, then
         * the relay's; then, on the loop, the relay before the rendezvous server, so that the first
         * introduction's offer already reaches a listening relay.
         *
         * @throws PinholeServerException if a socket cannot be bound (its {@link PinholeServerException#bindProblem()}
         *     says whether another socket holds the port, one of this server's own sockets, or the address is
         *     not on this host), the addresses do not fit, or the servers do not start; nothing stays bound then
         * @throws IllegalStateException if no listen address was given
         */
        public PinholeServer build() throws PinholeServerException {
            if (listen == null) {
                throw new IllegalStateException("no listen address: call listen(address)");
            }
            RendezvousServerConfig.Builder config = RendezvousServerConfig.builder().software(software)
                .allowList(allowList);
            if (maxRegistrationsPerAddress != null) {
                config.maxRegistrationsPerAddress(maxRegistrationsPerAddress);
            }
            if (maxRegistrationsPerPrefix != null) {
                config.maxRegistrationsPerPrefix(maxRegistrationsPerPrefix);
            }
            if (secret != null) {
                config.secret(secret);
                if (externalRelaySecret != null
                    && Arrays.equals(externalRelaySecret, secret.getBytes(StandardCharsets.UTF_8))) {
                    // Every peer knows the shared secret: as the relay's key it would let any of them sign
                    // relay credentials for any name and lifetime.
                    throw new IllegalArgumentException("the TURN server's REST secret must not be the rendezvous"
                        + " shared secret, which every peer knows: give the TURN server a secret of its own");
                }
            }
            UdpEventLoop loop;
            DatagramEndpoint primary;
            List<DatagramEndpoint> added = new ArrayList<>();
            List<ListeningSocket> bound = new ArrayList<>();
            if (eventLoop == null) {
                try {
                    loop = UdpEventLoop.builder().bind(listen).threadName(threadName).daemon(true).build();
                } catch (IOException e) {
                    throw PinholeServerException.bindFailed(listen, SocketRole.RENDEZVOUS, e, bound);
                }
                loop.start();
                primary = loop;
                bound.add(new ListeningSocket(SocketRole.RENDEZVOUS, loop.localAddress()));
            } else {
                loop = eventLoop;
                primary = openSocket(loop, listen, added, SocketRole.RENDEZVOUS, bound);
            }
            try {
                return start(loop, primary, added, bound, config);
            } catch (PinholeServerException | RuntimeException e) {
                if (eventLoop == null) {
                    loop.close();
                } else {
                    closeAdded(loop, added);
                }
                throw e;
            }
        }

        private PinholeServer start(UdpEventLoop loop, DatagramEndpoint primary, List<DatagramEndpoint> added,
                                    List<ListeningSocket> bound, RendezvousServerConfig.Builder config)
            throws PinholeServerException {
            // The RFC 5780 sockets first: their ports follow from the listen and alternate addresses; the
            // relay's default port is chosen past them.
            DatagramEndpoint[] alternates = alternate == null ? null : openAlternates(loop, primary, added, bound);
            InetSocketAddress offered = null;
            DatagramEndpoint relayListening = null;
            InetAddress relaySocketIp = null;
            TurnServerConfig relayConfig = null;
            byte[] restSecret = null;
            RelayGrants grants = null;
            if (relayCredentialLifetime != null) {
                config.relayCredentialLifetime(relayCredentialLifetime);
            }
            if (externalRelay != null) {
                offered = externalRelay;
                config.relay(externalRelay, externalRelaySecret);
            } else if (builtInRelay) {
                InetSocketAddress where = relayListen != null ? relayListen
                    : BuiltInRelay.defaultListen(listen, alternate);
                InetAddress announced = relayIp != null ? relayIp : defaultRelayIp(where);
                relaySocketIp = announced;
                InetAddress externalIp = null;
                if (!BuiltInRelay.isLocal(announced)) {
                    // A public address in front of this host (a cloud's 1:1 NAT): relay sockets bind the
                    // listening IP, and XOR-RELAYED-ADDRESS announces the public one.
                    if (where.getAddress().isAnyLocalAddress()) {
                        throw new PinholeServerException(PinholeServerException.Reason.RELAY_IP_NOT_LOCAL,
                            new InetSocketAddress(announced, 0), "the relay IP " + announced.getHostAddress()
                                + " is not an address of this host: give the relay a specific listen IP to bind"
                                + " the relay sockets to", null);
                    }
                    relaySocketIp = where.getAddress();
                    externalIp = announced;
                }
                relayConfig = BuiltInRelay.config(software, externalIp, announced.isLoopbackAddress(),
                    relayBytesPerSecond);
                restSecret = BuiltInRelay.randomRelaySecret();
                grants = new RelayGrants();
                relayListening = openSocket(loop, where, added, SocketRole.RELAY, bound);
                offered = new InetSocketAddress(announced, relayListening.localAddress().getPort());
                config.relay(offered, restSecret, grants);
            }
            RendezvousServerConfig rendezvousConfig = config.build();
            DatagramEndpoint listening = relayListening;
            InetAddress socketIp = relaySocketIp;
            TurnServerConfig turnConfig = relayConfig;
            byte[] turnSecret = restSecret;
            RelayGrants relayGrants = grants;
            Started started = onLoop(loop, () -> {
                TurnServer turn = null;
                if (listening != null) {
                    RelaySockets opener = RelaySockets.onLoop(loop, socketIp);
                    RelaySockets sockets = eventLoop == null ? opener : () -> {
                        DatagramEndpoint socket = opener.open();
                        added.add(socket);
                        return socket;
                    };
                    RestCredentials credentials =
                        new RestCredentials(turnSecret, RendezvousServerConfig.SYSTEM_UNIX_SECONDS);
                    turn = new TurnServer(listening, sockets, credentials, turnConfig, new SecureRandom(), relayGrants)
                        .listen();
                }
                RendezvousServer server = alternates == null
                    ? RendezvousServer.listen(primary, rendezvousConfig)
                    : RendezvousServer.listenRfc5780(primary, alternates[0], alternates[1], alternates[2],
                        rendezvousConfig);
                return new Started(server, turn);
            });
            return new PinholeServer(loop, eventLoop == null, added, started.rendezvous(), started.relay(),
                alternates == null ? null : alternates[2].localAddress(), offered, secret != null, bound);
        }

        /**
         * RFC 5780 §6: one server answering from IP1:PORT1, IP1:PORT2, IP2:PORT1 and IP2:PORT2, all on the
         * loop's one thread. Returns the sockets on IP1:PORT2, IP2:PORT1 and IP2:PORT2.
         */
        private DatagramEndpoint[] openAlternates(UdpEventLoop loop, DatagramEndpoint primary,
                                                  List<DatagramEndpoint> added, List<ListeningSocket> bound)
            throws PinholeServerException {
            int port1 = primary.localAddress().getPort();
            if (alternate.getAddress().equals(listen.getAddress()) || alternate.getPort() == port1) {
                throw new PinholeServerException(PinholeServerException.Reason.ALTERNATE_NOT_DISTINCT, alternate,
                    "the alternate address " + alternate + " must differ from the listen address in both IP and"
                        + " port (RFC 5780 needs two addresses and two ports)", null);
            }
            DatagramEndpoint altPort = openSocket(loop, new InetSocketAddress(listen.getAddress(),
                alternate.getPort()), added, SocketRole.ALTERNATE_PORT, bound);
            int port2 = altPort.localAddress().getPort();
            DatagramEndpoint altIp = openSocket(loop, new InetSocketAddress(alternate.getAddress(), port1), added,
                SocketRole.ALTERNATE_IP, bound);
            DatagramEndpoint altBoth = openSocket(loop, new InetSocketAddress(alternate.getAddress(), port2), added,
                SocketRole.OTHER_ADDRESS, bound);
            return new DatagramEndpoint[] {altPort, altIp, altBoth};
        }

        private InetAddress defaultRelayIp(InetSocketAddress where) throws PinholeServerException {
            InetAddress ip;
            try {
                ip = BuiltInRelay.defaultRelayIp(where.getAddress().isAnyLocalAddress() ? listen.getAddress()
                    : where.getAddress());
            } catch (IOException e) {
                throw new PinholeServerException(PinholeServerException.Reason.INTERFACES_UNAVAILABLE, null,
                    "cannot list the network interfaces to choose the relay address: " + e.getMessage(), e);
            }
            if (ip == null) {
                throw new PinholeServerException(PinholeServerException.Reason.NO_RELAY_IP, null,
                    "cannot tell which address peers reach the relay at: this host has no non-loopback IPv4"
                        + " address; give the relay IP or run no relay", null);
            }
            return ip;
        }

        /** One more socket on {@code loop}: on its thread, which may be running already. */
        private static DatagramEndpoint openSocket(UdpEventLoop loop, InetSocketAddress address,
                                                   List<DatagramEndpoint> added, SocketRole role,
                                                   List<ListeningSocket> bound) throws PinholeServerException {
            DatagramEndpoint socket;
            try {
                socket = loop.submit(() -> loop.openSocket(address)).get(LOOP_WAIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw PinholeServerException.bindFailed(address, role, io, bound);
                }
                throw startFailed(e);
            } catch (TimeoutException | InterruptedException e) {
                throw startFailed(e);
            }
            added.add(socket);
            bound.add(new ListeningSocket(role, socket.localAddress()));
            return socket;
        }

        private static <T> T onLoop(UdpEventLoop loop, Callable<T> task) throws PinholeServerException {
            try {
                return loop.submit(task).get(LOOP_WAIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException | InterruptedException e) {
                throw startFailed(e);
            }
        }

        private static PinholeServerException startFailed(Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new PinholeServerException(PinholeServerException.Reason.START_FAILED, null,
                "the server did not start: " + e.getMessage(), e);
        }

        private static void closeAdded(UdpEventLoop loop, List<DatagramEndpoint> added) {
            try {
                loop.submit(() -> {
                    for (DatagramEndpoint socket : added) {
                        loop.closeSocket(socket);
                    }
                    return null;
                }).get(LOOP_WAIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                // The loop is gone: its sockets went with it.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private record Started(RendezvousServer rendezvous, TurnServer relay) {
    }
}
