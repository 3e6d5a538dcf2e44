package dev.pinhole.server.stun;

import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.RecordingEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.TrackedEndpoint;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.Simulator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link StunBindingServer}: RFC 5780 §6 behaviour, 420 answers and the amplification bound. */
class StunBindingServerTest {
    private static final long SECOND = 1_000_000_000L;
    private static final InetSocketAddress PRIMARY = address("198.51.100.10", 3478);
    private static final InetSocketAddress ALT_PORT = address("198.51.100.10", 3479);
    private static final InetSocketAddress ALT_IP = address("198.51.100.11", 3478);
    private static final InetSocketAddress ALT_BOTH = address("198.51.100.11", 3479);
    /** RFC 5769 §2.1's sample request: a well-formed Binding request (FINGERPRINT included). */
    private static final byte[] SAMPLE_REQUEST = io.netty.buffer.ByteBufUtil.decodeHexDump(
        "000100582112a442b7e7a701bc34d686fa87dfae"
            + "802200105354554e207465737420636c69656e74"
            + "002400046e0001ff"
            + "80290008932ff9b151263b36"
            + "000600096576746a3a68367659202020"
            + "000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
            + "80280004e57a3bcf");

    private final CountingAllocator allocator = new CountingAllocator();
    private final CountingAllocator simAllocator = new CountingAllocator();
    private final Simulator sim = new Simulator(11, simAllocator);
    private StunBindingServer server;
    private TrackedEndpoint primaryEndpoint;
    private StunClient client;

    @AfterEach
    void closeAndCheckBuffers() {
        sim.close();
        assertEquals(0, simAllocator.liveBuffers(), "simulator buffers alive of " + simAllocator.allocatedBuffers());
        assertEquals(0, allocator.liveBuffers(), "buffers alive of " + allocator.allocatedBuffers() + " allocated");
    }

    private void rfc5780ServerAndPublicClient() {
        SimHost ip1 = sim.internet().addHost("198.51.100.10");
        SimHost ip2 = sim.internet().addHost("198.51.100.11");
        primaryEndpoint = new TrackedEndpoint(ip1.bind(3478), allocator);
        server = StunBindingServer.rfc5780(
            primaryEndpoint, new TrackedEndpoint(ip1.bind(3479), allocator),
            new TrackedEndpoint(ip2.bind(3478), allocator), new TrackedEndpoint(ip2.bind(3479), allocator),
            "pinhole test").listen();
        TrackedEndpoint clientEndpoint = new TrackedEndpoint(sim.internet().addHost("192.0.2.20").bind(5000), allocator);
        client = new StunClient(clientEndpoint, StunTransactionConfig.DEFAULT, sim.random("client"));
        clientEndpoint.receiver(client);
    }

    private BindingOutcome.Success bind(InetSocketAddress to, BindingRequest request) {
        CompletableFuture<BindingOutcome> f = client.binding(to, request);
        assertTrue(sim.runUntil(f::isDone, SECOND), "answered within a second");
        return assertInstanceOf(BindingOutcome.Success.class, f.join());
    }

    @Test
    void changeRequestPicksTheResponseEndpointAndResponseOriginNamesIt() {
        rfc5780ServerAndPublicClient();
        boolean[][] flags = {{false, false}, {false, true}, {true, false}, {true, true}};
        InetSocketAddress[] expected = {PRIMARY, ALT_PORT, ALT_IP, ALT_BOTH};
        for (int i = 0; i < flags.length; i++) {
            BindingOutcome.Success s = bind(PRIMARY, BindingRequest.DEFAULT.withChangeRequest(flags[i][0], flags[i][1]));
            String what = "change IP " + flags[i][0] + ", change port " + flags[i][1];
            assertEquals(expected[i], s.source(), what + ": response source");
            assertEquals(expected[i], s.responseOrigin(), what + ": RESPONSE-ORIGIN");
            assertEquals(ALT_BOTH, s.otherAddress(), what + ": OTHER-ADDRESS");
            assertEquals(address("192.0.2.20", 5000), s.mappedAddress(), what + ": mapped address");
        }
        assertEquals(3, server.changedOriginResponseCount(), "three answers left from another endpoint");
    }

    @Test
    void otherAddressIsRelativeToTheEndpointTheRequestArrivedOn() {
        rfc5780ServerAndPublicClient();
        assertEquals(PRIMARY, bind(ALT_BOTH, BindingRequest.DEFAULT).otherAddress(), "diagonal of alternate is primary");
        assertEquals(ALT_IP, bind(ALT_PORT, BindingRequest.DEFAULT).otherAddress(), "diagonal of IP1:port2 is IP2:port1");
        BindingOutcome.Success changed = bind(ALT_IP, BindingRequest.DEFAULT.withChangeRequest(true, false));
        assertEquals(PRIMARY, changed.source(), "change IP from IP2:port1 answers from IP1:port1");
    }

