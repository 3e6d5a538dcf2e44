package dev.pinhole.reliability.crypto;

import static dev.pinhole.reliability.crypto.ProtectionFixture.HEADER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.reliability.crypto.ProtectionFixture.Shape;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Key updates (RFC 9001 §6) and the per-key limits (RFC 9001 §6.6). */
class KeyPhaseTest {
    private static final int PAYLOAD = 25;
    private final Deque<ByteBuf> held = new ArrayDeque<>();

    @AfterEach
    void releaseHeldPackets() {
        held.forEach(ByteBuf::release);
    }

    private static ByteBuf sealed(PacketSealer sealer, long pn) {
        final ByteBuf packet = ProtectionFixture.packet(Shape.HEAP, pn, ProtectionFixture.payload(PAYLOAD, pn));
        assertEquals(HEADER + PAYLOAD + PacketProtection.TAG_LENGTH, sealer.seal(packet, HEADER, pn));
        return packet;
    }

    /** Seals {@code pn}, keeps it for a later open (a delayed packet), and returns it. */
    private ByteBuf hold(PacketSealer sealer, long pn) {
        final ByteBuf packet = sealed(sealer, pn);
        held.add(packet);
        return packet;
    }

    private static int sendAndOpen(PacketSealer sealer, PacketOpener opener, long pn) {
        final ByteBuf packet = sealed(sealer, pn);
        try {
            return opener.open(packet, HEADER, pn - 1);
        } finally {
            packet.release();
        }
    }

