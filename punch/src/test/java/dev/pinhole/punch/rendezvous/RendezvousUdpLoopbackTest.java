package dev.pinhole.punch.rendezvous;

import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.punch.traversal.IceRole;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The same server and clients over real UDP sockets on loopback, each on its own {@link UdpEventLoop}
 * thread, with a shared secret. The waits are failsafe bounds for a machine under load, not timing
 * assertions: on loopback every exchange takes well under a millisecond.
 */
class RendezvousUdpLoopbackTest {
    private static final long FAILSAFE_SECONDS = 30;

    @Test
    void twoClientsRegisterOverRealUdpAndAreBothIntroducedWhenOneConnects() throws Exception {
        InetSocketAddress anyLoopbackPort = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (UdpEventLoop serverLoop = UdpEventLoop.builder().bind(anyLoopbackPort).threadName("rendezvous-server").build();
             UdpEventLoop aliceLoop = UdpEventLoop.builder().bind(anyLoopbackPort).threadName("alice").build();
             UdpEventLoop bobLoop = UdpEventLoop.builder().bind(anyLoopbackPort).threadName("bob").build()) {
            RendezvousServer server = RendezvousServer.listen(serverLoop,
                RendezvousServerConfig.builder().secret("loopback secret").allowList(true).build());
            RendezvousClientConfig config = RendezvousClientConfig.builder().secret("loopback secret").build();
            RendezvousClient alice = RendezvousClient.listen(aliceLoop, serverLoop.localAddress(), config);
            RendezvousClient bob = RendezvousClient.listen(bobLoop, serverLoop.localAddress(), config);
            CompletableFuture<Introduction> bobsIntroduction = new CompletableFuture<>();
            bob.listener(new RendezvousListener() {
                @Override
                public void onIntroduction(Introduction introduction) {
                    bobsIntroduction.complete(introduction);
                }
            });
            serverLoop.start();
            aliceLoop.start();
            bobLoop.start();

            Registration aliceRegistration = await(aliceLoop.submit(() -> alice.register("alice",
                List.of(Candidate.of(CandidateType.HOST, aliceLoop.localAddress())))).get(FAILSAFE_SECONDS, TimeUnit.SECONDS));
            Registration bobRegistration = await(bobLoop.submit(() -> bob.register("bob",
                List.of(Candidate.of(CandidateType.HOST, bobLoop.localAddress())))).get(FAILSAFE_SECONDS, TimeUnit.SECONDS));
            PeerList peers = await(aliceLoop.submit(alice::listPeers).get(FAILSAFE_SECONDS, TimeUnit.SECONDS));
            Introduction alicesIntroduction = await(aliceLoop.submit(() -> alice.connect("bob"))
                .get(FAILSAFE_SECONDS, TimeUnit.SECONDS));
            Introduction forBob = bobsIntroduction.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);

            assertEquals(aliceLoop.localAddress(), aliceRegistration.observedAddress(), "no NAT on loopback");
            assertEquals(bobLoop.localAddress(), bobRegistration.observedAddress(), "no NAT on loopback");
            assertEquals(List.of("alice", "bob"), peers.names(), "both listed");
            assertEquals(2, (int) serverLoop.submit(server::registrationCount).get(FAILSAFE_SECONDS, TimeUnit.SECONDS),
                "two registrations");
            assertEquals("bob", alicesIntroduction.peerName(), "alice introduced to bob");
            assertEquals("alice", forBob.peerName(), "bob introduced to alice");
            assertEquals(IceRole.CONTROLLING, alicesIntroduction.role(), "requester controls");
            assertEquals(IceRole.CONTROLLED, forBob.role(), "bob is controlled");
            assertEquals(List.of(bobLoop.localAddress()),
                alicesIntroduction.peerCandidates().stream().map(Candidate::address).toList(), "bob's socket");
            assertEquals(List.of(aliceLoop.localAddress()),
                forBob.peerCandidates().stream().map(Candidate::address).toList(), "alice's socket");
            assertEquals(alicesIntroduction.local(), forBob.remote(), "matching credentials");
            assertEquals(alicesIntroduction.remote(), forBob.local(), "matching credentials");
            assertTrue(serverLoop.submit(() -> server.stats().unauthenticated()).get(FAILSAFE_SECONDS, TimeUnit.SECONDS) == 0,
                "everything authenticated");

            aliceLoop.submit(() -> {
                alice.close();
                return null;
            }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
            bobLoop.submit(() -> {
                bob.close();
                return null;
            }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
            // Each close sent a DEREGISTER whose request buffer lives until its transaction ends: the loops
            // may close only then (as PinholeNode.close waits), or the buffer is lost with them.
            assertTrue(await(alice.deregistration()), "alice's name freed");
            assertTrue(await(bob.deregistration()), "bob's name freed");
            serverLoop.submit(() -> {
                server.close();
                return null;
            }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
    }
}
