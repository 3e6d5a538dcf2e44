package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A bidirectional transfer between a client and a server transport endpoint on two simulated hosts:
 * each side writes its payload in random chunks, finishes its stream, and reads the other side's
 * bytes in random chunks (optionally at a limited rate) until the end of the stream. The connections
 * then close by themselves. Everything runs on virtual time and is a pure function of the inputs: the
 * transport layer on the shared {@link SimFixture}.
 */
final class SimTransfer extends SimFixture {
    static final String CLIENT_IP = "198.51.100.1";
    static final String SERVER_IP = "203.0.113.7";
    static final String NAT_IP = "198.51.100.99";
    static final String PRIVATE_CLIENT_IP = "10.0.0.2";
    static final int SERVER_PORT = 4433;

    final Nat nat;
    final SimHost clientHost;
    final SimHost serverHost;
    final SimEndpoint clientSocket;
    final SimEndpoint serverSocket;
    final TransportEndpoint client;
    final TransportEndpoint server;
    /** The server's socket as its transport sees it; counts bytes sent per destination. */
    final TestEndpoint serverEndpoint;
    /** Bytes the server received from each source address. */
    final Map<InetSocketAddress, Long> bytesReceivedFrom = new HashMap<>();
    final Side clientSide;
    final Side serverSide;
    /**
     * Every buffer the transports allocate comes from here, without Netty's leak-aware wrapper, and is
     * counted exactly: {@link #leakedBuffers()} must be 0 after {@link #close()}, which checks it.
     */
    final CountingAllocator transportAllocator = countedAllocator();
    /** Received packets, when -Dpinhole.packetLog=N asks for the last N of them on failure. */
    final PacketLog log;
    /** An attacker on the path, when a test sets one before {@link #start()}; null for none. */
    Adversary adversary;

    /**
     * @param uplink   impairments of the client-to-server direction (the client host's uplink)
     * @param downlink impairments of the server-to-client direction (the client host's downlink); the
     *                 server host's own link is perfect
     */
    SimTransfer(long seed, TransportConfig config, LinkConfig uplink, LinkConfig downlink,
                byte[] clientPayload, byte[] serverPayload, int maxWriteChunk, int maxReadChunk, long readBytesPerMs) {
        this(seed, config, uplink, downlink, null, clientPayload, serverPayload, maxWriteChunk, maxReadChunk,
                readBytesPerMs);
    }

    /** As above, with the client on a private network behind a NAT of this behaviour (null: no NAT). */
    SimTransfer(long seed, TransportConfig config, LinkConfig uplink, LinkConfig downlink, NatConfig natConfig,
                byte[] clientPayload, byte[] serverPayload, int maxWriteChunk, int maxReadChunk, long readBytesPerMs) {
        super(seed);
        clientHost = addHost(NAT_IP, natConfig, natConfig == null ? CLIENT_IP : PRIVATE_CLIENT_IP, uplink);
        nat = clientHost.network().nat();
        clientHost.downlink(downlink);
        serverHost = publicHost(SERVER_IP, LinkConfig.PERFECT);
        clientSocket = clientHost.bind(0);
        serverSocket = serverHost.bind(SERVER_PORT);
        String logLines = System.getProperty("pinhole.packetLog");
        log = logLines == null ? null : new PacketLog(Integer.parseInt(logLines));
        serverEndpoint = new TestEndpoint(serverSocket, transportAllocator, log, "S=>");
        client = TransportEndpoint.create(new TestEndpoint(clientSocket, transportAllocator, log, "C=>"), config,
                sim.random("test/client-transport"));
        server = TransportEndpoint.create(serverEndpoint, config, sim.random("test/server-transport"));
        clientSide = new Side("client", clientPayload, serverPayload.length, maxWriteChunk, maxReadChunk,
                readBytesPerMs, sim.random("test/client-app"));
        serverSide = new Side("server", serverPayload, clientPayload.length, maxWriteChunk, maxReadChunk,
                readBytesPerMs, sim.random("test/server-app"));
        clientSocket.receiver((datagram, from) -> {
            clientSide.lastDatagramNs = sim.nowNs();
            if (log != null) {
                log.record(sim.nowNs(), "S->C", datagram);
            }
            if (adversary != null) {
                adversary.observe(datagram, from, client);
            }
            client.onDatagram(datagram, from);
        });
        serverSocket.receiver((datagram, from) -> {
            serverSide.lastDatagramNs = sim.nowNs();
            bytesReceivedFrom.merge(from, (long) datagram.readableBytes(), Long::sum);
            if (log != null) {
                log.record(sim.nowNs(), "C->S", datagram);
            }
            if (adversary != null) {
                adversary.observe(datagram, from, server);
            }
            server.onDatagram(datagram, from);
        });
        server.listen(connection -> {
            if (serverSide.connection != null) {
                return null;
            }
            serverSide.connection = connection;
            return serverSide;
        });
    }

