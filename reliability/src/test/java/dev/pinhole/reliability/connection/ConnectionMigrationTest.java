package dev.pinhole.reliability.connection;

import static dev.pinhole.reliability.connection.SimTransfer.MS;
import static dev.pinhole.reliability.connection.SimTransfer.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.reliability.TransportConfig;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Connection#migrate}: a connection that starts through a forwarding hop (a relay, as Pinhole's
 * TURN path is to the transport) moves to the direct path mid-transfer. Every byte arrives once and in
 * order, the server validates the client's new address and follows, and nothing flaps back to the
 * retired path although the server's packets keep arriving through it until it has followed.
 */
class ConnectionMigrationTest {
    private static final String PROXY_IP = "192.0.2.50";

    @Test
    void aConnectionMovesFromAForwardingHopToTheDirectPathMidTransferWithoutLosingAByte() {
        for (long seed = 1; seed <= 5; seed++) {
            migrateMidTransfer(seed, LinkConfig.builder().delay(5 * MS).build());
        }
        for (long seed = 11; seed <= 15; seed++) {
            migrateMidTransfer(seed, LinkConfig.builder().delay(5 * MS).loss(0.02).reordering(0.02, 3 * MS).build());
        }
    }

    private static void migrateMidTransfer(long seed, LinkConfig link) {
        byte[] toServer = new byte[3_000_000];
        byte[] toClient = new byte[200_000];
        SplittableRandom random = new SplittableRandom(seed);
        random.nextBytes(toServer);
        random.nextBytes(toClient);
        try (SimTransfer t = new SimTransfer(seed, TransportConfig.DEFAULT, link, link, toServer, toClient,
                64 * 1024, 64 * 1024, 0)) {
            SimHost proxyHost = t.sim.internet().addHost(PROXY_IP);
            SimEndpoint proxy = proxyHost.bind(3478);
            InetSocketAddress server = t.serverAddress();
            long[] forwardedFromClient = {0};
            InetSocketAddress[] client = {null};
            proxy.receiver((datagram, from) -> {
                if (from.equals(server)) {
                    if (client[0] != null) {
                        proxy.send(datagram.retainedDuplicate(), client[0]);
                    }
                } else {
                    client[0] = from;
                    forwardedFromClient[0]++;
                    proxy.send(datagram.retainedDuplicate(), server);
                }
            });
            t.clientSide.connection = t.client.connect(proxy.localAddress(), t.clientSide);
            assertTrue(t.sim.runUntil(() -> t.serverSide.receivedLength > toServer.length / 3, 60 * SECOND),
                    "seed " + seed + ": a third arrives through the hop");
            Connection c = t.clientSide.connection;
            assertEquals(proxy.localAddress(), t.serverSide.connection.remoteAddress(),
                    "seed " + seed + ": the server sees the hop before the move");
            assertTrue(c.migrate(t.sim.nowNs(), server), "seed " + seed + ": an established connection migrates");
            t.client.wake(c);
            // Datagrams sent before the move are still on the links for up to a one-way delay (and reordering).
            t.sim.runFor(200 * MS);
            long forwardedSoonAfterMove = forwardedFromClient[0];

            assertTrue(t.runToCompletion(120 * SECOND), "seed " + seed + ": both sides finish; client "
                    + t.clientSide + ", server " + t.serverSide);
            assertArrayEquals(toServer, t.serverSide.received, "seed " + seed + ": the server read every byte once");
            assertArrayEquals(toClient, t.clientSide.received, "seed " + seed + ": the client read every byte once");
            assertEquals(server, c.remoteAddress(), "seed " + seed + ": the client stayed on the direct path");
            assertEquals(new InetSocketAddress(t.clientHost.address(), t.clientSocket.localAddress().getPort()),
                    t.serverSide.connection.remoteAddress(), "seed " + seed + ": the server followed to the client");
            assertEquals(0, c.pathsValidated(), "seed " + seed + ": the client validated nothing back toward the hop");
            assertEquals(forwardedSoonAfterMove, forwardedFromClient[0], "seed " + seed
                    + ": the client sent nothing more through the hop once the move's last datagrams had passed");
        }
    }
}
