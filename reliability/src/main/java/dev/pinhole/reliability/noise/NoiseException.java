package dev.pinhole.reliability.noise;

import java.security.GeneralSecurityException;

/**
 * A Noise message or ciphertext was rejected: an AEAD tag did not verify (Noise revision 34, §5.1),
 * a handshake message was short, longer than 65535 bytes (§3) or arrived out of turn (§5.3), a
 * Diffie-Hellman result was all zeros (§12.1), or a nonce ran out (§5.1).
 *
 * <p>Checked on purpose: every such failure can be caused by whoever sends datagrams to us, so the
 * transport must catch it, count it and drop the datagram rather than let it unwind the event loop.
 * The messages name the failure but never carry key material.
 */
public final class NoiseException extends GeneralSecurityException {
    private static final long serialVersionUID = 1L;

    public NoiseException(String message) {
        super(message);
    }

    public NoiseException(String message, Throwable cause) {
        super(message, cause);
    }
}
