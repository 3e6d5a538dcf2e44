package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.crypto.PacketOpener;
import dev.pinhole.reliability.crypto.PacketProtection;
import dev.pinhole.reliability.crypto.PacketSealer;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * One connection's packet protection after the handshake (docs/decisions/0011): the sealer for what it sends
 * and the opener for what it receives, both from the Noise split, with RFC 9001 §6's key updates and the
 * counters of packets that failed to open.
 */
final class PacketKeys {
    /**
     * The longest a sending key is used (10 minutes), however few packets it sealed: a key update bounds what
     * one key protects in time as well as in packets, as WireGuard rekeys every 2 minutes and TLS 1.3
     * stacks after some volume or time.
     */
    static final long KEY_UPDATE_INTERVAL_NS = 600_000_000_000L;

    private final PacketSealer sealer;
    private long keySinceNs = Connection.NO_DEADLINE;
    private final PacketOpener opener;
    private long openerGeneration;
    private long discardPreviousAtNs = Connection.NO_DEADLINE;
    private long authenticationFailures;
    private long keyUnavailable;
    private long tooShort;

    /** Takes the split's secrets and wipes them. */
    PacketKeys(byte[] sendSecret, byte[] receiveSecret) {
        this.sealer = PacketProtection.sealer(sendSecret);
        this.opener = PacketProtection.opener(receiveSecret);
        Arrays.fill(sendSecret, (byte) 0);
        Arrays.fill(receiveSecret, (byte) 0);
    }

    /**
     * Opens the packet at the reader index in place (header protection, packet number, AEAD); returns the
     * payload length, or a negative {@code PacketProtection.OPEN_} code after counting it.
     */
    int open(ByteBuf packet, int headerLength, long largestReceived) {
        int result = opener.open(packet, headerLength, largestReceived);
        if (result >= 0) {
            return result;
        }
        switch (result) {
            case PacketProtection.OPEN_AUTHENTICATION_FAILED -> authenticationFailures++;
            case PacketProtection.OPEN_KEY_UNAVAILABLE -> keyUnavailable++;
            case PacketProtection.OPEN_TOO_SHORT -> tooShort++;
            default -> {
            }
        }
        return result;
    }

    /** The full number of the packet {@link #open} just opened. */
    long openedPacketNumber() {
        return opener.openedPacketNumber();
    }

    /**
     * After a packet opened and was accepted: follows a key update of the peer (RFC 9001 §6.2: answer with
     * our own) and arms the discarding of the previous keys three PTOs later (§6.5).
     */
    void afterOpen(long nowNs, long ptoNs) {
        long generation = opener.generation();
        if (generation != openerGeneration) {
            openerGeneration = generation;
            discardPreviousAtNs = nowNs + Connection.CLOSE_PTO_MULTIPLIER * ptoNs;
            if (generation > sealer.generation()) {
                sealer.updateKeys();
                keySinceNs = nowNs;
            }
        }
    }

    /**
     * Before sealing: starts a key update when the current key has sealed {@link PacketProtection#KEY_UPDATE_THRESHOLD}
     * packets or is {@link #KEY_UPDATE_INTERVAL_NS} old, once RFC 9001 §6.1 allows it (a packet of the current
     * phase was acknowledged).
     */
    void beforeSeal(long nowNs, long largestAcked) {
        if (keySinceNs == Connection.NO_DEADLINE) {
            keySinceNs = nowNs;
        }
        boolean due = sealer.needsKeyUpdate() || nowNs - keySinceNs >= KEY_UPDATE_INTERVAL_NS;
        if (due && sealer.mayInitiateKeyUpdate(largestAcked)) {
            sealer.updateKeys();
            keySinceNs = nowNs;
        }
    }

    /**
     * Seals the packet at the reader index in place; {@code packet} must have {@link PacketProtection#TAG_LENGTH}
     * writable bytes. Returns false if the key is exhausted (the connection must close).
     */
    boolean seal(ByteBuf packet, int headerLength, long packetNumber) {
        return sealer.seal(packet, headerLength, packetNumber) >= 0;
    }

    /** When the previous receive keys go, or {@link Connection#NO_DEADLINE}. */
    long deadlineNs() {
        return discardPreviousAtNs;
    }

    void onTimeout(long nowNs) {
        if (nowNs >= discardPreviousAtNs) {
            opener.discardPreviousKeys();
            discardPreviousAtNs = Connection.NO_DEADLINE;
        }
    }

    /** Packets that did not authenticate (forged, damaged, or for keys that were never ours). */
    long authenticationFailures() {
        return authenticationFailures;
    }

    /** Packets of a key phase whose keys were already discarded. */
    long keyUnavailable() {
        return keyUnavailable;
    }

    /** Packets too short to hold a tag. */
    long tooShort() {
        return tooShort;
    }

    /** Key updates this side made (its own and in answer to the peer's). */
    long keyUpdates() {
        return sealer.generation();
    }
}
