package dev.pinhole.reliability.crypto;

import io.netty.buffer.ByteBuf;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AEAD_AES_256_GCM (RFC 5116 §5.2) over one packet in place, for one key generation of one direction:
 * the header is the associated data, the payload is encrypted where it lies and the 16-byte tag follows
 * it. The nonce is the IV XOR the packet number, left-padded to 12 bytes (RFC 9001 §5.3), so a packet
 * number used once never repeats a nonce under this key.
 *
 * <p>One {@link Cipher} per instance, initialized again for every packet (GCM needs a fresh nonce per
 * init). A buffer with a backing array is processed in that array, with the input and output at the same
 * offset, which the JCE allows. Any other buffer (direct, composite) is copied into a reused scratch array
 * and back: the copy is cheap next to GCM, and unlike a ByteBuffer view per packet it allocates nothing.
 */
final class PacketAead {
    static final int TAG_LENGTH = 16;
    private static final int TAG_BITS = TAG_LENGTH * 8;

    private final Cipher cipher;
    private final SecretKeySpec key;
    private final byte[] iv;
    private final byte[] nonce = new byte[TrafficKeys.IV_LENGTH];
    private byte[] scratch = new byte[0];

    PacketAead(byte[] key, byte[] iv) {
        if (key.length != TrafficKeys.KEY_LENGTH || iv.length != TrafficKeys.IV_LENGTH) {
            throw new IllegalArgumentException("AES-256-GCM needs a 32-byte key and a 12-byte IV");
        }
        this.key = new SecretKeySpec(key, "AES");
        this.iv = iv.clone();
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            // Java SE requires AES/GCM/NoPadding; a runtime without it cannot protect packets at all.
            throw new IllegalStateException("AES/GCM/NoPadding unavailable", e);
        }
    }

    /**
     * Encrypts the {@code payloadLength} bytes after the header at {@code start} and writes the tag right
     * after them; the buffer must already hold those 16 bytes (the caller extends the writer index).
     */
    void seal(ByteBuf packet, int start, int headerLength, int payloadLength, long packetNumber) {
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, nonceFor(packetNumber));
            final int length = headerLength + payloadLength;
            if (packet.hasArray()) {
                final byte[] array = packet.array();
                final int offset = packet.arrayOffset() + start;
                cipher.updateAAD(array, offset, headerLength);
                cipher.doFinal(array, offset + headerLength, payloadLength, array, offset + headerLength);
            } else {
                final byte[] work = scratch(length + TAG_LENGTH);
                packet.getBytes(start, work, 0, length);
                cipher.updateAAD(work, 0, headerLength);
                cipher.doFinal(work, headerLength, payloadLength, work, headerLength);
                packet.setBytes(start + headerLength, work, headerLength, payloadLength + TAG_LENGTH);
            }
        } catch (GeneralSecurityException e) {
            // Encryption with a valid key, a fresh nonce and room for the tag cannot fail.
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
    }

    /**
     * Verifies and decrypts the {@code ciphertextLength} bytes (payload and tag) after the header at
     * {@code start}; true if the tag was right, then the plaintext payload is in place of the ciphertext.
     * On false the payload bytes are unspecified.
     */
    boolean open(ByteBuf packet, int start, int headerLength, int ciphertextLength, long packetNumber) {
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, nonceFor(packetNumber));
            if (packet.hasArray()) {
                final byte[] array = packet.array();
                final int offset = packet.arrayOffset() + start;
                cipher.updateAAD(array, offset, headerLength);
                cipher.doFinal(array, offset + headerLength, ciphertextLength, array, offset + headerLength);
            } else {
                final int length = headerLength + ciphertextLength;
                final byte[] work = scratch(length);
                packet.getBytes(start, work, 0, length);
                cipher.updateAAD(work, 0, headerLength);
                cipher.doFinal(work, headerLength, ciphertextLength, work, headerLength);
                packet.setBytes(start + headerLength, work, headerLength, ciphertextLength - TAG_LENGTH);
            }
            return true;
        } catch (AEADBadTagException e) {
            // The normal outcome for a forged, corrupted or misdirected packet: the caller counts and drops it.
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption failed", e);
        }
    }

    private GCMParameterSpec nonceFor(long packetNumber) {
        // RFC 9001 §5.3: the 62-bit packet number in network byte order, left-padded with zeros to the IV's
        // length, XORed with the IV. Only the low 8 bytes can differ from the IV.
        System.arraycopy(iv, 0, nonce, 0, 4);
        for (int i = 0; i < 8; i++) {
            nonce[4 + i] = (byte) (iv[4 + i] ^ (packetNumber >>> (56 - 8 * i)));
        }
        // GCMParameterSpec copies the array: one small object per packet, our only allocation on this path.
        // The JCE itself allocates about 1 kB per GCM operation on JDK 17, which no API choice avoids
        // (measured in docs/decisions/0011-packet-protection.md).
        return new GCMParameterSpec(TAG_BITS, nonce);
    }

    private byte[] scratch(int length) {
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        return scratch;
    }
}