    @Test
    void responsePortSendsTheAnswerToAnotherPortOfTheSameAddress() {
        rfc5780ServerAndPublicClient();
        List<InetSocketAddress> mappedSeenAtOtherPort = new ArrayList<>();
        StunReader reader = new StunReader();
        sim.internet().host("192.0.2.20").bind(5001).receiver((datagram, sender) -> {
            assertEquals(StunParseResult.OK, reader.wrap(datagram), "a STUN response arrives at port 5001");
            mappedSeenAtOtherPort.add(reader.xorMappedAddress());
        });
        CompletableFuture<BindingOutcome> outcome = new CompletableFuture<>();
        client.request(PRIMARY, StunMessageType.METHOD_BINDING,
            w -> w.addUInt32(StunAttributeType.RESPONSE_PORT, 5001 << 16).addFingerprint(), errorCatcher(outcome));
        sim.runFor(SECOND / 10);
        assertEquals(List.of(address("192.0.2.20", 5000)), mappedSeenAtOtherPort,
            "the response went to port 5001 and names the request's source, port 5000");
        assertFalse(outcome.isDone(), "nothing came back to the requesting port");
        client.close();
    }

    @Test
    void unsupportedRequestsGet420AndIndicationsAndOtherMethodsAreLeftAlone() {
        rfc5780ServerAndPublicClient();
        InetSocketAddress basic = address("198.51.100.20", 3478);
        StunBindingServer.basic(new TrackedEndpoint(sim.internet().addHost("198.51.100.20").bind(3478), allocator), null)
            .listen();
        CompletableFuture<BindingOutcome> responsePort = new CompletableFuture<>();
        client.request(basic, StunMessageType.METHOD_BINDING,
            w -> w.addUInt32(StunAttributeType.RESPONSE_PORT, 0x1234_0000), errorCatcher(responsePort));
        assertTrue(sim.runUntil(responsePort::isDone, SECOND), "answered");
        assertEquals(420, ((BindingOutcome.ErrorResponse) responsePort.join()).code(),
            "RESPONSE-PORT is unknown to a server without alternate addresses");

        TrackedEndpoint notTheServers = new TrackedEndpoint(sim.internet().host("198.51.100.10").bind(9), allocator);
        ByteBuf indication = allocator.buffer();
        new StunWriter().begin(indication, StunMessageType.BINDING_INDICATION, new TransactionId(1, 1)).finish();
        try {
            assertTrue(server.handle(indication, address("192.0.2.20", 5000), primaryEndpoint),
                "Binding indication consumed silently");
        } finally {
            indication.release();
        }
        ByteBuf allocate = allocator.buffer();
        new StunWriter().begin(allocate, StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.REQUEST),
            new TransactionId(1, 2)).finish();
        try {
            assertFalse(server.handle(allocate, address("192.0.2.20", 5000), primaryEndpoint),
                "Allocate is for a TURN server, not consumed");
        } finally {
            allocate.release();
        }
        ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {0, 1, 0, 0, 1, 2, 3, 4});
        assertTrue(server.handle(garbage, address("192.0.2.20", 5000), primaryEndpoint), "malformed consumed");
        assertEquals(1, server.malformedCount(StunParseResult.TOO_SHORT), "and counted");
        assertThrows(IllegalArgumentException.class,
            () -> server.handle(Unpooled.wrappedBuffer(SAMPLE_REQUEST), PRIMARY, notTheServers),
            "an endpoint that is not the server's is a caller bug");
    }

    private static StunResponseHandler errorCatcher(CompletableFuture<BindingOutcome> into) {
        return new StunResponseHandler() {
            @Override
            public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
                into.complete(new BindingOutcome.ErrorResponse(response.errorCode(), response.errorReason(), source));
                return true;
            }

            @Override
            public void onFailure(StunTransactionFailure failure, long nowNs) {
                into.complete(new BindingOutcome.Failed(failure, 0, nowNs));
            }
        };
    }

    @Test
    void responsesStayWithinThreeTimesTheRequestBeyondTheCoreAnswer() throws Exception {
        for (boolean v6 : new boolean[] {false, true}) {
            InetSocketAddress sender = v6 ? address("2001:db8::1", 5000) : address("192.0.2.20", 5000);
            RecordingEndpoint[] endpoints = {
                new RecordingEndpoint(v6 ? address("2001:db8::10", 3478) : PRIMARY, allocator),
                new RecordingEndpoint(v6 ? address("2001:db8::10", 3479) : ALT_PORT, allocator),
                new RecordingEndpoint(v6 ? address("2001:db8::11", 3478) : ALT_IP, allocator),
                new RecordingEndpoint(v6 ? address("2001:db8::11", 3479) : ALT_BOTH, allocator)};
            StunBindingServer s = StunBindingServer.rfc5780(endpoints[0], endpoints[1], endpoints[2], endpoints[3],
                "a rather long SOFTWARE description of this server");
            int addressSize = v6 ? 24 : 12;
            for (int softwareLength = -1; softwareLength < 40; softwareLength += 4) {
                for (boolean fingerprint : new boolean[] {false, true}) {
                    int software = softwareLength;
                    byte[] request = request(w -> {
                        if (software >= 0) {
                            w.addString(StunAttributeType.SOFTWARE, "x".repeat(software));
                        }
                        if (fingerprint) {
                            w.addFingerprint();
                        }
                    });
                    endpoints[0].sent.clear();
                    assertTrue(s.handle(Unpooled.wrappedBuffer(request), sender, endpoints[0]), "answered");
                    byte[] response = endpoints[0].sent.get(0).bytes();
                    int core = 20 + addressSize + (fingerprint ? 8 : 0);
                    String what = (v6 ? "IPv6" : "IPv4") + " request of " + request.length + " bytes";
                    assertTrue(response.length <= Math.max(core, 3 * request.length),
                        what + ": response of " + response.length + " bytes exceeds max(core " + core + ", 3x request)");
                    StunReader reader = new StunReader();
                    assertEquals(StunParseResult.OK, reader.wrap(Unpooled.wrappedBuffer(response)), what + " parses");
                    assertEquals(sender, reader.xorMappedAddress(), what + ": the core answer is always there");
                    assertEquals(fingerprint, reader.hasFingerprint(), what + ": FINGERPRINT iff the request had one");
                    if (!v6 && fingerprint && softwareLength < 0) {
                        assertNotNull(reader.findAddress(StunAttributeType.OTHER_ADDRESS),
                            "a 28-byte IPv4 request with FINGERPRINT gets OTHER-ADDRESS");
                        assertNotNull(reader.findAddress(StunAttributeType.MAPPED_ADDRESS),
                            "... and every other IPv4 address attribute");
                    }
                    if (v6 && fingerprint && softwareLength == 7) {
                        assertNotNull(reader.findAddress(StunAttributeType.OTHER_ADDRESS),
                            "IPv6 request with SOFTWARE 'pinhole' and FINGERPRINT (40 bytes) gets OTHER-ADDRESS");
                        assertNotNull(reader.findAddress(StunAttributeType.RESPONSE_ORIGIN), "and RESPONSE-ORIGIN");
                    }
                    if (request.length == 20) {
                        // Budget 60: IPv4 core 32 + OTHER-ADDRESS 12 + RESPONSE-ORIGIN 12 fit, MAPPED-ADDRESS not;
                        // IPv6 core 44 leaves no room for a 24-byte address.
                        assertNull(reader.findAddress(v6 ? StunAttributeType.OTHER_ADDRESS : StunAttributeType.MAPPED_ADDRESS),
                            what + ": a bare 20-byte request gets only what fits 60 bytes");
                    }
                }
            }
            assertTrue(s.trimmedResponseCount() > 0, "some responses were trimmed");
        }
    }

    private static byte[] request(Consumer<StunWriter> body) {
        ByteBuf out = Unpooled.buffer();
        StunWriter writer = new StunWriter().begin(out, StunMessageType.BINDING_REQUEST, new TransactionId(5, 6));
        body.accept(writer);
        writer.finish();
        return io.netty.buffer.ByteBufUtil.getBytes(out);
    }

    @Test
    void fourEndpointsMustFormTwoIpsTimesTwoPorts() {
        RecordingEndpoint a = new RecordingEndpoint(PRIMARY, allocator);
        RecordingEndpoint b = new RecordingEndpoint(ALT_PORT, allocator);
        RecordingEndpoint c = new RecordingEndpoint(ALT_IP, allocator);
        RecordingEndpoint d = new RecordingEndpoint(ALT_BOTH, allocator);
        assertThrows(IllegalArgumentException.class, () -> StunBindingServer.rfc5780(a, c, b, d, null), "swapped");
        assertThrows(IllegalArgumentException.class, () -> StunBindingServer.rfc5780(a, b, c, a, null), "no diagonal");
        assertEquals(ALT_BOTH, StunBindingServer.rfc5780(a, b, c, d, null).otherAddress(), "square accepted");
    }

    private static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }
}
