package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.ice.Credentials;

import static dev.pinhole.punch.PunchSim.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The connectivity-check messages on the wire, and the session's handling of malformed or foreign ones. */
class IceMessagesTest {
    private static final Credentials ALICE = new Credentials("alic", "alicePassword1234567890");
    private static final Credentials BOB = new Credentials("bobb", "bobPassword123456789012345");
    private static final InetSocketAddress SOURCE = PunchSim.address("203.0.113.7", 40_001);

    @Test
    void aCheckCarriesEverythingRfc8445Section7Asks() {
        IceMessages alice = new IceMessages(Buffers.ALLOCATOR, ALICE, BOB);
        ByteBuf check = alice.check(0x0102030405060708L, 0x090A0B0C, 1_862_270_975L, IceRole.CONTROLLING, 42L, true);
        try {
            StunReader reader = new StunReader();
            assertEquals(StunParseResult.OK, reader.wrap(check), "valid STUN with a valid FINGERPRINT");
            assertEquals(StunMessageType.BINDING_REQUEST, reader.messageType());
            assertEquals("bobb:alic", reader.findString(StunAttributeType.USERNAME), "remote ufrag first (§7.2.2)");
            assertEquals(1_862_270_975L, reader.uint32(reader.findAttribute(StunAttributeType.PRIORITY)));
            assertEquals(42L, reader.uint64(reader.findAttribute(StunAttributeType.ICE_CONTROLLING)));
            assertFalse(reader.hasAttribute(StunAttributeType.ICE_CONTROLLED));
            assertTrue(reader.hasAttribute(StunAttributeType.USE_CANDIDATE));
            assertTrue(reader.hasFingerprint());
            assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm(BOB.password())),
                    "signed with the remote (bob's) password");
            assertEquals(StunParseResult.BAD_INTEGRITY,
                    reader.verifyMessageIntegrity(StunKey.shortTerm(ALICE.password())));
        } finally {
            check.release();
        }
    }

    @Test
    void aSuccessResponseEchoesTheSourceAndIsSignedWithTheLocalPassword() {
        IceMessages bob = new IceMessages(Buffers.ALLOCATOR, BOB, ALICE);
        ByteBuf response = bob.success(7L, 8, SOURCE);
        try {
            StunReader reader = new StunReader();
            assertEquals(StunParseResult.OK, reader.wrap(response));
            assertEquals(StunClass.SUCCESS_RESPONSE, reader.messageClass());
            assertEquals(SOURCE, reader.xorMappedAddress());
            assertEquals(StunParseResult.OK, reader.verifyMessageIntegrity(StunKey.shortTerm(BOB.password())));
        } finally {
            response.release();
        }
    }

    @Test
    void roleConflictAndKeepaliveMessages() {
        IceMessages bob = new IceMessages(Buffers.ALLOCATOR, BOB, ALICE);
        StunReader reader = new StunReader();
        ByteBuf conflict = bob.roleConflict(1L, 2);
        try {
            assertEquals(StunParseResult.OK, reader.wrap(conflict));
            assertEquals(StunClass.ERROR_RESPONSE, reader.messageClass());
            assertEquals(487, reader.errorCode());
        } finally {
            conflict.release();
        }
        ByteBuf keepalive = bob.indication(3L, 4);
        try {
            assertEquals(StunParseResult.OK, reader.wrap(keepalive));
            assertEquals(StunMessageType.BINDING_INDICATION, reader.messageType());
            assertEquals(28, keepalive.readableBytes(), "header plus FINGERPRINT only");
        } finally {
            keepalive.release();
        }
    }

    @Test
    void theSessionNeverThrowsOnGarbageAndStillConnectsAfterwards() {
        try (PunchSim world = PunchSim.withStunServers(21)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            IceMessages fromBob = new IceMessages(Buffers.ALLOCATOR, b.credentials, a.credentials);
            SplittableRandom random = new SplittableRandom(world.seed);
            InetSocketAddress sender = b.gathered.join().serverReflexive().address();
            int consumed = 0;
            int cases = 0;
            for (int i = 0; i < 300; i++) {
                byte[] noise = new byte[random.nextInt(0, 120)];
                random.nextBytes(noise);
                consumed += offer(a.session, Unpooled.wrappedBuffer(noise), sender);
                cases++;
            }
            byte[] check = bytes(fromBob.check(11L, 12, 1_000_000L, IceRole.CONTROLLED, 5L, false));
            for (int cut = 0; cut < check.length; cut++) {
                consumed += offer(a.session, Unpooled.wrappedBuffer(check, 0, cut), sender);
                cases++;
            }
            for (int at = 0; at < check.length; at++) {
                for (int bit = 0; bit < 8; bit++) {
                    byte[] flipped = check.clone();
                    flipped[at] ^= (byte) (1 << bit);
                    consumed += offer(a.session, Unpooled.wrappedBuffer(flipped), sender);
                    cases++;
                }
            }
            TraversalStats stats = a.session.stats();
            assertEquals(0, stats.requestsReceived(), "no damaged check was accepted as valid");
            assertTrue(consumed < cases, "most garbage is left to the caller: " + consumed + " of " + cases);
            assertTrue(world.runToOutcome(a, b, 30 * SECOND), "the session still works: " + a.failure);
        }
    }

    @Test
    void datagramsForOthersOnTheSharedSocketAreNotConsumed() {
        try (PunchSim world = PunchSim.withStunServers(22)) {
            PunchSim.TraversalPeer a = world.peer("alice", world.nat("203.0.113.1", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            PunchSim.TraversalPeer b = world.peer("bob", world.nat("203.0.113.2", NatConfig.FULL_CONE).inside(), "10.0.0.2");
            world.introduce(a, b, TraversalConfig.DEFAULT);
            InetSocketAddress sender = PunchSim.address("198.51.100.1", 3478);
            Credentials other = new Credentials("zzzz", "anotherSessionPassword1234");
            IceMessages otherSession = new IceMessages(Buffers.ALLOCATOR, BOB, other);
            assertEquals(0, offer(a.session, otherSession.check(1L, 2, 3L, IceRole.CONTROLLING, 4L, false), sender),
                    "a check for another ufrag belongs to another session");
            assertEquals(0, offer(a.session, otherSession.success(9L, 9, sender), sender),
                    "a response to a transaction that is not ours (e.g. the STUN client's)");
            assertEquals(0, offer(a.session, Unpooled.wrappedBuffer(new byte[] {(byte) 0x80, 1, 2, 3}), sender),
                    "a transport packet");
        }
    }

    /** Offers {@code datagram} to the session as the driver would, releasing it afterwards; 1 if consumed. */
    private static int offer(TraversalSession session, ByteBuf datagram, InetSocketAddress sender) {
        try {
            return session.onDatagram(datagram, sender) ? 1 : 0;
        } finally {
            datagram.release();
        }
    }

    private static byte[] bytes(ByteBuf buf) {
        try {
            byte[] out = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), out);
            return out;
        } finally {
            buf.release();
        }
    }
}