    @Test
    void oldPhasePacketsOpenAfterTheSwitchUntilThePreviousKeysAreDiscarded() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(30));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(30));
        for (long pn = 0; pn < 8; pn++) {
            assertEquals(PAYLOAD, sendAndOpen(sealer, opener, pn));
        }
        final ByteBuf late8 = hold(sealer, 8);
        final ByteBuf late9 = hold(sealer, 9);
        sealer.updateKeys();
        assertEquals(1, sealer.keyPhase());
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 10));
        assertEquals(1, opener.generation(), "the first authenticated packet of the new phase switches the keys");
        assertEquals(1, opener.keyPhase());
        assertTrue(opener.hasPreviousKeys());
        assertEquals(PAYLOAD, opener.open(late8, HEADER, 10), "a delayed old-phase packet opens with the previous keys");
        assertEquals(8, opener.openedPacketNumber());
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 11));
        opener.discardPreviousKeys();
        assertEquals(PacketProtection.OPEN_KEY_UNAVAILABLE, opener.open(late9, HEADER, 11), "too late");
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 12), "the current phase is unaffected");
    }

    @Test
    void thePreviousKeysLastABoundedNumberOfPackets() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(31));
        final PacketOpener opener = new PacketOpener(TrafficKeys.fromSecret(ProtectionFixture.secret(31)), 4,
                PacketProtection.INTEGRITY_LIMIT);
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 0));
        final ByteBuf late1 = hold(sealer, 1);
        final ByteBuf late2 = hold(sealer, 2);
        sealer.updateKeys();
        for (long pn = 3; pn < 6; pn++) {
            assertEquals(PAYLOAD, sendAndOpen(sealer, opener, pn));
        }
        assertEquals(PAYLOAD, opener.open(late1, HEADER, 5), "3 packets into the new phase, within the bound of 4");
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 6));
        assertFalse(opener.hasPreviousKeys(), "the 4th packet of the new phase ends the old one");
        assertEquals(PacketProtection.OPEN_KEY_UNAVAILABLE, opener.open(late2, HEADER, 6));
    }

    @Test
    void anUpdateMayStartOnlyOnceAPacketOfTheCurrentPhaseWasAcknowledged() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(39));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(39));
        assertFalse(sealer.mayInitiateKeyUpdate(-1), "nothing sent yet");
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 0));
        assertFalse(sealer.mayInitiateKeyUpdate(-1));
        assertTrue(sealer.mayInitiateKeyUpdate(0));
        sealer.updateKeys();
        assertFalse(sealer.mayInitiateKeyUpdate(0), "the new phase has no packet yet");
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 1));
        assertFalse(sealer.mayInitiateKeyUpdate(0), "only an old-phase packet acknowledged");
        assertTrue(sealer.mayInitiateKeyUpdate(1));
    }

    @Test
    void aForgedKeyPhaseBitMovesNothing() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(32));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(32));
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 0));
        final ByteBuf forged = sealed(sealer, 1);
        try {
            // Header protection is an XOR, so flipping the wire bit flips the bit the opener sees.
            forged.setByte(0, forged.getByte(0) ^ PacketProtection.KEY_PHASE_BIT);
            assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, opener.open(forged, HEADER, 0));
        } finally {
            forged.release();
        }
        assertEquals(0, opener.generation());
        assertEquals(0, opener.keyPhase());
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, 2));
    }

    @Test
    void successiveUpdatesStayInStepAndGenerationsBeforeThePreviousFail() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(33));
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(33));
        long pn = 0;
        final ByteBuf generation0 = hold(sealer, pn++);
        for (int generation = 1; generation <= 5; generation++) {
            sealer.updateKeys();
            for (int i = 0; i < 3; i++) {
                assertEquals(PAYLOAD, sendAndOpen(sealer, opener, pn++));
            }
            assertEquals(generation, opener.generation());
            assertEquals(generation & 1, opener.keyPhase());
        }
        // Generation 0's packet carries phase 0, like the retained previous generation 4: it is tried with
        // those keys and fails to authenticate, as a phase bit only tells apart neighbouring generations.
        assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, opener.open(generation0, HEADER, pn - 1));
    }

    @Test
    void bothDirectionsFollowAnUpdateThePeerStarted() {
        final byte[] aToB = ProtectionFixture.secret(34);
        final byte[] bToA = ProtectionFixture.secret(35);
        final PacketSealer aSealer = PacketProtection.sealer(aToB);
        final PacketOpener bOpener = PacketProtection.opener(aToB);
        final PacketSealer bSealer = PacketProtection.sealer(bToA);
        final PacketOpener aOpener = PacketProtection.opener(bToA);
        assertEquals(PAYLOAD, sendAndOpen(aSealer, bOpener, 0));
        assertEquals(PAYLOAD, sendAndOpen(bSealer, aOpener, 0));
        aSealer.updateKeys();
        assertEquals(PAYLOAD, sendAndOpen(aSealer, bOpener, 1));
        // What the transport does (RFC 9001 §6.2): the peer updated, so this side updates its sending keys.
        if (bOpener.generation() > bSealer.generation()) {
            bSealer.updateKeys();
        }
        assertEquals(PAYLOAD, sendAndOpen(bSealer, aOpener, 1));
        assertEquals(1, aOpener.generation());
    }

    @Test
    void theSealerAsksForAnUpdateAndRefusesAtTheConfidentialityLimit() {
        final PacketSealer sealer = new PacketSealer(TrafficKeys.fromSecret(ProtectionFixture.secret(36)), 8);
        final PacketOpener opener = PacketProtection.opener(ProtectionFixture.secret(36));
        long pn = 0;
        for (; pn < 8; pn++) {
            assertEquals(pn >= 4, sealer.needsKeyUpdate(), "asks at half the limit, packet " + pn);
            assertEquals(PAYLOAD, sendAndOpen(sealer, opener, pn));
        }
        final ByteBuf refused = ProtectionFixture.packet(Shape.HEAP, pn, new byte[PAYLOAD]);
        try {
            assertEquals(PacketProtection.SEAL_KEY_EXHAUSTED, sealer.seal(refused, HEADER, pn));
            assertEquals(HEADER + PAYLOAD, refused.readableBytes(), "left unsealed");
        } finally {
            refused.release();
        }
        sealer.updateKeys();
        assertFalse(sealer.needsKeyUpdate());
        assertEquals(0, sealer.sealedWithCurrentKey());
        assertEquals(PAYLOAD, sendAndOpen(sealer, opener, pn), "the refused number is still free");
        assertTrue(PacketProtection.KEY_UPDATE_THRESHOLD < PacketProtection.CONFIDENTIALITY_LIMIT);
    }

    @Test
    void theOpenerStopsAtTheIntegrityLimit() {
        final PacketSealer sealer = PacketProtection.sealer(ProtectionFixture.secret(37));
        final PacketOpener opener = new PacketOpener(TrafficKeys.fromSecret(ProtectionFixture.secret(37)),
                PacketProtection.PREVIOUS_KEYS_PACKET_LIMIT, 3);
        final PacketSealer stranger = PacketProtection.sealer(ProtectionFixture.secret(38));
        for (long pn = 0; pn < 3; pn++) {
            assertEquals(PacketProtection.OPEN_AUTHENTICATION_FAILED, sendAndOpen(stranger, opener, pn));
        }
        assertEquals(3, opener.failedOpens());
        assertEquals(PacketProtection.OPEN_INTEGRITY_LIMIT_REACHED, sendAndOpen(sealer, opener, 0),
                "even a genuine packet: the connection must close");
    }
}
