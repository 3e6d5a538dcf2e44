package dev.pinhole.testkit.netns;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this host offers a {@link NetnsLab}: root, iproute2, a working iptables backend, optionally
 * nft. Probed once per JVM by creating a throw-away namespace and installing the MASQUERADE rule the
 * lab needs, because "the binary exists" does not mean "it works here" (iptables-nft and
 * iptables-legacy each fail on some kernels; a container may forbid namespaces even to root).
 *
 * <p>It also owns the naming scheme of lab namespaces and the sweep that removes stale ones: a
 * namespace is named {@code phl-<owner pid>-<creation millis, base 36>-<lab number>-<node>}, so a
 * later run can tell whether its owner is still alive.
 */
public final class NetnsEnvironment {
    /** Every namespace a lab creates starts with this prefix; nothing else is ever touched. */
    public static final String NAMESPACE_PREFIX = "phl-";

    public static final String SKIP_MESSAGE =
            "needs root and iptables/iproute2: run as root, or run .ci/run which installs them";

    /** {@code phl-<pid>-<created millis base 36>-<lab number>-<node>}. */
    private static final Pattern LAB_NAMESPACE =
            Pattern.compile("^phl-(\\d{1,10})-([0-9a-z]{1,13})-(\\d{1,9})-[a-z0-9-]{1,40}$");

    /**
     * A namespace whose owner pid is alive but whose process started more than this after the
     * namespace was created belongs to a dead owner whose pid was reused.
     */
    private static final long PID_REUSE_TOLERANCE_MS = 1_000;

    private static final long COMMAND_TIMEOUT_SECONDS = 30;

    /** Tried in this order; the system default first, then each backend by name. */
    private static final List<String> IPTABLES_CANDIDATES =
            List.of("iptables", "iptables-nft", "iptables-legacy");

    /** Names the only iptables command to try, e.g. {@code iptables-legacy}, to test one backend. */
    public static final String IPTABLES_PROPERTY = "pinhole.netns.iptables";

    /** Absolute paths of the tools the lab runs; {@code nft} and {@code tc} may be null. */
    public record Tools(Path ip, Path iptables, Path nft, Path tc, Path sh) {}

    /** The probe's outcome: the tools, or why the lab cannot run here. */
    public record Probe(Tools tools, String unavailableReason) {
        public boolean available() {
            return tools != null;
        }
    }

    private static Probe probe;

    private NetnsEnvironment() {}

    /** Probes once per JVM (sweeping stale namespaces of dead runs on the way). */
    public static synchronized Probe probe() {
        if (probe == null) {
            probe = runProbe();
        }
        return probe;
    }

