package dev.pinhole.cli.netns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.cli.ExitCodes;
import dev.pinhole.cli.Main;
import dev.pinhole.testkit.netns.LabProcess;
import dev.pinhole.testkit.netns.NatMapping;
import dev.pinhole.testkit.netns.NetnsLab;
import dev.pinhole.testkit.netns.RequiresNetnsLab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code pinhole} CLI as real processes through real Linux NATs ({@link NetnsLab}: iptables
 * {@code MASQUERADE} in network namespaces, a router between the NATs): {@code rendezvous} on a
 * public host, {@code receive} and {@code send} behind NATs. The file goes directly between the
 * two NATed hosts or, where a plain punch cannot work ({@code --random-fully}, RFC 4787 section
 * 4.1 address-and-port-dependent mapping, on both NATs), through a relay: the rendezvous server's
 * built-in one, or a real coturn on the public segment whose TURN REST credentials the rendezvous server
 * issues. With {@code --no-relay}, {@code send} says that traversal failed and a relay is needed.
 */
@RequiresNetnsLab
class CliThroughNatsTest {
    private static final int RENDEZVOUS_PORT = 3478;
    private static final int COTURN_PORT = 3490;
    /** A second address on the public host, for the rendezvous server's RFC 5780 mode. */
    private static final String SERVER_SECOND_IP = "192.0.2.200";
    private static final int FILE_BYTES = 2 * 1024 * 1024;
    /** Fresh send/receive pairs per lab: one success could be luck. */
    private static final int REPEATS = 3;
    /** Guards against a hung process, not expectations of speed: the machine is shared and loaded. */
    private static final Duration READY_LIMIT = Duration.ofSeconds(60);
    private static final Duration TRANSFER_LIMIT = Duration.ofSeconds(180);
    /** {@code send --timeout}: how long the sender waits for the receiver to be registered. */
    private static final String PEER_WAIT_SECONDS = "90";

    @TempDir
    Path dir;

    /** What one send/receive pair printed and how it ended. */
    private record Outcome(int sendExit, String sendSummary, int receiveExit, String receiveSummary,
                           Path received) {}

    @Test
    void fileCrossesTwoMasqueradeNatsDirectlyEveryTime() throws Exception {
        try (NetnsLab lab = NetnsLab.twoNats(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ENDPOINT_INDEPENDENT)) {
            withLogsOnFailure(lab, () -> {
                String rendezvous = startRendezvous(lab);
                for (int run = 1; run <= REPEATS; run++) {
                    byte[] content = randomBytes(0xC0FFEE + run);
                    Path file = Files.write(dir.resolve("two-nats-" + run + ".bin"), content);
                    Outcome outcome = transferDirect(lab, "alice", "bob", rendezvous, file, "run" + run);
                    assertPathAndIntact(outcome, content, "direct", "run " + run + " of " + REPEATS);
                }
            });
        }
    }

    @Test
    void fileCrossesBetweenTwoHostsBehindOneNat() throws Exception {
        try (NetnsLab lab = NetnsLab.builder()
                .nat("nat-a", NatMapping.ENDPOINT_INDEPENDENT)
                .privateHost("alice", "nat-a").privateHost("carol", "nat-a")
                .publicHost("server")
                .build()) {
            withLogsOnFailure(lab, () -> {
                String rendezvous = startRendezvous(lab);
                byte[] content = randomBytes(0x5A4E);
                Path file = Files.write(dir.resolve("same-lan.bin"), content);
                Outcome outcome = transferDirect(lab, "alice", "carol", rendezvous, file, "lan");
                assertPathAndIntact(outcome, content, "direct", "two hosts behind one NAT");
            });
        }
    }

