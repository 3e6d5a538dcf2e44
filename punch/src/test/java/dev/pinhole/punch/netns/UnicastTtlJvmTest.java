package dev.pinhole.punch.netns;

import dev.pinhole.core.net.UnicastTtl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link UnicastTtl} in a fresh JVM (no namespaces, no root), so that the JVM options are
 * exactly those under test and not Surefire's.
 */
@EnabledOnOs(OS.LINUX)
class UnicastTtlJvmTest {
    /** Linux's net.ipv4.ip_default_ttl unless an administrator changed it. */
    private static final int DEFAULT_TTL = 64;

    private static String[] run(boolean addOpens, String family) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        if (addOpens) {
            command.addAll(List.of("--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED"));
        }
        command.addAll(List.of(TtlProbe.class.getName(), family));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(LabAssertions.EXIT_LIMIT.toSeconds(), TimeUnit.SECONDS), "TtlProbe should exit");
        return new String[] {Integer.toString(process.exitValue()), output};
    }

    @ParameterizedTest
    @ValueSource(strings = {"INET", "INET6", "DEFAULT"})
    void setsAndResetsTheUnicastTtlOfEveryChannelFamily(String family) throws Exception {
        String[] result = run(true, family);
        assertEquals("0", result[0], () -> "TtlProbe should succeed; output:\n" + result[1]);
        assertTrue(result[1].contains("SET " + PunchPeer.PRIME_TTL + "\n"),
                () -> "the socket should report TTL " + PunchPeer.PRIME_TTL + " after set; output:\n" + result[1]);
        if (isDefaultTtl()) {
            assertTrue(result[1].contains("RESET " + DEFAULT_TTL + "\n"),
                    () -> "the socket should report the default TTL after reset; output:\n" + result[1]);
        }
    }

    @Test
    void withoutTheAddOpensFlagTheErrorNamesIt() throws Exception {
        String[] result = run(false, "INET");
        assertEquals("1", result[0], () -> "TtlProbe should fail without the flag; output:\n" + result[1]);
        assertTrue(result[1].contains("--add-opens java.base/sun.nio.ch=ALL-UNNAMED"),
                () -> "the error should name the missing JVM option; output:\n" + result[1]);
    }

    private static boolean isDefaultTtl() throws Exception {
        return Files.readString(Path.of("/proc/sys/net/ipv4/ip_default_ttl")).strip()
                .equals(Integer.toString(DEFAULT_TTL));
    }
}
