package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.RelaySockets;
import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.stun.StunClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The built-in relay on real UDP sockets: the server on its own {@link UdpEventLoop} with relay
 * sockets added by {@link UdpEventLoop#openSocket}, and two nodes with the real TURN client on
 * theirs, all on 127.0.0.1. The test thread waits on futures and queues with a generous timeout;
 * nothing is timed.
 */
class TurnServerLoopbackTest {
    private static final long TIMEOUT_S = 60;
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** A datagram a node's allocation received. */
    record Got(byte[] bytes, InetSocketAddress from) {
    }

    /** A node: its own loop, one socket, demultiplexer, STUN and TURN clients. */
    static final class Node implements AutoCloseable {
        final UdpEventLoop loop;
        final BlockingQueue<Got> got = new LinkedBlockingQueue<>();
        TurnClient turn;
        StunClient stun;

        Node(String name) throws Exception {
            loop = UdpEventLoop.builder().bind(new InetSocketAddress(LOOPBACK, 0)).threadName(name).daemon(true).build()
                .start();
            loop.submit(() -> {
                DatagramDemultiplexer demux = new DatagramDemultiplexer();
                loop.receiver(demux);
                stun = new StunClient(loop);
                turn = new TurnClient(stun);
                turn.routeOn(demux, null);
                return null;
            }).get(TIMEOUT_S, TimeUnit.SECONDS);
        }

        TurnAllocation allocate(InetSocketAddress server, String user, String password) throws Exception {
            return loop.submit(() -> {
                TurnAllocation allocation = turn.allocate(TurnConfig.of(server, user, password));
                allocation.receiver((datagram, sender) -> got.add(new Got(PunchSim.bytes(datagram), sender)));
                return allocation.allocated();
            }).thenCompose(f -> f).get(TIMEOUT_S, TimeUnit.SECONDS);
        }

        void permit(TurnAllocation allocation, InetSocketAddress peer) throws Exception {
            loop.submit(() -> allocation.createPermission(peer)).thenCompose(f -> f).get(TIMEOUT_S, TimeUnit.SECONDS);
        }

        void send(TurnAllocation allocation, byte[] bytes, InetSocketAddress to) throws Exception {
            loop.submit(() -> allocation.asEndpoint().send(loop.allocator().buffer().writeBytes(bytes), to))
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        }

        Got next() throws InterruptedException {
            Got next = got.poll(TIMEOUT_S, TimeUnit.SECONDS);
            assertNotNull(next, "nothing relayed within " + TIMEOUT_S + " s");
            return next;
        }

        /** Deallocates (waiting for the answer), then stops the loop. */
        @Override
        public void close() throws java.io.IOException {
            try {
                loop.submit(() -> turn.close()).thenCompose(f -> f).get(TIMEOUT_S, TimeUnit.SECONDS);
                loop.submit(() -> {
                    stun.close();
                    return null;
                }).get(TIMEOUT_S, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while closing " + loop.threadName());
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new java.io.IOException("closing " + loop.threadName() + " failed", e);
            } finally {
                loop.close();
            }
        }
    }

    @Test
    void twoNodesExchangeDatagramsThroughTheRelayOnRealSockets() throws Exception {
        UdpEventLoop serverLoop = UdpEventLoop.builder().bind(new InetSocketAddress(LOOPBACK, 0)).threadName("relay")
            .daemon(true).build();
        TurnServerConfig config = TurnServerConfig.builder().allowLoopbackPeers(true).build();
        TurnServer server = new TurnServer(serverLoop, RelaySockets.onLoop(serverLoop, LOOPBACK),
            TurnAuthenticator.staticUsers(java.util.Map.of("alice", "a-secret", "bob", "b-secret")), config).listen();
        serverLoop.start();
        try (serverLoop; Node a = new Node("node-a"); Node b = new Node("node-b")) {
            TurnAllocation allocationA = a.allocate(server.address(), "alice", "a-secret");
            TurnAllocation allocationB = b.allocate(server.address(), "bob", "b-secret");
            InetSocketAddress relayedA = allocationA.relayedAddress();
            InetSocketAddress relayedB = allocationB.relayedAddress();
            assertEquals(LOOPBACK, relayedA.getAddress(), "relayed on the relay socket's IP");
            a.permit(allocationA, relayedB);
            b.permit(allocationB, relayedA);
            SplittableRandom random = new SplittableRandom(11);
            for (int i = 0; i < 40; i++) {
                byte[] toB = new byte[1 + random.nextInt(1200)];
                byte[] toA = new byte[1 + random.nextInt(1200)];
                random.nextBytes(toB);
                random.nextBytes(toA);
                a.send(allocationA, toB, relayedB);
                Got atB = b.next();
                assertArrayEquals(toB, atB.bytes(), "datagram " + i + " A to B intact");
                assertEquals(relayedA, atB.from(), "B sees A's relayed address");
                b.send(allocationB, toA, relayedA);
                Got atA = a.next();
                assertArrayEquals(toA, atA.bytes(), "datagram " + i + " B to A intact");
                assertEquals(relayedB, atA.from(), "A sees B's relayed address");
            }
            long relayed = serverLoop.submit(() -> server.count(RelayCounter.RELAYED_TO_PEERS)).get(TIMEOUT_S,
                TimeUnit.SECONDS);
            assertEquals(80, relayed, "datagrams the server relayed from clients");
            assertEquals(0L, serverLoop.submit(() -> server.count(RelayCounter.INTERNAL_ERRORS))
                .get(TIMEOUT_S, TimeUnit.SECONDS), "internal errors");
            CompletableFuture<Void> closedA = a.loop.submit(allocationA::close).thenCompose(f -> f);
            closedA.get(TIMEOUT_S, TimeUnit.SECONDS);
            assertEquals(1, (int) serverLoop.submit(server::allocationCount).get(TIMEOUT_S, TimeUnit.SECONDS),
                "allocations after A deallocated");
        }
    }
}
