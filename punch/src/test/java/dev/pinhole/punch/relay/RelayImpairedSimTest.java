package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.punch.PunchSim.Got;
import dev.pinhole.punch.PunchSim.TurnNode;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The relay through a lossy, duplicating, reordering, jittery server link: requests are retransmitted
 * (so the server sees duplicates: a repeated Allocate must get its original answer, a repeated
 * CreatePermission or ChannelBind is a refresh), and whatever data arrives arrives intact, from the
 * right relayed address.
 */
class RelayImpairedSimTest {
    private static final LinkConfig IMPAIRED = LinkConfig.builder().delay(10 * MS).jitter(5 * MS).loss(0.05)
        .duplication(0.05).reordering(0.1, 20 * MS).build();
    private static final int DATAGRAMS = 100;

    @Test
    void relayedDatagramsArriveIntactOverAnImpairedServerLink() {
        long repeatedAllocates = 0;
        for (long seed = 1; seed <= 10; seed++) {
            repeatedAllocates += run(seed);
        }
        assertTrue(repeatedAllocates > 0, "the seeds exercise a duplicated or retransmitted Allocate");
    }

    /** Returns how many repeated Allocates the server answered with the original success. */
    private static long run(long seed) {
        try (PunchSim f = PunchSim.withTurnServer(seed, TurnServerConfig.defaults())) {
            f.serverHost.link(IMPAIRED);
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocationA = a.startAllocation(a.config(PunchSim.USER, PunchSim.PASSWORD));
            TurnAllocation allocationB = b.startAllocation(b.config(PunchSim.USER_2, PunchSim.PASSWORD_2));
            f.awaitDone(CompletableFuture.allOf(allocationA.allocated(), allocationB.allocated()), 60 * SECOND).join();
            InetSocketAddress relayedA = allocationA.relayedAddress();
            InetSocketAddress relayedB = allocationB.relayedAddress();
            f.awaitDone(CompletableFuture.allOf(allocationA.createPermission(relayedB), allocationB.createPermission(relayedA)),
                60 * SECOND).join();
            SplittableRandom random = new SplittableRandom(seed);
            Map<Integer, byte[]> sentByA = new HashMap<>();
            Map<Integer, byte[]> sentByB = new HashMap<>();
            for (int i = 0; i < DATAGRAMS; i++) {
                sentByA.put(i, tagged(i, random));
                sentByB.put(i, tagged(i, random));
                allocationA.sendTo(relayedB, f.buffer(sentByA.get(i)));
                allocationB.sendTo(relayedA, f.buffer(sentByB.get(i)));
                f.sim.runFor(10 * MS);
            }
            f.sim.runFor(5 * SECOND);
            check(sentByA, b.got, relayedA, seed);
            check(sentByB, a.got, relayedB, seed);
            assertEquals(0, f.count(RelayCounter.INTERNAL_ERRORS), "internal errors (seed " + seed + ")");
            assertEquals(2, f.turnServer.allocationCount(), "one allocation each despite duplicated Allocates (seed " + seed + ")");
            return f.count(RelayCounter.ALLOCATE_RETRANSMISSIONS);
        }
    }

    private static byte[] tagged(int index, SplittableRandom random) {
        byte[] bytes = new byte[4 + random.nextInt(1000)];
        random.nextBytes(bytes);
        ByteBuffer.wrap(bytes).putInt(index);
        return bytes;
    }

    private static void check(Map<Integer, byte[]> sent, List<Got> got, InetSocketAddress from, long seed) {
        assertTrue(got.size() >= DATAGRAMS / 2, "at least half of " + DATAGRAMS + " datagrams arrive over 5 % loss a hop, got "
            + got.size() + " (seed " + seed + ")");
        for (Got g : got) {
            byte[] original = sent.get(ByteBuffer.wrap(g.bytes()).getInt());
            assertNotNull(original, "a datagram that was never sent arrived (seed " + seed + ")");
            assertArrayEquals(original, g.bytes(), "datagram intact (seed " + seed + ")");
            assertEquals(from, g.from(), "sender is the peer's relayed address (seed " + seed + ")");
        }
    }
}
