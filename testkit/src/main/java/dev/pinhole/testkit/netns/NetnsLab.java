package dev.pinhole.testkit.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real-NAT lab: Linux network namespaces joined by veth pairs, with iptables {@code MASQUERADE}
 * as the NATs and a router between them, as the internet has. Tests start real processes in it
 * ({@link #exec}, {@link #java}) and close it to remove everything it created.
 *
 * <pre>
 *                         router (forwarding; no route out of the lab)
 *        to-nat-a 203.0.113.1   to-nat-b 198.51.100.1   pub 192.0.2.1 (bridge)
 *               |                       |                  |            |
 *       wan 203.0.113.2         wan 198.51.100.2     eth0 192.0.2.2  eth0 192.0.2.3
 *   nat-a  MASQUERADE        nat-b  MASQUERADE        server          another public host
 *       lan 10.0.1.1 (bridge)   lan 10.0.2.1 (bridge)
 *         |          |               |
 *   eth0 10.0.1.2  10.0.1.3     eth0 10.0.2.2
 *       alice      carol            bob
 * </pre>
 *
 * <p>Addressing: NAT number k (in declaration order) has its own link to the router, in
 * 203.0.113.0/24, 198.51.100.0/24 (RFC 5737), then 100.64.(k-2).0/24 (RFC 6598); the router is .1
 * and the NAT's WAN side .2. Its LAN is 10.0.(k+1).0/24 with the NAT at .1 and its hosts from .2
 * in declaration order. Public hosts share one bridged segment, 192.0.2.0/24 (RFC 5737), the router
 * at .1 and the hosts from .2. Every path between NATs, and from a NAT to a public host, crosses the
 * router: a packet sent with TTL 2 from behind a NAT passes its NAT and dies at the router.
 *
 * <p>Isolation: every interface lives inside a lab namespace (veth ends are created directly in
 * their namespaces), no namespace has a route out of the lab, and the root namespace is not
 * touched. Namespace names carry the owner's pid and creation time ({@link #runId()}), so
 * concurrent runs never clash and a later run removes what a killed one left behind. Closing the
 * lab kills its processes and deletes its namespaces, which takes their veths, bridges, iptables
 * and nft rules, qdiscs and conntrack state with them; a JVM shutdown hook closes labs a test left
 * open.
 *
 * <p>Use: annotate the test class {@link RequiresNetnsLab} (skips with the reason where labs cannot
 * run: not root, no iproute2/iptables), build with {@link #builder()} or {@link #twoNats}, start a
 * server with {@link #java}, and make every wait a bounded request/retry: links are up when
 * {@code build()} returns, but a process needs time to bind its socket.
 *
 * <p>Every command the lab runs is recorded as a replayable {@code setup.sh} (and the matching
 * {@code teardown.sh}) in {@link #logDirectory()}, next to the logs of the processes it started.
 */
public final class NetnsLab implements AutoCloseable {
    /** The node name of the router between all NATs and the public segment. */
    public static final String ROUTER = "router";

    /** The bridge in the router that holds the public segment. */
    private static final String PUBLIC_BRIDGE = "pub";
    private static final String NAT_WAN = "wan";
    private static final String NAT_LAN_BRIDGE = "lan";
    private static final String HOST_INTERFACE = "eth0";
    /** Interface names are at most 15 bytes (IFNAMSIZ - 1); "to-" + node name must fit. */
    private static final Pattern NODE_NAME = Pattern.compile("[a-z][a-z0-9-]{0,11}");
    private static final int MAX_NATS = 2 + 256;
    private static final int MAX_HOSTS_PER_SEGMENT = 250;
    private static final Duration LINKS_UP_LIMIT = Duration.ofSeconds(10);
    private static final Duration PROCESS_STOP_GRACE = Duration.ofSeconds(5);

    /** Surefire's classpath, as the forked JVM sees it: the test classes and every dependency. */
    private static final String CLASS_PATH = System.getProperty("java.class.path");
    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    /**
     * What every lab JVM needs: Agrona's export, and sun.nio.ch for core's {@code UnicastTtl}, which
     * sets the small TTL of the priming packet (the testkit does not depend on core, so the option is
     * spelled out here).
     */
    public static final List<String> REQUIRED_JVM_OPTIONS = List.of(
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED");

    /**
     * Options {@link #java(String, Class, String...)} adds: a small machine runs several lab JVMs at
     * once, so each gets one GC thread and a bounded heap.
     */
    public static final List<String> DEFAULT_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xmx512m");

    private static final AtomicInteger LAB_NUMBER = new AtomicInteger();
    private static final Set<NetnsLab> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (NetnsLab lab : OPEN) {
                try {
                    lab.close();
                } catch (IOException | RuntimeException e) {
                    System.err.println("netns lab " + lab.runId + ": teardown at JVM exit failed: " + e);
                }
            }
        }, "netns-lab-teardown"));
    }

    private enum Role { ROUTER, NAT, PRIVATE_HOST, PUBLIC_HOST }

    /** One namespace of the lab and its addresses. */
    private record Node(String name, Role role, String namespace, Inet4Address address,
                        Inet4Address lanAddress, String nat, NatMapping mapping) {}

    private final NetnsEnvironment.Tools tools;
    private final String runId;
    private final Path logDirectory;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<String> namespaces = new ArrayList<>();
    private final List<LabProcess> processes = new CopyOnWriteArrayList<>();
    private final StringBuilder setupScript = new StringBuilder("#!/bin/sh\nset -e\n");
    private final Map<String, Integer> lossPercentByNat = new TreeMap<>();
    private final Set<String> rateLimitedNats = ConcurrentHashMap.newKeySet();
    private final AtomicInteger processNumber = new AtomicInteger();
    private final int failAfterCommands;
    private int commandsRun;
    private final long buildNanos;
    private volatile long teardownNanos = -1;
    private boolean closed;

    /**
     * Skips the calling test (a JUnit assumption) unless this host can run labs: Linux, root,
     * iproute2, a working iptables backend, and permission to create namespaces. Prefer
     * {@link RequiresNetnsLab} on the class, which also covers {@code @BeforeAll}.
     */
    public static void assumeAvailable() {
        NetnsEnvironment.Probe probe = NetnsEnvironment.probe();
        Assumptions.assumeTrue(probe.available(),
                () -> NetnsEnvironment.SKIP_MESSAGE + " (" + probe.unavailableReason() + ")");
    }

    /** Starts the description of a lab. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The usual topology: {@code alice} behind {@code nat-a}, {@code bob} behind {@code nat-b}, and
     * {@code server} on the public segment.
     */
    public static NetnsLab twoNats(NatMapping natA, NatMapping natB) throws IOException {
        return builder()
                .nat("nat-a", natA).privateHost("alice", "nat-a")
                .nat("nat-b", natB).privateHost("bob", "nat-b")
                .publicHost("server")
                .build();
    }

    /** Describes a lab: NATs, the hosts behind them, and hosts on the public segment. */
    public static final class Builder {
        private final Map<String, NatMapping> nats = new LinkedHashMap<>();
        private final Map<String, String> privateHosts = new LinkedHashMap<>();
        private final List<String> publicHosts = new ArrayList<>();
        private int failAfterCommands = -1;

        private Builder() {}

        /** For the fixture's own test: the build fails after {@code commands} setup commands. */
        public Builder failAfterCommands(int commands) {
            this.failAfterCommands = commands;
            return this;
        }

        /** Adds a NAT whose WAN side is linked to the router. */
        public Builder nat(String name, NatMapping mapping) {
            addName(name);
            nats.put(name, Objects.requireNonNull(mapping, "mapping"));
            return this;
        }

        /** Adds a host on the LAN of {@code nat} (declared before), with its default route through it. */
        public Builder privateHost(String name, String nat) {
            if (!nats.containsKey(nat)) {
                throw new IllegalArgumentException("host " + name + " is behind unknown NAT " + nat
                        + "; declare the NAT first (known: " + nats.keySet() + ")");
            }
            addName(name);
            privateHosts.put(name, nat);
            return this;
        }

        /** Adds a host directly on the public segment (no NAT). */
        public Builder publicHost(String name) {
            addName(name);
            publicHosts.add(name);
            return this;
        }

        private void addName(String name) {
            if (!NODE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("node name " + name
                        + " must match " + NODE_NAME + " (it becomes part of a 15-byte interface name)");
            }
            if (name.equals(ROUTER) || nats.containsKey(name) || privateHosts.containsKey(name)
                    || publicHosts.contains(name)) {
                throw new IllegalArgumentException("node name " + name + " is already used");
            }
        }

        /**
         * Creates the namespaces, links, addresses, routes and NAT rules, and waits until every
         * link is up. Skips the calling test (as {@link #assumeAvailable()}) when labs cannot run
         * here. On failure everything created so far is removed before the exception propagates.
         */
        public NetnsLab build() throws IOException {
            assumeAvailable();
            if (nats.size() > MAX_NATS) {
                throw new IllegalArgumentException("at most " + MAX_NATS + " NATs, got " + nats.size());
            }
            return new NetnsLab(NetnsEnvironment.probe().tools(), this);
        }
    }

    private NetnsLab(NetnsEnvironment.Tools tools, Builder description) throws IOException {
        long start = System.nanoTime();
        this.tools = tools;
        this.failAfterCommands = description.failAfterCommands;
        this.runId = NetnsEnvironment.namespacePrefix(LAB_NUMBER.incrementAndGet());
        this.logDirectory = Files.createDirectories(logRoot().resolve(runId.substring(0, runId.length() - 1)));
        OPEN.add(this);
        try {
            plan(description);
            create();
        } catch (IOException | RuntimeException e) {
            try {
                close();
            } catch (IOException teardown) {
                e.addSuppressed(teardown);
            }
            throw e;
        } finally {
            writeScript("setup.sh", setupScript.toString());
        }
        this.buildNanos = System.nanoTime() - start;
    }

    private static Path logRoot() {
        Path target = Path.of(System.getProperty("user.dir"), "target");
        return Files.isDirectory(target)
                ? target.resolve("netns-lab")
                : Path.of(System.getProperty("java.io.tmpdir"), "netns-lab");
    }

    private void plan(Builder d) {
        nodes.put(ROUTER, new Node(ROUTER, Role.ROUTER, runId + ROUTER, ipv4(192, 0, 2, 1), null, null, null));
        int natIndex = 0;
        for (Map.Entry<String, NatMapping> nat : d.nats.entrySet()) {
            int[] wanNet = natWanNetwork(natIndex);
            String name = nat.getKey();
            nodes.put(name, new Node(name, Role.NAT, runId + name, ipv4(wanNet[0], wanNet[1], wanNet[2], 2),
                    ipv4(10, 0, natIndex + 1, 1), null, nat.getValue()));
            int hostIndex = 0;
            for (Map.Entry<String, String> host : d.privateHosts.entrySet()) {
                if (host.getValue().equals(name)) {
                    checkSegmentSize(hostIndex, "the LAN of " + name);
                    nodes.put(host.getKey(), new Node(host.getKey(), Role.PRIVATE_HOST, runId + host.getKey(),
                            ipv4(10, 0, natIndex + 1, 2 + hostIndex++), null, name, null));
                }
            }
            natIndex++;
        }
        int publicIndex = 0;
        for (String host : d.publicHosts) {
            checkSegmentSize(publicIndex, "the public segment");
            nodes.put(host, new Node(host, Role.PUBLIC_HOST, runId + host,
                    ipv4(192, 0, 2, 2 + publicIndex++), null, null, null));
        }
    }

    private static void checkSegmentSize(int index, String segment) {
        if (index >= MAX_HOSTS_PER_SEGMENT) {
            throw new IllegalArgumentException("at most " + MAX_HOSTS_PER_SEGMENT + " hosts on " + segment);
        }
    }

    /** The first three octets of NAT number {@code index}'s link to the router. */
    private static int[] natWanNetwork(int index) {
        return switch (index) {
            case 0 -> new int[] {203, 0, 113};
            case 1 -> new int[] {198, 51, 100};
            default -> new int[] {100, 64, index - 2};
        };
    }

    private void create() throws IOException {
        for (Node node : nodes.values()) {
            command(tools.ip().toString(), "netns", "add", node.namespace());
            namespaces.add(node.namespace());
            // Written as soon as something exists, so a human can clean up even if this JVM dies.
            writeScript("teardown.sh", teardownScript());
        }
        for (Node node : nodes.values()) {
            ip(node, "link", "set", "lo", "up");
        }
        Node router = nodes.get(ROUTER);
        enableForwarding(router);
        if (nodes.values().stream().anyMatch(n -> n.role() == Role.PUBLIC_HOST)) {
            ip(router, "link", "add", "name", PUBLIC_BRIDGE, "type", "bridge");
            ip(router, "addr", "add", router.address().getHostAddress() + "/24", "dev", PUBLIC_BRIDGE);
            ip(router, "link", "set", PUBLIC_BRIDGE, "up");
        }
        for (Node nat : nodesWithRole(Role.NAT)) {
            String routerSide = linkName(nat);
            veth(router, routerSide, nat, NAT_WAN);
            ip(router, "addr", "add", gateway(nat.address()) + "/24", "dev", routerSide);
            ip(router, "link", "set", routerSide, "up");
            ip(nat, "addr", "add", nat.address().getHostAddress() + "/24", "dev", NAT_WAN);
            ip(nat, "link", "set", NAT_WAN, "up");
            ip(nat, "route", "add", "default", "via", gateway(nat.address()));
            enableForwarding(nat);
            ip(nat, "link", "add", "name", NAT_LAN_BRIDGE, "type", "bridge");
            ip(nat, "addr", "add", nat.lanAddress().getHostAddress() + "/24", "dev", NAT_LAN_BRIDGE);
            ip(nat, "link", "set", NAT_LAN_BRIDGE, "up");
            List<String> masquerade = new ArrayList<>(List.of(tools.ip().toString(), "netns", "exec",
                    nat.namespace(), tools.iptables().toString(), "-w", "-t", "nat", "-A", "POSTROUTING",
                    "-o", NAT_WAN, "-j", "MASQUERADE"));
            masquerade.addAll(nat.mapping().masqueradeOptions());
            command(masquerade);
        }
        for (Node host : nodes.values()) {
            if (host.role() == Role.PRIVATE_HOST) {
                Node nat = nodes.get(host.nat());
                attachHost(host, nat, NAT_LAN_BRIDGE, nat.lanAddress());
            } else if (host.role() == Role.PUBLIC_HOST) {
                attachHost(host, router, PUBLIC_BRIDGE, router.address());
            }
        }
        awaitLinksUp();
    }

    private void attachHost(Node host, Node upstream, String bridge, Inet4Address gateway) throws IOException {
        String upstreamSide = linkName(host);
        veth(upstream, upstreamSide, host, HOST_INTERFACE);
        ip(upstream, "link", "set", "dev", upstreamSide, "master", bridge, "up");
        ip(host, "addr", "add", host.address().getHostAddress() + "/24", "dev", HOST_INTERFACE);
        ip(host, "link", "set", HOST_INTERFACE, "up");
        ip(host, "route", "add", "default", "via", gateway.getHostAddress());
    }

    /** Creates a veth pair with each end directly inside its namespace: no name ever exists in the root namespace. */
    private void veth(Node a, String aName, Node b, String bName) throws IOException {
        command(tools.ip().toString(), "link", "add", "name", aName, "netns", a.namespace(),
                "type", "veth", "peer", "name", bName, "netns", b.namespace());
    }

    private void enableForwarding(Node node) throws IOException {
        // /proc/sys/net belongs to the namespace of the process that opens it; sysctl(8) may be absent.
        command(tools.ip().toString(), "netns", "exec", node.namespace(), tools.sh().toString(), "-c",
                "echo 1 > /proc/sys/net/ipv4/ip_forward");
    }

    /**
     * Waits until every veth (and every bridge that has ports) reports operational state UP: only
     * then has the kernel attached its queueing discipline, before which packets are dropped. Each
     * poll runs {@code ip}, so the loop needs no pause of its own; it is bounded.
     */
    private void awaitLinksUp() throws IOException {
        Map<Node, List<String>> expected = new LinkedHashMap<>();
        for (Node node : nodes.values()) {
            expected.put(node, expectedLinks(node));
        }
        long deadline = System.nanoTime() + LINKS_UP_LIMIT.toNanos();
        List<String> down;
        do {
            down = new ArrayList<>();
            for (Map.Entry<Node, List<String>> e : expected.entrySet()) {
                if (e.getValue().isEmpty()) {
                    continue;
                }
                String links = NetnsEnvironment.run(List.of(tools.ip().toString(), "-n", e.getKey().namespace(),
                        "-o", "link", "show"));
                for (String link : e.getValue()) {
                    if (!linkIsUp(links, link)) {
                        down.add(e.getKey().name() + ":" + link);
                    }
                }
            }
        } while (!down.isEmpty() && System.nanoTime() < deadline);
        if (!down.isEmpty()) {
            throw new IOException("links not up after " + LINKS_UP_LIMIT + ": " + down);
        }
    }

    private static boolean linkIsUp(String ipOneLineOutput, String link) {
        // "7: to-alice@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... state UP mode DEFAULT ..."
        for (String line : ipOneLineOutput.split("\n")) {
            String[] fields = line.split(":\\s+", 3);
            if (fields.length == 3 && fields[1].split("@", 2)[0].equals(link)) {
                return line.contains(" state UP ");
            }
        }
        return false;
    }

    private List<String> expectedLinks(Node node) {
        List<String> links = new ArrayList<>();
        switch (node.role()) {
            case ROUTER -> {
                for (Node other : nodes.values()) {
                    if (other.role() == Role.NAT || other.role() == Role.PUBLIC_HOST) {
                        links.add(linkName(other));
                    }
                }
                if (nodes.values().stream().anyMatch(n -> n.role() == Role.PUBLIC_HOST)) {
                    links.add(PUBLIC_BRIDGE);
                }
            }
            case NAT -> {
                links.add(NAT_WAN);
                for (Node host : nodes.values()) {
                    if (node.name().equals(host.nat())) {
                        links.add(linkName(host));
                    }
                }
                if (links.size() > 1) {
                    links.add(NAT_LAN_BRIDGE);
                }
            }
            case PRIVATE_HOST, PUBLIC_HOST -> links.add(HOST_INTERFACE);
        }
        return links;
    }

    /** The name of the interface that leads to {@code node} from its upstream router or NAT. */
    private static String linkName(Node node) {
        return "to-" + node.name();
    }

    private List<Node> nodesWithRole(Role role) {
        return nodes.values().stream().filter(n -> n.role() == role).toList();
    }

    private void ip(Node node, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(tools.ip().toString(), "-n", node.namespace()));
        command.addAll(List.of(args));
        command(command);
    }

    private String command(String... command) throws IOException {
        return command(List.of(command));
    }

    /** Runs a setup or impairment command and records it in setup.sh. */
    private String command(List<String> command) throws IOException {
        synchronized (setupScript) {
            if (commandsRun++ == failAfterCommands) {
                throw new IOException("failure injected after " + failAfterCommands + " commands");
            }
            setupScript.append(shellLine(command)).append('\n');
        }
        return NetnsEnvironment.run(command);
    }

    private String teardownScript() {
        StringBuilder script = new StringBuilder("#!/bin/sh\n# Kills what runs in the lab's namespaces, then deletes them.\n");
        for (String ns : namespaces) {
            script.append("for p in $(").append(shellLine(List.of(tools.ip().toString(), "netns", "pids", ns)))
                    .append(" 2>/dev/null); do kill -9 \"$p\"; done\n");
            script.append(shellLine(List.of(tools.ip().toString(), "netns", "del", ns))).append('\n');
        }
        return script.toString();
    }

    private void writeScript(String name, String content) {
        try {
            Path file = logDirectory.resolve(name);
            Files.writeString(file, content, StandardCharsets.UTF_8);
            file.toFile().setExecutable(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + " into " + logDirectory, e);
        }
    }

    private static String shellLine(List<String> command) {
        List<String> quoted = new ArrayList<>();
        for (String arg : command) {
            quoted.add(arg.matches("[A-Za-z0-9_./:=@%+,-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return String.join(" ", quoted);
    }

    // ---------------------------------------------------------------- what tests use

    /**
     * The node's address: a host's only address, a NAT's WAN (public) address, the router's
     * address on the public segment.
     */
    public InetAddress address(String node) {
        return node(node).address();
    }

    /** {@link #address(String)} with a port. */
    public InetSocketAddress socketAddress(String node, int port) {
        return new InetSocketAddress(address(node), port);
    }

    /** A NAT's address on its LAN: the private hosts' default gateway. */
    public InetAddress lanAddress(String nat) {
        Node node = node(nat);
        if (node.role() != Role.NAT) {
            throw new IllegalArgumentException(nat + " is not a NAT");
        }
        return node.lanAddress();
    }

    /** The NAT a private host sits behind, or empty for the router, NATs and public hosts. */
    public Optional<String> natOf(String host) {
        return Optional.ofNullable(node(host).nat());
    }

    /** The namespace name of a node, for tests that run {@code ip netns exec} themselves. */
    public String namespace(String node) {
        return node(node).namespace();
    }

    /** Every node name: the router, NATs, private and public hosts, in creation order. */
    public List<String> nodes() {
        return List.copyOf(nodes.keySet());
    }

    /**
     * The prefix every namespace of this lab starts with; unique per lab and per run
     * ({@code phl-<pid>-<created millis base 36>-<lab number>-}).
     */
    public String runId() {
        return runId;
    }

    /** Where setup.sh, teardown.sh and every process log of this lab are written. */
    public Path logDirectory() {
        return logDirectory;
    }

    /** The iptables command that works here (iptables, iptables-nft or iptables-legacy). */
    public String iptables() {
        return tools.iptables().toString();
    }

    /** How long building the lab took, links up included. */
    public Duration buildTime() {
        return Duration.ofNanos(buildNanos);
    }

    /** How long {@link #close()} took, or empty while the lab is open. */
    public Optional<Duration> teardownTime() {
        return teardownNanos < 0 ? Optional.empty() : Optional.of(Duration.ofNanos(teardownNanos));
    }

    /**
     * Starts {@code command} inside {@code node}'s namespace, its standard output and error going
     * to a log file in {@link #logDirectory()}. The lab stops it on {@link #close()}.
     */
    public LabProcess exec(String node, List<String> command) throws IOException {
        Node target = node(node);
        checkOpen();
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        String program = Path.of(command.get(0)).getFileName().toString();
        return start(target, command, program);
    }

    private LabProcess start(Node target, List<String> command, String label) throws IOException {
        List<String> full = new ArrayList<>(List.of(tools.ip().toString(), "netns", "exec", target.namespace()));
        full.addAll(command);
        Path log = logDirectory.resolve(String.format("%02d-%s-%s.log", processNumber.incrementAndGet(),
                target.name(), label.replaceAll("[^A-Za-z0-9_.-]", "_")));
        // "ip netns exec" execs the command in place (no fork), so the Process is the command itself.
        Process process = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        LabProcess labProcess = new LabProcess(target.name(), command, log, process);
        processes.add(labProcess);
        return labProcess;
    }

    /**
     * Starts {@code mainClass} in a new JVM inside {@code node}'s namespace: this JVM's
     * {@code java}, the test classpath, {@link #REQUIRED_JVM_OPTIONS} and
     * {@link #DEFAULT_JVM_OPTIONS}.
     */
    public LabProcess java(String node, Class<?> mainClass, String... args) throws IOException {
        return java(node, DEFAULT_JVM_OPTIONS, mainClass.getName(), args);
    }

    /** As {@link #java(String, Class, String...)}, with {@code jvmOptions} instead of the default ones. */
    public LabProcess java(String node, List<String> jvmOptions, String mainClass, String... args)
            throws IOException {
        Node target = node(node);
        checkOpen();
        List<String> command = new ArrayList<>(List.of(JAVA.toString(), "-cp", CLASS_PATH));
        command.addAll(REQUIRED_JVM_OPTIONS);
        command.addAll(jvmOptions);
        command.add(mainClass);
        command.addAll(List.of(args));
        return start(target, command, mainClass.substring(mainClass.lastIndexOf('.') + 1));
    }

    /**
     * Runs {@code command} inside {@code node}'s namespace to completion and returns its output
     * (for inspecting state: {@code conntrack -L}, {@code iptables -t nat -S}, {@code ip route}).
     *
     * @throws IOException if it exits non-zero; the message holds its output
     */
    public String run(String node, String... command) throws IOException {
        Node target = node(node);
        checkOpen();
        List<String> full = new ArrayList<>(List.of(tools.ip().toString(), "netns", "exec", target.namespace()));
        full.addAll(List.of(command));
        return NetnsEnvironment.run(full);
    }

    /** The logs of every process this lab started, each under a header: for failure messages. */
    public String processLogs() {
        StringBuilder all = new StringBuilder();
        for (LabProcess p : processes) {
            all.append("----- ").append(p.describe()).append(" (").append(p.log()).append(")\n")
                    .append(p.output());
        }
        return all.toString();
    }

    // ---------------------------------------------------------------- impairments

    /**
     * Drops {@code percent} % of the packets crossing the link between {@code nat} and the router,
     * each direction independently ({@code nft ... numgen random mod 100 < percent drop} in the
     * router's forward hook, so the NAT has already processed outgoing packets, as on a lossy
     * wire). 0 removes the loss.
     */
    public void loss(String nat, int percent) throws IOException {
        Node node = natNode(nat);
        checkOpen();
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("loss percent must be within 0..100, got " + percent);
        }
        if (tools.nft() == null) {
            throw new IOException("packet loss needs nft (Debian package nftables): not found on this host");
        }
        synchronized (lossPercentByNat) {
            if (percent == 0) {
                lossPercentByNat.remove(node.name());
            } else {
                lossPercentByNat.put(node.name(), percent);
            }
            // Replaces the whole table in one transaction: "add" makes the "delete" safe when it is absent.
            StringBuilder rules = new StringBuilder("add table inet pinhole_impair\n")
                    .append("delete table inet pinhole_impair\n")
                    .append("table inet pinhole_impair {\n  chain loss {\n")
                    .append("    type filter hook forward priority 0; policy accept;\n");
            for (Map.Entry<String, Integer> e : lossPercentByNat.entrySet()) {
                String link = linkName(nodes.get(e.getKey()));
                // numgen yields 0..99, and nft rejects the constant 100 in "< 100": total loss drops unconditionally.
                String match = e.getValue() == 100 ? "" : "numgen random mod 100 < " + e.getValue() + " ";
                rules.append("    iifname \"").append(link).append("\" ").append(match).append("drop\n");
                rules.append("    oifname \"").append(link).append("\" ").append(match).append("drop\n");
            }
            rules.append("  }\n}\n");
            Path file = logDirectory.resolve("impair-" + processNumber.incrementAndGet() + ".nft");
            Files.writeString(file, rules, StandardCharsets.UTF_8);
            command(tools.ip().toString(), "netns", "exec", namespace(ROUTER), tools.nft().toString(),
                    "-f", file.toString());
        }
    }

    /**
     * Limits the link between {@code nat} and the router to {@code bitsPerSecond} in each direction
     * with a token bucket ({@code tc qdisc tbf} on the NAT's WAN and on the router's side), queueing
     * at most 20 ms; what exceeds it is dropped. Replaces an earlier limit.
     */
    public void rateLimit(String nat, long bitsPerSecond) throws IOException {
        Node node = natNode(nat);
        checkOpen();
        if (bitsPerSecond < 8_000) {
            throw new IllegalArgumentException("rate must be at least 8000 bit/s, got " + bitsPerSecond);
        }
        if (tools.tc() == null) {
            throw new IOException("rate limits need tc (Debian package iproute2): not found on this host");
        }
        // The bucket must hold at least one full-size frame, else nothing of that size ever passes.
        long burstBytes = Math.max(3_000, bitsPerSecond / 8 / 50);
        for (String[] side : tbfSides(node)) {
            command(tools.tc().toString(), "-n", side[0], "qdisc", "replace", "dev", side[1], "root", "tbf",
                    "rate", bitsPerSecond + "bit", "burst", Long.toString(burstBytes), "latency", "20ms");
        }
        rateLimitedNats.add(node.name());
    }

    /** Removes the rate limit of {@code nat}'s link, if any. */
    public void clearRateLimit(String nat) throws IOException {
        Node node = natNode(nat);
        checkOpen();
        if (rateLimitedNats.remove(node.name())) {
            for (String[] side : tbfSides(node)) {
                command(tools.tc().toString(), "-n", side[0], "qdisc", "del", "dev", side[1], "root");
            }
        }
    }

    private List<String[]> tbfSides(Node nat) {
        return List.of(new String[] {nat.namespace(), NAT_WAN},
                new String[] {namespace(ROUTER), linkName(nat)});
    }

    private Node natNode(String nat) {
        Node node = node(nat);
        if (node.role() != Role.NAT) {
            throw new IllegalArgumentException(nat + " is not a NAT; impairments apply to a NAT's link");
        }
        return node;
    }

    private Node node(String name) {
        Node node = nodes.get(name);
        if (node == null) {
            throw new IllegalArgumentException("no node " + name + " in this lab (nodes: " + nodes.keySet() + ")");
        }
        return node;
    }

    private synchronized void checkOpen() {
        if (closed) {
            throw new IllegalStateException("lab " + runId + " is closed");
        }
    }

    // ---------------------------------------------------------------- teardown

    /**
     * Stops every process (SIGTERM, then SIGKILL after {@link #PROCESS_STOP_GRACE}), kills whatever
     * else runs in the lab's namespaces, deletes them, and checks that none is left.
     *
     * @throws IOException if something could not be removed; the message lists what
     */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        long start = System.nanoTime();
        List<String> problems = new ArrayList<>();
        for (LabProcess p : processes) {
            stop(p);
        }
        List<String> reversed = new ArrayList<>(namespaces);
        Collections.reverse(reversed);
        for (String ns : reversed) {
            try {
                NetnsEnvironment.deleteNamespace(tools.ip(), ns);
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        try {
            List<String> left = NetnsEnvironment.namespacesStartingWith(tools.ip(), runId);
            if (!left.isEmpty()) {
                problems.add("namespaces still present: " + left);
            }
        } catch (IOException e) {
            problems.add("cannot list namespaces: " + e.getMessage());
        }
        teardownNanos = System.nanoTime() - start;
        OPEN.remove(this);
        if (!problems.isEmpty()) {
            throw new IOException("tearing down lab " + runId + " failed: " + String.join("; ", problems)
                    + " (see " + logDirectory.resolve("teardown.sh") + ")");
        }
    }

    private static void stop(LabProcess p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(PROCESS_STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                NetnsEnvironment.killAndAwait(p.toHandle());
            }
        } catch (InterruptedException e) {
            NetnsEnvironment.killAndAwait(p.toHandle());
            Thread.currentThread().interrupt();
        }
    }

    /** Namespaces of any lab (live or not) whose names start with {@code prefix}. */
    public static List<String> namespacesStartingWith(String prefix) throws IOException {
        NetnsEnvironment.Probe probe = NetnsEnvironment.probe();
        if (!probe.available()) {
            throw new IOException(NetnsEnvironment.SKIP_MESSAGE + " (" + probe.unavailableReason() + ")");
        }
        return NetnsEnvironment.namespacesStartingWith(probe.tools().ip(), prefix);
    }

    private static String gateway(Inet4Address address) {
        byte[] b = address.getAddress();
        return (b[0] & 0xff) + "." + (b[1] & 0xff) + "." + (b[2] & 0xff) + ".1";
    }

    private static Inet4Address ipv4(int a, int b, int c, int d) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError("four bytes are always a valid IPv4 address", e);
        }
    }
}
