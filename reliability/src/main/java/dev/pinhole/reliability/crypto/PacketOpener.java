package dev.pinhole.reliability.crypto;

import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.PacketNumbers;
import io.netty.buffer.ByteBuf;

/**
 * Removes the protection of the packets of one receiving direction (RFC 9001 §5): removes header
 * protection (RFC 9001 §5.4), reconstructs the packet number, picks the keys by the key phase bit and the
 * packet number (RFC 9001 §6.3, §6.5), then verifies and decrypts the payload in place with
 * AEAD_AES_256_GCM (RFC 5116).
 *
 * <p>Bad input never throws: every failure is a negative result code of {@link PacketProtection} that the
 * caller counts before it drops the datagram. After a failure the buffer's bytes are unspecified but its
 * indices are unchanged; after a success the writer index is moved back over the tag, so the readable
 * bytes are the header and the plaintext payload.
 *
 * <p>Keys across an update: the opener holds the current generation, the next one (derived in advance,
 * so that the first packet of a new phase costs no derivation, RFC 9001 §9.5), and after an update the
 * previous one, until {@link #discardPreviousKeys()} or {@link PacketProtection#PREVIOUS_KEYS_PACKET_LIMIT}
 * packets with the new keys. The keys move only when a packet of the new phase authenticates, so a forged
 * key phase bit changes nothing.
 *
 * <p>Replay: a repeated packet opens again; the transport's duplicate detection on the packet number must
 * drop it. Not thread-safe; one per connection, used on its event loop.
 */
public final class PacketOpener {
    private final long previousKeysPacketLimit;
    private final long integrityLimit;
    private final HeaderProtection headerProtection;
    private TrafficKeys nextKeys;
    private PacketAead current;
    private PacketAead next;
    private PacketAead previous;
    private int keyPhase;
    private long generation;
    /** The lowest packet number opened with the current keys; old-phase packets are below it. */
    private long lowestCurrentPacketNumber = Long.MAX_VALUE;
    private long openedSinceUpdate;
    private long failedOpens;
    private long openedPacketNumber = -1;

    PacketOpener(TrafficKeys keys, long previousKeysPacketLimit, long integrityLimit) {
        this.previousKeysPacketLimit = previousKeysPacketLimit;
        this.integrityLimit = integrityLimit;
        this.headerProtection = new HeaderProtection(keys.headerProtectionKey);
        this.current = new PacketAead(keys.key, keys.iv);
        this.nextKeys = keys.next();
        this.next = new PacketAead(nextKeys.key, nextKeys.iv);
    }

    /**
     * Removes header protection, reconstructs the full packet number against {@code largestReceived}
     * ({@link PacketNumbers#decode}) and opens the packet, all in place; the packet starts at the reader
     * index. On success {@link #openedPacketNumber()} is the packet's full number.
     *
     * @param largestReceived the largest packet number received in this direction so far, or -1
     * @return the payload length (0 or more), or a negative {@code OPEN_} code of {@link PacketProtection}
     */
    public int open(ByteBuf packet, int headerLength, long largestReceived) {
        final long truncated = removeHeaderProtection(packet, headerLength);
        if (truncated < 0) {
            return (int) truncated;
        }
        return openUnprotected(packet, headerLength, PacketNumbers.decode(largestReceived, truncated));
    }

    /**
     * The first half of {@link #open(ByteBuf, int, long)}, for a caller that reconstructs the packet
     * number itself: unmasks the key phase bit and the packet number bytes in place and returns the low 32
     * bits of the packet number, or {@link PacketProtection#OPEN_TOO_SHORT}. Call it once per datagram.
     */
    public long removeHeaderProtection(ByteBuf packet, int headerLength) {
        checkHeaderLength(headerLength);
        // The tag guarantees the 16-byte sample right after the header in every sealed packet.
        if (packet.readableBytes() < headerLength + PacketProtection.TAG_LENGTH) {
            return PacketProtection.OPEN_TOO_SHORT;
        }
        final int start = packet.readerIndex();
        headerProtection.apply(packet, start, headerLength);
        return packet.getUnsignedInt(start + PacketHeader.PACKET_NUMBER_OFFSET);
    }

