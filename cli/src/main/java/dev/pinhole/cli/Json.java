package dev.pinhole.cli;

import java.util.List;
import java.util.Locale;

/** One JSON object on one line, written by hand (the CLI takes no JSON dependency). */
public final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    public static Json object() {
        return new Json();
    }

    private Json key(String key) {
        if (sb.length() > 1) {
            sb.append(',');
        }
        quote(sb, key);
        sb.append(':');
        return this;
    }

    public Json put(String key, String value) {
        key(key);
        if (value == null) {
            sb.append("null");
        } else {
            quote(sb, value);
        }
        return this;
    }

    public Json put(String key, long value) {
        key(key).sb.append(value);
        return this;
    }

    public Json put(String key, boolean value) {
        key(key).sb.append(value);
        return this;
    }

    /** A finite number with up to three decimals; NaN and infinities become null (JSON has neither). */
    public Json put(String key, double value) {
        key(key);
        if (Double.isFinite(value)) {
            sb.append(String.format(Locale.ROOT, "%.3f", value));
        } else {
            sb.append("null");
        }
        return this;
    }

    /** A list of strings. */
    public Json put(String key, List<String> values) {
        key(key).sb.append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, values.get(i));
        }
        sb.append(']');
        return this;
    }

    @Override
    public String toString() {
        return sb + "}";
    }

    /** Quotes a string per RFC 8259 §7. */
    static void quote(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
