package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.server.RendezvousServerStats;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.reliability.ConnectionException;
import dev.pinhole.reliability.ConnectionResetException;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.Identity;
import dev.pinhole.reliability.TransportConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two {@link PinholeNode}s and a {@link RendezvousServer} over real UDP on loopback, each on its own event
 * loop. Waits have failsafe bounds for a loaded machine; nothing asserts on wall-clock time, and every wait
 * for a condition is on a protocol event (a future, a blocking read), never a sleep.
 */
class PinholeNodeLoopbackTest {
    private static final String SECRET = "loopback secret";
    private static final long FAILSAFE_SECONDS = 60;

    private UdpEventLoop serverLoop;
    private RendezvousServer server;
    /** Completed when the server has answered a CONNECT with 404 (the peer asked for was not registered). */
    private final CompletableFuture<Void> firstPeerNotFound = new CompletableFuture<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @BeforeEach
    void startServer() throws Exception {
        serverLoop = UdpEventLoop.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .threadName("rendezvous").build();
        server = RendezvousServer.listen(serverLoop,
                RendezvousServerConfig.builder().secret(SECRET).rateLimit(1_000, 2_000).allowList(true).build());
        // Observe the server's answers on its own loop, so a test can wait for "the CONNECT was refused".
        serverLoop.receiver((datagram, sender) -> {
            server.onDatagram(datagram, sender);
            if (server.stats().peerNotFound() > 0) {
                firstPeerNotFound.complete(null);
            }
        });
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
        return PinholeNode.builder().name(name).rendezvous(serverLoop.localAddress()).secret(SECRET)
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @Test
    void aClosedNodesNameIsFreeForAnotherNodeAtOnce() throws Exception {
        node("erin").build().close();
        assertEquals(1, serverStats().deregistered(), "the close's DEREGISTER was answered before the socket closed");
        // Another node (another socket and key) would get 409 while the name was held: it registers.
        try (PinholeNode again = node("erin").build()) {
            assertEquals("erin", again.name(), "registered");
            assertEquals(0, serverStats().nameConflicts(), "no 409");
        }
    }

    /** The server's counters, read on its loop. */
    private RendezvousServerStats serverStats() throws Exception {
        return serverLoop.submit(server::stats).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void aNodeWhoseServerIsGoneStillCloses() throws Exception {
        PinholeNode alone = node("frank").build();
        serverLoop.submit(() -> {
            server.close();
            return null;
        }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
        // The DEREGISTER goes unanswered; the close gives up after its short transaction (1.25 s; the
        // simulator test checks the bound exactly) instead of RFC 8489's 39.5 s.
        Future<?> closed = threads.submit(() -> {
            alone.close();
            return null;
        });
        closed.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
        assertThrows(IOException.class, alone::peers, "closed");
    }

    @Test
    void aNodeHoldsTheIdentityItWasGivenElseAnEphemeralOneOfItsOwn() throws Exception {
        Identity given = Identity.generate(new SecureRandom());
        try (PinholeNode alice = node("alice").identity(given).build();
             PinholeNode bob = node("bob").build();
             PinholeNode carol = node("carol").build()) {
            assertSame(given, alice.identity());
            assertNotNull(bob.identity(), "an ephemeral identity without builder().identity(...)");
            assertNotEquals(bob.identity().id(), carol.identity().id(), "each ephemeral identity is new");
            assertNotEquals(given.id(), bob.identity().id());
        }
        assertThrows(NullPointerException.class, () -> node("dave").identity(null));
    }

    @Test
    void closingAConnectionEndsAReadBlockedOnThisSideAndThePeerReadsEndOfStream() throws Exception {
        try (PinholeNode alice = node("alice").build(); PinholeNode bob = node("bob").build()) {
            Future<PeerConnection> accepted = threads.submit(() -> bob.accept(Duration.ofSeconds(FAILSAFE_SECONDS)));
            PeerConnection toBob = alice.connect("bob");
            try (PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                Future<Integer> blockedRead = threads.submit(() -> toBob.inputStream().read());
                Future<Integer> peerRead = threads.submit(() -> toAlice.inputStream().read());
                toBob.close();
                ExecutionException unblocked = assertThrows(ExecutionException.class,
                        () -> blockedRead.get(FAILSAFE_SECONDS, TimeUnit.SECONDS), "read blocked on alice's side");
                assertTrue(unblocked.getCause() instanceof IOException, "IOException: " + unblocked.getCause());
                assertEquals(-1, peerRead.get(FAILSAFE_SECONDS, TimeUnit.SECONDS), "bob reads end of stream");
            }
        }
    }

    @Test
    void connectAndAcceptExchangeMessagesBothWaysAndMegabytesArriveIntact() throws Exception {
        try (PinholeNode alice = node("alice").build(); PinholeNode bob = node("bob").build()) {
            Future<PeerConnection> accepted = threads.submit(() -> bob.accept(Duration.ofSeconds(FAILSAFE_SECONDS)));
            try (PeerConnection toBob = alice.connect("bob");
                 PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                assertEquals("bob", toBob.peerName(), "alice's connection names bob");
                assertEquals("alice", toAlice.peerName(), "bob's connection names alice");
                assertEquals(PathKind.DIRECT, toBob.path().kind(), "direct on loopback: " + toBob.path());
                assertEquals(bob.localAddress(), toBob.path().remote(), "alice sends to bob's socket");
                assertEquals(alice.localAddress(), toAlice.path().remote(), "bob sends to alice's socket");
                assertTrue(toBob.connectMillis() >= 0, "connect time measured: " + toBob.connectMillis());

                toBob.outputStream().write("hello bob".getBytes(StandardCharsets.UTF_8));
                assertEquals("hello bob", readExactly(toAlice.inputStream(), 9), "bob reads alice's message");
                toAlice.outputStream().write("hello alice".getBytes(StandardCharsets.UTF_8));
                assertEquals("hello alice", readExactly(toBob.inputStream(), 11), "alice reads bob's message");

                byte[] payload = PunchSim.bytes(42, 4 * 1024 * 1024 + 123);
                Future<byte[]> received = threads.submit(() -> sha256(toAlice.inputStream()));
                OutputStream out = toBob.outputStream();
                for (int off = 0; off < payload.length; off += 50_000) {
                    out.write(payload, off, Math.min(50_000, payload.length - off));
                }
                toBob.shutdownOutput();
                assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(payload),
                        received.get(FAILSAFE_SECONDS, TimeUnit.SECONDS), "SHA-256 of the 4 MiB bob read");
                toAlice.shutdownOutput();
                assertEquals(-1, toBob.inputStream().read(), "alice sees the end of bob's stream");
                ConnectionStats stats = toBob.stats();
                assertTrue(stats.bytesSent() >= payload.length + 9,
                        "alice's transport sent every byte once at least: " + stats);
            }
        }
    }

    @Test
    void connectingToAnUnregisteredPeerNamesNoOneElse() throws Exception {
        try (PinholeNode alice = node("alice").connectTimeout(Duration.ZERO).build();
             PinholeNode bob = node("bob").build()) {
            PeerNotFoundException notFound = assertThrows(PeerNotFoundException.class, () -> alice.connect("carol"),
                    "carol never registered");
            assertEquals(List.of(), notFound.registeredNames(), "the server names no one");
            assertTrue(notFound.getMessage().contains("carol") && !notFound.getMessage().contains("bob"),
                    "the message names the peer and no one else: " + notFound.getMessage());
            assertEquals(List.of("alice", "bob"), bob.peers(), "the directory");
        }
    }

    @Test
    void aWrongSecretFailsTheBuildWithAnAuthenticationError() {
        RendezvousAuthenticationException failure = assertThrows(RendezvousAuthenticationException.class,
                () -> node("mallory").secret("not the secret").build().close(), "registration with a wrong secret");
        assertTrue(failure.getMessage().contains("secret"), "the message says to check the secret: "
                + failure.getMessage());
        assertEquals(serverLoop.localAddress(), failure.server(), "the server is named");
    }

    @Test
    void connectWaitsForAPeerThatRegistersAfterTheConnectBegan() throws Exception {
        try (PinholeNode alice = node("alice").build()) {
            Future<PeerConnection> connecting = threads.submit(() -> alice.connect("bob"));
            // Bob starts only once the server has told alice that bob is not registered (yet).
            firstPeerNotFound.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
            try (PinholeNode bob = node("bob").build()) {
                Future<PeerConnection> accepted = threads.submit(() -> bob.accept());
                try (PeerConnection toBob = connecting.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
                     PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                    toBob.outputStream().write("late but here".getBytes(StandardCharsets.UTF_8));
                    toBob.shutdownOutput();
                    assertEquals("late but here", new String(toAlice.inputStream().readAllBytes(),
                            StandardCharsets.UTF_8), "bob reads alice's message to its end");
                    toAlice.shutdownOutput();
                    assertEquals("bob", toBob.peerName(), "connected to bob");
                }
            }
        }
    }

    @Test
    void anAbortReachesThePeerWithItsCodeAndAcceptTimesOutWhenNobodyConnects() throws Exception {
        try (PinholeNode alice = node("alice").build(); PinholeNode bob = node("bob").build()) {
            SocketTimeoutException idle = assertThrows(SocketTimeoutException.class,
                    () -> bob.accept(Duration.ofMillis(1)), "nobody connects to bob");
            assertTrue(idle.getMessage().contains("bob"), "the timeout names the node: " + idle.getMessage());

            Future<PeerConnection> accepted = threads.submit(() -> bob.accept());
            PeerConnection toBob = alice.connect("bob");
            try (PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                toBob.outputStream().write(1);
                assertEquals(1, toAlice.inputStream().read(), "the byte before the abort arrives");
                toBob.abort(7);
                ConnectionResetException reset = assertThrows(ConnectionResetException.class,
                        () -> toAlice.inputStream().read(), "alice aborted");
                assertEquals(7, reset.code(), "the abort's code reaches bob: " + reset.getMessage());
                assertTrue(reset.byPeer(), "bob learns the peer aborted: " + reset.getMessage());
                assertThrows(IOException.class, () -> toBob.outputStream().write(2), "alice's side is closed");
            }
        }
    }

    @Test
    void aReadTimeoutFromTheTransportConfigEndsAWaitingReadWithSocketTimeoutException() throws Exception {
        TransportConfig impatient = TransportConfig.builder().readTimeout(Duration.ofMillis(20)).build();
        try (PinholeNode alice = node("alice").build();
             PinholeNode bob = node("bob").transportConfig(impatient).build()) {
            Future<PeerConnection> accepted = threads.submit(() -> bob.accept());
            try (PeerConnection toBob = alice.connect("bob");
                 PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                SocketTimeoutException timeout = assertThrows(SocketTimeoutException.class,
                        () -> toAlice.inputStream().read(), "alice sends nothing");
                assertTrue(timeout.getMessage().contains("alice"), "names the peer: " + timeout.getMessage());
                toBob.outputStream().write(42);
                toBob.shutdownOutput();
                assertEquals(42, readRetryingTimeouts(toAlice.inputStream()),
                        "the connection still works after a timeout");
                toAlice.shutdownOutput();
            }
        }
    }

    @Test
    void closingANodeEndsItsPeersConnectionWithAnError() throws Exception {
        try (PinholeNode bob = node("bob").build()) {
            Future<PeerConnection> accepted = threads.submit(() -> bob.accept());
            PinholeNode alice = node("alice").build();
            PeerConnection toBob = alice.connect("bob");
            try (PeerConnection toAlice = accepted.get(FAILSAFE_SECONDS, TimeUnit.SECONDS)) {
                Future<Integer> blockedRead = threads.submit(() -> toBob.inputStream().read());
                alice.close();
                alice.close();
                ExecutionException unblocked = assertThrows(ExecutionException.class,
                        () -> blockedRead.get(FAILSAFE_SECONDS, TimeUnit.SECONDS), "a read blocked on alice's side");
                assertTrue(unblocked.getCause() instanceof IOException && unblocked.getCause().getMessage() != null,
                        "ends with an IOException that says why: " + unblocked.getCause());
                ConnectionException ended = assertThrows(ConnectionException.class,
                        () -> toAlice.inputStream().read(), "alice's node is gone");
                assertTrue(ended.getMessage() != null && !ended.getMessage().isEmpty(), "a message says why");
                assertThrows(IOException.class, () -> alice.connect("bob"), "a closed node cannot connect");
                assertThrows(IOException.class, () -> toBob.outputStream().write(1),
                        "a closed node's connections are closed");
            }
        }
    }

    /** One byte, however many read timeouts pass first (each wait ends early when data arrives). */
    private static int readRetryingTimeouts(InputStream in) throws IOException {
        long failsafeNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(FAILSAFE_SECONDS);
        while (true) {
            try {
                return in.read();
            } catch (SocketTimeoutException e) {
                if (System.nanoTime() > failsafeNs) {
                    throw e;
                }
            }
        }
    }

    private static String readExactly(InputStream in, int n) throws IOException {
        byte[] buffer = in.readNBytes(n);
        return new String(buffer, StandardCharsets.UTF_8);
    }

    static byte[] sha256(InputStream in) throws IOException, NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] chunk = new byte[64 * 1024];
        int n;
        while ((n = in.read(chunk)) >= 0) {
            sha.update(chunk, 0, n);
        }
        return sha.digest();
    }
}
