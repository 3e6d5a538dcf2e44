package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The small parsers and the JSON writer. */
class FormatsTest {
    @Test
    void jsonEscapesQuotesBackslashesAndControlCharacters() {
        String json = Json.object().put("s", "a\"b\\c\nd\u0001").put("n", 5).put("b", true).put("d", 1.5)
                .put("nan", Double.NaN).put("null", (String) null).toString();
        assertEquals("{\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"n\":5,\"b\":true,\"d\":1.500,\"nan\":null,\"null\":null}",
                json, "JSON text");
    }

    @Test
    void messagesPrintAddressesWithoutJavasSlash() {
        assertEquals("no answer from 127.0.0.1:9 (to 10.0.0.1:3478, [0:0:0:0:0:0:0:1]:5)",
                Failures.oneLine("no answer from localhost/127.0.0.1:9 (to /10.0.0.1:3478, /[0:0:0:0:0:0:0:1]:5)"));
        assertEquals("cannot read /tmp/x/1.2.3.4:5", Failures.oneLine("cannot read /tmp/x/1.2.3.4:5"),
                "an absolute path is left alone");
    }

    @Test
    void addressesParseHostPortAndBracketedIpv6() {
        assertEquals(new InetSocketAddress("127.0.0.1", 3478), Addresses.parse("127.0.0.1:3478"), "IPv4");
        assertEquals(new InetSocketAddress("::1", 5), Addresses.parse("[::1]:5"), "IPv6");
        assertEquals("[0:0:0:0:0:0:0:1]:5", Addresses.format(Addresses.parse("[::1]:5")), "IPv6 formatted");
        for (String bad : new String[] {"127.0.0.1", ":5", "1.2.3.4:x", "1.2.3.4:70000", "::1:5", "[::1]5"}) {
            assertThrows(CommandLine.TypeConversionException.class, () -> Addresses.parse(bad), "rejects " + bad);
        }
    }

    @Test
    void sizesAcceptBinaryUnits() {
        Sizes sizes = new Sizes();
        assertEquals(8L << 20, sizes.convert("8MiB"), "8MiB");
        assertEquals(1L << 30, sizes.convert("1g"), "1g");
        assertEquals(4096L, sizes.convert("4096"), "plain bytes");
        assertThrows(CommandLine.TypeConversionException.class, () -> sizes.convert("lots"), "rejects words");
        assertThrows(CommandLine.TypeConversionException.class, () -> sizes.convert("-1"), "rejects negatives");
    }

    @Test
    void generatedContentIsReproducibleFromItsSeed() throws Exception {
        byte[] a = new GeneratedContent(7, 100_003).readAllBytes();
        byte[] b = new GeneratedContent(7, 100_003).readAllBytes();
        assertEquals(100_003, a.length, "length");
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b), "same seed, same bytes");
    }
}