    InetSocketAddress serverAddress() {
        return new InetSocketAddress(serverHost.address(), SERVER_PORT);
    }

    /** Starts the client's connection now. */
    void start() {
        clientSide.connection = client.connect(serverAddress(), clientSide);
    }

    /** Runs until both connections are terminated or {@code timeoutNs} of virtual time passed. */
    boolean runToCompletion(long timeoutNs) {
        return sim.runUntil(() -> {
            checkTimeAdvances();
            return bothTerminated();
        }, timeoutNs);
    }

    private long lastEventNs = -1;
    private int eventsAtSameTime;

    /** Fails fast when events keep firing without virtual time moving: a timer re-armed in the past. */
    void checkTimeAdvances() {
        if (sim.nowNs() != lastEventNs) {
            lastEventNs = sim.nowNs();
            eventsAtSameTime = 0;
        } else if (++eventsAtSameTime > 200_000) {
            throw new AssertionError("virtual time stuck at " + lastEventNs + " ns: a deadline in the past keeps"
                    + " firing; client " + clientSide + "; server " + serverSide);
        }
    }

    boolean bothTerminated() {
        return clientSide.terminated() && serverSide.terminated();
    }

    /** Closes both endpoints and the simulator; fails if the transports left any buffer unreleased. */
    @Override
    public void close() {
        client.close();
        server.close();
        super.close();
    }

    /** Datagrams either endpoint or connection counted as dropped: malformed, unauthenticated, replayed. */
    long rejectedDatagrams() {
        long n = 0;
        for (TransportEndpoint e : new TransportEndpoint[] {client, server}) {
            TransportEndpoint.Counters c = e.counters();
            n += c.malformed() + c.unknownConnection() + c.invalidCookie() + c.handshakeFailures()
                    + c.replayedConfirms();
        }
        for (Side side : new Side[] {clientSide, serverSide}) {
            if (side.connection != null) {
                n += side.connection.authenticationFailures() + side.connection.undecryptablePackets()
                        + side.connection.handshakeFailures() + side.connection.duplicatePackets();
            }
        }
        return n;
    }

    /** Transport buffers not released. */
    long leakedBuffers() {
        return transportAllocator.liveBuffers();
    }

    /** One application: writes its payload, reads the peer's, records what happened. */
    final class Side implements ConnectionHandler {
        final String name;
        final byte[] payload;
        final byte[] received;
        final int maxWriteChunk;
        final int maxReadChunk;
        final long readBytesPerMs;
        final RandomGenerator random;
        Connection connection;
        int written;
        int receivedLength;
        boolean extraBytes;
        boolean eof;
        boolean established;
        long maxSendBuffered;
        long maxReceiveBuffered;
        CloseReason closeReason;
        long closedAtNs = -1;
        /** Runs when the peer's new address was validated, before anything is sent there. */
        Runnable pathChanged;
        /** When the last datagram arrived for this side. */
        long lastDatagramNs = -1;
        ConnectionStats finalStats;
        private long readTickId = -1;
        /** The application reads nothing before this time (virtual ns). */
        long readFromNs;
        /** The application writes nothing (and does not finish) until {@link #releaseOutput()}. */
        boolean holdOutput;

        Side(String name, byte[] payload, int expectedLength, int maxWriteChunk, int maxReadChunk,
             long readBytesPerMs, RandomGenerator random) {
            this.name = name;
            this.payload = payload;
            this.received = new byte[expectedLength];
            this.maxWriteChunk = maxWriteChunk;
            this.maxReadChunk = maxReadChunk;
            this.readBytesPerMs = readBytesPerMs;
            this.random = random;
        }