    @Test
    void fileCrossesTwoRandomFullyNatsThroughTheBuiltInRelay() throws Exception {
        try (NetnsLab lab = NetnsLab.twoNats(NatMapping.ADDRESS_AND_PORT_DEPENDENT,
                NatMapping.ADDRESS_AND_PORT_DEPENDENT)) {
            withLogsOnFailure(lab, () -> {
                String rendezvous = startRendezvous(lab);
                byte[] content = randomBytes(0x4E1A);
                Path file = Files.write(dir.resolve("relayed.bin"), content);
                Outcome outcome = transfer(lab, "alice", "bob", rendezvous, file, "relayed");
                assertPathAndIntact(outcome, content, "relayed", "random-fully on both NATs, built-in relay");
                String relay = lab.address("server").getHostAddress() + ":" + (RENDEZVOUS_PORT + 1);
                assertTrue(outcome.sendSummary().contains(relay), "the path names the built-in relay " + relay
                        + ": " + outcome.sendSummary());
            });
        }
    }

    @Test
    void fileCrossesTwoRandomFullyNatsThroughCoturnOnThePublicSegment() throws Exception {
        try (NetnsLab lab = NetnsLab.twoNats(NatMapping.ADDRESS_AND_PORT_DEPENDENT,
                NatMapping.ADDRESS_AND_PORT_DEPENDENT)) {
            withLogsOnFailure(lab, () -> {
                String server = lab.address("server").getHostAddress();
                String turnSecret = "coturn and rendezvous share this";
                Path secretFile = Files.writeString(dir.resolve("turn-secret"), turnSecret + "\n");
                LabProcess coturn = lab.exec("server", List.of("turnserver", "-n", "--listening-ip=" + server,
                        "--listening-port=" + COTURN_PORT, "--relay-ip=" + server, "--min-port=50000",
                        "--max-port=50200", "--use-auth-secret", "--static-auth-secret=" + turnSecret,
                        "--realm=pinhole", "--fingerprint", "--no-tls", "--no-dtls", "--no-cli",
                        "--log-file=stdout", "--simple-log", "--pidfile=" + dir.resolve("turnserver.pid"),
                        "--userdb=" + dir.resolve("turndb")));
                coturn.awaitLine(l -> l.contains("Total General servers"), "coturn's servers", READY_LIMIT);
                String rendezvous = startRendezvous(lab, "--turn-server", server + ":" + COTURN_PORT,
                        "--turn-secret-file", secretFile.toString());
                byte[] content = randomBytes(0xC07);
                Path file = Files.write(dir.resolve("via-coturn.bin"), content);
                Outcome outcome = transfer(lab, "alice", "bob", rendezvous, file, "coturn");
                assertPathAndIntact(outcome, content, "relayed", "random-fully on both NATs, coturn");
                assertTrue(outcome.sendSummary().contains(server + ":" + COTURN_PORT),
                        "the path names coturn: " + outcome.sendSummary());
            });
        }
    }

    @Test
    void randomFullyReachesMasqueradeDirectlyByBirthdayProbingWhenTheServerMeasuresBothNats() throws Exception {
        try (NetnsLab lab = NetnsLab.twoNats(NatMapping.ADDRESS_AND_PORT_DEPENDENT, NatMapping.ENDPOINT_INDEPENDENT)) {
            withLogsOnFailure(lab, () -> {
                // RFC 5780 needs a second server IP; --no-relay: the path is direct or the transfer fails.
                lab.run("server", "ip", "addr", "add", SERVER_SECOND_IP + "/24", "dev", "eth0");
                String rendezvous = startRendezvous(lab, "--alt", SERVER_SECOND_IP + ":" + (RENDEZVOUS_PORT + 2),
                        "--no-relay");
                byte[] content = randomBytes(0xB1D);
                Path file = Files.write(dir.resolve("birthday.bin"), content);
                Outcome outcome = transfer(lab, "alice", "bob", rendezvous, file, "birthday");
                assertPathAndIntact(outcome, content, "direct", "random-fully against MASQUERADE, measured NATs");
                assertEquals("birthday probe", field(outcome.sendSummary(), "via"), outcome.sendSummary());
            });
        }
    }

