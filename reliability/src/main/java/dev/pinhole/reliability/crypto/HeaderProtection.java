package dev.pinhole.reliability.crypto;

import dev.pinhole.reliability.wire.PacketHeader;
import io.netty.buffer.ByteBuf;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-based header protection of RFC 9001 §5.4.3, fitted to the fixed Pinhole header: the mask is
 * AES-ECB(hp_key, sample) over a 16-byte sample of the ciphertext; its first byte masks the key phase bit
 * of the first header byte ({@link PacketProtection#KEY_PHASE_BIT}), its next four bytes mask the four
 * packet number bytes at offset 9.
 *
 * <p>The sample starts right after the header. Pinhole's packet number is always 4 bytes and ends the
 * header, so that is exactly RFC 9001 §5.4.2's pn_offset + 4, and because every sealed packet carries a
 * 16-byte tag, the sample always exists: no padding rule is needed, unlike QUIC with its 1-byte packet
 * numbers.
 *
 * <p>It complements the AEAD (RFC 5116), which authenticates the header but leaves it readable: header
 * protection hides the fields an observer could use to follow or link packets, and any change to the
 * masked bytes still fails the AEAD check, because the opener authenticates the unmasked header.
 *
 * <p>Applying and removing are the same XOR, since no masked bit decides which bytes are masked (the
 * packet number length is fixed).
 */
final class HeaderProtection {
    static final int SAMPLE_LENGTH = 16;

    private final Cipher ecb;
    private final byte[] sample = new byte[SAMPLE_LENGTH];
    private final byte[] mask = new byte[SAMPLE_LENGTH];

    HeaderProtection(byte[] headerProtectionKey) {
        try {
            ecb = Cipher.getInstance("AES/ECB/NoPadding");
            ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(headerProtectionKey, "AES"));
        } catch (GeneralSecurityException e) {
            // Java SE requires AES/ECB/NoPadding, and the key is 32 bytes by construction.
            throw new IllegalStateException("AES/ECB/NoPadding unavailable", e);
        }
    }

    /**
     * XORs the mask into the header of the packet at {@code start}, whose ciphertext starts at
     * {@code start + headerLength} and holds at least {@link #SAMPLE_LENGTH} bytes (the caller checks).
     */
    void apply(ByteBuf packet, int start, int headerLength) {
        packet.getBytes(start + headerLength, sample, 0, SAMPLE_LENGTH);
        try {
            ecb.doFinal(sample, 0, SAMPLE_LENGTH, mask, 0);
        } catch (GeneralSecurityException e) {
            // One full block into a 16-byte array cannot fail.
            throw new IllegalStateException("AES-ECB failed on one block", e);
        }
        // Two reads and two writes rather than one per byte: the buffer's accessors are not free (bounds
        // checks, and a recorded touch per call under Netty's paranoid leak detection).
        final int first = start + PacketHeader.FIRST_BYTE_OFFSET;
        packet.setByte(first, packet.getByte(first) ^ (mask[0] & PacketProtection.KEY_PHASE_BIT));
        final int pn = start + PacketHeader.PACKET_NUMBER_OFFSET;
        final int pnMask = (mask[1] & 0xFF) << 24 | (mask[2] & 0xFF) << 16 | (mask[3] & 0xFF) << 8 | (mask[4] & 0xFF);
        packet.setInt(pn, packet.getInt(pn) ^ pnMask);
    }
}