    /**
     * The second half of {@link #open(ByteBuf, int, long)}: opens a packet whose header protection was
     * removed, with its full packet number. The keys are chosen by the key phase bit and
     * {@code packetNumber}.
     *
     * @return the payload length (0 or more), or a negative {@code OPEN_} code of {@link PacketProtection}
     */
    public int openUnprotected(ByteBuf packet, int headerLength, long packetNumber) {
        if (failedOpens >= integrityLimit) {
            return PacketProtection.OPEN_INTEGRITY_LIMIT_REACHED;
        }
        checkHeaderLength(headerLength);
        final int start = packet.readerIndex();
        final int ciphertextLength = packet.readableBytes() - headerLength;
        if (ciphertextLength < PacketProtection.TAG_LENGTH) {
            return PacketProtection.OPEN_TOO_SHORT;
        }
        final int firstByte = packet.getByte(start + PacketHeader.FIRST_BYTE_OFFSET);
        final int phase = (firstByte & PacketProtection.KEY_PHASE_BIT) == 0 ? 0 : 1;
        final PacketAead aead;
        boolean update = false;
        if (phase == keyPhase) {
            aead = current;
        } else if (packetNumber < lowestCurrentPacketNumber && generation > 0) {
            // RFC 9001 §6.5: the other phase below the current phase's packets is the previous phase.
            if (previous == null) {
                return PacketProtection.OPEN_KEY_UNAVAILABLE;
            }
            aead = previous;
        } else {
            // RFC 9001 §6.3: the other phase above them is the peer's key update.
            aead = next;
            update = true;
        }
        if (!aead.open(packet, start, headerLength, ciphertextLength, packetNumber)) {
            failedOpens++;
            return PacketProtection.OPEN_AUTHENTICATION_FAILED;
        }
        if (update) {
            promote(packetNumber);
        } else if (aead == current) {
            lowestCurrentPacketNumber = Math.min(lowestCurrentPacketNumber, packetNumber);
            if (previous != null && ++openedSinceUpdate >= previousKeysPacketLimit) {
                previous = null;
            }
        }
        openedPacketNumber = packetNumber;
        final int payloadLength = ciphertextLength - PacketProtection.TAG_LENGTH;
        packet.writerIndex(start + headerLength + payloadLength);
        return payloadLength;
    }

    /** A header length below the fixed fields is the caller's bug, not bad input: it throws. */
    private static void checkHeaderLength(int headerLength) {
        if (headerLength < PacketHeader.HEADER_LENGTH) {
            throw new IllegalArgumentException("header length " + headerLength + " below the fixed fields");
        }
    }

    private void promote(long packetNumber) {
        previous = current;
        current = next;
        nextKeys = nextKeys.next();
        next = new PacketAead(nextKeys.key, nextKeys.iv);
        keyPhase ^= 1;
        generation++;
        lowestCurrentPacketNumber = packetNumber;
        openedSinceUpdate = 1;
        if (openedSinceUpdate >= previousKeysPacketLimit) {
            previous = null;
        }
    }

    /**
     * Forgets the previous generation's keys. The transport calls it three probe timeouts after a key
     * update (RFC 9001 §6.5); old-phase packets that arrive later fail with
     * {@link PacketProtection#OPEN_KEY_UNAVAILABLE}.
     */
    public void discardPreviousKeys() {
        previous = null;
    }

    /** True while packets of the previous key phase can still be opened. */
    public boolean hasPreviousKeys() {
        return previous != null;
    }

    /** The full packet number of the last packet opened successfully, or -1. */
    public long openedPacketNumber() {
        return openedPacketNumber;
    }

    /** The current key phase, 0 or 1. */
    public int keyPhase() {
        return keyPhase;
    }

    /** Key updates of the peer seen so far: 0 for the handshake's keys. */
    public long generation() {
        return generation;
    }

    /** Packets that failed authentication over the connection's life, counted against the integrity limit. */
    public long failedOpens() {
        return failedOpens;
    }
}
