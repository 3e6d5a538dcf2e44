package dev.pinhole.punch.interop;

import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A coturn {@code turnserver} on loopback for interop tests, started and stopped by the test
 * itself (the command line and why each option is there: docs/lab.md, "coturn on loopback"). Listening
 * on 127.0.0.1 and 127.0.0.2 switches on RFC 5780:
 * OTHER-ADDRESS is 127.0.0.2 on the alternate port. Ports are picked free on both addresses, for
 * UDP and TCP, and coturn's state files live in a private temporary directory, so concurrent test
 * runs do not clash. Readiness is established by protocol: the server is ready when it answers a
 * STUN Binding request. One fixture serves the STUN/RFC 5780 tests and the TURN tests
 * ({@link #start(int, String...)} picks the relay port block and adds options such as quotas).
 */
public final class Coturn implements AutoCloseable {
    /** Printed when coturn is missing: how to enable the tests that need it. */
    public static final String HOW_TO_ENABLE =
        "coturn is not installed (no turnserver on the PATH): install it with 'apt-get install -y coturn', "
            + "as the CI script does, to run the coturn interop tests";
    public static final String USER = "alice";
    public static final String PASSWORD = "secret";
    public static final String REALM = "pinhole.test";

    /** coturn answers within a second of starting; an attempt that takes longer has lost its port and is retried. */
    private static final long READY_TIMEOUT_MS = 8_000;
    /** Ports for coturn come from below Linux's ephemeral range (32768 and up), where other sockets appear unasked. */
    private static final int FIRST_PORT = 12_000;
    private static final int PORT_PAIRS = 10_000;
    /** Relay ports come from above Linux's ephemeral range (32768–60999), so test sockets never take one. */
    private static final int FIRST_RELAY_PORT = 61_000;
    private static final int RELAY_PORT_SPAN = 4_500;
    private static final int DEFAULT_RELAY_PORTS = 40;
    private static final int LOG_LINES_KEPT = 200;

    private final Process process;
    private final Path workDir;
    private final int port;
    private final int minRelayPort;
    private final int maxRelayPort;
    private final Deque<String> log = new ArrayDeque<>();

    private Coturn(Process process, Path workDir, int port, int minRelayPort, int maxRelayPort) {
        this.process = process;
        this.workDir = workDir;
        this.port = port;
        this.minRelayPort = minRelayPort;
        this.maxRelayPort = maxRelayPort;
        Thread drain = new Thread(this::drainOutput, "coturn-output-" + port);
        drain.setDaemon(true);
        drain.start();
    }

    /** Starts coturn, skipping the calling test (JUnit assumption) when it is not installed. */
    public static Coturn start() throws Exception {
        return start(DEFAULT_RELAY_PORTS);
    }

    /**
     * Starts coturn with a block of {@code relayPorts} relay ports and the {@code extraOptions} (for example
     * {@code --user-quota=1} or {@code --stale-nonce=1}), skipping the calling test when it is not installed.
     */
    public static Coturn start(int relayPorts, String... extraOptions) throws Exception {
        Path turnserver = onPath("turnserver");
        assumeTrue(turnserver != null, HOW_TO_ENABLE);
        SecureRandom random = new SecureRandom();
        List<String> failures = new ArrayList<>();
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePortPair(random);
            int minRelay = freeRelayPorts(random, relayPorts);
            int maxRelay = minRelay + relayPorts - 1;
            Path workDir = Files.createTempDirectory("pinhole-coturn-");
            List<String> command = new ArrayList<>(List.of(turnserver.toString(), "-n",
                "--listening-ip=127.0.0.1", "--listening-ip=127.0.0.2",
                "--listening-port=" + port, "--alt-listening-port=" + (port + 1),
                "--relay-ip=127.0.0.1", "--min-port=" + minRelay, "--max-port=" + maxRelay,
                "--lt-cred-mech", "--user=" + USER + ":" + PASSWORD, "--realm=" + REALM, "--fingerprint",
                "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
                "--log-file=stdout", "--simple-log",
                "--pidfile=" + workDir.resolve("turnserver.pid"), "--userdb=" + workDir.resolve("turndb")));
            command.addAll(List.of(extraOptions));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Coturn coturn = new Coturn(process, workDir, port, minRelay, maxRelay);
            if (coturn.awaitReady()) {
                return coturn;
            }
            String failure = "port " + port + (process.isAlive() ? " (still running)" : " (exited " + process.exitValue()
                + ")") + ": " + coturn.logTail();
            System.err.println("coturn attempt " + (attempt + 1) + " not ready: " + failure);
            failures.add(failure);
            coturn.close();
        }
        throw new IllegalStateException("coturn did not become ready in 3 attempts: " + failures);
    }

    /** The primary address clients send to: 127.0.0.1 on the listening port. */
    public InetSocketAddress primary() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** The RFC 5780 alternate address: 127.0.0.2 on the alternate port. */
    public InetSocketAddress other() {
        return new InetSocketAddress(loopback2(), port + 1);
    }

    public int port() {
        return port;
    }

    public int minRelayPort() {
        return minRelayPort;
    }

    public int maxRelayPort() {
        return maxRelayPort;
    }

    /** The last lines coturn printed, for failure messages. */
    public synchronized String logTail() {
        return String.join("\n", log);
    }

    /** Where an executable is on the PATH, or null. */
    public static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    public static InetAddress loopback2() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 2});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls with STUN Binding requests until coturn answers, it exits, or the timeout passes. */
    private boolean awaitReady() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MS);
        StunWriter writer = new StunWriter();
        StunReader reader = new StunReader();
        byte[] receive = new byte[1500];
        SecureRandom random = new SecureRandom();
        while (System.nanoTime() < deadline && process.isAlive()) {
            // A fresh source port each turn: polling from one socket, an attempt occasionally went
            // unanswered for its whole wait although coturn was up (2 of about 25 runs); with a new
            // port per request no state coturn keeps about an early request can affect the next.
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                // The receive timeout paces the polling; each turn sends one request and waits for its answer.
                socket.setSoTimeout(100);
                TransactionId id = TransactionId.random(random);
                ByteBuf request = Unpooled.buffer();
                writer.begin(request, StunMessageType.BINDING_REQUEST, id).addFingerprint().finish();
                byte[] bytes = new byte[request.readableBytes()];
                request.readBytes(bytes);
                socket.send(new DatagramPacket(bytes, bytes.length, primary()));
                DatagramPacket packet = new DatagramPacket(receive, receive.length);
                socket.receive(packet);
                ByteBuf response = Unpooled.wrappedBuffer(receive, 0, packet.getLength());
                if (reader.wrap(response) == StunParseResult.OK && reader.hasTransactionId(id)
                    && reader.messageType() == StunMessageType.BINDING_SUCCESS_RESPONSE) {
                    return true;
                }
            } catch (SocketTimeoutException notYet) {
                // not listening yet: ask again
            }
        }
        return false;
    }

    /** A port P such that P and P + 1 are free for UDP and TCP on 127.0.0.1 and 127.0.0.2. */
    private static int freePortPair(SecureRandom random) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = FIRST_PORT + 2 * random.nextInt(PORT_PAIRS);
            if (free(port) && free(port + 1)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port pair found for coturn");
    }

    /** The first of {@code count} consecutive relay ports, all free, drawn from the block above the ephemeral range. */
    private static int freeRelayPorts(SecureRandom random, int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int first = FIRST_RELAY_PORT + random.nextInt(RELAY_PORT_SPAN - count);
            boolean free = true;
            for (int p = first; p < first + count && free; p++) {
                free = free(p);
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no " + count + " free relay ports found for coturn");
    }

    private static boolean free(int port) {
        for (InetAddress ip : new InetAddress[] {InetAddress.getLoopbackAddress(), loopback2()}) {
            try (DatagramSocket udp = new DatagramSocket(null);
                 ServerSocket tcp = new ServerSocket()) {
                udp.bind(new InetSocketAddress(ip, port));
                tcp.bind(new InetSocketAddress(ip, port));
            } catch (IOException taken) {
                return false;
            }
        }
        return true;
    }

    private void drainOutput() {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
            StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                synchronized (this) {
                    log.addLast(line);
                    if (log.size() > LOG_LINES_KEPT) {
                        log.removeFirst();
                    }
                }
            }
        } catch (IOException closed) {
            // the process ended
        }
    }

    /** Stops coturn and everything it started, then deletes its state files. */
    @Override
    public void close() throws IOException {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(workDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
