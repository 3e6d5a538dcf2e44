package dev.pinhole.cli.transfer;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/** Reading and writing the protocol's fields with the bounds of {@link TransferProtocol}. */
final class Wire {
    private Wire() {
    }

    static void writeString(DataOutputStream out, String s, int maxBytes) throws IOException {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > maxBytes) {
            bytes = Arrays.copyOf(bytes, maxBytes);
        }
        out.writeShort(bytes.length);
        out.write(bytes);
    }

    static String readString(DataInputStream in, int maxBytes, String what) throws IOException {
        int length = in.readUnsignedShort();
        if (length > maxBytes) {
            throw new TransferException(TransferException.Kind.PROTOCOL,
                    what + " of " + length + " bytes is longer than the limit of " + maxBytes);
        }
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new EOFException();
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static byte[] readHash(DataInputStream in) throws IOException {
        byte[] hash = new byte[TransferProtocol.SHA256_LENGTH_BYTES];
        in.readFully(hash);
        return hash;
    }

    static long readSize(DataInputStream in, String what) throws IOException {
        long value = in.readLong();
        if (value < 0) {
            throw new TransferException(TransferException.Kind.PROTOCOL,
                    what + " " + Long.toUnsignedString(value) + " is beyond 2^63-1");
        }
        return value;
    }

    static String hex(byte[] hash) {
        return HexFormat.of().formatHex(hash);
    }

    static TransferException interrupted(String when, IOException cause) {
        String why = cause instanceof EOFException ? "the connection ended" : cause.getMessage();
        return new TransferException(TransferException.Kind.INTERRUPTED,
                "transfer interrupted " + when + ": " + why, cause);
    }
}
