package dev.pinhole.cli;

import java.io.InputStream;
import java.util.SplittableRandom;

/** Pseudo-random bytes of a given length from a seed, generated as they are read (nothing held in memory). */
final class GeneratedContent extends InputStream {
    private final SplittableRandom random;
    private long remaining;
    private long word;
    private int wordBytesLeft;

    GeneratedContent(long seed, long length) {
        this.random = new SplittableRandom(seed);
        this.remaining = length;
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        if (remaining == 0) {
            return -1;
        }
        int n = (int) Math.min(len, remaining);
        for (int i = 0; i < n; i++) {
            if (wordBytesLeft == 0) {
                word = random.nextLong();
                wordBytesLeft = Long.BYTES;
            }
            b[off + i] = (byte) word;
            word >>>= 8;
            wordBytesLeft--;
        }
        remaining -= n;
        return n;
    }
}
