package dev.pinhole.punch.traversal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.testkit.Gen;
import dev.pinhole.testkit.Property;
import dev.pinhole.testkit.Shrinker;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Seeded random scenarios: two random NAT behaviours (or a public address), random loss of 0–10 % on both
 * peers' access links, a random seed. Whatever the draw, traversal must reach the outcome
 * {@link ExpectedOutcome} designs: a direct path that carries data where one is designed, a "relay needed"
 * failure at the deadline everywhere else, and never a hang.
 */
class TraversalPropertyTest {
    private static final List<NatConfig> SIDES = TraversalMatrixTest.sides();

    /** Indexes into {@link TraversalMatrixTest#sides()} keep the scenario printable and shrinkable. */
    record Draw(int a, int b, boolean sameLan, double lossRate, long seed) {
        Scenario scenario() {
            NatConfig natA = SIDES.get(a);
            return sameLan && natA != null
                    ? new Scenario(Scenario.Topology.SAME_LAN, natA, null, lossRate, seed, TraversalConfig.DEFAULT)
                    : new Scenario(Scenario.Topology.DIFFERENT_NATS, natA, SIDES.get(b), lossRate, seed,
                            TraversalConfig.DEFAULT);
        }

        ExpectedOutcome expected() {
            return scenario().topology() == Scenario.Topology.SAME_LAN ? ExpectedOutcome.sameLan()
                    : ExpectedOutcome.differentNats(SIDES.get(a), SIDES.get(b));
        }

        @Override
        public String toString() {
            return (sameLan && SIDES.get(a) != null ? "same LAN behind " + TraversalMatrixTest.label(SIDES.get(a))
                    : TraversalMatrixTest.label(SIDES.get(a)) + " x " + TraversalMatrixTest.label(SIDES.get(b)))
                    + ", loss " + lossRate + ", sim seed " + seed;
        }
    }

    static final Gen<Draw> DRAWS = random -> new Draw(random.nextInt(SIDES.size()), random.nextInt(SIDES.size()),
            random.nextInt(10) == 0, Math.round(random.nextDouble(0.0, 0.10) * 1000) / 1000.0, random.nextLong());

    static final Shrinker<Draw> SHRINK = Shrinker.<Draw>byFields(Draw.class)
            .field(Draw::lossRate, Shrinker.doublesToward(0.0), (d, v) -> new Draw(d.a(), d.b(), d.sameLan(), v, d.seed()))
            .field(Draw::sameLan, Shrinker.booleans(), (d, v) -> new Draw(d.a(), d.b(), v, d.lossRate(), d.seed()));

    @Test
    void randomNatPairsOverLossyLinksReachTheirDesignedOutcome() {
        Property.forAll(DRAWS).shrinkWith(SHRINK).scale(0.06).check(draw -> {
            ExpectedOutcome expected = draw.expected();
            Scenario.Outcome outcome = draw.scenario().run();
            if (expected.direct()) {
                assertTrue(outcome.connected(), () -> "designed direct (" + expected.rule() + "), got "
                        + outcome.describe());
                assertTrue(outcome.dataExchanged(), "data crossed the path");
            } else {
                assertNotNull(outcome.failureA(), "alice reports the failure");
                assertNotNull(outcome.failureB(), "bob reports the failure");
                assertTrue(outcome.failureA().getMessage().contains("relay"), outcome.failureA().getMessage());
                assertEquals(false, outcome.connected());
            }
        });
    }
}
