package dev.pinhole.punch.node;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.failureOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PathKind;
import dev.pinhole.punch.PunchSim.Node;
import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.traversal.ExpectedOutcome;
import dev.pinhole.punch.traversal.TraversalMatrixTest;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Every pair of NAT behaviours of the traversal matrix, now with whole nodes and the rendezvous server's
 * built-in relay: each pair must connect (every pair that can reach a server), directly exactly
 * where {@link ExpectedOutcome} says a punch works and through the relay elsewhere, and the time from
 * {@code connect} to the peer reading the first byte is recorded. A pair whose direct path takes longer
 * than the fallback delay (birthday probing) starts on the relay and must end on the direct path.
 *
 * <p>Writes the table of docs/nat-traversal.md ("Direct or relayed") to {@code punch/target/node-matrix/};
 * regenerate with
 * {@code ./mvnw -q -B -pl punch -am test -Dtest='NodeMatrixTest' -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class NodeMatrixTest {
    static final long MATRIX_SEED = 0x5EED_5_2026L;
    private static final Path OUT = Path.of("target", "node-matrix");

    /** One cell: the path the first byte took, when it arrived, and the path after the direct checks ended. */
    private record Cell(String a, String b, boolean expectDirect, PathKind first, long firstByteMs, PathKind last,
                        String failure) {
        boolean ok() {
            return failure == null && last == (expectDirect ? PathKind.DIRECT : PathKind.RELAYED);
        }

        String text() {
            if (failure != null) {
                return "FAILED";
            }
            String kind = first == last ? (first == PathKind.DIRECT ? "D" : "R") : "R→D";
            return firstByteMs + " " + kind;
        }
    }

    @Test
    void everyPairConnectsDirectlyWherePunchingWorksAndThroughTheRelayEverywhereElse() throws IOException {
        List<NatConfig> sides = TraversalMatrixTest.sides();
        List<Cell> cells = new ArrayList<>();
        for (int i = 0; i < sides.size(); i++) {
            for (int j = i; j < sides.size(); j++) {
                cells.add(run(MATRIX_SEED + i * 100L + j, sides.get(i), sides.get(j)));
            }
        }
        Files.createDirectories(OUT);
        Files.writeString(OUT.resolve("matrix.md"), table(sides, cells));
        List<String> wrong = cells.stream().filter(c -> !c.ok()).map(c -> c.a() + " × " + c.b() + ": expected "
                + (c.expectDirect() ? "direct" : "relayed") + ", got " + c.text()
                + (c.failure() == null ? "" : " " + c.failure())).toList();
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + cells.size() + " cells wrong (seed base " + MATRIX_SEED
                + "):\n" + String.join("\n", wrong));
    }

    private static Cell run(long seed, NatConfig a, NatConfig b) {
        String la = TraversalMatrixTest.label(a);
        String lb = TraversalMatrixTest.label(b);
        boolean expectDirect = ExpectedOutcome.differentNats(a, b).direct();
        try (PunchSim world = PunchSim.withNodeServers(seed, true)) {
            Node alice = a == null ? world.publicNode("alice", "198.51.100.31")
                    : world.node("alice", "203.0.113.1", a, "10.0.0.2");
            Node bob = b == null ? world.publicNode("bob", "198.51.100.32")
                    : world.node("bob", "203.0.113.2", b, "10.1.0.2");
            world.register(alice, bob);
            long startNs = world.sim.nowNs();
            CompletableFuture<ConnectedPeer> connecting = alice.core.connect("bob");
            FirstByte firstByte = new FirstByte(world);
            world.sim.runUntil(() -> connecting.isDone() && !bob.incoming.isEmpty(), 30 * SECOND);
            if (!connecting.isDone() || connecting.isCompletedExceptionally() || bob.incoming.isEmpty()) {
                return new Cell(la, lb, expectDirect, null, -1, null, "seed " + seed + ": " + failureOf(connecting));
            }
            ConnectedPeer aliceLink = connecting.join();
            ConnectedPeer bobLink = bob.incoming.get(0);
            bobLink.handler(firstByte);
            aliceLink.connection().write(new byte[] {42}, 0, 1);
            aliceLink.wake();
            world.sim.runUntil(() -> firstByte.atNs >= 0, 30 * SECOND);
            if (firstByte.atNs < 0) {
                return new Cell(la, lb, expectDirect, null, -1, null, "seed " + seed + ": the first byte never arrived");
            }
            PathKind first = firstByte.path;
            // Past the direct checks' deadline: a late direct path has taken the connection over by now.
            world.sim.runFor(15 * SECOND);
            return new Cell(la, lb, expectDirect, first, (firstByte.atNs - startNs) / MS, bobLink.path().kind(), null);
        }
    }

    /** Notes when the first byte is readable, and the path it came on. */
    private static final class FirstByte implements ConnectionHandler {
        private final PunchSim world;
        private final byte[] one = new byte[1];
        long atNs = -1;
        PathKind path;
        ConnectedPeer link;

        FirstByte(PunchSim world) {
            this.world = world;
        }

        @Override
        public void onEvents(Connection connection, int events) {
            if (atNs < 0 && connection.read(one, 0, 1) > 0) {
                atNs = world.sim.nowNs();
                path = world.nodes.get(1).incoming.get(0).path().kind();
            }
        }
    }

    private static String table(List<NatConfig> sides, List<Cell> cells) {
        StringBuilder out = new StringBuilder();
        out.append("| A \\ B |");
        for (NatConfig b : sides) {
            out.append(' ').append(TraversalMatrixTest.label(b)).append(" |");
        }
        out.append('\n').append("|---|");
        out.append("---|".repeat(sides.size())).append('\n');
        for (NatConfig a : sides) {
            String la = TraversalMatrixTest.label(a);
            out.append("| **").append(la).append("** |");
            for (NatConfig b : sides) {
                String lb = TraversalMatrixTest.label(b);
                Cell cell = cells.stream().filter(c -> c.a().equals(la) && c.b().equals(lb)
                        || c.a().equals(lb) && c.b().equals(la)).findFirst().orElseThrow();
                out.append(' ').append(cell.text()).append(" |");
            }
            out.append('\n');
        }
        long direct = cells.stream().filter(c -> c.first() == PathKind.DIRECT).count();
        long moved = cells.stream().filter(c -> c.first() == PathKind.RELAYED && c.last() == PathKind.DIRECT).count();
        long relayed = cells.stream().filter(c -> c.last() == PathKind.RELAYED).count();
        out.append('\n').append(cells.size()).append(" pairs: ").append(direct).append(" direct from the first byte, ")
                .append(moved).append(" started on the relay and moved to a direct path, ").append(relayed)
                .append(" relayed throughout, ").append(cells.stream().filter(c -> c.failure() != null).count())
                .append(" failed.\n");
        return out.toString();
    }
}
