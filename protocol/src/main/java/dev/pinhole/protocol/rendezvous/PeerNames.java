package dev.pinhole.protocol.rendezvous;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * What a peer name may be: 1 to {@value #MAX_NAME_BYTES} bytes of UTF-8 in Unicode normalisation form
 * NFC, with no whitespace, no control or format characters and no unassigned or private-use code
 * points. Whitespace is excluded because names are typed on command lines ("send bob hello"); NFC
 * because two spellings of "é" must be one name; names are otherwise compared byte for byte (so
 * case-sensitive). The client normalises what the user typed; the server rejects what is not already
 * valid and normalised, so it never has to normalise anything.
 */
public final class PeerNames {
    /** Longest name in UTF-8 bytes. */
    public static final int MAX_NAME_BYTES = 64;

    private PeerNames() {
    }

    /**
     * The NFC form of {@code name}, checked.
     *
     * @throws IllegalArgumentException naming the rule the name breaks
     */
    public static String normalize(String name) {
        String normalized = Normalizer.normalize(name, Normalizer.Form.NFC);
        String problem = problem(normalized);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return normalized;
    }

    /** Why {@code name} is not a valid, normalised peer name, or null if it is. */
    public static String problem(String name) {
        if (name.isEmpty()) {
            return "a peer name must not be empty";
        }
        int bytes = utf8Length(name);
        if (bytes > MAX_NAME_BYTES) {
            return "a peer name is at most " + MAX_NAME_BYTES + " bytes of UTF-8, '" + abbreviate(name) + "' has " + bytes;
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                return "a peer name must not contain whitespace, found U+" + hex(cp) + " in '" + abbreviate(name) + "'";
            }
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
                || type == Character.PRIVATE_USE || type == Character.SURROGATE) {
                return "a peer name must not contain control, format, private-use or unassigned characters, found U+"
                    + hex(cp);
            }
            i += Character.charCount(cp);
        }
        if (!Normalizer.isNormalized(name, Normalizer.Form.NFC)) {
            return "a peer name must be in Unicode normalisation form NFC";
        }
        return null;
    }

    /**
     * Decodes a name off the wire: strict UTF-8 (malformed sequences are an error, not U+FFFD) and
     * {@link #problem} must find nothing.
     *
     * @return the name, or null if the bytes are not a valid name
     */
    public static String decode(byte[] bytes, int offset, int length) {
        if (length < 1 || length > MAX_NAME_BYTES) {
            return null;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        String name;
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes, offset, length));
            name = chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        return problem(name) == null ? name : null;
    }

    static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static String hex(int cp) {
        return String.format("%04X", cp);
    }

    private static String abbreviate(String name) {
        int codePoints = name.codePointCount(0, name.length());
        return codePoints <= 24 ? name : name.substring(0, name.offsetByCodePoints(0, 20)) + "...";
    }
}
