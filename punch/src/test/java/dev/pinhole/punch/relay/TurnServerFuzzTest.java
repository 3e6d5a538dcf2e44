package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.server.relay.TurnAuthenticator;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.RelayCounter;

import static dev.pinhole.punch.PunchSim.PASSWORD;
import static dev.pinhole.punch.PunchSim.PASSWORD_2;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.USER;
import static dev.pinhole.punch.PunchSim.USER_2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.RecordingEndpoint;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.punch.PunchSim.TurnNode;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunReader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * A seeded battery of garbage, truncated, bit-flipped and spliced datagrams at the server, from
 * strangers and from the 5-tuples of live allocations, and at the relay sockets from strangers.
 * The server must never throw, must count what it drops, must stay within its bounds, must answer
 * strangers with no more than the amplification bound, and must leak no buffer.
 */
class TurnServerFuzzTest {
    private static final int MAX_ALLOCATIONS = 6;
    private static final int MAX_PERMISSIONS = 4;
    private static final int MAX_CHANNELS = 4;
    private static final int DATAGRAMS_PER_SEED = 6000;

    @Test
    void garbageTruncatedAndFlippedDatagramsNeverBreakTheServer() {
        for (long seed = 1; seed <= 4; seed++) {
            fuzz(seed);
        }
    }

    private static void fuzz(long seed) {
        TurnServerConfig config = TurnServerConfig.builder().maxAllocations(MAX_ALLOCATIONS, 3)
            .maxPermissionsAndChannels(MAX_PERMISSIONS, MAX_CHANNELS).build();
        RecordingEndpoint[] recording = new RecordingEndpoint[1];
        try (PunchSim f = PunchSim.withTurnServer(seed, config,
            TurnAuthenticator.staticUsers(Map.of(USER, PASSWORD, USER_2, PASSWORD_2)), endpoint -> {
                recording[0] = new RecordingEndpoint(endpoint);
                return recording[0];
            })) {
            // A corpus of real datagrams: what two clients send while allocating, permitting, binding and relaying.
            List<byte[]> corpus = new ArrayList<>();
            f.listening.receiver((datagram, sender) -> {
                corpus.add(PunchSim.bytes(datagram));
                f.turnServer.onDatagram(datagram, sender);
            });
            TurnNode a = f.behindNat(NatConfig.SYMMETRIC);
            TurnNode b = f.behindNat(NatConfig.SYMMETRIC);
            TurnAllocation allocationA = a.allocate();
            TurnAllocation allocationB = b.allocate(b.config(USER_2, PASSWORD_2));
            f.awaitDone(CompletableFuture.allOf(allocationA.createPermission(allocationB.relayedAddress()),
                allocationB.createPermission(allocationA.relayedAddress())), 5 * SECOND).join();
            for (int i = 0; i < 5; i++) {
                allocationA.sendTo(allocationB.relayedAddress(), f.buffer(new byte[] {1, 2, 3, (byte) i}));
                allocationB.sendTo(allocationA.relayedAddress(), f.buffer(new byte[] {4, 5, 6, (byte) i}));
                f.sim.runFor(SECOND);
            }
            assertTrue(corpus.size() >= 15, "corpus of real datagrams, got " + corpus.size());
            f.listening.receiver(f.turnServer);
            long relayedBefore = f.count(RelayCounter.RELAYED_TO_PEERS);

            InetSocketAddress[] senders = {allocationA.mappedAddress(), allocationB.mappedAddress(),
                new InetSocketAddress("192.0.2.99", 4444), new InetSocketAddress("192.0.2.100", 5555)};
            SimEndpoint stranger = f.sim.internet().addHost("192.0.2.101", PunchSim.LINK).bind(7777);
            SplittableRandom random = new SplittableRandom(seed);
            long malformedBefore = malformed(f);
            for (int i = 0; i < DATAGRAMS_PER_SEED; i++) {
                byte[] input = mutate(corpus.get(random.nextInt(corpus.size())), random);
                InetSocketAddress sender = senders[random.nextInt(senders.length)];
                if (random.nextInt(10) == 0) {
                    // At a relay socket, from a peer without a permission.
                    InetSocketAddress relayed = random.nextBoolean() ? allocationA.relayedAddress() : allocationB.relayedAddress();
                    stranger.send(f.buffer(input), relayed);
                    continue;
                }
                int sentBefore = recording[0].sent.size();
                ByteBuf datagram = f.buffer(input);
                try {
                    f.turnServer.onDatagram(datagram, sender);
                } finally {
                    datagram.release();
                }
                for (int s = sentBefore; s < recording[0].sent.size(); s++) {
                    byte[] answer = recording[0].sent.get(s).bytes();
                    if (!authenticated(answer)) {
                        assertTrue(answer.length <= input.length + TurnServer.MAX_UNAUTHENTICATED_GROWTH_BYTES,
                            "an unauthenticated answer of " + answer.length + " bytes to " + input.length
                                + " bytes exceeds the bound (seed " + seed + ", datagram " + i + ")");
                    }
                }
                if (i % 500 == 0) {
                    f.sim.runFor(SECOND / 10);
                }
            }
            f.sim.runFor(SECOND);
            assertEquals(0, f.count(RelayCounter.INTERNAL_ERRORS), "internal errors (seed " + seed + ")");
            assertTrue(malformed(f) > malformedBefore + DATAGRAMS_PER_SEED / 10,
                "malformed datagrams counted: " + (malformed(f) - malformedBefore) + " (seed " + seed + ")");
            assertTrue(f.turnServer.allocationCount() <= MAX_ALLOCATIONS, "allocations within the cap");
            assertTrue(f.turnServer.relaySocketCount() <= MAX_ALLOCATIONS, "relay sockets within the cap");
            assertTrue(f.turnServer.permissionCount() <= MAX_ALLOCATIONS * MAX_PERMISSIONS, "permissions within the caps");
            assertTrue(f.turnServer.channelCount() <= MAX_ALLOCATIONS * MAX_CHANNELS, "channels within the caps");
            assertTrue(f.count(RelayCounter.DROPPED_NO_PERMISSION) > 0, "strangers at relay sockets dropped");
            assertTrue(f.count(RelayCounter.RELAYED_TO_PEERS) >= relayedBefore, "relay counters never go back");
        }
    }

