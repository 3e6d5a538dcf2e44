package dev.pinhole.protocol.ice;

import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * ICE short-term credentials of one side (RFC 8445 §5.3): a username fragment and a password.
 *
 * <p>A check from L to R carries USERNAME {@code R.ufrag:L.ufrag} and is integrity-protected with R's
 * password (RFC 8445 §7.2.2); the two sides exchange their credentials through the rendezvous server.
 *
 * @param ufrag    4–256 ice-chars (RFC 8839 §5.4), at least 24 bits of randomness
 * @param password 22–256 ice-chars, at least 128 bits of randomness
 */
public record Credentials(String ufrag, String password) {
    /** RFC 8839 §5.4: "ice-char = ALPHA / DIGIT / "+" / "/"", six bits each. */
    private static final String ICE_CHARS =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    /** RFC 8445 §5.3: the ufrag "MUST contain at least 24 bits of randomness": 4 chars × 6 bits. */
    public static final int MIN_UFRAG_CHARS = 4;
    /** RFC 8445 §5.3: the password "MUST contain at least 128 bits of randomness": 22 chars × 6 bits = 132. */
    public static final int MIN_PASSWORD_CHARS = 22;
    /** RFC 8839 §5.4 caps both at 256 characters. */
    public static final int MAX_CHARS = 256;
    /** What {@link #random} generates: 8 chars (48 bits) of ufrag, 24 chars (144 bits) of password. */
    static final int GENERATED_UFRAG_CHARS = 8;
    static final int GENERATED_PASSWORD_CHARS = 24;

    public Credentials {
        Objects.requireNonNull(ufrag, "ufrag");
        Objects.requireNonNull(password, "password");
        check("ufrag", ufrag, MIN_UFRAG_CHARS);
        check("password", password, MIN_PASSWORD_CHARS);
    }

    /**
     * Fresh credentials from {@code random}. Real nodes pass a {@link java.security.SecureRandom};
     * simulations pass their seeded stream so that runs replay.
     */
    public static Credentials random(RandomGenerator random) {
        return new Credentials(randomIceChars(random, GENERATED_UFRAG_CHARS),
                randomIceChars(random, GENERATED_PASSWORD_CHARS));
    }

    /** Masks the password, which must never reach a log. */
    @Override
    public String toString() {
        return "Credentials[ufrag=" + ufrag + ", password=<" + password.length() + " chars>]";
    }

    private static String randomIceChars(RandomGenerator random, int length) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = ICE_CHARS.charAt(random.nextInt(ICE_CHARS.length()));
        }
        return new String(chars);
    }

    private static void check(String what, String value, int minChars) {
        if (value.length() < minChars || value.length() > MAX_CHARS) {
            throw new IllegalArgumentException(what + " must have " + minChars + "-" + MAX_CHARS
                    + " characters, had " + value.length());
        }
        for (int i = 0; i < value.length(); i++) {
            if (ICE_CHARS.indexOf(value.charAt(i)) < 0) {
                throw new IllegalArgumentException(what + " may hold only ice-chars (A-Z a-z 0-9 + /), found '"
                        + value.charAt(i) + "' at index " + i);
            }
        }
    }
}
