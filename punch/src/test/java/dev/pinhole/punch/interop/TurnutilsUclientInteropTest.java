package dev.pinhole.punch.interop;

import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Interop with coturn's reference client, {@code turnutils_uclient} (Debian package coturn), run
 * against the built-in relay on loopback in client-to-client mode ({@code -y}: two allocations that
 * send to each other through the relay). Skipped where the tool is not installed.
 */
class TurnutilsUclientInteropTest {
    private static final long TIMEOUT_S = 120;
    private static final Pattern LOST = Pattern.compile("Total lost packets (\\d+)");

    @Test
    void coturnClientRelaysThroughTheBuiltInRelayWithStaticCredentials() throws Exception {
        run(TurnAuthenticator.staticUser("alice", "a-secret"), List.of("-u", "alice", "-w", "a-secret"));
    }

    @Test
    void coturnClientAuthenticatesWithTurnRestApiCredentials() throws Exception {
        String secret = "pinhole-shared-secret-0123";
        RestCredentials rest = new RestCredentials(secret.getBytes(StandardCharsets.UTF_8),
            () -> System.currentTimeMillis() / 1000);
        // uclient derives "<now + 1 day>:alice" and its HMAC from the secret itself.
        run(rest, List.of("-u", "alice", "-W", secret));
    }

    private static void run(TurnAuthenticator authenticator, List<String> credentials) throws Exception {
        Path tool = Coturn.onPath("turnutils_uclient");
        Assumptions.assumeTrue(tool != null, "turnutils_uclient is not installed (Debian package coturn)");
        InetAddress loopback = InetAddress.getLoopbackAddress();
        UdpEventLoop loop = UdpEventLoop.builder().bind(new InetSocketAddress(loopback, 0)).threadName("relay")
            .daemon(true).build();
        TurnServer server = new TurnServer(loop, () -> loop.openSocket(new InetSocketAddress(loopback, 0)),
            authenticator, TurnServerConfig.builder().allowLoopbackPeers(true).build()).listen();
        loop.start();
        try (loop) {
            List<String> command = new java.util.ArrayList<>(List.of(tool.toString(), "-y", "-c", "-X", "-n", "20",
                "-l", "200", "-z", "5", "-p", Integer.toString(server.address().getPort())));
            command.addAll(credentials);
            command.add(loopback.getHostAddress());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output;
            try {
                assertTrue(process.waitFor(TIMEOUT_S, TimeUnit.SECONDS), "turnutils_uclient finished");
                output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                process.destroyForcibly();
            }
            Map<RelayCounter, Long> counters = loop.submit(server::counters).get(TIMEOUT_S, TimeUnit.SECONDS);
            Matcher lost = LOST.matcher(output);
            assertTrue(lost.find(), "uclient reports its losses; output:\n" + output + "\nserver: " + counters);
            assertEquals("0", lost.group(1), "packets uclient lost; output:\n" + output + "\nserver: " + counters);
            assertEquals(0, process.exitValue(), "uclient exit status; output:\n" + output);
            assertTrue(counters.get(RelayCounter.RELAYED_TO_PEERS) >= 20,
                "the server relayed uclient's messages: " + counters);
            assertTrue(counters.get(RelayCounter.ALLOCATIONS_CREATED) >= 2, "allocations: " + counters);
            assertEquals(0L, counters.get(RelayCounter.INTERNAL_ERRORS), "internal errors");
        }
    }
}
