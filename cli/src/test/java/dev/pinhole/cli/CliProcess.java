package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real {@code pinhole} process (a fresh JVM on the test class path, with the flag the jar's manifest
 * carries), its stdout read line by line so a test can wait for a line instead of sleeping. Its
 * {@code XDG_CONFIG_HOME} is {@link #CONFIG_HOME} unless the test gives its own, so the identity the commands
 * create on first use lands in the build directory, never in the home directory of whoever runs the tests.
 */
final class CliProcess implements AutoCloseable {
    /** Upper bound on any single wait: a safety net against a hung process, not a timing assertion. */
    static final long MAX_WAIT_S = 120;
    /** The processes' shared configuration directory, so their identity file, unless a test sets its own. */
    static final Path CONFIG_HOME = Path.of(System.getProperty("basedir", System.getProperty("user.dir")),
            "target", "cli-process-config").toAbsolutePath();

    private final Process process;
    private final LinkedBlockingQueue<String> stdout = new LinkedBlockingQueue<>();
    private final List<String> stdoutSeen = new ArrayList<>();
    private final StringBuffer stderr = new StringBuffer();
    private final Thread errReader;
    private final Thread outReader;
    private final String description;

    private CliProcess(List<String> args, Path workDir, Map<String, String> environment) throws IOException {
        this(args, workDir, environment, false);
    }

    private CliProcess(List<String> args, Path workDir, Map<String, String> environment, boolean terminal)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-exports");
        command.add("java.base/jdk.internal.misc=ALL-UNNAMED");
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(args);
        description = "pinhole " + String.join(" ", args);
        if (terminal) {
            // util-linux script(1) runs it on a pseudo-terminal (System.console() is then not null); stdout and
            // stderr both arrive on this process's stdout, as a terminal shows them; -e passes the exit code on.
            StringBuilder line = new StringBuilder();
            for (String word : command) {
                line.append(line.length() == 0 ? "" : " ").append('\'').append(word.replace("'", "'\\''")).append('\'');
            }
            command = List.of("script", "-qfec", line.toString(), "/dev/null");
        }
        ProcessBuilder builder = new ProcessBuilder(command);
        if (workDir != null) {
            builder.directory(workDir.toFile());
        }
        builder.environment().put("XDG_CONFIG_HOME", CONFIG_HOME.toString());
        builder.environment().putAll(environment);
        process = builder.start();
        outReader = pump(process.getInputStream(), line -> stdout.add(line), "out");
        errReader = pump(process.getErrorStream(), line -> stderr.append(line).append('\n'), "err");
    }

    static CliProcess start(Path workDir, String... args) throws IOException {
        return new CliProcess(List.of(args), workDir, Map.of());
    }

    /** On a pseudo-terminal (needs script(1)): what a user at a terminal sees comes on stdout, \r and all. */
    static CliProcess startInTerminal(String... args) throws IOException {
        return new CliProcess(List.of(args), null, Map.of(), true);
    }

    static CliProcess start(String... args) throws IOException {
        return new CliProcess(List.of(args), null, Map.of());
    }

    /** With {@code environment} added to (or replacing entries of) the inherited one. */
    static CliProcess startWith(Map<String, String> environment, String... args) throws IOException {
        return new CliProcess(List.of(args), null, environment);
    }

    private Thread pump(InputStream in, java.util.function.Consumer<String> sink, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sink.accept(line);
                }
            } catch (IOException ignored) {
                // The process ended.
            }
        }, "cli-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The next stdout line that matches, waiting for it; fails with what the process printed. */
    String awaitLine(Predicate<String> matches, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_WAIT_S);
        while (true) {
            // Short slices so that an exited process is noticed at once.
            String line = stdout.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                if (!process.isAlive() && stdout.isEmpty()) {
                    outReader.join(TimeUnit.SECONDS.toMillis(10));
                    if (!stdout.isEmpty()) {
                        continue;
                    }
                    errReader.join(TimeUnit.SECONDS.toMillis(10));
                    fail("expected " + what + " from '" + description + "', but it exited with "
                            + process.exitValue() + "; stdout " + stdoutSeen + ", stderr:\n" + stderr);
                }
                if (System.nanoTime() >= deadline) {
                    fail("expected " + what + " from '" + description + "' within " + MAX_WAIT_S + " s; stdout "
                            + stdoutSeen + ", stderr:\n" + stderr);
                }
                continue;
            }
            stdoutSeen.add(line);
            if (matches.test(line)) {
                return line;
            }
        }
    }

    OutputStream stdin() {
        return process.getOutputStream();
    }

    void type(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /** Waits for the exit and returns the code (all output read). */
    int exitCode() throws InterruptedException {
        if (!process.waitFor(MAX_WAIT_S, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("'" + description + "' did not exit within " + MAX_WAIT_S + " s; stderr:\n" + stderr);
        }
        outReader.join(TimeUnit.SECONDS.toMillis(MAX_WAIT_S));
        errReader.join(TimeUnit.SECONDS.toMillis(MAX_WAIT_S));
        return process.exitValue();
    }

    /** Every stdout line not yet consumed by {@link #awaitLine}, after the exit. */
    List<String> remainingStdout() throws InterruptedException {
        exitCode();
        List<String> lines = new ArrayList<>();
        stdout.drainTo(lines);
        stdoutSeen.addAll(lines);
        return lines;
    }

    String stderr() {
        return stderr.toString();
    }

    String describe() {
        return "'" + description + "': stdout " + stdoutSeen + ", stderr:\n" + stderr;
    }

    /** SIGKILL: the process gets no chance to deregister or tell anyone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(MAX_WAIT_S, TimeUnit.SECONDS);
    }

    /**
     * SIGTERM, which the CLI handles as it handles Ctrl-C. Tests that need the signal handled use it: a build
     * started in the background (as CI may start it) runs its processes with SIGINT ignored, which a JVM then
     * never sees, while SIGTERM always arrives.
     */
    void terminate() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-TERM", String.valueOf(process.pid())).start().waitFor();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
