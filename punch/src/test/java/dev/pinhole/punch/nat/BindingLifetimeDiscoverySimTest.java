package dev.pinhole.punch.nat;

import static dev.pinhole.sim.SimFixture.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.Simulator;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RFC 5780 §4.6 binding lifetime search against simulated NATs with known mapping timeouts. */
class BindingLifetimeDiscoverySimTest {
    private static final InetSocketAddress SERVER = SimFixture.address("198.51.100.10", 3478);
    private static final BindingLifetimeDiscovery.Options FAST =
        new BindingLifetimeDiscovery.Options(5 * SECOND, 120 * SECOND, SECOND, null);

    private final PunchSim world = new PunchSim(0x71FEL);
    private final Simulator sim = world.sim;
    private StunClient x;
    private StunClient y;

    @AfterEach
    void closeAndCheckBuffers() {
        assertEquals(0, x.pendingCount() + y.pendingCount(), "no transaction left behind");
        world.close();
    }

    private DatagramEndpoint tracked(SimEndpoint endpoint) {
        return world.tracked(endpoint);
    }

    private void world(NatConfig config, boolean rfc5780) {
        SimHost ip1 = sim.internet().addHost("198.51.100.10");
        if (rfc5780) {
            SimHost ip2 = sim.internet().addHost("198.51.100.11");
            StunBindingServer.rfc5780(tracked(ip1.bind(3478)), tracked(ip1.bind(3479)), tracked(ip2.bind(3478)),
                tracked(ip2.bind(3479)), null).listen();
        } else {
            StunBindingServer.basic(tracked(ip1.bind(3478)), null).listen();
        }
        Nat nat = sim.internet().addNat("203.0.113.5", config);
        SimHost host = nat.inside().addHost("10.0.0.2");
        x = client(host.bind(4000));
        y = client(host.bind(4001));
    }

    private StunClient client(SimEndpoint endpoint) {
        DatagramEndpoint tracked = tracked(endpoint);
        StunClient client = new StunClient(tracked, StunTransactionConfig.DEFAULT, sim.random("client" + endpoint));
        tracked.receiver(client);
        return client;
    }

    private BindingLifetimeDiscovery.Result discover(BindingLifetimeDiscovery.Options options) {
        CompletableFuture<BindingLifetimeDiscovery.Result> future = BindingLifetimeDiscovery.discover(x, y, SERVER, options);
        assertTrue(sim.runUntil(future::isDone, 3600 * SECOND), "search finished within a virtual hour");
        return future.join();
    }

    @Test
    void lifetimeOfThirtySecondsIsBracketedToWithinTheResolution() {
        world(NatConfig.PORT_RESTRICTED_CONE.withMappingTimeoutNs(30 * SECOND), true);
        BindingLifetimeDiscovery.Result result = discover(FAST);
        assertTrue(result.supported(), "server honours RESPONSE-PORT: " + result);
        assertTrue(result.survivedNs() < 30 * SECOND, "survived less than the 30 s timeout: " + result);
        assertTrue(result.expiredNs() >= 30 * SECOND, "expired at or after 30 s: " + result);
        assertTrue(result.expiredNs() - result.survivedNs() <= SECOND, "within 1 s: " + result);
    }

    @Test
    void symmetricNatLifetimeIsMeasuredToo() {
        world(NatConfig.SYMMETRIC.withMappingTimeoutNs(47 * SECOND), true);
        BindingLifetimeDiscovery.Result result = discover(FAST);
        assertTrue(result.survivedNs() < 47 * SECOND && result.expiredNs() >= 47 * SECOND, "brackets 47 s: " + result);
    }

    @Test
    void aBindingOutlivingTheLongestProbeIsReportedAsSuch() {
        world(NatConfig.LINUX_MASQUERADE, true);
        BindingLifetimeDiscovery.Result result = discover(
            new BindingLifetimeDiscovery.Options(10 * SECOND, 60 * SECOND, SECOND, null));
        assertTrue(result.survivedMax(), "the 120 s conntrack timeout outlives a 60 s probe: " + result);
        assertEquals(60 * SECOND, result.survivedNs(), "longest idle time tried");
        assertEquals(4, result.probes(), "10, 20, 40, 60 s");
    }

    @Test
    void aServerWithoutResponsePortIsReportedUnsupported() {
        world(NatConfig.FULL_CONE, false);
        BindingLifetimeDiscovery.Result result = discover(FAST);
        assertFalse(result.supported(), "a basic server answers RESPONSE-PORT with 420: " + result);
        assertEquals(1, result.probes(), "gave up after the first probe");
    }
}
