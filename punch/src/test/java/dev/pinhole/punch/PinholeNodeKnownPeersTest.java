package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.reliability.ConnectionResetException;
import dev.pinhole.reliability.Identity;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Known peers and pinned ids over real UDP on loopback, with a real rendezvous server. */
@SuppressWarnings("try") // connections held open for the try's scope
class PinholeNodeKnownPeersTest {
    private static final long FAILSAFE_SECONDS = 60;
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private UdpEventLoop serverLoop;
    private RendezvousServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void startServer() throws Exception {
        serverLoop = UdpEventLoop.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .threadName("rendezvous").build();
        server = RendezvousServer.listen(serverLoop, RendezvousServerConfig.builder().rateLimit(1_000, 2_000).build());
        serverLoop.receiver(server::onDatagram);
        serverLoop.start();
    }

    @AfterEach
    void stopServer() throws Exception {
        threads.shutdownNow();
        serverLoop.submit(() -> {
            server.close();
            return null;
        }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
        serverLoop.close();
    }

    private PinholeNode.Builder node(String name) {
        return PinholeNode.builder().name(name).rendezvous(serverLoop.localAddress())
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    /** bob accepts one connection in the background; the future holds it or what accept threw. */
    private Future<PeerConnection> acceptOne(PinholeNode bob) {
        return threads.submit(() -> bob.accept(Duration.ofSeconds(FAILSAFE_SECONDS)));
    }

    @Test
    void theFirstConnectRecordsTheIdAndAnotherKeyUnderTheSameNameIsRefused() throws Exception {
        Path aliceFile = dir.resolve("alice").resolve("known_peers");
        Path bobFile = dir.resolve("bob").resolve("known_peers");
        try (PinholeNode alice = node("alice").knownPeers(aliceFile).build()) {
            String firstBobId;
            try (PinholeNode bob = node("bob").knownPeers(bobFile).build()) {
                firstBobId = bob.identity().id();
                Future<PeerConnection> accepted = acceptOne(bob);
                try (PeerConnection toBob = alice.connect("bob");
                     PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                    assertEquals(firstBobId, toBob.peerId());
                    assertEquals(alice.identity().id(), toAlice.peerId());
                }
                assertEquals(Optional.of(firstBobId), KnownPeers.at(aliceFile).idOf("bob"), "alice remembers bob");
                assertEquals(Optional.of(alice.identity().id()), KnownPeers.at(bobFile).idOf("alice"),
                        "bob remembers alice (accept records too)");
                // The same key again: accepted without a change to the file.
                Future<PeerConnection> again = acceptOne(bob);
                try (PeerConnection toBob = alice.connect("bob");
                     PeerConnection toAlice = again.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                    assertEquals(firstBobId, toBob.peerId());
                }
            }
            // bob is gone (closing deregistered the name); an impostor with another key takes the name.
            try (PinholeNode impostor = node("bob").identity(Identity.generate(RANDOM)).build()) {
                Future<PeerConnection> accepted = acceptOne(impostor);
                PeerKeyChangedException e = assertThrows(PeerKeyChangedException.class, () -> alice.connect("bob"));
                assertEquals("bob", e.peerName());
                assertEquals(firstBobId, e.expectedId());
                assertEquals(impostor.identity().id(), e.presentedId());
                assertFalse(e.pinned());
                assertTrue(e.getMessage().contains(impostor.identity().fingerprint())
                        && e.getMessage().contains(Identity.fingerprintOf(Identity.parseId(firstBobId)))
                        && e.getMessage().contains("impersonating"), e.getMessage());
                assertEquals(Optional.of(firstBobId), KnownPeers.at(aliceFile).idOf("bob"), "the file is unchanged");
                // The introduction named the impostor's key, so alice stopped before any handshake: her own key
                // never went toward it, and the impostor saw no connection at all.
                assertFalse(accepted.isDone(), "the impostor was never connected to");
                accepted.cancel(true);
            }
        }
    }

    @Test
    void aPinnedIdConnectsOnlyToItsKeyAndIsRecorded() throws Exception {
        Path aliceFile = dir.resolve("known_peers");
        try (PinholeNode alice = node("alice").knownPeers(aliceFile).build();
             PinholeNode bob = node("bob").build()) {
            String wrong = Identity.generate(RANDOM).id();
            Future<PeerConnection> first = acceptOne(bob);
            PeerKeyChangedException e = assertThrows(PeerKeyChangedException.class, () -> alice.connect("bob", wrong));
            assertTrue(e.pinned());
            assertEquals(wrong, e.expectedId());
            assertEquals(bob.identity().id(), e.presentedId());
            assertTrue(e.getMessage().contains("not the pinned id"), e.getMessage());
            assertFalse(Files.exists(aliceFile), "nothing recorded for a refused key");
            assertFalse(first.isDone(), "the introduction named another key: no connection was opened");
            first.cancel(true);

            Future<PeerConnection> second = acceptOne(bob);
            try (PeerConnection toBob = alice.connect("bob", bob.identity().id().toUpperCase(java.util.Locale.ROOT));
                 PeerConnection toAlice = second.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                assertEquals(bob.identity().id(), toBob.peerId());
            }
            assertEquals(Optional.of(bob.identity().id()), KnownPeers.at(aliceFile).idOf("bob"), "the pin is recorded");
            assertThrows(IllegalArgumentException.class, () -> alice.connect("bob", "not-an-id"));
        }
    }

    @Test
    void aPinnedIdWorksWithoutAKnownPeersFileAndAPinReplacesAnOldKey() throws Exception {
        Path aliceFile = dir.resolve("known_peers");
        KnownPeers.at(aliceFile).remember("bob", Identity.generate(RANDOM).id());
        try (PinholeNode alice = node("alice").knownPeers(aliceFile).build();
             PinholeNode plain = node("carol").build();
             PinholeNode bob = node("bob").build()) {
            Future<PeerConnection> accepted = acceptOne(bob);
            assertThrows(PeerKeyChangedException.class, () -> alice.connect("bob"), "the old key is expected");
            assertFalse(accepted.isDone(), "stopped at the introduction, before any connection");
            try (PeerConnection toBob = alice.connect("bob", bob.identity().id())) {
                accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS).close();
            }
            assertEquals(Optional.of(bob.identity().id()), KnownPeers.at(aliceFile).idOf("bob"), "the new key pinned");
            accepted = acceptOne(bob);
            try (PeerConnection toBob = alice.connect("bob")) {
                accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS).close();
                assertEquals(bob.identity().id(), toBob.peerId(), "and accepted from then on");
            }
            accepted = acceptOne(bob);
            try (PeerConnection toBob = plain.connect("bob", bob.identity().id())) {
                accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS).close();
                assertEquals(bob.identity().id(), toBob.peerId(), "no file: the pin alone");
            }
        }
    }

    @Test
    void anIncomingPeerWithAnotherKeyThanRecordedIsAbortedAndAcceptSaysWhy() throws Exception {
        Path bobFile = dir.resolve("known_peers");
        String recorded = Identity.generate(RANDOM).id();
        KnownPeers.at(bobFile).remember("alice", recorded);
        try (PinholeNode alice = node("alice").build();
             PinholeNode bob = node("bob").knownPeers(bobFile).build()) {
            Future<PeerConnection> accepted = acceptOne(bob);
            PeerConnection toBob = alice.connect("bob");
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS));
            PeerKeyChangedException changed = assertTrue_instance(e.getCause());
            assertEquals(recorded, changed.expectedId());
            assertEquals(alice.identity().id(), changed.presentedId());
            IOException reset = assertThrows(IOException.class, () -> toBob.inputStream().read());
            assertTrue(reset instanceof ConnectionResetException r && r.code() == PeerKeyChangedException.ABORT_CODE,
                    "alice hears the refusal: " + reset);
            toBob.abort(0);
            assertEquals(Optional.of(recorded), KnownPeers.at(bobFile).idOf("alice"), "the file is unchanged");
        }
    }

    private static PeerKeyChangedException assertTrue_instance(Throwable t) {
        assertTrue(t instanceof PeerKeyChangedException, "PeerKeyChangedException: " + t);
        return (PeerKeyChangedException) t;
    }
}
