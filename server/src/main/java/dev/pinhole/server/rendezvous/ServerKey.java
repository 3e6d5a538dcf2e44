package dev.pinhole.server.rendezvous;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.random.RandomGenerator;
import javax.crypto.KeyAgreement;

/**
 * The rendezvous server's X25519 key pair (RFC 7748), made when the server starts, on the JDK's X25519 (the
 * server does not depend on the reliability module's {@code Identity}): its public key goes out in SERVER-KEY,
 * and {@link #dh} gives the shared secret with a node's NODE-KEY from which the session key is derived
 * ({@code RendezvousProtocol.sessionKey}). One thread (the server's event loop).
 */
final class ServerKey {
    static final int KEY_BYTES = 32;
    private static final byte[] BASE_POINT = new byte[KEY_BYTES];

    static {
        BASE_POINT[0] = 9;
    }

    private final PrivateKey privateKey;
    private final byte[] publicKey;
    private final KeyFactory factory;
    private final KeyAgreement agreement;

    /** A key pair whose private scalar is drawn from {@code random} (a seeded one in simulations). */
    ServerKey(RandomGenerator random) {
        byte[] scalar = new byte[KEY_BYTES];
        random.nextBytes(scalar);
        try {
            factory = KeyFactory.getInstance("X25519");
            agreement = KeyAgreement.getInstance("X25519");
            privateKey = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK 11+ provides X25519", e);
        }
        byte[] derived = dh(BASE_POINT);
        if (derived == null) {
            throw new IllegalStateException("X25519 of the base point failed");
        }
        publicKey = derived;
    }

    /** The raw 32-byte public key (not a copy: do not modify). */
    byte[] publicKey() {
        return publicKey;
    }

    /**
     * X25519(private, peer): 32 bytes, or null if {@code peer} is not 32 bytes, is refused by the JDK, or
     * gives the all-zero output of a small-order point (RFC 7748 §6.1).
     */
    byte[] dh(byte[] peer) {
        if (peer == null || peer.length != KEY_BYTES) {
            return null;
        }
        try {
            byte[] le = peer.clone();
            le[KEY_BYTES - 1] &= 0x7F;
            byte[] be = new byte[KEY_BYTES];
            for (int i = 0; i < KEY_BYTES; i++) {
                be[i] = le[KEY_BYTES - 1 - i];
            }
            PublicKey peerKey = factory.generatePublic(
                new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, be)));
            agreement.init(privateKey);
            agreement.doPhase(peerKey, true);
            byte[] secret = agreement.generateSecret();
            int any = 0;
            for (byte b : secret) {
                any |= b;
            }
            return any == 0 ? null : secret;
        } catch (GeneralSecurityException | RuntimeException e) {
            return null;
        }
    }
}