    /**
     * What an observer on the path records: tcpdump on alice's NAT (both of its sides) and on the public server
     * (the relay), while alice sends a text file whose name and every line are known, directly and through the
     * relay. Neither the file name nor any 16 consecutive bytes of the contents appear in any captured packet.
     */
    @Test
    void aCaptureAtTheNatAndTheRelayShowsNeitherFileNamesNorContents() throws Exception {
        byte[] content = capturedContent();
        String name = "quarterly-figures-do-not-share.txt";
        for (NatMapping mapping : List.of(NatMapping.ENDPOINT_INDEPENDENT, NatMapping.ADDRESS_AND_PORT_DEPENDENT)) {
            try (NetnsLab lab = NetnsLab.twoNats(mapping, mapping)) {
                withLogsOnFailure(lab, () -> {
                    String rendezvous = startRendezvous(lab);
                    Path file = Files.write(Files.createDirectories(dir.resolve("capture-" + mapping)).resolve(name),
                            content);
                    Path atNat = dir.resolve("nat-a-" + mapping + ".pcap");
                    Path atServer = dir.resolve("server-" + mapping + ".pcap");
                    LabProcess natCapture = startCapture(lab, "nat-a", atNat);
                    LabProcess serverCapture = startCapture(lab, "server", atServer);
                    Outcome outcome = mapping == NatMapping.ENDPOINT_INDEPENDENT
                            ? transferDirect(lab, "alice", "bob", rendezvous, file, "capture-direct")
                            : transfer(lab, "alice", "bob", rendezvous, file, "capture-relayed");
                    assertPathAndIntact(outcome, content,
                            mapping == NatMapping.ENDPOINT_INDEPENDENT ? "direct" : "relayed", "capture " + mapping);
                    stopCapture(natCapture);
                    stopCapture(serverCapture);
                    byte[] natBytes = Files.readAllBytes(atNat);
                    byte[] serverBytes = Files.readAllBytes(atServer);
                    assertTrue(natBytes.length > content.length, "the NAT saw the transfer: " + natBytes.length
                            + " bytes captured");
                    // The capture does see what is in clear: the rendezvous REGISTER carries the peer's name.
                    assertTrue(indexOf(natBytes, "alice".getBytes(StandardCharsets.US_ASCII)) >= 0,
                            "the capture holds the name alice registers with, as a check that it can find text");
                    for (byte[] capture : List.of(natBytes, serverBytes)) {
                        assertEquals(-1, indexOf(capture, name.getBytes(StandardCharsets.UTF_8)),
                                "the file name crossed in clear (" + mapping + ")");
                        for (int at = 0; at + 16 <= content.length; at += 16) {
                            assertEquals(-1, indexOf(capture, Arrays.copyOfRange(content, at, at + 16)),
                                    "16 bytes of the contents at offset " + at + " crossed in clear (" + mapping + ")");
                        }
                    }
                });
            }
        }
    }

