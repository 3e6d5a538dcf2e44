package dev.pinhole.punch.traversal;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.sim.NatConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class BirthdayOddsTest {

    @Test
    void smallCasesMatchTheHypergeometricFormulaByHand() {
        // 4 ports, 1 target, 2 probes: the probes miss with C(3,2)/C(4,2) = 3/6.
        assertEquals(0.5, BirthdayOdds.missProbability(1, 2, 4), 1e-12);
        // 10 ports, 3 targets, 3 probes: C(7,3)/C(10,3) = 35/120.
        assertEquals(35.0 / 120.0, BirthdayOdds.missProbability(3, 3, 10), 1e-12);
        assertEquals(0.0, BirthdayOdds.missProbability(3, 8, 10), "8 probes of 10 ports cannot miss 3 targets");
        assertEquals(1.0, BirthdayOdds.missProbability(0, 100, 1000), "no targets: always a miss");
        assertEquals(5.5, BirthdayOdds.expectedProbesToHit(1, 10), 1e-12);
    }

    @Test
    void theDefaultsAreDesignedToHitAlmostSurely() {
        TraversalConfig c = TraversalConfig.DEFAULT;
        int targets = c.birthdaySockets() + 1; // the hard side's main socket has a mapping toward the easy side too
        double p = BirthdayOdds.hitProbability(targets, c.birthdayMaxProbes(), c.birthdayPortRange());
        assertTrue(p > 0.999_999, "designed hit probability " + p);
        double oneK = BirthdayOdds.hitProbability(256, 1024, 64_512);
        assertEquals(0.98350, oneK, 1e-5, "256 sockets and 1024 probes over 64512 ports");
        assertEquals(1 - Math.pow(1 - 256.0 / 64_512, 1024), oneK, 1e-3, "close to the with-replacement estimate");
    }

    @Test
    void rejectsImpossibleArguments() {
        assertThrows(IllegalArgumentException.class, () -> BirthdayOdds.missProbability(5, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> BirthdayOdds.missProbability(-1, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> BirthdayOdds.expectedProbesToHit(0, 4));
    }

    /**
     * The implementation against the formula: 8 sockets and 64 probes over a 1000-port NAT hit with designed
     * probability 1 - C(991, 64)/C(1000, 64) = 44.8 % (9 targets: 8 sockets and the main socket). Over 120
     * fixed seeds the hit count must fall within four standard deviations of that.
     */
    @Test
    void measuredHitRateInTheSimulatorMatchesTheDesignedProbability() throws IOException {
        int runs = 120;
        int sockets = 8;
        int probes = 64;
        int minPort = 20_000;
        int maxPort = 20_999;
        NatConfig hardNat = NatConfig.SYMMETRIC.withPortRange(minPort, maxPort);
        TraversalConfig config = TraversalConfig.DEFAULT.withDeadlineNs(2 * SECOND)
                .withBirthday(sockets, probes, 2 * MS).withBirthdayPortRange(minPort, maxPort);
        int hits = 0;
        for (int run = 0; run < runs; run++) {
            try (PunchSim world = PunchSim.withStunServers(1_000 + run)) {
                PunchSim.TraversalPeer hard = world.peer("hard", world.nat("203.0.113.1", hardNat).inside(), "10.0.0.2");
                PunchSim.TraversalPeer easy = world.peer("easy", world.nat("203.0.113.2", NatConfig.PORT_RESTRICTED_CONE)
                        .inside(), "10.0.0.2");
                world.introduce(hard, easy, config);
                if (world.runToOutcome(hard, easy, 10 * SECOND)) {
                    assertEquals(PathOrigin.BIRTHDAY, easy.path.origin(), "only birthday probing can connect these");
                    hits++;
                }
            }
        }
        double p = BirthdayOdds.hitProbability(sockets + 1, probes, maxPort - minPort + 1);
        double mean = runs * p;
        double sd = Math.sqrt(runs * p * (1 - p));
        String line = String.format(Locale.ROOT, "| %d | %d | %d | %d | %.1f %% | %d of %d (%.1f %%) |%n",
                sockets, probes, maxPort - minPort + 1, runs, 100 * p, hits, runs, 100.0 * hits / runs);
        Files.createDirectories(Path.of("target", "traversal-matrix"));
        Files.writeString(Path.of("target", "traversal-matrix", "birthday-measured.md"),
                "| sockets | probes | ports | runs | designed | measured |\n|---|---|---|---|---|---|\n" + line);
        assertTrue(Math.abs(hits - mean) <= 4 * sd, String.format(Locale.ROOT,
                "expected %.1f +- %.1f hits of %d (p = %.3f), got %d", mean, 4 * sd, runs, p, hits));
    }
}
