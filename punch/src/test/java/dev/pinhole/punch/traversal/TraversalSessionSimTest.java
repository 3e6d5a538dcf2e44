package dev.pinhole.punch.traversal;

import static dev.pinhole.punch.traversal.SimWorld.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.sim.Nat;
import dev.pinhole.core.sim.NatConfig;
import org.junit.jupiter.api.Test;

class TraversalSessionSimTest {

    @Test
    void twoFullConePeersConnectThroughReflexiveAddresses() {
        try (SimWorld world = new SimWorld(1)) {
            Nat na = world.nat("203.0.113.1", NatConfig.FULL_CONE);
            Nat nb = world.nat("203.0.113.2", NatConfig.FULL_CONE);
            SimWorld.Peer a = world.peer("alice", na.inside(), "10.0.0.2");
            SimWorld.Peer b = world.peer("bob", nb.inside(), "10.0.0.3");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            boolean connected = world.runToOutcome(a, b, 20 * SECOND);
            assertTrue(connected, () -> "expected both connected; a=" + a.failure + " b=" + b.failure);
            assertNotNull(a.path);
            assertEquals(b.path.mapped(), a.path.remote(), "alice sends to bob's mapping");
            assertTrue(world.exchangeData(a, b), "data crosses the nominated path both ways");
        }
    }
}