    /** 48 KiB of numbered text lines: every 16-byte window is distinct enough to search for. */
    private static byte[] capturedContent() {
        StringBuilder text = new StringBuilder();
        for (int line = 0; text.length() < 48 * 1024; line++) {
            text.append("line ").append(line).append(": revenue ").append(line * 7919 % 100_000).append(" EUR\n");
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private LabProcess startCapture(NetnsLab lab, String node, Path pcap) throws Exception {
        // --immediate-mode: each packet is handed over (and with -U written) as it arrives, not in blocks that a
        // stopped capture would lose.
        LabProcess capture = lab.exec(node, List.of("tcpdump", "-i", "any", "--immediate-mode", "-U", "-n", "-s", "0", "-w",
                pcap.toString(), "udp"));
        capture.awaitLine(l -> l.contains("listening on"), "tcpdump on " + node, READY_LIMIT);
        return capture;
    }

    private static void stopCapture(LabProcess capture) throws Exception {
        capture.destroy();
        capture.awaitExit(READY_LIMIT);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void withoutARelaySendBehindRandomFullyNatSaysTraversalFailedAndARelayIsNeeded() throws Exception {
        try (NetnsLab lab = NetnsLab.twoNats(NatMapping.ADDRESS_AND_PORT_DEPENDENT, NatMapping.ENDPOINT_INDEPENDENT)) {
            withLogsOnFailure(lab, () -> {
                String rendezvous = startRendezvous(lab, "--no-relay");
                byte[] content = randomBytes(0x5E1F);
                Path file = Files.write(dir.resolve("random-fully.bin"), content);
                Path out = Files.createDirectory(dir.resolve("out-random-fully"));
                LabProcess receiver = startReceiver(lab, "bob", rendezvous, out, "2.5");
                LabProcess sender = lab.java("alice", Main.class, "send", file.toString(), "--id", "alice",
                        "--to", "bob", "--rendezvous", rendezvous, "--timeout", PEER_WAIT_SECONDS,
                        "--identity", identityFile("alice"), "--known-peers", knownPeersFile("alice"));
                int code = sender.awaitExit(TRANSFER_LIMIT);
                List<String> lines = sender.output().lines().filter(l -> !l.isBlank()).toList();
                assertEquals(ExitCodes.TRAVERSAL_FAILED, code,
                        "send behind --random-fully against plain MASQUERADE: expected exit "
                                + ExitCodes.TRAVERSAL_FAILED + " (traversal failed), got " + code + ": " + lines);
                assertEquals(1, lines.size(), "one line explains the failure, got: " + lines);
                String line = lines.get(0);
                assertTrue(line.startsWith("pinhole: NAT traversal failed"), "names traversal failure: " + line);
                assertTrue(line.contains("relay"), "says that a relay is needed: " + line);
                try (var written = Files.list(out)) {
                    assertEquals(List.of(), written.map(p -> p.getFileName().toString()).toList(),
                            "nothing arrives when traversal fails; receiver " + receiver.describe());
                }
            });
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Starts {@code rendezvous} on the public host and returns its address once it says it listens. */
    private static String startRendezvous(NetnsLab lab, String... options) throws Exception {
        String address = lab.address("server").getHostAddress() + ":" + RENDEZVOUS_PORT;
        List<String> args = new ArrayList<>(List.of("rendezvous", "--listen", address));
        args.addAll(List.of(options));
        LabProcess server = lab.java("server", Main.class, args.toArray(String[]::new));
        server.awaitLine(l -> l.contains("listening on "), "its 'listening on' line", READY_LIMIT);
        return address;
    }

    private LabProcess startReceiver(NetnsLab lab, String host, String rendezvous, Path out, String relayAfter)
            throws Exception {
        LabProcess receiver = lab.java(host, Main.class, "receive", "--id", host, "--rendezvous", rendezvous,
                "--out", out.toString(), "--once", "--json", "--identity", identityFile(host), "--yes",
                "--known-peers", knownPeersFile(host), "--relay-after", relayAfter);
        receiver.awaitLine(l -> l.contains("\"event\":\"registered\""), host + "'s registration", READY_LIMIT);
        return receiver;
    }

    /**
     * One fresh send/receive pair: {@code receive --once} on {@code to}, {@code send} on {@code from}, with the
     * default relay fallback (2.5 s): for the tests whose path is the relay.
     */
    private Outcome transfer(NetnsLab lab, String from, String to, String rendezvous, Path file, String label)
            throws Exception {
        return transfer(lab, from, to, rendezvous, file, label, "2.5");
    }

    /**
     * {@link #transfer} for a test that asserts a direct path: punching gets {@value #DIRECT_RELAY_AFTER} s alone
     * before the relay would carry the connection. On a loaded machine (the suite's other JVMs, the two peer JVMs
     * starting) a punch that takes 0.3 s on a quiet one has taken 3 s, past the 2.5 s default; the small file then
     * finished on the relay before the move to direct. What these tests check is that the NATs are punched, not
     * how fast a loaded machine punches them.
     */
    private Outcome transferDirect(NetnsLab lab, String from, String to, String rendezvous, Path file, String label)
            throws Exception {
        return transfer(lab, from, to, rendezvous, file, label, DIRECT_RELAY_AFTER);
    }

    private static final String DIRECT_RELAY_AFTER = "30";

    private Outcome transfer(NetnsLab lab, String from, String to, String rendezvous, Path file, String label,
                             String relayAfter) throws Exception {
        Path out = Files.createDirectory(dir.resolve("out-" + label));
        LabProcess receiver = startReceiver(lab, to, rendezvous, out, relayAfter);
        LabProcess sender = lab.java(from, Main.class, "send", file.toString(), "--id", from, "--to", to,
                "--rendezvous", rendezvous, "--timeout", PEER_WAIT_SECONDS, "--json", "--identity",
                identityFile(from), "--known-peers", knownPeersFile(from), "--relay-after", relayAfter);
        int sendExit = sender.awaitExit(TRANSFER_LIMIT);
        int receiveExit = receiver.awaitExit(TRANSFER_LIMIT);
        return new Outcome(sendExit, summary(sender), receiveExit, summary(receiver),
                out.resolve(file.getFileName()));
    }

    /** Each lab host's key file, in the test's directory rather than the home directory of whoever runs it. */
    private String identityFile(String host) {
        return dir.resolve("identity-" + host).toString();
    }

    /** Each lab host's known-peers file, next to its key file. */
    private String knownPeersFile(String host) {
        return dir.resolve("known_peers-" + host).toString();
    }

    /** The JSON summary line (the one with "ok"), or the whole output when there is none. */
    private static String summary(LabProcess p) {
        return p.output().lines().filter(l -> l.startsWith("{") && l.contains("\"ok\":")).findFirst()
                .orElse("(no summary) " + p.describe() + ":\n" + p.output());
    }

    private static void assertPathAndIntact(Outcome o, byte[] content, String path, String what) throws Exception {
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertEquals(ExitCodes.OK, o.sendExit(), what + ": send exit code; summary " + o.sendSummary());
        assertEquals(ExitCodes.OK, o.receiveExit(), what + ": receive exit code; summary " + o.receiveSummary());
        for (String summary : List.of(o.sendSummary(), o.receiveSummary())) {
            assertEquals("true", field(summary, "ok"), what + ": ok in " + summary);
            assertEquals(path, field(summary, "path"), what + ": path in " + summary);
            assertEquals(sha256, field(summary, "sha256"), what + ": sha256 in " + summary);
            assertEquals(String.valueOf(content.length), field(summary, "bytes"), what + ": bytes in " + summary);
        }
        assertTrue(Files.exists(o.received()), what + ": expected the received file " + o.received());
        assertArrayEquals(content, Files.readAllBytes(o.received()), what + ": received bytes");
    }

    /** A field of the flat JSON objects the CLI prints (strings, numbers, booleans). */
    private static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":(\"((?:[^\"\\\\]|\\\\.)*)\"|[^,}\\]]+)")
                .matcher(json);
        assertTrue(m.find(), "expected field " + key + " in " + json);
        return m.group(2) != null ? m.group(2) : m.group(1);
    }

    private static byte[] randomBytes(long seed) {
        byte[] content = new byte[FILE_BYTES];
        new SplittableRandom(seed).nextBytes(content);
        return content;
    }

    private interface LabBody {
        void run() throws Exception;
    }

    /** Runs {@code body}; if it fails, prints every process log the lab kept, then rethrows. */
    private static void withLogsOnFailure(NetnsLab lab, LabBody body) throws Exception {
        try {
            body.run();
        } catch (Exception | AssertionError e) {
            System.out.println("===== netns lab " + lab.runId() + " process logs (" + lab.logDirectory() + ")\n"
                    + lab.processLogs());
            throw e;
        }
    }
}
