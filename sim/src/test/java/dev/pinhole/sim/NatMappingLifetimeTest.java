package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pinhole.sim.SimFixture.Inbox;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RFC 4787 §4.3: mapping timeout (REQ-5), outbound refresh (REQ-6), optional inbound refresh, rebinding. */
class NatMappingLifetimeTest {
    private static final InetSocketAddress SERVER = address("198.51.100.1", 3478);
    private static final long TIMEOUT = NatConfig.DEFAULT_MAPPING_TIMEOUT_NS;
    private final SimFixture f = new SimFixture(120);
    private Nat nat;
    private SimEndpoint server;
    private SimEndpoint client;
    private Inbox atServer;
    private Inbox atClient;

    @AfterEach
    void noLeaks() {
        f.close();
    }

    private void build(NatConfig config) {
        server = f.sim.internet().addHost("198.51.100.1").bind(3478);
        atServer = Inbox.on(server);
        nat = f.sim.internet().addNat("203.0.113.5", config);
        client = nat.inside().addHost("10.0.0.2").bind(4000);
        atClient = Inbox.on(client);
    }

    private void at(long timeNs, Runnable action) {
        f.sim.schedule(timeNs, action);
    }

    @Test
    void defaultTimeoutIsTwoMinutesAsRfc4787Req5Requires() {
        assertEquals(120 * SECOND, NatConfig.PORT_RESTRICTED_CONE.mappingTimeoutNs());
    }

    @Test
    void mappingAdmitsRepliesUntilItsTimeoutAndDropsThemAsExpiredAfter() {
        build(NatConfig.PORT_RESTRICTED_CONE);
        at(0, () -> sendText(client, SERVER, "open"));
        at(TIMEOUT - 1, () -> sendText(server, atServer.last().from(), "just in time"));
        at(TIMEOUT, () -> sendText(server, atServer.last().from(), "too late"));
        f.sim.runFor(TIMEOUT + SECOND);
        assertEquals(1, atClient.size(), "only the reply before the timeout arrived");
        assertEquals("just in time", atClient.last().text());
        assertEquals(1, nat.counters().dropped(DropCause.MAPPING_EXPIRED), "the late one counted as MAPPING_EXPIRED");
        assertEquals(0, nat.activeMappings(), "no live mapping left");
    }

    @Test
    void inboundTrafficDoesNotRefreshAMappingByDefault() {
        build(NatConfig.PORT_RESTRICTED_CONE);
        at(0, () -> sendText(client, SERVER, "open"));
        at(60 * SECOND, () -> sendText(server, atServer.last().from(), "inbound at 60 s"));
        at(TIMEOUT + 10 * SECOND, () -> sendText(server, atServer.last().from(), "inbound at 130 s"));
        f.sim.runFor(TIMEOUT + 20 * SECOND);
        assertEquals(1, atClient.size(), "the inbound datagram at 60 s did not extend the mapping");
        assertEquals(1, nat.counters().dropped(DropCause.MAPPING_EXPIRED));
    }

    @Test
    void inboundTrafficRefreshesAMappingWhenConfigured() {
        build(NatConfig.PORT_RESTRICTED_CONE.withInboundRefresh(true));
        at(0, () -> sendText(client, SERVER, "open"));
        at(60 * SECOND, () -> sendText(server, atServer.last().from(), "inbound at 60 s"));
        at(TIMEOUT + 10 * SECOND, () -> sendText(server, atServer.last().from(), "inbound at 130 s"));
        f.sim.runFor(TIMEOUT + 20 * SECOND);
        assertEquals(2, atClient.size(), "the inbound datagram at 60 s extended the mapping to 180 s");
    }

    @Test
    void outboundTrafficRefreshesTheMapping() {
        build(NatConfig.PORT_RESTRICTED_CONE);
        at(0, () -> sendText(client, SERVER, "open"));
        at(100 * SECOND, () -> sendText(client, SERVER, "keepalive"));
        at(TIMEOUT + 99 * SECOND, () -> sendText(server, atServer.last().from(), "at 219 s"));
        at(TIMEOUT + 100 * SECOND, () -> sendText(server, atServer.last().from(), "at 220 s"));
        f.sim.runFor(TIMEOUT + 101 * SECOND);
        assertEquals(1, atClient.size(), "the keepalive at 100 s kept the mapping until 220 s, not longer");
        assertEquals("at 219 s", atClient.last().text());
        assertEquals(atServer.arrivals.get(0).from(), atServer.arrivals.get(1).from(),
                "the keepalive used the same mapping");
    }

    @Test
    void afterExpiryTheNextOutboundDatagramGetsANewMapping() {
        build(NatConfig.PORT_RESTRICTED_CONE);
        at(0, () -> sendText(client, SERVER, "first"));
        at(TIMEOUT + SECOND, () -> sendText(client, SERVER, "after expiry"));
        f.sim.runFor(TIMEOUT + 2 * SECOND);
        assertNotEquals(atServer.arrivals.get(0).from(), atServer.arrivals.get(1).from(),
                "a sequential NAT hands out the next port for the new mapping");
        assertEquals(2, nat.counters().mappingsCreated());
    }

    @Test
    void clearMappingsForcesARebindingEvenWithPortPreservation() {
        build(NatConfig.LINUX_MASQUERADE);
        sendText(client, SERVER, "before");
        f.sim.runFor(SECOND);
        InetSocketAddress before = atServer.last().from();
        assertEquals(4000, before.getPort(), "port preserved");
        nat.clearMappings();
        sendText(server, before, "to the old mapping");
        f.sim.runFor(SECOND);
        assertEquals(0, atClient.size(), "the old mapping is gone");
        assertEquals(1, nat.counters().dropped(DropCause.MAPPING_EXPIRED), "counted as MAPPING_EXPIRED");
        sendText(client, SERVER, "after");
        f.sim.runFor(SECOND);
        InetSocketAddress after = atServer.last().from();
        assertNotEquals(before, after, "the client was rebound to a new external port");
        sendText(server, after, "to the new mapping");
        f.sim.runFor(SECOND);
        assertEquals("to the new mapping", atClient.last().text(), "the new mapping works");
    }
}
