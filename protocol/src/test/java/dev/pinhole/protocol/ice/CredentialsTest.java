package dev.pinhole.protocol.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CredentialsTest {

    @Test
    void randomCredentialsCarryEnoughRandomnessInIceChars() {
        Credentials c = Credentials.random(new SplittableRandom(1));
        // RFC 8445 §5.3: >= 24 bits of ufrag and >= 128 bits of password, 6 bits per ice-char.
        assertTrue(c.ufrag().length() * 6 >= 24, "ufrag bits, was " + c.ufrag());
        assertTrue(c.password().length() * 6 >= 128, "password bits, was " + c.password().length() + " chars");
        assertTrue(c.ufrag().matches("[A-Za-z0-9+/]+"), "ufrag uses ice-chars only: " + c.ufrag());
        assertTrue(c.password().matches("[A-Za-z0-9+/]+"), "password uses ice-chars only");
    }

    @Test
    void twoDrawsDiffer() {
        SplittableRandom random = new SplittableRandom(7);
        assertNotEquals(Credentials.random(random), Credentials.random(random));
    }

    @Test
    void rejectsShortOrNonIceCharacterCredentials() {
        String password = "a".repeat(22);
        assertThrows(IllegalArgumentException.class, () -> new Credentials("abc", password), "3-char ufrag");
        assertThrows(IllegalArgumentException.class, () -> new Credentials("abcd", "a".repeat(21)), "21-char password");
        assertThrows(IllegalArgumentException.class, () -> new Credentials("ab:d", password), "colon in ufrag");
        assertThrows(IllegalArgumentException.class, () -> new Credentials("abcd", "a".repeat(257)), "too long");
        assertEquals("abcd", new Credentials("abcd", password).ufrag());
    }

    @Test
    void toStringNeverShowsThePassword() {
        Credentials c = new Credentials("abcd", "secretsecretsecretsecret");
        assertFalse(c.toString().contains("secret"), c.toString());
    }
}
