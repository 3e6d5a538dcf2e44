package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServerConfig;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PunchSim.TurnNode;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.protocol.turn.TurnError;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** TURN REST API credentials (draft-uberti-behave-turn-rest-00 §2.2), as coturn's --use-auth-secret reads them. */
class RestCredentialsTest {
    private static final byte[] SECRET = "pinhole-shared-secret-0123".getBytes(StandardCharsets.US_ASCII);
    private static final long NOW = 1_699_999_000L;

    @Test
    void passwordIsBase64OfHmacSha1OfTheUsername() {
        // Vector computed independently: printf '1700000000:alice' | openssl dgst -sha1 -hmac <secret> -binary | base64
        RestCredentials credentials = new RestCredentials(SECRET, () -> NOW);
        assertEquals("ClWRkl1xPQDkPgZxiaW1DXwylr0=", credentials.password("1700000000:alice"), "password");
        TurnCredentials issued = credentials.issue("alice", 1_700_000_000L);
        assertEquals("1700000000:alice", issued.username(), "username is expiry:name");
        assertEquals("ClWRkl1xPQDkPgZxiaW1DXwylr0=", issued.password(), "issued password");
    }

    @Test
    void expiredMalformedOrForeignUsernamesHaveNoPassword() {
        RestCredentials credentials = new RestCredentials(SECRET, () -> NOW);
        assertNull(credentials.password("1699999000:alice"), "expiry equal to now");
        assertNull(credentials.password("1600000000:alice"), "expired");
        assertNull(credentials.password("alice"), "no timestamp");
        assertNull(credentials.password(":alice"), "empty timestamp");
        assertNull(credentials.password("17x0000000:alice"), "not a number");
        assertNull(credentials.password("99999999999999999999999:alice"), "a number too large");
    }

    @Test
    void freshCredentialsOfOnePeerShareItsAllocationQuota() {
        RestCredentials credentials = new RestCredentials(SECRET, () -> NOW);
        TurnServerConfig config = TurnServerConfig.builder().maxAllocations(10, 1).build();
        try (PunchSim f = PunchSim.withTurnServer(8, config, credentials)) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnCredentials first = credentials.issue("alice", NOW + 600);
            a.allocate(a.config(first.username(), first.password()));
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnCredentials second = credentials.issue("alice", NOW + 1200);
            TurnAllocation again = b.startAllocation(b.config(second.username(), second.password()));
            assertEquals(TurnError.ALLOCATION_QUOTA_REACHED,
                PunchSim.turnFailure(f.awaitDone(again.allocated(), 10 * SECOND)).error(), "alice's second allocation");
            TurnNode c = f.behindNat(NatConfig.SYMMETRIC);
            TurnCredentials bob = credentials.issue("bob", NOW + 600);
            c.allocate(c.config(bob.username(), bob.password()));
            assertEquals(2, f.turnServer.allocationCount(), "allocations of alice and bob");
        }
    }

    @Test
    void nodeAllocatesWithIssuedCredentialsAndIsRefusedOnceTheyExpired() {
        AtomicLong unixSeconds = new AtomicLong(NOW);
        RestCredentials credentials = new RestCredentials(SECRET, unixSeconds::get);
        try (PunchSim f = PunchSim.withTurnServer(7, TurnServerConfig.defaults(), credentials)) {
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnCredentials issued = credentials.issue("alice", NOW + 3600);
            TurnAllocation allocation = a.allocate(a.config(issued.username(), issued.password()));
            assertEquals(TurnAllocation.State.ACTIVE, allocation.state(), "allocated with issued credentials");

            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            unixSeconds.set(NOW + 7200);
            TurnAllocation late = b.startAllocation(b.config(issued.username(), issued.password()));
            assertEquals(TurnError.UNAUTHORIZED, PunchSim.turnFailure(f.awaitDone(late.allocated(), 10 * SECOND)).error(),
                "credentials past their expiry");
            TurnCredentials forged = new TurnCredentials((NOW + 90_000) + ":alice", issued.password());
            TurnNode c = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation tampered = c.startAllocation(c.config(forged.username(), forged.password()));
            assertEquals(TurnError.UNAUTHORIZED, PunchSim.turnFailure(f.awaitDone(tampered.allocated(), 10 * SECOND)).error(),
                "a later expiry with the old password");
        }
    }
}
