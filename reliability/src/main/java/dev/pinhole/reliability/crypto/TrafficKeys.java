package dev.pinhole.reliability.crypto;

/**
 * The keys of one direction and one key generation, derived from a traffic secret as RFC 9001 §5.1
 * derives QUIC's: the AEAD key ("key", 32 bytes for AEAD_AES_256_GCM, RFC 5116 §5.2), the AEAD IV
 * ("iv", 12 bytes) and the header protection key ("hp", 32 bytes). {@link #next()} is the key update of RFC 9001 §6.1: the next
 * generation's secret is HKDF-Expand-Label(secret, "ku"), from which key and IV are derived again,
 * while the header protection key stays the first generation's (RFC 9001 §6: header protection keys
 * are not updated).
 */
final class TrafficKeys {
    static final int KEY_LENGTH = 32;
    static final int IV_LENGTH = 12;

    private final byte[] secret;
    final byte[] key;
    final byte[] iv;
    final byte[] headerProtectionKey;

    private TrafficKeys(byte[] secret, byte[] headerProtectionKey) {
        this.secret = secret;
        this.key = new Hkdf().expandLabel(secret, "key", KEY_LENGTH);
        this.iv = new Hkdf().expandLabel(secret, "iv", IV_LENGTH);
        this.headerProtectionKey = headerProtectionKey;
    }

    /** The first generation's keys from a 32-byte traffic secret; the array is copied. */
    static TrafficKeys fromSecret(byte[] trafficSecret) {
        if (trafficSecret.length != Hkdf.HASH_LENGTH) {
            throw new IllegalArgumentException("a traffic secret has " + Hkdf.HASH_LENGTH + " bytes, was "
                    + trafficSecret.length);
        }
        final byte[] secret = trafficSecret.clone();
        return new TrafficKeys(secret, new Hkdf().expandLabel(secret, "hp", KEY_LENGTH));
    }

    /** The next generation (RFC 9001 §6.1): new secret, key and IV; the same header protection key. */
    TrafficKeys next() {
        return new TrafficKeys(new Hkdf().expandLabel(secret, "ku", Hkdf.HASH_LENGTH), headerProtectionKey);
    }
}
