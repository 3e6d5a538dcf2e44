package dev.pinhole.core;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class PlatformTest {
    private static final String FLAG = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";
    private static final String MANIFEST = "Add-Exports: java.base/jdk.internal.misc";

    @Test
    void agronaAccessIsGrantedWhenTheJvmHasTheFlag() {
        // Surefire runs the tests with the flag (see the parent pom's argLine).
        assertTrue(Platform.agronaAccessible(), "this JVM was started with " + FLAG);
        assertDoesNotThrow(Platform::requireAgronaAccess);
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void buildingAnEventLoopWithoutTheFlagFailsWithOneMessageNamingTheFlagAndTheManifestAttribute()
        throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder child = new ProcessBuilder(List.of(java.toString(),
            "-cp", System.getProperty("java.class.path"),
            AgronaAccessProbe.class.getName()))
            .redirectErrorStream(true);
        // Neither may smuggle the flag into the child.
        child.environment().remove("JDK_JAVA_OPTIONS");
        child.environment().remove("JAVA_TOOL_OPTIONS");

        Process process = child.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exitCode = process.waitFor();

        assertEquals(0, exitCode, "child JVM should have been rejected with IllegalStateException; it printed:\n"
            + output);
        assertTrue(output.contains("ACCESSIBLE: false"), "child must see no access; it printed:\n" + output);
        assertTrue(output.contains("REJECTED: "), output);
        assertTrue(output.contains(FLAG), "message must name the flag " + FLAG + "; it printed:\n" + output);
        assertTrue(output.contains(MANIFEST), "message must name the manifest attribute; it printed:\n" + output);
    }
}
