package dev.pinhole.reliability.noise;

import java.util.HexFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads {@code noise-vectors.json}, the published Noise vectors of our suite (see the note in that
 * file for their sources and licences). The file holds only objects, arrays and strings, so this is
 * a reader for exactly that subset of JSON rather than a test dependency.
 */
final class NoiseVectorFile {
    /** One handshake-and-transport message of a vector. */
    record Message(byte[] payload, byte[] ciphertext) {
    }

    /** One vector: the fields of the file that our suite's vectors use. */
    record Vector(String source, String protocolName, Map<String, String> fields, List<Message> messages) {
        byte[] bytes(String name) {
            String hex = fields.get(name);
            return hex == null ? null : HexFormat.of().parseHex(hex);
        }

        @Override
        public String toString() {
            return source + " " + protocolName;
        }
    }

    private final String text;
    private int pos;

    private NoiseVectorFile(String text) {
        this.text = text;
    }

    static List<Vector> load() {
        try (InputStream in = NoiseVectorFile.class.getResourceAsStream("noise-vectors.json")) {
            if (in == null) {
                throw new IllegalStateException("noise-vectors.json is not on the test class path");
            }
            Object root = new NoiseVectorFile(new String(in.readAllBytes(), StandardCharsets.UTF_8)).parse();
            List<Vector> vectors = new ArrayList<>();
            for (Object o : (List<?>) ((Map<?, ?>) root).get("vectors")) {
                Map<?, ?> map = (Map<?, ?>) o;
                Map<String, String> fields = new LinkedHashMap<>();
                List<Message> messages = new ArrayList<>();
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (entry.getValue() instanceof String) {
                        fields.put((String) entry.getKey(), (String) entry.getValue());
                    }
                }
                for (Object m : (List<?>) map.get("messages")) {
                    Map<?, ?> message = (Map<?, ?>) m;
                    messages.add(new Message(HexFormat.of().parseHex((String) message.get("payload")),
                            HexFormat.of().parseHex((String) message.get("ciphertext"))));
                }
                vectors.add(new Vector(fields.get("source"), fields.get("protocol_name"), fields, messages));
            }
            return vectors;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Object parse() {
        Object value = value();
        skipSpace();
        if (pos != text.length()) {
            throw error("trailing text");
        }
        return value;
    }

    private Object value() {
        skipSpace();
        char c = peek();
        if (c == '{') {
            pos++;
            Map<String, Object> map = new LinkedHashMap<>();
            skipSpace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            do {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                map.put(key, value());
                skipSpace();
            } while (consume(','));
            expect('}');
            return map;
        }
        if (c == '[') {
            pos++;
            List<Object> list = new ArrayList<>();
            skipSpace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            do {
                list.add(value());
                skipSpace();
            } while (consume(','));
            expect(']');
            return list;
        }
        return string();
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (peek() != '"') {
            char c = text.charAt(pos++);
            if (c == '\\') {
                char escaped = text.charAt(pos++);
                switch (escaped) {
                    case '"': case '\\': case '/': sb.append(escaped); break;
                    case 'n': sb.append('\n'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        sb.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                        break;
                    default: throw error("unsupported escape \\" + escaped);
                }
            } else {
                sb.append(c);
            }
        }
        pos++;
        return sb.toString();
    }

    private void skipSpace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private char peek() {
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        return text.charAt(pos);
    }

    private boolean consume(char c) {
        if (pos < text.length() && text.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!consume(c)) {
            throw error("expected '" + c + "'");
        }
    }

    private IllegalStateException error(String what) {
        return new IllegalStateException("noise-vectors.json at " + pos + ": " + what);
    }
}
