package dev.pinhole.server.relay;

import java.util.Map;
import java.util.Objects;

/**
 * Tells the {@link TurnServer} the password of a long-term-credential user (RFC 8489 §9.2); the
 * server derives the key {@code MD5(username ":" realm ":" password)} itself. Called on the server's
 * event loop for every authenticated request, so an implementation must be quick and must not block.
 *
 * <p>Two implementations: {@link RestCredentials} (short-lived credentials derived from a shared
 * secret, what the rendezvous server hands out) and {@link #staticUsers} (fixed accounts, for tests
 * and small set-ups).
 */
@FunctionalInterface
public interface TurnAuthenticator {
    /**
     * The password of {@code username}, or null if the user is unknown or its credentials are no
     * longer valid (the request is then answered 401 Unauthorized).
     */
    String password(String username);

    /**
     * Whose quota an allocation under {@code username} counts against ({@code maxAllocationsPerUser}).
     * The username itself by default; {@link RestCredentials} strip the expiry, so that fresh
     * credentials for the same peer share its quota.
     */
    default String quotaKey(String username) {
        return username;
    }

    /** Fixed {@code username -> password} accounts (copied). */
    static TurnAuthenticator staticUsers(Map<String, String> passwords) {
        Map<String, String> copy = Map.copyOf(Objects.requireNonNull(passwords, "passwords"));
        return copy::get;
    }

    /** One fixed account. */
    static TurnAuthenticator staticUser(String username, String password) {
        return staticUsers(Map.of(username, password));
    }
}
