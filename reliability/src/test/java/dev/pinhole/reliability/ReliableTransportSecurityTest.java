package dev.pinhole.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport's security over real UDP on loopback, tried as an attacker on the path would: a tap between
 * client and server that records every datagram (and can replay, damage and forge them), identities, pinned
 * ids.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ReliableTransportSecurityTest {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private static final byte[] MARKER = "holiday-photos/secret-plan.txt: the launch code is 0451"
            .getBytes(StandardCharsets.US_ASCII);

    private final Identity serverIdentity = Identity.generate(new SecureRandom());
    private final Identity clientIdentity = Identity.generate(new SecureRandom());
    private ReliableTransport server;
    private ReliableTransport client;
    private Tap tap;

    @AfterEach
    void close() throws IOException {
        if (tap != null) {
            tap.close();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void open(TransportConfig config) throws IOException {
        server = ReliableTransport.bind(ANY_LOOPBACK, config, serverIdentity);
        client = ReliableTransport.bind(ANY_LOOPBACK, config, clientIdentity);
        server.listen();
    }

    private CompletableFuture<ReliableConnection> acceptAsync() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept(Duration.ofSeconds(60));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(90, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    @Test
    void bothSidesLearnTheAuthenticatedIdOfTheOther() throws Exception {
        open(TransportConfig.DEFAULT);
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        try (ReliableConnection c = client.connect(server.localAddress())) {
            ReliableConnection s = get(accepted);
            assertEquals(serverIdentity.id(), c.peerId(), "the client reached the server's key (Noise XX)");
            assertEquals(clientIdentity.id(), s.peerId(), "the server learned the client's key");
            assertArrayEquals(serverIdentity.x25519PublicKey(), c.peerKey());
            assertEquals(serverIdentity.id(), server.identity().id());
            s.close();
        }
    }

    @Test
    void aPinnedIdConnectsOnlyToThatKey() throws Exception {
        open(TransportConfig.builder().handshakeTimeout(Duration.ofSeconds(2)).build());
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        try (ReliableConnection c = client.connect(server.localAddress(), serverIdentity.id())) {
            assertEquals(serverIdentity.id(), c.peerId(), "Noise IK towards the pinned key");
            get(accepted).close();
        }
        String someoneElse = Identity.generate(new SecureRandom()).id();
        HandshakeFailedException e = assertThrows(HandshakeFailedException.class,
                () -> client.connect(server.localAddress(), someoneElse));
        assertTrue(e.getMessage().contains("no handshake reply"), "a server without the pinned key cannot answer"
                + " in a way the client accepts: " + e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> client.connect(server.localAddress(), "not-an-id"));
    }

    @Test
    void aCaptureShowsNeitherTheContentsNorTheNames() throws Exception {
        open(TransportConfig.DEFAULT);
        tap = new Tap(server.localAddress(), 0, 0);
        byte[] payload = repeatedMarker(256 * 1024);
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        try (ReliableConnection c = client.connect(tap.address())) {
            c.outputStream().write(payload);
            c.shutdownOutput();
            ReliableConnection s = get(accepted);
            assertArrayEquals(payload, s.inputStream().readAllBytes(), "the transfer itself worked");
            s.close();
        }
        assertTrue(tap.bytesSeen() > payload.length, "the capture saw the whole transfer: " + tap.bytesSeen());
        byte[] fragment = Arrays.copyOf(MARKER, 12);
        for (byte[] datagram : tap.captured) {
            assertEquals(-1, indexOf(datagram, fragment), "no 12 plaintext bytes in any datagram");
        }
    }

    @Test
    void replayedDamagedAndForgedDatagramsChangeNothing() throws Exception {
        open(TransportConfig.DEFAULT);
        // Every tenth datagram in each direction is attacked once: replayed from the genuine address, replayed
        // from a third address, bit-flipped or truncated, or replaced by random bytes behind its header.
        tap = new Tap(server.localAddress(), 10, 42);
        byte[] payload = repeatedMarker(4 * 1024 * 1024);
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        ConnectionStats serverStats;
        ConnectionStats clientStats;
        try (ReliableConnection c = client.connect(tap.address())) {
            ReliableConnection s = get(accepted);
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.inputStream().readAllBytes();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            c.outputStream().write(payload);
            c.shutdownOutput();
            assertArrayEquals(payload, get(read), "every byte arrived once, in order, unchanged");
            serverStats = s.stats();
            clientStats = c.stats();
            assertNotEquals(tap.thirdParty(), serverStats.path(), "the connection never moved to the attacker");
            s.close();
        }
        long attacked = tap.attacked.get();
        long rejected = serverStats.packetsUnauthenticated() + serverStats.packetsDuplicated()
                + clientStats.packetsUnauthenticated() + clientStats.packetsDuplicated();
        assertTrue(attacked > 100, "the tap attacked: " + attacked);
        assertTrue(rejected > attacked / 2, "the connections counted the attacks as dropped: " + rejected
                + " of " + attacked + " (the rest reached the handshake path or arrived after the end)");
    }

    private static byte[] repeatedMarker(int size) {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = MARKER[i % MARKER.length];
        }
        return payload;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * A UDP relay on loopback between one client and the server: it records every datagram it forwards and,
     * every {@code attackEvery}-th one, also sends an attacked copy (seeded).
     */
    private static final class Tap implements AutoCloseable {
        final List<byte[]> captured = new CopyOnWriteArrayList<>();
        final AtomicLong attacked = new AtomicLong();
        private final DatagramSocket socket;
        private final DatagramSocket attacker;
        private final InetSocketAddress server;
        private final int attackEvery;
        private final SplittableRandom random;
        private final Thread thread;
        private final AtomicLong seen = new AtomicLong();
        private volatile InetSocketAddress client;
        private long forwarded;

        Tap(InetSocketAddress server, int attackEvery, long seed) throws SocketException {
            this.server = server;
            this.attackEvery = attackEvery;
            this.random = new SplittableRandom(seed);
            this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            this.attacker = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            this.thread = new Thread(this::run, "tap");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        InetSocketAddress thirdParty() {
            return (InetSocketAddress) attacker.getLocalSocketAddress();
        }

        long bytesSeen() {
            return seen.get();
        }

        private void run() {
            byte[] buffer = new byte[65_536];
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                while (true) {
                    packet.setData(buffer);
                    socket.receive(packet);
                    byte[] datagram = Arrays.copyOf(buffer, packet.getLength());
                    InetSocketAddress from = (InetSocketAddress) packet.getSocketAddress();
                    InetSocketAddress to;
                    if (from.equals(server)) {
                        to = client;
                    } else {
                        client = from;
                        to = server;
                    }
                    if (to == null) {
                        continue;
                    }
                    captured.add(datagram);
                    seen.addAndGet(datagram.length);
                    socket.send(new DatagramPacket(datagram, datagram.length, to));
                    if (attackEvery > 0 && ++forwarded % attackEvery == 0) {
                        attack(datagram, to);
                    }
                }
            } catch (IOException closed) {
                // close() ends the loop.
            }
        }

        private void attack(byte[] genuine, InetSocketAddress to) throws IOException {
            byte[] copy = genuine.clone();
            DatagramSocket from = socket;
            switch (random.nextInt(5)) {
                case 0 -> { }
                case 1 -> from = attacker;
                case 2 -> {
                    int bit = random.nextInt(copy.length * 8);
                    copy[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                case 3 -> copy = Arrays.copyOf(copy, random.nextInt(copy.length));
                default -> {
                    byte[] forged = new byte[Math.max(13, copy.length)];
                    random.nextBytes(forged);
                    System.arraycopy(copy, 0, forged, 0, Math.min(13, copy.length));
                    copy = forged;
                }
            }
            attacked.incrementAndGet();
            from.send(new DatagramPacket(copy, copy.length, to));
        }

        @Override
        public void close() {
            socket.close();
            attacker.close();
        }
    }
}