    private static Probe runProbe() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return new Probe(null, "network namespaces exist only on Linux (this is "
                    + System.getProperty("os.name") + ")");
        }
        long uid = effectiveUid();
        if (uid != 0) {
            return new Probe(null, "not root (effective uid " + uid + ")");
        }
        Path ip = findTool("ip");
        Path sh = findTool("sh");
        if (ip == null || sh == null) {
            return new Probe(null, "no `ip` command (iproute2) on PATH, /usr/sbin or /sbin");
        }
        Set<Path> iptables = new LinkedHashSet<>();
        String forced = System.getProperty(IPTABLES_PROPERTY, "");
        for (String candidate : forced.isEmpty() ? IPTABLES_CANDIDATES : List.of(forced)) {
            Path found = findTool(candidate);
            if (found != null) {
                iptables.add(found);
            }
        }
        if (iptables.isEmpty()) {
            return new Probe(null, "no iptables command (looked for "
                    + (forced.isEmpty() ? IPTABLES_CANDIDATES : forced) + ")");
        }
        try {
            sweepStale(ip);
        } catch (IOException e) {
            return new Probe(null, "cannot list or remove stale lab namespaces: " + e.getMessage());
        }
        String name = namespacePrefix(0) + "probe";
        try {
            run(List.of(ip.toString(), "netns", "add", name));
        } catch (IOException e) {
            return new Probe(null, "cannot create a network namespace: " + e.getMessage());
        }
        List<String> failures = new ArrayList<>();
        Path working = null;
        try {
            for (Path candidate : iptables) {
                try {
                    run(List.of(ip.toString(), "netns", "exec", name, candidate.toString(), "-w", "-t", "nat",
                            "-A", "POSTROUTING", "-o", "lo", "-j", "MASQUERADE", "--random-fully"));
                    working = candidate;
                    break;
                } catch (IOException e) {
                    failures.add(candidate + ": " + e.getMessage());
                }
            }
        } finally {
            try {
                deleteNamespace(ip, name);
            } catch (IOException e) {
                failures.add("removing probe namespace " + name + ": " + e.getMessage());
            }
        }
        if (working == null) {
            return new Probe(null, "no iptables backend can install MASQUERADE --random-fully in a namespace: "
                    + String.join("; ", failures));
        }
        return new Probe(new Tools(ip, working, findTool("nft"), findTool("tc"), sh), null);
    }

    /**
     * The prefix of all namespaces of lab number {@code labNumber} of this JVM. Lab number 0 is the
     * availability probe.
     */
    public static String namespacePrefix(int labNumber) {
        return NAMESPACE_PREFIX + ProcessHandle.current().pid() + "-"
                + Long.toString(System.currentTimeMillis(), 36) + "-" + labNumber + "-";
    }

    /** Names of all network namespaces that start with {@code prefix}. */
    public static List<String> namespacesStartingWith(Path ip, String prefix) throws IOException {
        List<String> names = new ArrayList<>();
        for (String line : run(List.of(ip.toString(), "netns", "list")).split("\n")) {
            // Lines look like "name (id: 3)" or just "name".
            String name = line.strip().split("\\s+", 2)[0];
            if (!name.isEmpty() && name.startsWith(prefix)) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Removes lab namespaces created before this JVM started whose owner process is gone: what a
     * killed or crashed run left behind. Namespaces of live runs, even concurrent ones, are kept.
     */
    public static List<String> sweepStale(Path ip) throws IOException {
        Instant thisRunStarted = ProcessHandle.current().info().startInstant().orElse(Instant.now());
        List<String> removed = new ArrayList<>();
        for (String name : namespacesStartingWith(ip, NAMESPACE_PREFIX)) {
            Matcher m = LAB_NAMESPACE.matcher(name);
            if (!m.matches()) {
                continue;
            }
            long ownerPid = Long.parseLong(m.group(1));
            long createdMs = Long.parseLong(m.group(2), 36);
            if (createdMs >= thisRunStarted.toEpochMilli() || ownerAlive(ownerPid, createdMs)) {
                continue;
            }
            try {
                deleteNamespace(ip, name);
                removed.add(name);
            } catch (IOException e) {
                // One namespace that will not go must not stop this run; the next sweep retries.
                System.err.println("netns lab: cannot remove stale namespace " + name + ": " + e.getMessage());
            }
        }
        return removed;
    }

    private static boolean ownerAlive(long pid, long namespaceCreatedMs) {
        if (pid == ProcessHandle.current().pid()) {
            return true;
        }
        Optional<ProcessHandle> owner = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        return owner.map(h -> h.info().startInstant()
                        .map(s -> s.toEpochMilli() <= namespaceCreatedMs + PID_REUSE_TOLERANCE_MS)
                        .orElse(true))
                .orElse(false);
    }

    /**
     * Kills every process still inside the namespace (a namespace lives on while a process holds
     * it), then deletes it. Its veths, bridges, iptables/nft rules, qdiscs and conntrack table go
     * with it: all of them live inside the namespace.
     */
    public static void deleteNamespace(Path ip, String name) throws IOException {
        String pids = run(List.of(ip.toString(), "netns", "pids", name));
        for (String pid : pids.split("\\s+")) {
            if (!pid.isEmpty()) {
                ProcessHandle.of(Long.parseLong(pid)).ifPresent(NetnsEnvironment::killAndAwait);
            }
        }
        run(List.of(ip.toString(), "netns", "del", name));
    }

    public static void killAndAwait(ProcessHandle process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.onExit().get(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // The namespace deletion that follows reports the process if it is still there.
        }
    }

    /**
     * Runs a command to completion and returns its combined output.
     *
     * @throws IOException if it cannot start, runs longer than {@value #COMMAND_TIMEOUT_SECONDS} s,
     *     or exits non-zero; the message holds the command and its output
     */
    public static String run(List<String> command) throws IOException {
        return run(command, null);
    }

    /** As {@link #run(List)}, feeding {@code stdin} to the command when it is not null. */
    public static String run(List<String> command, String stdin) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (stdin != null) {
                process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            process.getOutputStream().close();
            // Output is read before waiting so that a chatty command cannot block on a full pipe.
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                killAndAwait(process.toHandle());
                throw new IOException("`" + String.join(" ", command) + "` did not finish within "
                        + COMMAND_TIMEOUT_SECONDS + " s; output: " + output.strip());
            }
            if (process.exitValue() != 0) {
                throw new IOException("`" + String.join(" ", command) + "` exited with "
                        + process.exitValue() + ": " + output.strip());
            }
            return output;
        } catch (InterruptedException e) {
            killAndAwait(process.toHandle());
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running `" + String.join(" ", command) + "`");
        }
    }

    private static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    // "Uid: real effective saved filesystem"
                    return Long.parseLong(line.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Looks on PATH and in the sbin directories, which a non-login root shell may lack on PATH. */
    private static Path findTool(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
