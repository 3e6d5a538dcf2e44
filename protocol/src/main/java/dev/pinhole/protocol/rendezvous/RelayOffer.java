package dev.pinhole.protocol.rendezvous;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A TURN server the peer may allocate on when no direct path opens, with long-term credentials
 * (RFC 8656 §9.2, the long-term credential mechanism of RFC 8489 §9.2) valid until the expiry. The
 * rendezvous server issues them in the style of the TURN REST API (username
 * {@code "<expiry>:<peer name>"}, password {@code base64(HMAC-SHA1(secret, username))}), so they work on
 * Pinhole's built-in relay and on a coturn sharing the secret ({@code --use-auth-secret}).
 *
 * @param server             the TURN server's transport address (UDP), resolved
 * @param username           the USERNAME to authenticate with, 1–{@value #MAX_CREDENTIAL_BYTES} bytes of UTF-8
 * @param password           the password, 1–{@value #MAX_CREDENTIAL_BYTES} bytes of UTF-8; never printed
 * @param expiresUnixSeconds when the credentials stop working, in seconds since 1970 (wall-clock)
 */
public record RelayOffer(InetSocketAddress server, String username, String password, long expiresUnixSeconds) {
    /**
     * Longest username or password: RFC 8489 §14.3 caps USERNAME at 513 bytes; 512 keeps both fields of
     * the rendezvous attribute within a two-byte length with room to spare.
     */
    public static final int MAX_CREDENTIAL_BYTES = 512;

    public RelayOffer {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        if (server.isUnresolved() || server.getPort() == 0) {
            throw new IllegalArgumentException("a relay server needs a resolved address and a port, was " + server);
        }
        checkLength("username", username);
        checkLength("password", password);
        if (expiresUnixSeconds < 0) {
            throw new IllegalArgumentException("the expiry must not be negative, was " + expiresUnixSeconds);
        }
    }

    private static void checkLength(String what, String value) {
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_CREDENTIAL_BYTES) {
            throw new IllegalArgumentException("a relay " + what + " has 1 to " + MAX_CREDENTIAL_BYTES
                + " bytes of UTF-8, got " + bytes);
        }
    }

    /** Whether the credentials still work at {@code unixSeconds}. */
    public boolean isValidAt(long unixSeconds) {
        return unixSeconds < expiresUnixSeconds;
    }

    @Override
    public String toString() {
        // The password is a credential: never in logs.
        return "RelayOffer[server=" + server + ", username=" + username + ", expiresUnixSeconds="
            + expiresUnixSeconds + "]";
    }
}
