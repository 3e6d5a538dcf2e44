package dev.pinhole.punch.interop;

import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.protocol.turn.TurnError;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * coturn's resource errors reach the user as typed {@link TurnException}s: a coturn with a per-user
 * quota of one allocation and a single relay port answers a second allocation by the same user
 * with 486 Allocation Quota Reached, and one by another user with 508 Insufficient Capacity.
 */
class TurnCoturnQuotaInteropTest {
    private static final String BOB = "bob";
    private static final String BOB_PASSWORD = "hunter2";
    private static CoturnTurnServer coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = CoturnTurnServer.start(1, "--user=" + BOB + ":" + BOB_PASSWORD, "--user-quota=1");
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    @Test
    void quotaAndCapacityErrorsAreTyped() throws Exception {
        try (RealNode first = RealNode.start("turn-quota-1"); RealNode second = RealNode.start("turn-quota-2");
             RealNode third = RealNode.start("turn-quota-3")) {
            TurnAllocation held = first.allocate(coturn.config());
            assertEquals(coturn.minRelayPort(), held.relayedAddress().getPort(), "the only relay port");

            TurnException quota = second.failure(() -> second.turn().allocate(coturn.config()).allocated());
            TurnException capacity = third.failure(() -> third.turn().allocate(
                coturn.config().withCredentials(new TurnCredentials(BOB, BOB_PASSWORD))).allocated());

            assertEquals(TurnError.ALLOCATION_QUOTA_REACHED, quota.error(), quota.getMessage());
            assertEquals(486, quota.code(), "code");
            assertTrue(quota.getMessage().contains("quota"), quota.getMessage());
            assertEquals(TurnError.INSUFFICIENT_CAPACITY, capacity.error(), capacity.getMessage());
            assertEquals(508, capacity.code(), "code");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\ncoturn said:\n" + coturn.logTail(), e);
        }
    }
}
