package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The rendezvous server as a real process, with nat-type and chat processes talking to it. */
class RendezvousProcessTest {
    private static String listeningAddress(CliProcess server) throws InterruptedException {
        String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    @Test
    void natTypeAgainstOurRfc5780ServerSeesNoNatOnLoopback() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--alt", "127.0.0.2:0",
                "--no-relay")) {
            String address = listeningAddress(server);
            try (CliProcess nat = CliProcess.start("nat-type", "--stun", address, "--json")) {
                String json = nat.awaitLine(JsonLine::isJsonObject, "a JSON line");
                assertEquals(0, nat.exitCode(), nat.describe());
                assertEquals("true", JsonLine.field(json, "ok"), json);
                assertEquals("endpoint-independent", JsonLine.field(json, "mapping"), json);
                assertEquals("endpoint-independent", JsonLine.field(json, "filtering"), json);
                assertTrue(JsonLine.field(json, "mapped").startsWith("127.0.0.1:"), json);
            }
        }
    }

    @Test
    void chatMessageReachesTheOtherUserThroughTheServer() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--allow-list")) {
            String address = listeningAddress(server);
            try (CliProcess bob = CliProcess.start("chat", "--id", "bob", "--rendezvous", address);
                 CliProcess alice = CliProcess.start("chat", "--id", "alice", "--rendezvous", address)) {
                bob.awaitLine(l -> l.startsWith("registered as bob"), "bob's registration");
                alice.awaitLine(l -> l.startsWith("registered as alice"), "alice's registration");
                alice.type("getu");
                String users = alice.awaitLine(l -> l.startsWith("users: "), "the user list");
                assertTrue(users.contains("alice") && users.contains("bob"), "both users listed: " + users);
                alice.type("send bob hello over the rendezvous server");
                alice.awaitLine(l -> l.equals("sent to bob"), "the send confirmation");
                bob.awaitLine(l -> l.equals("alice: hello over the rendezvous server"), "alice's message at bob");
                alice.type("exit");
                bob.type("exit");
                assertEquals(0, alice.exitCode(), alice.describe());
                assertEquals(0, bob.exitCode(), bob.describe());
            }
        }
    }

    @Test
    void withoutAllowListGetuIsRefusedAndNamesNoOne() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--no-relay")) {
            String address = listeningAddress(server);
            try (CliProcess alice = CliProcess.start("chat", "--id", "alice", "--rendezvous", address)) {
                alice.awaitLine(l -> l.startsWith("registered as alice"), "alice's registration");
                alice.type("getu");
                alice.type("exit");
                assertEquals(0, alice.exitCode(), alice.describe());
                assertTrue(alice.stderr().contains("listing is disabled on this server"), alice.describe());
                assertTrue(alice.remainingStdout().stream().noneMatch(l -> l.startsWith("users: ")),
                    "no list: " + alice.describe());
            }
        }
    }

    @Test
    void maxPerAddressRefusesASecondRegistrationFromTheSameAddressWith508() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--no-relay",
                "--max-per-address", "1")) {
            String address = listeningAddress(server);
            try (CliProcess bob = CliProcess.start("chat", "--id", "bob", "--rendezvous", address)) {
                bob.awaitLine(l -> l.startsWith("registered as bob"), "bob's registration");
                try (CliProcess alice = CliProcess.start("chat", "--id", "alice", "--rendezvous", address)) {
                    assertEquals(ExitCodes.RENDEZVOUS_UNREACHABLE, alice.exitCode(), alice.describe());
                    assertTrue(alice.stderr().contains("508") && alice.stderr().contains("registration quota reached: 1 per source address"),
                        "names the quota: " + alice.stderr());
                }
                bob.type("exit");
                assertEquals(0, bob.exitCode(), bob.describe());
            }
        }
    }

    @Test
    void theBuiltInRelayRunsByDefaultAndChallengesATurnAllocateWithRealmAndNonce() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--json")) {
            String ready = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            assertTrue(ready.matches(".*listening on 127\\.0\\.0\\.1:\\d+.*, relay on 127\\.0\\.0\\.1:\\d+$"),
                    "the ready line names the relay: " + ready);
            String relay = ready.substring(ready.indexOf("relay on ") + "relay on ".length());
            String json = server.awaitLine(JsonLine::isJsonObject, "the JSON ready line");
            assertEquals(relay, JsonLine.field(json, "relay"), "the JSON line's relay field: " + json);
            assertNotEquals(listeningAddress(ready), relay, "the relay has its own port");

            byte[] answer = allocateWithoutCredentials(Addresses.parse(relay));

            StunReader reader = new StunReader();
            assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(answer)), "a STUN answer");
            assertEquals(StunMessageType.METHOD_ALLOCATE, reader.method(), "an Allocate answer");
            assertEquals(StunClass.ERROR_RESPONSE, reader.messageClass(), "an error response");
            assertEquals(401, reader.errorCode(), "RFC 8656 §7.2 / RFC 8489 §9.2.4: 401 challenge");
            assertTrue(reader.findAttribute(StunAttributeType.REALM) != StunReader.NO_ATTRIBUTE, "with a REALM");
            assertTrue(reader.findAttribute(StunAttributeType.NONCE) != StunReader.NO_ATTRIBUTE, "with a NONCE");
        }
    }

    @Test
    void noRelayRunsNoRelayAndSaysSo() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--no-relay", "--json")) {
            String ready = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            assertFalse(ready.contains("relay"), "no relay in the ready line: " + ready);
            String json = server.awaitLine(JsonLine::isJsonObject, "the JSON ready line");
            assertEquals("false", JsonLine.field(json, "relay"), "relay false in " + json);
        }
    }

    @Test
    void relayListenAndRelayIpPlaceTheRelayNextToAFixedListenPort() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = probe.getLocalPort();
        }
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:" + port,
                "--relay-listen", "127.0.0.1:0", "--relay-ip", "127.0.0.1")) {
            String ready = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            assertEquals("127.0.0.1:" + port, listeningAddress(ready), "listening where asked: " + ready);
            assertTrue(ready.contains(", relay on 127.0.0.1:"), "an explicit --relay-listen port 0 is ephemeral: " + ready);
        }
    }

    @Test
    void theRfc5780PairOfConsecutivePortsStartsWithItsRelayAndPrintsEverySocket() throws Exception {
        int port = freeTriple();
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:" + port,
                "--alt", "127.0.0.2:" + (port + 1), "--json")) {
            String ready = server.awaitLine(l -> l.contains("listening on "), "the ready line");
            assertEquals("pinhole rendezvous: listening on 127.0.0.1:" + port + " (RFC 5780 other address 127.0.0.2:"
                    + (port + 1) + "), relay on 127.0.0.1:" + (port + 2), ready);
            String json = server.awaitLine(JsonLine::isJsonObject, "the JSON ready line");
            assertEquals("127.0.0.1:" + port, JsonLine.field(json, "rendezvous"), json);
            assertEquals("127.0.0.1:" + (port + 1), JsonLine.field(json, "rfc5780_alt_port"), json);
            assertEquals("127.0.0.2:" + port, JsonLine.field(json, "rfc5780_alt_ip"), json);
            assertEquals("127.0.0.2:" + (port + 1), JsonLine.field(json, "rfc5780_other"), json);
            assertEquals("127.0.0.1:" + (port + 2), JsonLine.field(json, "relay_listen"), json);
            assertEquals("127.0.0.1:" + (port + 2), JsonLine.field(json, "relay"), json);
            String out = server.describe();
            for (String socket : new String[] {"127.0.0.1:" + port + " rendezvous and STUN",
                "127.0.0.1:" + (port + 1) + " RFC 5780 IP1:PORT2", "127.0.0.2:" + port + " RFC 5780 IP2:PORT1",
                "127.0.0.2:" + (port + 1) + " RFC 5780 IP2:PORT2", "127.0.0.1:" + (port + 2) + " TURN relay"}) {
                assertTrue(out.contains("pinhole rendezvous: udp " + socket), "prints '" + socket + "': " + out);
            }
            byte[] answer = allocateWithoutCredentials(new InetSocketAddress("127.0.0.1", port + 2));
            StunReader reader = new StunReader();
            assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(answer)), "the relay answers");
            assertEquals(401, reader.errorCode(), "an Allocate challenge from the relay");
        }
    }

    @Test
    void aRelayOnOneOfTheServersOwnPortsNamesBothSocketsAndTheirOptions() throws Exception {
        int port = freeTriple();
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:" + port,
                "--alt", "127.0.0.2:" + (port + 1), "--relay-listen", "127.0.0.1:" + (port + 1))) {
            assertEquals(ExitCodes.PORT_IN_USE, server.exitCode(), server.describe());
            String err = server.stderr().strip();
            assertEquals("pinhole: cannot listen on 127.0.0.1:" + (port + 1) + " for the TURN relay socket"
                    + " (--relay-listen): this server's own RFC 5780 alternate-port socket (IP1:PORT2, --listen's IP,"
                    + " --alt's port) is on 127.0.0.1:" + (port + 1) + "; give the relay another port with"
                    + " --relay-listen", err);
        }
    }

    @Test
    void anAddressNotOnThisHostIsSaidSo() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "192.0.2.77:3478")) {
            assertEquals(ExitCodes.PORT_IN_USE, server.exitCode(), server.describe());
            String err = server.stderr().strip();
            assertTrue(err.startsWith("pinhole: cannot listen on 192.0.2.77:3478 for the rendezvous and STUN socket"
                    + " (--listen): 192.0.2.77 is not an address of this host ("), err);
            assertFalse(err.contains("another process"), err);
        }
    }

    @Test
    void aPortHeldByAnotherProcessIsSaidOnce() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:" + taken.getLocalPort())) {
                assertEquals(ExitCodes.PORT_IN_USE, server.exitCode(), server.describe());
                String err = server.stderr().strip();
                assertEquals("pinhole: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " for the rendezvous and"
                        + " STUN socket (--listen): another process is using UDP port " + taken.getLocalPort()
                        + " (Address already in use)", err);
            }
        }
    }

    /** A port P with P, P+1 and P+2 free on 127.0.0.1 and 127.0.0.2 (checked, then released). */
    private static int freeTriple() throws Exception {
        InetAddress ip2 = InetAddress.getByName("127.0.0.2");
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
                port = probe.getLocalPort();
            }
            if (port > 65_000) {
                continue;
            }
            java.util.List<DatagramSocket> held = new java.util.ArrayList<>();
            try {
                for (int p = port; p <= port + 2; p++) {
                    held.add(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), p)));
                    held.add(new DatagramSocket(new InetSocketAddress(ip2, p)));
                }
                return port;
            } catch (java.net.BindException taken) {
                // Try another.
            } finally {
                held.forEach(DatagramSocket::close);
            }
        }
        throw new IllegalStateException("no three consecutive free ports on 127.0.0.1 and 127.0.0.2");
    }

    private static String listeningAddress(String line) {
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    /**
     * An Allocate request (REQUESTED-TRANSPORT UDP) without credentials, and the relay's answer. UDP on
     * loopback does not lose datagrams unless a buffer overflows, but the request is repeated a few times
     * as a STUN client would (RFC 8489 §6.2.1), each time waiting for the answer at most 5 s.
     */
    private static byte[] allocateWithoutCredentials(InetSocketAddress relay) throws Exception {
        ByteBuf out = Unpooled.buffer();
        new StunWriter().begin(out, StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.REQUEST),
                TransactionId.random(new SplittableRandom(0xA11CL))).addUInt32(StunAttributeType.REQUESTED_TRANSPORT,
                17 << 24).addFingerprint().finish();
        byte[] request = ByteBufUtil.getBytes(out);
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(5_000);
            byte[] buffer = new byte[1500];
            for (int attempt = 0; attempt < 3; attempt++) {
                socket.send(new DatagramPacket(request, request.length, relay));
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                    return Arrays.copyOf(buffer, packet.getLength());
                } catch (SocketTimeoutException e) {
                    // Repeat the request, as a STUN client retransmits.
                }
            }
        }
        throw new AssertionError("the relay at " + relay + " did not answer an Allocate request");
    }
}
