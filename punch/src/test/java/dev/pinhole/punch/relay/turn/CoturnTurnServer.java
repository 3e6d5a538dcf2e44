package dev.pinhole.punch.relay.turn;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pinhole.punch.stun.StunMessageType;
import dev.pinhole.punch.stun.StunParseResult;
import dev.pinhole.punch.stun.StunReader;
import dev.pinhole.punch.stun.StunWriter;
import dev.pinhole.punch.stun.TransactionId;
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
 * A coturn {@code turnserver} as a TURN server on 127.0.0.1 for interop tests, started and stopped
 * by the test class itself (the command line of the lab notes, with long-term credentials,
 * FINGERPRINT, loopback peers allowed, and no TCP, TLS, DTLS or CLI).
 *
 * <p><b>Ports.</b> The listening port is drawn from 10000–19999 and the relay ports are a block of
 * {@code relayPorts} drawn from 61000–65499: above Linux's ephemeral range (32768–60999), so the
 * test's own sockets never take a relay port, and random, so concurrent test classes and runs rarely
 * meet; every port is checked free before coturn starts, and a start that fails anyway is retried on
 * other ports. coturn's state files live in a private temporary directory.
 *
 * <p><b>Readiness</b> is established by protocol: coturn is ready when it answers a STUN Binding
 * request, polled a bounded number of times. {@link #close()} stops coturn and its children.
 */
final class CoturnTurnServer implements AutoCloseable {
    static final String HOW_TO_ENABLE =
        "coturn is not installed (no turnserver on the PATH): install it with 'apt-get install -y coturn', "
            + "as the CI script does, to run the TURN interop tests";
    static final String USER = "alice";
    static final String PASSWORD = "secret";
    static final String REALM = "pinhole.test";

    private static final int READY_ATTEMPTS = 200;
    private static final int READY_POLL_MS = 100;
    private static final int START_ATTEMPTS = 3;
    private static final int LOG_LINES_KEPT = 300;

    private final Process process;
    private final Path workDir;
    private final int port;
    private final int minRelayPort;
    private final int maxRelayPort;
    private final Deque<String> log = new ArrayDeque<>();

    private CoturnTurnServer(Process process, Path workDir, int port, int minRelayPort, int maxRelayPort) {
        this.process = process;
        this.workDir = workDir;
        this.port = port;
        this.minRelayPort = minRelayPort;
        this.maxRelayPort = maxRelayPort;
        Thread drain = new Thread(this::drainOutput, "coturn-output-" + port);
        drain.setDaemon(true);
        drain.start();
    }

    /**
     * Starts coturn with {@code relayPorts} relay ports and the {@code extraOptions} (e.g.
     * {@code --user-quota=1}), skipping the calling test (JUnit assumption) when coturn is not installed.
     */
    static CoturnTurnServer start(int relayPorts, String... extraOptions) throws Exception {
        Path turnserver = onPath("turnserver");
        assumeTrue(turnserver != null, HOW_TO_ENABLE);
        SecureRandom random = new SecureRandom();
        List<String> failures = new ArrayList<>();
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int port = freePort(random, 10_000, 10_000, 1);
            int minRelay = freePort(random, 61_000, 4_500 - relayPorts, relayPorts);
            int maxRelay = minRelay + relayPorts - 1;
            Path workDir = Files.createTempDirectory("pinhole-turn-");
            List<String> command = new ArrayList<>(List.of(turnserver.toString(), "-n",
                "--listening-ip=127.0.0.1", "--listening-port=" + port, "--relay-ip=127.0.0.1",
                "--min-port=" + minRelay, "--max-port=" + maxRelay,
                "--lt-cred-mech", "--user=" + USER + ":" + PASSWORD, "--realm=" + REALM, "--fingerprint",
                "--no-tcp", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
                "--log-file=stdout", "--simple-log",
                "--pidfile=" + workDir.resolve("turnserver.pid"), "--userdb=" + workDir.resolve("turndb")));
            command.addAll(List.of(extraOptions));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            CoturnTurnServer server = new CoturnTurnServer(process, workDir, port, minRelay, maxRelay);
            if (server.awaitReady()) {
                return server;
            }
            failures.add("port " + port + ", relay " + minRelay + "-" + maxRelay + ": " + server.logTail());
            server.close();
        }
        throw new IllegalStateException("coturn did not answer STUN in " + START_ATTEMPTS + " starts: " + failures);
    }

    /** Where clients send: 127.0.0.1 on the listening port. */
    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    int minRelayPort() {
        return minRelayPort;
    }

    int maxRelayPort() {
        return maxRelayPort;
    }

    TurnConfig config() {
        return TurnConfig.of(address(), USER, PASSWORD);
    }

    /** The last lines coturn printed, for failure messages. */
    synchronized String logTail() {
        return String.join("\n", log);
    }

    static Path onPath(String name) {
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

    /** Polls with STUN Binding requests until coturn answers, exits, or the attempts run out. */
    private boolean awaitReady() throws IOException {
        StunWriter writer = new StunWriter();
        StunReader reader = new StunReader();
        SecureRandom random = new SecureRandom();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            // The receive timeout paces the polling: each attempt sends one request and waits for its answer.
            socket.setSoTimeout(READY_POLL_MS);
            byte[] receive = new byte[1500];
            for (int attempt = 0; attempt < READY_ATTEMPTS && process.isAlive(); attempt++) {
                TransactionId id = TransactionId.random(random);
                ByteBuf request = Unpooled.buffer();
                writer.begin(request, StunMessageType.BINDING_REQUEST, id).addFingerprint().finish();
                byte[] bytes = new byte[request.readableBytes()];
                request.readBytes(bytes);
                socket.send(new DatagramPacket(bytes, bytes.length, address()));
                try {
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
        }
        return false;
    }

    /** The first of {@code count} consecutive UDP ports, all free on 127.0.0.1, drawn from [base, base + span). */
    private static int freePort(SecureRandom random, int base, int span, int count) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int first = base + random.nextInt(span);
            boolean free = true;
            for (int p = first; p < first + count && free; p++) {
                free = udpFree(p);
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no " + count + " free UDP ports found from " + base);
    }

    private static boolean udpFree(int port) {
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return udp.getLocalPort() == port;
        } catch (IOException taken) {
            return false;
        }
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
