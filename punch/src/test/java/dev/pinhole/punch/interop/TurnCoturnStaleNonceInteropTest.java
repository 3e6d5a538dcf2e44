package dev.pinhole.punch.interop;

import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.punch.relay.TurnAllocation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A coturn whose nonces live one second ({@code --stale-nonce=1}) answers requests made later with
 * 438 Stale Nonce and a new nonce; the client repeats them with it and they succeed.
 */
class TurnCoturnStaleNonceInteropTest {
    /** Comfortably past the one-second nonce lifetime: the requests after it meet a stale nonce. */
    private static final long AFTER_NONCE_EXPIRY_NS = Duration.ofMillis(2500).toNanos();
    private static CoturnTurnServer coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = CoturnTurnServer.start(4, "--stale-nonce=1");
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    @Test
    void requestsWithAnExpiredNonceAreRepeatedWithTheNewOne() throws Exception {
        try (RealNode node = RealNode.start("turn-stale"); RealNode peer = RealNode.plain("turn-stale-peer")) {
            TurnAllocation allocation = node.allocate(coturn.config());
            long retriesBefore = node.run(() -> allocation.stats().staleNonceRetries());

            // Let the nonce expire (a timer on the node's loop, not a sleep), then refresh and bind a channel.
            Duration granted = node.call(() -> {
                CompletableFuture<Duration> refreshed = new CompletableFuture<>();
                node.loop.timers().schedule(node.loop.clock().nanoTime() + AFTER_NONCE_EXPIRY_NS,
                    (nowNs, id) -> allocation.refresh().whenComplete((d, f) -> {
                        if (f != null) {
                            refreshed.completeExceptionally(f);
                        } else {
                            refreshed.complete(d);
                        }
                    }));
                return refreshed;
            });
            long retriesAfterRefresh = node.run(() -> allocation.stats().staleNonceRetries());

            assertTrue(granted.toSeconds() > 0, "refreshed: " + granted);
            assertEquals(retriesBefore + 1, retriesAfterRefresh, "the Refresh met one 438 and was repeated");
            assertEquals(ChannelData.MIN_CHANNEL, (int) node.call(() -> allocation.bindChannel(peer.address())),
                "later requests use the new nonce");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ncoturn said:\n" + coturn.logTail(), e);
        }
    }
}