        boolean terminated() {
            return connection != null && connection.isTerminated();
        }

        @Override
        public void onEvents(Connection c, int events) {
            if ((events & Connection.EVENT_ESTABLISHED) != 0) {
                established = true;
            }
            if ((events & Connection.EVENT_PATH_CHANGED) != 0 && pathChanged != null) {
                pathChanged.run();
            }
            if ((events & (Connection.EVENT_ESTABLISHED | Connection.EVENT_WRITABLE)) != 0) {
                writeSome(c);
            }
            if ((events & Connection.EVENT_READABLE) != 0) {
                if (sim.nowNs() < readFromNs) {
                    if (readTickId < 0) {
                        readTickId = sim.schedule(readFromNs, () -> {
                            readTickId = -1;
                            readSome(connection, Long.MAX_VALUE);
                            owner().wake(connection);
                        });
                    }
                } else if (readBytesPerMs <= 0) {
                    readSome(c, Long.MAX_VALUE);
                } else if (readTickId < 0) {
                    scheduleReadTick();
                }
            }
            maxSendBuffered = Math.max(maxSendBuffered, c.sendBufferedBytes());
            maxReceiveBuffered = Math.max(maxReceiveBuffered, c.receiveBufferedBytes());
            if ((events & Connection.EVENT_CLOSED) != 0 && closeReason == null) {
                closeReason = c.closeReason();
                closedAtNs = sim.nowNs();
                finalStats = c.stats();
            }
        }

        /** Set before {@link #start()}: the application closes (lingers) as soon as its payload is written. */
        boolean closeAfterWriting;

        private void scheduleReadTick() {
            readTickId = sim.scheduleAfter(MS, () -> {
                readTickId = -1;
                readSome(connection, readBytesPerMs);
                boolean more = connection.closeReason() == null || connection.closeReason().graceful();
                if (!eof && more) {
                    scheduleReadTick();
                }
                owner().wake(connection);
            });
        }

        TransportEndpoint owner() {
            return connection.role() == Connection.Role.CLIENT ? client : server;
        }

        /** Lets a side that was holding its output write and finish now. */
        void releaseOutput() {
            holdOutput = false;
            writeSome(connection);
            owner().wake(connection);
        }

        private void writeSome(Connection c) {
            if (holdOutput || c.state() != Connection.State.ESTABLISHED || c.closeReason() != null) {
                return;
            }
            while (written < payload.length) {
                int chunk = 1 + random.nextInt(maxWriteChunk);
                int n = c.write(payload, written, Math.min(chunk, payload.length - written));
                if (n == 0) {
                    return;
                }
                written += n;
            }
            c.finish();
            if (closeAfterWriting) {
                c.close(sim.nowNs());
            }
        }

        private void readSome(Connection c, long budget) {
            byte[] scratch = new byte[maxReadChunk];
            while (budget > 0) {
                int want = (int) Math.min(budget, 1 + random.nextInt(maxReadChunk));
                int n = c.read(scratch, 0, want);
                if (n < 0) {
                    eof = true;
                    return;
                }
                if (n == 0) {
                    return;
                }
                budget -= n;
                int fit = Math.min(n, received.length - receivedLength);
                System.arraycopy(scratch, 0, received, receivedLength, fit);
                if (fit < n) {
                    extraBytes = true;
                }
                receivedLength += fit;
            }
        }

        boolean receivedExactly(byte[] expected) {
            return !extraBytes && receivedLength == expected.length && Arrays.equals(received, expected);
        }

        /** The first index at which the received bytes differ from {@code expected}, or -1. */
        int firstMismatch(byte[] expected) {
            int n = Math.min(receivedLength, expected.length);
            for (int i = 0; i < n; i++) {
                if (received[i] != expected[i]) {
                    return i;
                }
            }
            return receivedLength == expected.length ? -1 : n;
        }

        @Override
        public String toString() {
            return name + "{written=" + written + "/" + payload.length + ", received=" + receivedLength + "/"
                    + received.length + ", eof=" + eof + ", close=" + closeReason + ", stats=" + finalStats
                    + ", now=" + (connection == null ? "none" : connection.toString()) + "}";
        }
    }
}
