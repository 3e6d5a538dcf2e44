package dev.pinhole.server.relay;

import dev.pinhole.protocol.turn.TurnCredentials;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Objects;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived TURN credentials from the relay's secret, known to the relay and the rendezvous server that
 * issues them, in the style of the "TURN REST API" (draft-uberti-behave-turn-rest-00 §2.2), which coturn
 * implements as {@code --use-auth-secret}: so the same format works on Pinhole's built-in relay and on
 * coturn. The secret is the relay's own (the built-in relay draws one per run), never the rendezvous
 * shared secret, which every peer knows.
 *
 * <ul>
 *   <li>username = {@code "<expiry as Unix seconds>:<user id>"}; the rendezvous server's user id is the
 *       grant id {@code <node>.<introduction>.<role>} ({@link RelayGrants})</li>
 *   <li>password = {@code base64(HMAC-SHA1(secret, username))}</li>
 * </ul>
 *
 * A username whose expiry has passed is refused ({@link #password} returns null), as is one whose
 * first field is not a number. The expiry is checked against wall-clock Unix time, which the caller
 * supplies ({@code () -> System.currentTimeMillis() / 1000} in production; a fixed or virtual value in
 * tests), so the protocol core still never reads a clock itself.
 *
 * <p>{@link #issue} is thread-safe (it creates its own {@link Mac}); {@link #password} reuses one and
 * must be called on one thread, the server's event loop.
 */
public final class RestCredentials implements TurnAuthenticator {
    private static final String HMAC_SHA1 = "HmacSHA1";
    /** The draft's separator between the expiry timestamp and the user id. */
    private static final char SEPARATOR = ':';

    private final SecretKeySpec secret;
    private final LongSupplier unixSeconds;
    private final Mac mac;

    /**
     * @param sharedSecret the secret the rendezvous server signs with (copied; at least 16 bytes)
     * @param unixSeconds  the current wall-clock time in seconds since 1970
     */
    public RestCredentials(byte[] sharedSecret, LongSupplier unixSeconds) {
        Objects.requireNonNull(sharedSecret, "sharedSecret");
        if (sharedSecret.length < 16) {
            throw new IllegalArgumentException("the shared secret should have at least 16 bytes (128 bits), got "
                + sharedSecret.length);
        }
        this.secret = new SecretKeySpec(sharedSecret.clone(), HMAC_SHA1);
        this.unixSeconds = Objects.requireNonNull(unixSeconds, "unixSeconds");
        this.mac = newMac();
    }

    /** Credentials for {@code peerName} valid until {@code expiryUnixSeconds}. Thread-safe. */
    public TurnCredentials issue(String peerName, long expiryUnixSeconds) {
        Objects.requireNonNull(peerName, "peerName");
        if (expiryUnixSeconds < 0) {
            throw new IllegalArgumentException("expiry must not be negative: " + expiryUnixSeconds);
        }
        String username = expiryUnixSeconds + String.valueOf(SEPARATOR) + peerName;
        return new TurnCredentials(username, sign(newMac(), username));
    }

    @Override
    public String password(String username) {
        int separator = username.indexOf(SEPARATOR);
        if (separator <= 0 || separator > 18) {
            return null;
        }
        long expiry = 0;
        for (int i = 0; i < separator; i++) {
            char c = username.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            expiry = expiry * 10 + (c - '0');
        }
        if (expiry < 0 || expiry <= unixSeconds.getAsLong()) {
            return null;
        }
        return sign(mac, username);
    }

    /** The peer name after the expiry: fresh credentials of one peer share its allocation quota. */
    @Override
    public String quotaKey(String username) {
        return username.substring(username.indexOf(SEPARATOR) + 1);
    }

    private String sign(Mac hmac, String username) {
        byte[] digest = hmac.doFinal(username.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(digest);
    }

    private Mac newMac() {
        try {
            Mac created = Mac.getInstance(HMAC_SHA1);
            created.init(secret);
            return created;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA1 with any non-empty key", e);
        }
    }

    @Override
    public String toString() {
        // Never print the secret.
        return "RestCredentials[HMAC-SHA1]";
    }
}
