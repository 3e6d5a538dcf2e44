package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads fields of the flat JSON objects the CLI prints (strings, numbers, booleans; no nesting). */
final class JsonLine {
    private JsonLine() {
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,}\\]]+)")
                .matcher(json);
        assertTrue(m.find(), "expected field " + key + " in " + json);
        return m.group(2) != null ? m.group(2) : m.group(1);
    }

    static boolean isJsonObject(String line) {
        return line.startsWith("{") && line.endsWith("}");
    }
}
