package dev.pinhole.punch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.server.rendezvous.RendezvousServer;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's example, verbatim apart from the server address: alice connects to bob by name, says hello
 * and reads bob's answer; bob accepts and answers. Run against a real rendezvous server on loopback.
 */
class PinholeNodeReadmeExampleTest {
    private static final long FAILSAFE_SECONDS = 60;

    /** The README example, alice's side. */
    static String alice(InetSocketAddress rendezvous) throws IOException {
        try (PinholeNode node = PinholeNode.builder()
                .name("alice")
                .rendezvous(rendezvous)
                .build();
             PeerConnection bob = node.connect("bob")) {
            bob.outputStream().write("hello, bob".getBytes(UTF_8));
            bob.shutdownOutput();
            String reply = new String(bob.inputStream().readAllBytes(), UTF_8);
            System.out.println(bob.path() + " in " + bob.connectMillis() + " ms: " + reply);
            return reply;
        }
    }

    /** The README example, bob's side. */
    static void bob(InetSocketAddress rendezvous) throws IOException {
        try (PinholeNode node = PinholeNode.builder().name("bob").rendezvous(rendezvous).build();
             PeerConnection alice = node.accept()) {
            String hello = new String(alice.inputStream().readAllBytes(), UTF_8);
            alice.outputStream().write(("hi alice, you said: " + hello).getBytes(UTF_8));
            alice.shutdownOutput();
        }
    }

    @Test
    void theReadmeExampleConnectsAliceToBobAndBothMessagesArrive() throws Exception {
        ExecutorService threads = Executors.newSingleThreadExecutor();
        try (UdpEventLoop serverLoop = UdpEventLoop.builder()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).threadName("rendezvous").build()) {
            RendezvousServer server = RendezvousServer.listen(serverLoop, RendezvousServerConfig.builder().build());
            serverLoop.start();
            InetSocketAddress rendezvous = serverLoop.localAddress();

            Future<?> bobDone = threads.submit(() -> {
                bob(rendezvous);
                return null;
            });
            // Alice may ask before bob registered: connect() waits for him (connect timeout 30 s).
            assertEquals("hi alice, you said: hello, bob", alice(rendezvous), "bob's answer, read by alice");
            bobDone.get(FAILSAFE_SECONDS, TimeUnit.SECONDS);

            serverLoop.submit(() -> {
                server.close();
                return null;
            }).get(FAILSAFE_SECONDS, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
    }
}
