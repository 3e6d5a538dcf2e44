package dev.pinhole.testkit.netns;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A process a {@link NetnsLab} started inside one of its namespaces. It is a {@link Process} whose
 * standard output and error go to a log file ({@link #log()}), so a test can read what the process
 * printed after it ended and print it when an assertion fails. Its standard input stays an open
 * pipe: lab mains exit when it closes, which happens when the test JVM dies.
 */
public final class LabProcess extends Process {
    /** How often {@link #awaitLine} looks whether the process exited while its log stayed quiet. */
    private static final long EXIT_CHECK_NS = TimeUnit.MILLISECONDS.toNanos(250);

    private final String node;
    private final List<String> command;
    private final Path log;
    private final Process process;

    LabProcess(String node, List<String> command, Path log, Process process) {
        this.node = node;
        this.command = List.copyOf(command);
        this.log = log;
        this.process = process;
    }

    /** The lab node (namespace) the process runs in. */
    public String node() {
        return node;
    }

    /** The command as given to the lab, without the {@code ip netns exec} wrapper. */
    public List<String> command() {
        return command;
    }

    /** The file that receives the process's standard output and standard error. */
    public Path log() {
        return log;
    }

    /** Everything the process has printed so far (standard output and error interleaved). */
    public String output() {
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    /** The lines of {@link #output()} that start with {@code prefix}. */
    public List<String> outputLines(String prefix) {
        return output().lines().filter(l -> l.startsWith(prefix)).toList();
    }

    /**
     * Waits until the process has printed a line that matches {@code wanted} (its readiness line,
     * say) and returns that line. The wait is woken by changes to the log file (inotify on Linux),
     * not by a clock; {@code limit} only guards against a process that never prints it.
     *
     * @throws IOException if the process exits, or {@code limit} passes, without printing such a
     *     line; the message holds its output
     */
    public String awaitLine(Predicate<String> wanted, String what, Duration limit)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        try (WatchService watcher = log.getFileSystem().newWatchService()) {
            log.toAbsolutePath().getParent().register(watcher, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_CREATE);
            while (true) {
                // Read after registering, so that a line written in between is not missed.
                boolean exited = !process.isAlive();
                Optional<String> line = output().lines().filter(wanted).findFirst();
                if (line.isPresent()) {
                    return line.get();
                }
                if (exited) {
                    throw new IOException(describe() + " exited with " + process.exitValue() + " before printing "
                            + what + "; its output:\n" + output());
                }
                long leftNs = deadline - System.nanoTime();
                if (leftNs <= 0) {
                    throw new IOException(describe() + " did not print " + what + " within " + limit
                            + "; its output:\n" + output());
                }
                // Wakes on a write to any file of the log directory; the bound only lets an exit be noticed.
                WatchKey key = watcher.poll(Math.min(leftNs, EXIT_CHECK_NS), TimeUnit.NANOSECONDS);
                for (; key != null; key = watcher.poll()) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }

    /**
     * Waits for the process to exit and returns its exit code. {@code limit} is a guard against a
     * hung process, not an expectation about speed: pick it generously.
     *
     * @throws IOException if the process is still running after {@code limit} (it is then killed);
     *     the message holds its output
     */
    public int awaitExit(Duration limit) throws IOException, InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            NetnsEnvironment.killAndAwait(process.toHandle());
            throw new IOException(describe() + " did not exit within " + limit + "; its output:\n" + output());
        }
        return process.exitValue();
    }

    /** A one-line description for messages: node, pid and command. */
    public String describe() {
        return "[" + node + " pid " + process.pid() + "] " + String.join(" ", command);
    }

    @Override
    public String toString() {
        return describe();
    }

    @Override
    public OutputStream getOutputStream() {
        return process.getOutputStream();
    }

    @Override
    public InputStream getInputStream() {
        return process.getInputStream();
    }

    @Override
    public InputStream getErrorStream() {
        return process.getErrorStream();
    }

    @Override
    public int waitFor() throws InterruptedException {
        return process.waitFor();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        return process.waitFor(timeout, unit);
    }

    @Override
    public int exitValue() {
        return process.exitValue();
    }

    @Override
    public void destroy() {
        process.destroy();
    }

    @Override
    public Process destroyForcibly() {
        process.destroyForcibly();
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return process.supportsNormalTermination();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return process.onExit().thenApply(p -> this);
    }

    @Override
    public ProcessHandle toHandle() {
        return process.toHandle();
    }

    @Override
    public ProcessHandle.Info info() {
        return process.info();
    }

    @Override
    public Stream<ProcessHandle> children() {
        return process.children();
    }

    @Override
    public Stream<ProcessHandle> descendants() {
        return process.descendants();
    }
}
