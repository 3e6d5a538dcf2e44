package dev.pinhole.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.core.net.UdpEventLoop;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The blocking API over real UDP sockets on loopback, two transports in one JVM. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReliableTransportLoopbackTest {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private ReliableTransport server;
    private ReliableTransport client;

    @BeforeEach
    void open() throws IOException {
        server = ReliableTransport.bind(ANY_LOOPBACK, TransportConfig.DEFAULT);
        client = ReliableTransport.bind(ANY_LOOPBACK, TransportConfig.DEFAULT);
        server.listen();
    }

    @AfterEach
    void closeTransports() throws IOException {
        client.close();
        server.close();
    }

    private CompletableFuture<ReliableConnection> acceptAsync() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return server.accept(Duration.ofSeconds(30));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    @Test
    void exchangesMessagesBothWaysAndEndsWithEndOfStream() throws Exception {
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        try (ReliableConnection c = client.connect(server.localAddress())) {
            ReliableConnection s = get(accepted);
            c.outputStream().write("ping".getBytes(StandardCharsets.UTF_8));
            c.shutdownOutput();
            assertArrayEquals("ping".getBytes(StandardCharsets.UTF_8), s.inputStream().readAllBytes(),
                    "server reads the request, then end of stream");
            s.outputStream().write("pong".getBytes(StandardCharsets.UTF_8));
            s.outputStream().close();
            assertArrayEquals("pong".getBytes(StandardCharsets.UTF_8), c.inputStream().readAllBytes(),
                    "client reads the reply, then end of stream");
            s.close();
        }
    }

    @Test
    void abortResetsThePeersReadsWithTheCode() throws Exception {
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        ReliableConnection c = client.connect(server.localAddress());
        ReliableConnection s = get(accepted);
        c.abort(42);
        ConnectionResetException e = assertThrows(ConnectionResetException.class, () -> s.inputStream().read(),
                "the peer's read fails after an abort");
        assertEquals(42, e.code(), "the abort code travels to the peer");
        assertTrue(e.byPeer(), "the peer reset it: " + e.getMessage());
        ConnectionResetException local = assertThrows(ConnectionResetException.class,
                () -> c.outputStream().write(1), "local writes fail after abort too");
        assertEquals(42, local.code(), "local failure names the code");
        s.close();
        c.close();
    }

    @Test
    void connectToSilentPortFailsWithHandshakeFailed() throws Exception {
        TransportConfig quick = TransportConfig.builder().handshakeTimeout(Duration.ofMillis(600)).build();
        try (ReliableTransport other = ReliableTransport.bind(ANY_LOOPBACK, quick);
             ReliableTransport silent = ReliableTransport.bind(ANY_LOOPBACK, quick)) {
            HandshakeFailedException e = assertThrows(HandshakeFailedException.class,
                    () -> other.connect(silent.localAddress()), "nobody accepts on that transport");
            assertTrue(e.getMessage().contains("no handshake reply from"), "message says why: " + e.getMessage());
        }
    }

    @Test
    void readTimesOutWhenConfigured() throws Exception {
        TransportConfig config = TransportConfig.builder().readTimeout(Duration.ofMillis(200)).build();
        try (ReliableTransport impatient = ReliableTransport.bind(ANY_LOOPBACK, config)) {
            CompletableFuture<ReliableConnection> accepted = acceptAsync();
            try (ReliableConnection c = impatient.connect(server.localAddress())) {
                ReliableConnection s = get(accepted);
                assertThrows(SocketTimeoutException.class, () -> c.inputStream().read(), "nothing sent: read times out");
                s.close();
            }
        }
    }

    @Test
    void transfers256MiBWithMatchingDigest() throws Exception {
        long total = 256L << 20;
        CompletableFuture<ReliableConnection> accepted = acceptAsync();
        ReliableConnection c = client.connect(server.localAddress());
        ReliableConnection s = get(accepted);

        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = s.inputStream()) {
                MessageDigest digest = sha256();
                byte[] buffer = new byte[64 * 1024];
                long count = 0;
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    digest.update(buffer, 0, n);
                    count += n;
                }
                assertEquals(total, count, "server read every byte");
                return digest.digest();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });

        MessageDigest sent = sha256();
        byte[] block = new byte[64 * 1024];
        SplittableRandom random = new SplittableRandom(99);
        long startNs = System.nanoTime();
        try (OutputStream out = c.outputStream()) {
            for (long written = 0; written < total; written += block.length) {
                random.nextBytes(block);
                sent.update(block);
                out.write(block);
            }
        }
        byte[] digest = get(received);
        long elapsedNs = System.nanoTime() - startNs;
        assertArrayEquals(sent.digest(), digest, "SHA-256 of the bytes read equals that of the bytes written");
        ConnectionStats stats = c.stats();
        c.close();
        s.close();
        System.out.printf(Locale.ROOT, "[pinhole] loopback: %d MiB in %.2f s = %.1f MB/s (%.2f Gbit/s), %s%n",
                total >> 20, elapsedNs / 1e9, total / (elapsedNs / 1e9) / 1e6, total * 8 / (elapsedNs / 1e9) / 1e9,
                stats);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }


    @Test
    void sharesASocketThroughTheDemultiplexer() throws Exception {
        DatagramDemultiplexer demux = new DatagramDemultiplexer();
        try (UdpEventLoop loop = UdpEventLoop.builder().bind(ANY_LOOPBACK).build()) {
            loop.receiver(demux);
            loop.start();
            try (ReliableTransport shared = ReliableTransport.on(loop, loop::execute, TransportConfig.DEFAULT)) {
                loop.submit(() -> {
                    demux.route(PacketKind.TRANSPORT, shared.datagramReceiver());
                    return null;
                }).get(10, TimeUnit.SECONDS);
                shared.listen();
                CompletableFuture<ReliableConnection> accepted = CompletableFuture.supplyAsync(() -> {
                    try {
                        return shared.accept(Duration.ofSeconds(30));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                try (ReliableConnection c = client.connect(loop.localAddress())) {
                    ReliableConnection s = get(accepted);
                    c.outputStream().write("through the demux".getBytes(StandardCharsets.UTF_8));
                    c.shutdownOutput();
                    assertArrayEquals("through the demux".getBytes(StandardCharsets.UTF_8),
                            s.inputStream().readAllBytes(), "bytes arrive through the shared socket");
                    s.close();
                }
                assertTrue(demux.count(PacketKind.TRANSPORT) > 0, "the demultiplexer routed transport packets");
            }
        }
    }
}
