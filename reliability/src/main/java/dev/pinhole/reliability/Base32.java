package dev.pinhole.reliability;

/**
 * Lowercase RFC 4648 §6 base32 without padding, the alphabet of node ids and fingerprints: letters and the
 * digits 2-7 only, so an id survives copy-paste, double-click selection, case folding and reading aloud
 * (no 0/O or 1/l pairs). The JDK has base64 but no base32.
 */
final class Base32 {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private Base32() {
    }

    /** The unpadded encoding: {@code ceil(8 * length / 5)} characters. */
    static String encode(byte[] bytes) {
        StringBuilder sb = new StringBuilder((bytes.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xFF);
            bits += 8;
            while (bits >= 5) {
                sb.append(ALPHABET[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            sb.append(ALPHABET[(buffer << (5 - bits)) & 31]);
        }
        return sb.toString();
    }

    /**
     * Decodes exactly {@code length} bytes, upper or lower case.
     *
     * @throws IllegalArgumentException naming the first bad character, a wrong length, or unused trailing
     *     bits that are not zero (which would let two strings name the same bytes)
     */
    static byte[] decode(String text, int length) {
        int chars = (length * 8 + 4) / 5;
        if (text.length() != chars) {
            throw new IllegalArgumentException("has " + text.length() + " characters, not " + chars);
        }
        byte[] out = new byte[length];
        int buffer = 0;
        int bits = 0;
        int next = 0;
        for (int i = 0; i < text.length(); i++) {
            int value = valueOf(text.charAt(i));
            if (value < 0) {
                throw new IllegalArgumentException("has '" + text.charAt(i) + "' at position " + (i + 1)
                        + ", which is not a letter or a digit 2-7");
            }
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8) {
                out[next++] = (byte) (buffer >>> (bits - 8));
                bits -= 8;
            }
        }
        if ((buffer & ((1 << bits) - 1)) != 0) {
            throw new IllegalArgumentException("ends in '" + text.charAt(text.length() - 1)
                    + "', which no encoding of " + length + " bytes ends in");
        }
        return out;
    }

    private static int valueOf(char c) {
        if (c >= 'a' && c <= 'z') {
            return c - 'a';
        }
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= '2' && c <= '7') {
            return c - '2' + 26;
        }
        return -1;
    }
}
