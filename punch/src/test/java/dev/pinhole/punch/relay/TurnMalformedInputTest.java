package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.turn.ChannelData;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.PacketKind;
import dev.pinhole.punch.PunchSim.Text;
import dev.pinhole.protocol.stun.StunParseResult;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bad input is normal input: thousands of mangled Data indications and ChannelData messages from
 * the TURN server's own address (so they pass the sender check) reach an active allocation. Nothing
 * may throw (the simulator would rethrow it), every datagram must be counted exactly once somewhere
 * on the node, only the bound peer may appear as a sender, and the allocation must work afterwards.
 */
class TurnMalformedInputTest {
    private static final long SEED = Long.getLong("pinhole.seed", 0xBADDA7AL);
    private static final int CASES = Integer.getInteger("pinhole.scenarios", 1000) * 5;

    private final PunchSim f = PunchSim.withScriptedTurnServer(SEED);
    private final InetSocketAddress peer = f.peer.localAddress();
    private long otherStun;

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void mangledRelayMessagesAreCountedAndDroppedNeverThrown() {
        f.turn.routeOn(f.demux, (datagram, sender) -> otherStun++);
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        List<byte[]> templates = List.of(
            DataIndications.encode(peer, "data indication".getBytes()),
            DataIndications.encode(peer, new byte[0]),
            DataIndications.encode(new InetSocketAddress("198.51.100.77", 1), "stranger".getBytes()),
            new byte[] {0x40, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'},
            new byte[] {0x40, 0x00, 0x00, 0x01, 'p', 0, 0, 0},
            new byte[] {0x40, 0x00, 0x00, 0x00});
        SplittableRandom random = new SplittableRandom(SEED);

        int sent = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] message = mangle(templates.get(random.nextInt(templates.size())), random);
            if (message.length == 0) {
                continue;
            }
            f.scriptedServer.sendRaw(message);
            sent++;
            if (i % 100 == 99) {
                f.sim.runFor(SECOND);
            }
        }
        f.sim.runFor(SECOND);

        TurnStats stats = allocation.stats();
        long stunMalformed = 0;
        for (StunParseResult reason : StunParseResult.values()) {
            stunMalformed += f.stun.malformedCount(reason);
        }
        long accounted = f.demux.dropped() + stunMalformed + f.stun.unmatchedResponseCount() + otherStun
            + f.turn.channelDataFromUnknownSendersCount() + stats.receivedChannelData() + stats.receivedDataIndications()
            + stats.droppedOnReceive() + stats.droppedNotActive() + allocation.undeliveredCount();
        assertEquals(sent, accounted, "every datagram counted exactly once (seed " + SEED + "): demux " + f.demux.dropped()
            + ", STUN malformed " + stunMalformed + ", unmatched " + f.stun.unmatchedResponseCount() + ", other STUN "
            + otherStun + ", " + stats);
        assertTrue(f.nodeGot.stream().allMatch(g -> g.from().equals(peer)),
            "only the bound and permitted peer appears as a sender (seed " + SEED + ")");
        assertEquals(f.nodeGot.size(), stats.receivedChannelData() + stats.receivedDataIndications(), "delivered");
        assertTrue(stats.malformedChannelData() + stats.unboundChannelData() + stats.unpermittedDataIndications() > 0,
            "the battery reached the allocation's own checks: " + stats);
        assertTrue(f.demux.count(PacketKind.CHANNEL_DATA_BAD_LENGTH) > 0, "and the demultiplexer's");

        f.nodeGot.clear();
        f.scriptedServer.sendRaw(DataIndications.encode(peer, "still works".getBytes()));
        f.sim.runFor(SECOND);
        assertEquals(List.of(new Text("still works", peer)), f.nodeGot, "the allocation works after the battery");
    }

    /** One to three of: truncate, flip bytes, rewrite a length field, rewrite the first bytes, append junk. */
    private static byte[] mangle(byte[] template, SplittableRandom random) {
        byte[] m = template.clone();
        int operations = 1 + random.nextInt(3);
        for (int op = 0; op < operations && m.length > 0; op++) {
            switch (random.nextInt(5)) {
                case 0 -> m = Arrays.copyOf(m, random.nextInt(m.length + 1));
                case 1 -> {
                    for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                        m[random.nextInt(m.length)] ^= (byte) (1 + random.nextInt(255));
                    }
                }
                case 2 -> {
                    // The ChannelData length (bytes 2-3) or a STUN attribute length somewhere after the header.
                    int at = m.length > 24 && random.nextBoolean() ? 20 + 4 * random.nextInt((m.length - 20) / 4) + 2 : 2;
                    if (at + 1 < m.length) {
                        int value = random.nextInt(3) == 0 ? 0xFFFF : random.nextInt(m.length + 8);
                        m[at] = (byte) (value >>> 8);
                        m[at + 1] = (byte) value;
                    }
                }
                case 3 -> {
                    m[0] = (byte) random.nextInt(256);
                    if (m.length > 1) {
                        m[1] = (byte) random.nextInt(256);
                    }
                }
                default -> {
                    byte[] longer = Arrays.copyOf(m, m.length + 1 + random.nextInt(8));
                    for (int i = m.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt(256);
                    }
                    m = longer;
                }
            }
        }
        return m;
    }

    @Test
    void everyDatagramOfAProtocolFuzzKindIsAccountedFor() {
        // Random bytes of every length with a first byte in the ChannelData or STUN range.
        f.turn.routeOn(f.demux, (datagram, sender) -> otherStun++);
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        SplittableRandom random = new SplittableRandom(SEED ^ 0x5A5AL);
        List<byte[]> all = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            byte[] m = new byte[1 + random.nextInt(64)];
            random.nextBytes(m);
            m[0] = (byte) (random.nextBoolean() ? 0x40 + random.nextInt(16) : random.nextInt(4));
            all.add(m);
            f.scriptedServer.sendRaw(m);
        }
        f.sim.runFor(SECOND);

        TurnStats stats = allocation.stats();
        long stunMalformed = 0;
        for (StunParseResult reason : StunParseResult.values()) {
            stunMalformed += f.stun.malformedCount(reason);
        }
        long accounted = f.demux.dropped() + stunMalformed + f.stun.unmatchedResponseCount() + otherStun
            + stats.receivedChannelData() + stats.receivedDataIndications() + stats.droppedOnReceive();
        assertEquals(all.size(), accounted, "every datagram counted once (seed " + SEED + "): " + stats);
        assertTrue(f.nodeGot.stream().allMatch(g -> g.from().equals(peer)), "only the bound peer as sender");
    }
}