    private static long malformed(PunchSim f) {
        return f.count(RelayCounter.MALFORMED_NOT_TURN) + f.count(RelayCounter.MALFORMED_STUN)
            + f.count(RelayCounter.MALFORMED_CHANNEL_DATA) + f.count(RelayCounter.MALFORMED_SEND_INDICATION);
    }

    private static boolean authenticated(byte[] answer) {
        StunReader reader = new StunReader();
        return reader.wrap(Unpooled.wrappedBuffer(answer)).isOk() && reader.hasAttribute(StunAttributeType.MESSAGE_INTEGRITY);
    }

    /** One of: pure garbage, truncation, bit flips, a byte overwritten, a length field rewritten, junk appended. */
    static byte[] mutate(byte[] original, SplittableRandom random) {
        byte[] out;
        switch (random.nextInt(7)) {
            case 0 -> {
                out = new byte[random.nextInt(1500)];
                random.nextBytes(out);
                if (out.length > 0 && random.nextBoolean()) {
                    // Past the first-byte classifier: STUN (0-3) or ChannelData (64-79).
                    out[0] = (byte) (random.nextBoolean() ? random.nextInt(4) : 0x40 + random.nextInt(16));
                }
            }
            case 1 -> out = java.util.Arrays.copyOf(original, random.nextInt(original.length + 1));
            case 2, 3 -> {
                out = original.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips && out.length > 0; i++) {
                    out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 4 -> {
                out = original.clone();
                if (out.length > 0) {
                    out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                }
            }
            case 5 -> {
                out = original.clone();
                if (out.length >= 4) {
                    // The STUN Message Length or the ChannelData Length, or an attribute length further in.
                    int at = random.nextBoolean() ? 2 : 2 + 4 * random.nextInt(Math.max(1, out.length / 4));
                    if (at + 1 < out.length) {
                        out[at] = (byte) random.nextInt(256);
                        out[at + 1] = (byte) random.nextInt(256);
                    }
                }
            }
            default -> {
                int extra = random.nextInt(64);
                out = java.util.Arrays.copyOf(original, original.length + extra);
                for (int i = original.length; i < out.length; i++) {
                    out[i] = (byte) random.nextInt(256);
                }
            }
        }
        return out;
    }
}
