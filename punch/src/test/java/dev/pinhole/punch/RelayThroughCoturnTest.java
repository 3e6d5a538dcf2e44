package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.FirewalledEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.interop.Coturn;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two {@link PinholeNode}s that cannot reach each other directly (each node's socket only talks to the
 * rendezvous server and the TURN server; everything else it sends is dropped, as a strict firewall would)
 * connect and transfer through a real coturn on loopback, started and stopped by the test. The relayed
 * addresses are coturn's; the nodes find them through their own TURN allocations and the rendezvous server's
 * CANDIDATE forwarding. Skipped when coturn is not installed (.ci/run installs it).
 */
class RelayThroughCoturnTest {
    private static final long FAILSAFE_SECONDS = 60;

    @Test
    void nodesThatCannotReachEachOtherTransferThroughCoturnByteExact() throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool();
        try (Coturn coturn = Coturn.start()) {
            UdpEventLoop serverLoop = UdpEventLoop.builder()
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).threadName("rendezvous").build();
            serverLoop.start();
            RendezvousServer server = serverLoop.submit(() -> RendezvousServer.listen(serverLoop,
                    RendezvousServerConfig.builder().rateLimit(1_000, 2_000).build())).get(10, TimeUnit.SECONDS);
            Set<InetSocketAddress> reachable = Set.of(serverLoop.localAddress(), coturn.primary());
            AtomicLong dropped = new AtomicLong();
            try (PinholeNode alice = node("alice", serverLoop, coturn, reachable, dropped).build();
                 PinholeNode bob = node("bob", serverLoop, coturn, reachable, dropped).build()) {
                Future<PeerConnection> accepted = threads.submit(() -> bob.accept());
                try (PeerConnection toBob = alice.connect("bob");
                     PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                    assertEquals(PathKind.RELAYED, toBob.path().kind(), "alice relays: " + toBob.path());
                    assertEquals(PathKind.RELAYED, toAlice.path().kind(), "bob relays: " + toAlice.path());
                    assertTrue(toBob.path().via().contains(String.valueOf(coturn.primary().getPort())),
                            "the path names coturn: " + toBob.path());
                    int relayPort = toBob.path().remote().getPort();
                    assertTrue(relayPort >= coturn.minRelayPort() && relayPort <= coturn.maxRelayPort(),
                            "alice sends to bob's relayed address on coturn: " + toBob.path());

                    byte[] payload = PunchSim.bytes(5, 3 * 1024 * 1024 + 7);
                    Future<byte[]> received = threads.submit(() -> PinholeNodeLoopbackTest.sha256(toAlice.inputStream()));
                    OutputStream out = toBob.outputStream();
                    for (int off = 0; off < payload.length; off += 64 * 1024) {
                        out.write(payload, off, Math.min(64 * 1024, payload.length - off));
                    }
                    toBob.shutdownOutput();
                    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(payload),
                            received.get(FAILSAFE_SECONDS, TimeUnit.SECONDS), "SHA-256 of what bob read via coturn");
                    toAlice.outputStream().write(new byte[] {1, 2, 3});
                    toAlice.shutdownOutput();
                    assertArrayEquals(new byte[] {1, 2, 3}, toBob.inputStream().readAllBytes(), "bob's answer");
                    assertTrue(dropped.get() > 0, "the direct checks were tried and blocked: " + dropped.get());
                }
            } finally {
                serverLoop.submit(() -> {
                    server.close();
                    return null;
                }).get(10, TimeUnit.SECONDS);
                serverLoop.close();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static PinholeNode.Builder node(String name, UdpEventLoop rendezvous, Coturn coturn,
            Set<InetSocketAddress> reachable, AtomicLong dropped) {
        return PinholeNode.builder().name(name).rendezvous(rendezvous.localAddress())
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .turnServer(coturn.primary(), Coturn.USER, Coturn.PASSWORD)
                .endpointFilter(socket -> new FirewalledEndpoint(socket, destination -> {
                    if (reachable.contains(destination)) {
                        return true;
                    }
                    dropped.incrementAndGet();
                    return false;
                }));
    }
}
