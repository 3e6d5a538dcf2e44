package dev.pinhole.protocol.stun;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** Hex as the RFCs print it (spaces and line breaks allowed) to bytes, and back. */
final class Hex {
    private Hex() {
    }

    static byte[] bytes(String text) {
        String digits = text.replaceAll("\\s+", "");
        if (digits.length() % 2 != 0) {
            throw new IllegalArgumentException("odd number of hex digits: " + digits.length());
        }
        byte[] out = new byte[digits.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(digits.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static String of(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    static String of(byte[] bytes) {
        return ByteBufUtil.hexDump(bytes);
    }
}
