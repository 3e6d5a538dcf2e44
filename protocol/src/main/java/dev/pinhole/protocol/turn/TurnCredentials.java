package dev.pinhole.protocol.turn;

import java.util.Objects;

/**
 * Long-term credentials for a TURN server (RFC 8489 §9.2): the realm comes from the server's 401
 * challenge, and the HMAC key is {@code MD5(username ":" realm ":" password)}.
 */
public record TurnCredentials(String username, String password) {
    public TurnCredentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        if (username.isEmpty() || password.isEmpty()) {
            throw new IllegalArgumentException("TURN username and password must not be empty");
        }
    }

    @Override
    public String toString() {
        // Never print the password.
        return "TurnCredentials[" + username + "]";
    }
}
