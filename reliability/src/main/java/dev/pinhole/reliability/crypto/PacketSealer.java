package dev.pinhole.reliability.crypto;

import dev.pinhole.reliability.wire.PacketHeader;
import dev.pinhole.reliability.wire.PacketNumbers;
import io.netty.buffer.ByteBuf;

/**
 * Protects the packets of one sending direction (RFC 9001 §5): sets the key phase bit, seals the payload
 * with AEAD_AES_256_GCM (RFC 5116) in place, the header as associated data and the nonce the IV XOR the
 * packet number, appends the tag, then applies header protection (RFC 9001 §5.4).
 *
 * <p>Packet numbers must strictly increase across calls: a repeated number would repeat a GCM nonce under
 * the same key, which gives away the authentication key, so this class refuses it rather than trusting
 * the caller. Not thread-safe; one per connection, used on its event loop.
 */
public final class PacketSealer {
    private final long confidentialityLimit;
    private final HeaderProtection headerProtection;
    private TrafficKeys keys;
    private PacketAead aead;
    private int keyPhase;
    private long generation;
    private long sealedWithKey;
    private long lastPacketNumber = -1;
    /** The first packet number sealed in the current phase, or -1 before the phase's first packet. */
    private long firstPacketNumberOfPhase = -1;

    PacketSealer(TrafficKeys keys, long confidentialityLimit) {
        this.keys = keys;
        this.aead = new PacketAead(keys.key, keys.iv);
        this.headerProtection = new HeaderProtection(keys.headerProtectionKey);
        this.confidentialityLimit = confidentialityLimit;
    }

    /**
     * Seals the packet whose header starts at the reader index of {@code packet} and whose payload runs to
     * the writer index: encrypts the payload in place, writes the {@link PacketProtection#TAG_LENGTH}-byte
     * tag at the writer index (allocate the buffer with that room to spare, or Netty grows it) and masks
     * the header.
     *
     * @param headerLength  the header's length, {@link PacketHeader#HEADER_LENGTH} today
     * @param packetNumber  the full packet number, whose low 32 bits the header already carries; greater
     *                      than any sealed before
     * @return the sealed packet's length, or {@link PacketProtection#SEAL_KEY_EXHAUSTED} if this key
     *         reached {@link PacketProtection#CONFIDENTIALITY_LIMIT} (the packet is left unsealed; update
     *         the keys or close the connection)
     * @throws IllegalArgumentException if the packet number does not increase, does not match the header,
     *         or the header is shorter than the fixed fields
     */
    public int seal(ByteBuf packet, int headerLength, long packetNumber) {
        final int start = packet.readerIndex();
        final int payloadLength = packet.readableBytes() - headerLength;
        if (headerLength < PacketHeader.HEADER_LENGTH || payloadLength < 0) {
            throw new IllegalArgumentException("header length " + headerLength + " with " + packet.readableBytes()
                    + " readable bytes");
        }
        if (packetNumber <= lastPacketNumber || packetNumber > PacketNumbers.MAX_PACKET_NUMBER) {
            throw new IllegalArgumentException("packet number " + packetNumber + " after " + lastPacketNumber
                    + " would reuse a nonce or leave the 62-bit space");
        }
        if (packet.getUnsignedInt(start + PacketHeader.PACKET_NUMBER_OFFSET) != PacketNumbers.truncate(packetNumber)) {
            throw new IllegalArgumentException("header does not carry the low 32 bits of " + packetNumber);
        }
        if (sealedWithKey >= confidentialityLimit) {
            return PacketProtection.SEAL_KEY_EXHAUSTED;
        }
        lastPacketNumber = packetNumber;
        if (sealedWithKey++ == 0) {
            firstPacketNumberOfPhase = packetNumber;
        }
        final int first = start + PacketHeader.FIRST_BYTE_OFFSET;
        final int firstByte = packet.getByte(first) & ~PacketProtection.KEY_PHASE_BIT;
        packet.setByte(first, keyPhase == 0 ? firstByte : firstByte | PacketProtection.KEY_PHASE_BIT);
        packet.ensureWritable(PacketProtection.TAG_LENGTH);
        packet.writerIndex(packet.writerIndex() + PacketProtection.TAG_LENGTH);
        aead.seal(packet, start, headerLength, payloadLength, packetNumber);
        headerProtection.apply(packet, start, headerLength);
        return headerLength + payloadLength + PacketProtection.TAG_LENGTH;
    }

    /**
     * Moves to the next key generation and flips the key phase (RFC 9001 §6.1). The transport calls it when
     * {@link #needsKeyUpdate()} says so, but only once a packet it sent with the current keys has been
     * acknowledged (RFC 9001 §6.1), and also when the peer updated first ({@link PacketOpener#generation()}
     * moved past this sealer's, RFC 9001 §6.2).
     */
    public void updateKeys() {
        keys = keys.next();
        aead = new PacketAead(keys.key, keys.iv);
        keyPhase ^= 1;
        generation++;
        sealedWithKey = 0;
        firstPacketNumberOfPhase = -1;
    }

    /**
     * True if this side may start a key update: RFC 9001 §6.1 allows one only after a packet sealed with the
     * current keys was acknowledged, so that the peer has them and can follow, and so that there are never
     * more than two phases in flight. ({@link #updateKeys()} in answer to the peer's update needs no check.)
     *
     * @param largestAcked the largest packet number of this direction the peer acknowledged, or -1
     */
    public boolean mayInitiateKeyUpdate(long largestAcked) {
        return firstPacketNumberOfPhase >= 0 && largestAcked >= firstPacketNumberOfPhase;
    }

    /** True once the current key protected {@link PacketProtection#KEY_UPDATE_THRESHOLD} packets. */
    public boolean needsKeyUpdate() {
        return sealedWithKey >= Math.min(PacketProtection.KEY_UPDATE_THRESHOLD, confidentialityLimit / 2);
    }

    /** The key phase bit the next packet carries, 0 or 1. */
    public int keyPhase() {
        return keyPhase;
    }

    /** Key updates so far: 0 for the handshake's keys. */
    public long generation() {
        return generation;
    }

    /** Packets sealed with the current key. */
    public long sealedWithCurrentKey() {
        return sealedWithKey;
    }
}
