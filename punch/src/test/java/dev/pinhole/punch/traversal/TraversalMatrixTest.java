package dev.pinhole.punch.traversal;

import dev.pinhole.punch.TraversalFailedException;

import static dev.pinhole.punch.PunchSim.MS;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.NatConfig.FilteringBehavior;
import dev.pinhole.sim.NatConfig.MappingBehavior;
import dev.pinhole.sim.NatConfig.PortAllocation;
import dev.pinhole.punch.traversal.ExpectedOutcome.Technique;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every pair of NAT behaviours (RFC 4787 mapping × filtering × port allocation, plus a public address), the
 * same-LAN case for every NAT, and the same-carrier case with hairpinning on and off, each run once in the
 * simulator with a fixed seed and held to {@link ExpectedOutcome}: a direct path exactly where one is
 * designed to exist (proved by data crossing it both ways), a "relay needed" failure everywhere else.
 *
 * <p>The tables it writes to {@code punch/target/traversal-matrix/} are the ones in docs/nat-traversal.md;
 * regenerate them with
 * {@code ./mvnw -q -B -pl punch -am test -Dtest='TraversalMatrixTest' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
public class TraversalMatrixTest {
    /** The matrix's seed; every cell derives its own from it and its position. */
    static final long MATRIX_SEED = 0x5EED_4_2026L;
    private static final Path OUT = Path.of("target", "traversal-matrix");

    /** A public address, then every NAT behaviour (hairpinning off: irrelevant between different NATs). */
    public static List<NatConfig> sides() {
        List<NatConfig> sides = new ArrayList<>();
        sides.add(null);
        for (MappingBehavior m : MappingBehavior.values()) {
            for (FilteringBehavior f : FilteringBehavior.values()) {
                for (PortAllocation a : PortAllocation.values()) {
                    sides.add(NatConfig.FULL_CONE.withMapping(m).withFiltering(f).withPortAllocation(a)
                            .withHairpinning(false));
                }
            }
        }
        return sides;
    }

    public static String label(NatConfig c) {
        if (c == null) {
            return "public";
        }
        return shortName(c.mapping().name()) + "M/" + shortName(c.filtering().name()) + "F/"
                + c.portAllocation().name().substring(0, 3).toLowerCase(Locale.ROOT);
    }

    private static String shortName(String behaviour) {
        return switch (behaviour) {
            case "ENDPOINT_INDEPENDENT" -> "EI";
            case "ADDRESS_DEPENDENT" -> "AD";
            default -> "APD";
        };
    }

    /** One cell's result. */
    record Cell(String a, String b, ExpectedOutcome expected, Scenario.Outcome outcome, Technique technique) {
        boolean matches() {
            if (outcome.connected() != expected.direct()) {
                return false;
            }
            if (outcome.connected() && !outcome.dataExchanged()) {
                return false;
            }
            if (!outcome.connected()) {
                TraversalFailedException f = outcome.failureA() != null ? outcome.failureA() : outcome.failureB();
                return f != null && f.getMessage().contains("relay");
            }
            return expected.technique() == null || expected.technique() == technique;
        }

        String code() {
            if (!outcome.connected()) {
                return "relay";
            }
            return outcome.connectNs() / MS + " " + switch (technique) {
                case HOST -> "h";
                case REVERSAL -> "r";
                case PUNCH -> "p";
                case PREDICTION -> "P";
                case BIRTHDAY -> "B";
            };
        }

        String mismatch() {
            return a + " x " + b + ": expected " + (expected.direct() ? "direct" : "relay")
                    + (expected.technique() == null ? "" : " by " + expected.technique()) + " (" + expected.rule()
                    + "), got " + outcome.describe() + (outcome.connected() ? " by " + technique : "");
        }
    }

    private static Cell run(Scenario scenario, String a, String b, ExpectedOutcome expected, boolean onePublic) {
        Scenario.Outcome outcome = scenario.run();
        Technique technique = outcome.connected()
                ? Technique.of(outcome.originA(), outcome.originB(), onePublic) : null;
        return new Cell(a, b, expected, outcome, technique);
    }

    @Test
    void everyPairOfNatBehavioursMeetsItsDesignedOutcome() throws IOException {
        List<NatConfig> sides = sides();
        List<Cell> cells = new ArrayList<>();
        Cell[][] grid = new Cell[sides.size()][sides.size()];
        for (int i = 0; i < sides.size(); i++) {
            for (int j = i; j < sides.size(); j++) {
                NatConfig a = sides.get(i);
                NatConfig b = sides.get(j);
                Scenario scenario = new Scenario(Scenario.Topology.DIFFERENT_NATS, a, b, 0,
                        MATRIX_SEED + 1000L * i + j, TraversalConfig.DEFAULT);
                Cell cell = run(scenario, label(a), label(b), ExpectedOutcome.differentNats(a, b),
                        a == null || b == null);
                cells.add(cell);
                grid[i][j] = cell;
                grid[j][i] = cell;
            }
        }
        write("different-nats.md", gridTable(sides, grid) + System.lineSeparator() + summary(cells));
        write("different-nats-grouped.md", groupedTable(sides, grid));
        Cell symmetric = grid[sides.size() - 1][sides.size() - 1];
        if (symmetric.outcome().failureA() != null) {
            write("failure-example.txt", symmetric.outcome().failureA().getMessage());
        }
        assertAllMatch(cells);
    }

    @Test
    void peersInOneLanConnectOverHostCandidatesBehindEveryNat() throws IOException {
        List<Cell> cells = new ArrayList<>();
        List<NatConfig> sides = sides();
        for (int i = 1; i < sides.size(); i++) {
            NatConfig nat = sides.get(i);
            Scenario scenario = new Scenario(Scenario.Topology.SAME_LAN, nat, null, 0, MATRIX_SEED + 100_000L + i,
                    TraversalConfig.DEFAULT);
            cells.add(run(scenario, label(nat), label(nat), ExpectedOutcome.sameLan(), false));
        }
        write("same-lan.md", listTable("NAT in front of the LAN", cells));
        assertAllMatch(cells);
    }

    @Test
    void peersBehindOneCarrierNatConnectOnlyThroughItsHairpin() throws IOException {
        List<Cell> cells = new ArrayList<>();
        int index = 0;
        for (boolean hairpin : new boolean[] {true, false}) {
            for (MappingBehavior m : MappingBehavior.values()) {
                for (FilteringBehavior f : FilteringBehavior.values()) {
                    NatConfig carrier = NatConfig.FULL_CONE.withMapping(m).withFiltering(f).withHairpinning(hairpin);
                    Scenario scenario = new Scenario(Scenario.Topology.SAME_CARRIER, carrier, null, 0,
                            MATRIX_SEED + 200_000L + index++, TraversalConfig.DEFAULT);
                    String label = label(carrier) + (hairpin ? " hairpin" : " no hairpin");
                    cells.add(run(scenario, label, label, ExpectedOutcome.sameCarrier(carrier), false));
                }
            }
        }
        write("same-carrier.md", listTable("carrier NAT (home NATs: EIM/APDF, port-preserving)", cells));
        assertAllMatch(cells);
    }

    private static void assertAllMatch(List<Cell> cells) {
        List<String> mismatches = new ArrayList<>();
        for (Cell c : cells) {
            if (!c.matches()) {
                mismatches.add(c.mismatch());
            }
        }
        assertTrue(mismatches.isEmpty(), () -> mismatches.size() + " of " + cells.size()
                + " cells differ from the designed outcome:" + System.lineSeparator()
                + String.join(System.lineSeparator(), mismatches));
    }

    private static String gridTable(List<NatConfig> sides, Cell[][] grid) {
        StringBuilder s = new StringBuilder("| row controls \\ column |");
        for (NatConfig c : sides) {
            s.append(' ').append(label(c)).append(" |");
        }
        s.append(System.lineSeparator()).append("|---|");
        s.append("---|".repeat(sides.size())).append(System.lineSeparator());
        for (int i = 0; i < sides.size(); i++) {
            s.append("| **").append(label(sides.get(i))).append("** |");
            for (int j = 0; j < sides.size(); j++) {
                s.append(' ').append(grid[i][j].code()).append(" |");
            }
            s.append(System.lineSeparator());
        }
        return s.toString();
    }

    /**
     * The grid with NATs that behave alike merged: an endpoint-independent NAT's port allocation never
     * matters, and port preservation is sequential allocation for a NAT that maps per destination. A merged
     * cell shows the range of times, or every distinct outcome when its members differ.
     */
    private static String groupedTable(List<NatConfig> sides, Cell[][] grid) {
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < sides.size(); i++) {
            groups.computeIfAbsent(groupLabel(sides.get(i)), k -> new ArrayList<>()).add(i);
        }
        List<String> labels = new ArrayList<>(groups.keySet());
        StringBuilder s = new StringBuilder("| row controls \\ column |");
        for (String label : labels) {
            s.append(' ').append(label).append(" |");
        }
        s.append(System.lineSeparator()).append("|---|").append("---|".repeat(labels.size()))
                .append(System.lineSeparator());
        for (String row : labels) {
            s.append("| **").append(row).append("** |");
            for (String column : labels) {
                TreeSet<String> kinds = new TreeSet<>();
                long min = Long.MAX_VALUE;
                long max = -1;
                for (int i : groups.get(row)) {
                    for (int j : groups.get(column)) {
                        Cell c = grid[i][j];
                        if (c.outcome().connected()) {
                            kinds.add(c.code().substring(c.code().indexOf(' ') + 1));
                            min = Math.min(min, c.outcome().connectNs() / MS);
                            max = Math.max(max, c.outcome().connectNs() / MS);
                        } else {
                            kinds.add("relay");
                        }
                    }
                }
                String times = max < 0 ? "" : (min == max ? min + " " : min + "-" + max + " ");
                s.append(' ').append(kinds.equals(Set.of("relay")) ? "relay"
                        : times + String.join("/", kinds)).append(" |");
            }
            s.append(System.lineSeparator());
        }
        return s.toString();
    }

    private static String groupLabel(NatConfig c) {
        if (c == null) {
            return "public";
        }
        String label = label(c);
        if (c.mapping() == MappingBehavior.ENDPOINT_INDEPENDENT) {
            return label.substring(0, label.lastIndexOf('/'));
        }
        return c.portAllocation() == PortAllocation.RANDOM ? label : label.substring(0, label.lastIndexOf('/')) + "/seq";
    }

    private static String listTable(String what, List<Cell> cells) {
        StringBuilder s = new StringBuilder("| " + what + " | outcome | ms to connect | rule |")
                .append(System.lineSeparator()).append("|---|---|---|---|").append(System.lineSeparator());
        for (Cell c : cells) {
            s.append("| ").append(c.a()).append(" | ")
                    .append(c.outcome().connected() ? "direct (" + c.technique() + ")" : "relay needed").append(" | ")
                    .append(c.outcome().connected() ? String.valueOf(c.outcome().connectNs() / MS) : "-").append(" | ")
                    .append(c.expected().rule().substring(0, c.expected().rule().indexOf(' '))).append(" |")
                    .append(System.lineSeparator());
        }
        return s.toString();
    }

    /** Cells per rule: how many, how many direct, and the median and worst time to connect. */
    private static String summary(List<Cell> cells) {
        Map<String, List<Cell>> byRule = new TreeMap<>();
        for (Cell c : cells) {
            byRule.computeIfAbsent(c.expected().rule().substring(0, c.expected().rule().indexOf(' ')),
                    k -> new ArrayList<>()).add(c);
        }
        StringBuilder s = new StringBuilder("| rule | pairs | direct | median ms | max ms |")
                .append(System.lineSeparator()).append("|---|---|---|---|---|").append(System.lineSeparator());
        byRule.forEach((rule, list) -> {
            List<Long> times = new ArrayList<>();
            for (Cell c : list) {
                if (c.outcome().connected()) {
                    times.add(c.outcome().connectNs() / MS);
                }
            }
            times.sort(null);
            s.append("| ").append(rule).append(" | ").append(list.size()).append(" | ").append(times.size())
                    .append(" | ").append(times.isEmpty() ? "-" : String.valueOf(times.get(times.size() / 2)))
                    .append(" | ").append(times.isEmpty() ? "-" : String.valueOf(times.get(times.size() - 1)))
                    .append(" |").append(System.lineSeparator());
        });
        return s.toString();
    }

    private static void write(String name, String content) throws IOException {
        Files.createDirectories(OUT);
        Files.writeString(OUT.resolve(name), content);
    }
}
