package dev.pinhole.punch.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.server.relay.RestCredentials;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What coturn ({@code --use-auth-secret}) does with TURN REST credentials whose expiry passes while their
 * allocation lives, the behaviour the built-in relay copies (docs/security.md, "The relay"): a new Allocate
 * with them is refused (401, which Pinhole's client reports without retrying), while the live allocation
 * keeps refreshing and installing permissions with the key it was made with. Rendezvous usernames have the
 * form {@code <expiry>:<node>.<introduction>.<role>}; coturn reads only the expiry.
 */
class TurnCoturnRestExpiryInteropTest {
    private static final String SECRET = "coturn's own REST secret, not the rendezvous one";
    /** The credentials' lifetime here: short, so that the test sees it pass. */
    private static final long LIFETIME_S = 2;
    private static CoturnTurnServer coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = CoturnTurnServer.start(4, "--use-auth-secret", "--static-auth-secret=" + SECRET);
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    @Test
    void aLiveAllocationRefreshesPastItsCredentialsExpiryWhileANewAllocateIsRefused() throws Exception {
        long expiry = System.currentTimeMillis() / 1000 + LIFETIME_S;
        TurnCredentials credentials = new RestCredentials(SECRET.getBytes(StandardCharsets.UTF_8),
            () -> System.currentTimeMillis() / 1000).issue("alice.00000000000000ab.0", expiry);
        TurnConfig config = TurnConfig.of(coturn.address(), credentials.username(), credentials.password());
        try (RealNode node = RealNode.start("rest-expiry"); RealNode late = RealNode.start("rest-expiry-late");
             RealNode peer = RealNode.plain("rest-expiry-peer")) {
            TurnAllocation allocation = node.allocate(config);
            // Past the expiry (a second's margin for the clock's rounding): wait on the loop's timers, not a sleep.
            long waitNs = Duration.ofSeconds(LIFETIME_S + 2).toNanos();
            Duration granted = node.call(() -> {
                CompletableFuture<Duration> refreshed = new CompletableFuture<>();
                node.loop.timers().schedule(node.loop.clock().nanoTime() + waitNs,
                    (nowNs, id) -> allocation.refresh().whenComplete((d, f) -> {
                        if (f != null) {
                            refreshed.completeExceptionally(f);
                        } else {
                            refreshed.complete(d);
                        }
                    }));
                return refreshed;
            });
            assertTrue(System.currentTimeMillis() / 1000 > expiry, "the credentials have expired");
            assertTrue(granted.toSeconds() > 0, "coturn refreshed the live allocation past the expiry: " + granted);
            node.call(() -> allocation.createPermission(peer.address()));

            TurnException refused = late.failure(() -> late.turn().allocate(config).allocated());
            assertEquals(401, refused.code(), "a new Allocate with the expired credentials: " + refused.getMessage());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ncoturn said:\n" + coturn.logTail(), e);
        }
    }
}
