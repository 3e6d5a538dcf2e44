package dev.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.nio.charset.StandardCharsets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link PinholeServer} on real loopback sockets: what it binds, what it answers, what it counts, what it frees. */
class PinholeServerTest {
    private static final InetAddress IP1 = InetAddress.getLoopbackAddress();
    private static final InetAddress IP2 = loopback2();
    private final SplittableRandom random = new SplittableRandom(0x5E_4E4L);

    @Test
    void withTheBuiltInRelayAnswersBindingOnTheRendezvousPortAndChallengesAnAllocateOnTheRelayPort() throws Exception {
        InetSocketAddress rendezvous;
        InetSocketAddress relay;
        try (PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0)).build();
             DatagramSocket client = client()) {
            rendezvous = server.rendezvousAddress();
            relay = server.relayAddress();
            assertEquals(IP1, rendezvous.getAddress());
            assertNotEquals(0, rendezvous.getPort(), "an ephemeral port was bound");
            assertNull(server.alternateAddress(), "no RFC 5780 without an alternate address");
            assertNotNull(relay, "the built-in relay runs by default");
            assertEquals(IP1, relay.getAddress(), "the relay IP defaults to the listen IP");
            assertNotEquals(rendezvous.getPort(), relay.getPort(), "the relay has its own port");
            assertFalse(server.secretRequired());

            StunReader answer = exchange(client, bindingRequest(false), rendezvous);
            assertEquals(StunMessageType.METHOD_BINDING, answer.method());
            assertEquals(StunClass.SUCCESS_RESPONSE, answer.messageClass());
            assertEquals(client.getLocalSocketAddress(), answer.xorMappedAddress(),
                "RFC 8489 §14.2: XOR-MAPPED-ADDRESS is the source address the server saw");

            StunReader challenge = exchange(client, allocateRequest(), relay);
            assertEquals(StunMessageType.METHOD_ALLOCATE, challenge.method());
            assertEquals(401, challenge.errorCode(), "RFC 8656 §7.2: an Allocate without credentials is challenged");
            assertTrue(challenge.hasAttribute(StunAttributeType.NONCE), "with a NONCE");

            PinholeServer.Stats stats = server.stats();
            assertEquals(1, stats.rendezvous().bindingResponses(), "one Binding answered");
            assertEquals(0, stats.rendezvous().registrations());
            assertNotNull(stats.relay(), "the relay's stats are there");
            assertEquals(1, stats.relay().count(RelayCounter.CHALLENGED), "one Allocate challenged");
            assertEquals(0, stats.relay().allocations());
            assertThrows(UnsupportedOperationException.class, () -> stats.relay().counters().clear(),
                "a snapshot cannot change");
        }
        assertReleased(rendezvous);
        assertReleased(relay);
    }

    @Test
    void withAnAlternateAddressServesRfc5780OnFourSocketsAndNoRelay() throws Exception {
        InetSocketAddress rendezvous;
        InetSocketAddress other;
        try (PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0))
                 .alternate(new InetSocketAddress(IP2, 0)).builtInRelay(false).build();
             DatagramSocket client = client()) {
            rendezvous = server.rendezvousAddress();
            other = server.alternateAddress();
            assertNull(server.relayAddress(), "no relay offered");
            assertNotNull(other);
            assertEquals(IP2, other.getAddress(), "the other address is on the alternate IP");
            assertNotEquals(rendezvous.getPort(), other.getPort(), "and on the other port");

            // With FINGERPRINT the request is large enough for every RFC 5780 attribute (amplification bound).
            StunReader answer = exchange(client, bindingRequest(true), rendezvous);
            assertEquals(StunClass.SUCCESS_RESPONSE, answer.messageClass());
            assertEquals(client.getLocalSocketAddress(), answer.xorMappedAddress());
            assertEquals(other, answer.findAddress(StunAttributeType.OTHER_ADDRESS), "RFC 5780 §7.3 OTHER-ADDRESS");
            assertEquals(rendezvous, answer.findAddress(StunAttributeType.RESPONSE_ORIGIN));

            StunReader fromOther = exchange(client, bindingRequest(true), other);
            assertEquals(client.getLocalSocketAddress(), fromOther.xorMappedAddress(), "the alternate answers too");
            assertEquals(other, fromOther.findAddress(StunAttributeType.RESPONSE_ORIGIN));

            PinholeServer.Stats stats = server.stats();
            assertEquals(2, stats.rendezvous().bindingResponses());
            assertNull(stats.relay(), "no relay, no relay stats");
        }
        assertReleased(rendezvous);
        assertReleased(other);
        assertReleased(new InetSocketAddress(IP1, other.getPort()));
        assertReleased(new InetSocketAddress(IP2, rendezvous.getPort()));
    }

    @Test
    void aSharedSecretIsRequiredAndTheBuiltInRelayCanBeReplacedByAnExternalOne() throws Exception {
        InetSocketAddress coturn = new InetSocketAddress(IP1, 3478);
        try (PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0))
                 .secret("correct horse battery staple").externalRelay(coturn, new byte[16]).build()) {
            assertTrue(server.secretRequired());
            assertEquals(coturn, server.relayAddress(), "the external TURN server is offered");
            assertNull(server.stats().relay(), "no built-in relay runs");
        }
    }

    @Test
    void onAGivenLoopCloseReleasesTheServersSocketsAndLeavesTheLoopRunning() throws Exception {
        try (UdpEventLoop loop = UdpEventLoop.builder().bind(new InetSocketAddress(IP1, 0)).threadName("host")
                 .daemon(true).build().start()) {
            InetSocketAddress rendezvous;
            InetSocketAddress relay;
            try (PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0))
                     .eventLoop(loop).build();
                 DatagramSocket client = client()) {
                rendezvous = server.rendezvousAddress();
                relay = server.relayAddress();
                assertNotEquals(loop.localAddress(), rendezvous, "its own socket on the loop");
                assertEquals(client.getLocalSocketAddress(),
                    exchange(client, bindingRequest(false), rendezvous).xorMappedAddress());
            }
            assertFalse(loop.isClosed(), "the loop belongs to its owner");
            assertReleased(rendezvous);
            assertReleased(relay);
        }
    }

    @Test
    void closeIsIdempotentAndAClosedServerHasNoStats() throws Exception {
        PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0)).builtInRelay(false)
            .build();
        InetSocketAddress rendezvous = server.rendezvousAddress();
        server.close();
        server.close();
        assertThrows(IllegalStateException.class, server::stats);
        assertReleased(rendezvous);
    }

    @Test
    void anAlternateAddressOnTheListenIpIsRefusedAndNothingStaysBound() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
            port = probe.getLocalPort();
        }
        PinholeServer.Builder builder = PinholeServer.builder().listen(new InetSocketAddress(IP1, port))
            .alternate(new InetSocketAddress(IP1, 0)).builtInRelay(false);
        PinholeServerException e = assertThrows(PinholeServerException.class, builder::build);
        assertEquals(PinholeServerException.Reason.ALTERNATE_NOT_DISTINCT, e.reason(), e.getMessage());
        assertReleased(new InetSocketAddress(IP1, port));
    }

    @Test
    void aTakenPortIsReportedWithTheAddressAskedFor() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
            InetSocketAddress address = (InetSocketAddress) taken.getLocalSocketAddress();
            PinholeServerException e = assertThrows(PinholeServerException.class,
                () -> PinholeServer.builder().listen(address).builtInRelay(false).build());
            assertEquals(PinholeServerException.Reason.BIND_FAILED, e.reason(), e.getMessage());
            assertEquals(address, e.address());
        }
    }

    @Test
    void theRendezvousSharedSecretCannotMakeCredentialsTheBuiltInRelayAccepts() throws Exception {
        String shared = "the rendezvous shared secret, known to every peer";
        try (PinholeServer server = PinholeServer.builder().listen(new InetSocketAddress(IP1, 0)).secret(shared).build();
             DatagramSocket client = client()) {
            StunReader challenge = exchange(client, allocateRequest(), server.relayAddress());
            assertEquals(401, challenge.errorCode(), "challenge");
            String realm = challenge.findString(StunAttributeType.REALM);
            String nonce = challenge.findString(StunAttributeType.NONCE);
            // What the attacker could do before: sign relay credentials with the shared secret, any name, any lifetime.
            long farFuture = System.currentTimeMillis() / 1000 + 365L * 24 * 3600;
            for (String grant : new String[] {"mallory", "mallory.0000000000000001.0"}) {
                TurnCredentials forged = new RestCredentials(shared.getBytes(StandardCharsets.UTF_8),
                    RendezvousServerConfig.SYSTEM_UNIX_SECONDS).issue(grant, farFuture);
                ByteBuf out = Unpooled.buffer();
                new StunWriter().begin(out, StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.REQUEST),
                        TransactionId.random(new SplittableRandom(random.nextLong())))
                    .addUInt32(StunAttributeType.REQUESTED_TRANSPORT, 17 << 24)
                    .addString(StunAttributeType.USERNAME, forged.username())
                    .addString(StunAttributeType.REALM, realm)
                    .addString(StunAttributeType.NONCE, nonce)
                    .addMessageIntegrity(StunKey.longTerm(forged.username(), realm, forged.password()))
                    .addFingerprint().finish();
                StunReader answer = exchange(client, ByteBufUtil.getBytes(out), server.relayAddress());
                assertEquals(401, answer.errorCode(), "credentials signed with the shared secret (" + forged.username()
                    + ") are not the relay's: the relay has its own key");
            }
            assertEquals(0, server.stats().relay().allocations(), "nothing allocated");
        }
        assertThrows(IllegalArgumentException.class, () -> PinholeServer.builder()
            .listen(new InetSocketAddress(IP1, 0)).secret(shared)
            .externalRelay(new InetSocketAddress(IP1, 3478), shared.getBytes(StandardCharsets.UTF_8)).build(),
            "an external TURN server keyed with the shared secret is refused");
    }

    @Test
    void theRfc5780PairOfConsecutivePortsStartsWithTheRelayOnThePortAfterBoth() throws Exception {
        int port = freeTriple();
        InetSocketAddress listen = new InetSocketAddress(IP1, port);
        InetSocketAddress alternate = new InetSocketAddress(IP2, port + 1);
        try (PinholeServer server = PinholeServer.builder().listen(listen).alternate(alternate).build()) {
            assertEquals(listen, server.rendezvousAddress());
            assertEquals(alternate, server.alternateAddress());
            assertEquals(new InetSocketAddress(IP1, port + 2), server.relayAddress(),
                "the relay takes the port after PORT1 and PORT2, not PORT2 on IP1 (the alternate-port socket's)");
            assertEquals(List.of(
                    new PinholeServer.ListeningSocket(PinholeServer.SocketRole.RENDEZVOUS, listen),
                    new PinholeServer.ListeningSocket(PinholeServer.SocketRole.ALTERNATE_PORT,
                        new InetSocketAddress(IP1, port + 1)),
                    new PinholeServer.ListeningSocket(PinholeServer.SocketRole.ALTERNATE_IP,
                        new InetSocketAddress(IP2, port)),
                    new PinholeServer.ListeningSocket(PinholeServer.SocketRole.OTHER_ADDRESS, alternate),
                    new PinholeServer.ListeningSocket(PinholeServer.SocketRole.RELAY,
                        new InetSocketAddress(IP1, port + 2))),
                server.sockets(), "every socket, as bound");
        }
    }

    @Test
    void aRelayOnOneOfItsOwnRfc5780PortsNamesBothSockets() throws Exception {
        int port = freeTriple();
        PinholeServerException e = assertThrows(PinholeServerException.class, () -> PinholeServer.builder()
            .listen(new InetSocketAddress(IP1, port)).alternate(new InetSocketAddress(IP2, port + 1))
            .relayListen(new InetSocketAddress(IP1, port + 1)).build());
        assertEquals(PinholeServerException.Reason.BIND_FAILED, e.reason());
        assertEquals(PinholeServerException.BindProblem.HELD_BY_THIS_SERVER, e.bindProblem(), e.getMessage());
        assertEquals(PinholeServer.SocketRole.RELAY, e.role());
        assertEquals(PinholeServer.SocketRole.ALTERNATE_PORT, e.heldBy().role());
        assertEquals("cannot listen on 127.0.0.1:" + (port + 1) + " for the TURN relay socket: this server's own"
            + " RFC 5780 alternate-port socket (IP1:PORT2) is on 127.0.0.1:" + (port + 1), e.getMessage());
        assertReleased(new InetSocketAddress(IP1, port));
        assertReleased(new InetSocketAddress(IP2, port + 1));
    }

    @Test
    void aWildcardListenAddressWithAnAlternateIsACollisionWithItself() throws Exception {
        int port = freeTriple();
        PinholeServerException e = assertThrows(PinholeServerException.class, () -> PinholeServer.builder()
            .listen(new InetSocketAddress(port)).alternate(new InetSocketAddress(IP2, port + 1)).builtInRelay(false)
            .build());
        assertEquals(PinholeServerException.BindProblem.HELD_BY_THIS_SERVER, e.bindProblem(), e.getMessage());
        assertEquals(PinholeServer.SocketRole.RENDEZVOUS, e.heldBy().role(), e.getMessage());
        assertTrue(e.getMessage().contains("wildcard"), e.getMessage());
    }

    @Test
    void anAddressNotOnThisHostIsSaidSo() {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no host has it.
        PinholeServerException e = assertThrows(PinholeServerException.class, () -> PinholeServer.builder()
            .listen(new InetSocketAddress(InetAddress.getByName("192.0.2.77"), 0)).build());
        assertEquals(PinholeServerException.BindProblem.ADDRESS_NOT_LOCAL, e.bindProblem(), e.getMessage());
        assertEquals(PinholeServer.SocketRole.RENDEZVOUS, e.role());
        assertTrue(e.getMessage().startsWith("cannot listen on 192.0.2.77:0 for the rendezvous and STUN socket:"
            + " 192.0.2.77 is not an address of this host ("), e.getMessage());
    }

    @Test
    void aPortHeldByAnotherSocketIsSaidOnce() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
            PinholeServerException e = assertThrows(PinholeServerException.class, () -> PinholeServer.builder()
                .listen(new InetSocketAddress(IP1, taken.getLocalPort())).build());
            assertEquals(PinholeServerException.BindProblem.IN_USE_ELSEWHERE, e.bindProblem(), e.getMessage());
            assertEquals("cannot listen on 127.0.0.1:" + taken.getLocalPort() + " for the rendezvous and STUN socket:"
                + " another socket on this host (another process) has UDP port " + taken.getLocalPort()
                + " (Address already in use)", e.getMessage());
        }
    }

    /** A port P with P, P+1 and P+2 free on both loopback addresses (checked, then released). */
    static int freeTriple() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port;
            try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
                port = probe.getLocalPort();
            }
            if (port > 65_000) {
                continue;
            }
            List<DatagramSocket> held = new ArrayList<>();
            try {
                for (int p = port; p <= port + 2; p++) {
                    held.add(new DatagramSocket(new InetSocketAddress(IP1, p)));
                    held.add(new DatagramSocket(new InetSocketAddress(IP2, p)));
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

    private static DatagramSocket client() throws Exception {
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(IP1, 0));
        socket.setSoTimeout(2_000);
        return socket;
    }

    private byte[] bindingRequest(boolean fingerprint) {
        ByteBuf out = Unpooled.buffer();
        StunWriter writer = new StunWriter().begin(out, StunMessageType.BINDING_REQUEST,
            TransactionId.random(new SplittableRandom(random.nextLong())));
        if (fingerprint) {
            writer.addFingerprint();
        }
        writer.finish();
        return ByteBufUtil.getBytes(out);
    }

    private byte[] allocateRequest() {
        ByteBuf out = Unpooled.buffer();
        new StunWriter().begin(out, StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.REQUEST),
                TransactionId.random(new SplittableRandom(random.nextLong())))
            .addUInt32(StunAttributeType.REQUESTED_TRANSPORT, 17 << 24).addFingerprint().finish();
        return ByteBufUtil.getBytes(out);
    }

    /**
     * Sends {@code request} and returns the parsed answer. Loopback UDP loses a datagram only when a buffer
     * overflows, but the request is repeated as a STUN client would (RFC 8489 §6.2.1).
     */
    private static StunReader exchange(DatagramSocket socket, byte[] request, InetSocketAddress server)
        throws Exception {
        byte[] buffer = new byte[1500];
        for (int attempt = 0; attempt < 3; attempt++) {
            socket.send(new DatagramPacket(request, request.length, server));
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                continue;
            }
            StunReader reader = new StunReader();
            assertEquals(StunParseResult.OK, reader.wrap(Unpooled.copiedBuffer(buffer, 0, packet.getLength())),
                "a well-formed STUN answer");
            return reader;
        }
        throw new AssertionError(server + " did not answer");
    }

    /** The port is free again: it can be bound. */
    private static void assertReleased(InetSocketAddress address) throws Exception {
        try (DatagramSocket rebound = new DatagramSocket(address)) {
            assertEquals(address.getPort(), rebound.getLocalPort());
        }
    }

    private static InetAddress loopback2() {
        try {
            return InetAddress.getByName("127.0.0.2");
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
