package dev.pinhole.reliability.noise;

/** Hex strings of test vectors to bytes and back. */
final class TestHex {
    private TestHex() {
    }

    static byte[] decode(String hex) {
        if (hex.length() % 2 != 0) {
            throw new IllegalArgumentException("odd-length hex: " + hex);
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static String encode(byte[] bytes) {
        return Hex.encode(bytes);
    }
}
