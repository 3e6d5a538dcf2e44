package dev.pinhole.protocol.stun;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.TrackedEndpoint;
import dev.pinhole.sim.Simulator;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link StunClient} transactions on the deterministic simulator: timing, matching, bad responses. */
class StunClientSimTest {
    private static final long SEED = 0x5EEDL;

    private final SimFixture world = new SimFixture(SEED);
    private final Simulator sim = world.sim;
    private final CountingAllocator allocator = world.protocolAllocator;
    private final SimHost serverHost = world.publicHost("198.51.100.10");
    private final InetSocketAddress serverAddress = address("198.51.100.10", 3478);

    @AfterEach
    void closeAndCheckBuffers() {
        world.close();
    }

    private TrackedEndpoint tracked(SimEndpoint endpoint) {
        return world.tracked(endpoint);
    }

    private StunClient client(SimEndpoint endpoint) {
        StunClient client = new StunClient(tracked(endpoint), StunTransactionConfig.DEFAULT, sim.random("stun-client"));
        endpoint.receiver(client);
        return client;
    }

    private <T> T await(CompletableFuture<T> future, long timeoutNs) {
        return world.await(future, timeoutNs);
    }

    @Test
    void retransmitsOnTheRfc8489ScheduleAndTimesOutAfter39AndAHalfSeconds() {
        List<Long> arrivalsNs = new ArrayList<>();
        serverHost.bind(3478).receiver((datagram, sender) -> arrivalsNs.add(sim.nowNs()));
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));

        BindingOutcome outcome = await(client.binding(serverAddress), 60 * SECOND);

        assertEquals(List.of(0L, 500 * MS, 1500 * MS, 3500 * MS, 7500 * MS, 15500 * MS, 31500 * MS), arrivalsNs,
            "requests at 0, RTO, 3 RTO, 7 RTO, ... (Rc = 7)");
        BindingOutcome.Failed failed = assertInstanceOf(BindingOutcome.Failed.class, outcome);
        assertTrue(failed.timedOut(), "timed out, got " + failed);
        assertEquals(7, failed.requestsSent(), "Rc requests");
        assertEquals(39500 * MS, failed.elapsedNs(), "gives up Rm x RTO = 8 s after the last request");
        assertEquals(39500 * MS, StunTransactionConfig.DEFAULT.timeoutNs(), "timeoutNs() agrees with the schedule");
        assertEquals(6, client.retransmissionCount(), "six retransmissions");
    }

    @Test
    void timingIsConfigurablePerRequest() {
        List<Long> arrivalsNs = new ArrayList<>();
        serverHost.bind(3478).receiver((datagram, sender) -> arrivalsNs.add(sim.nowNs()));
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));
        StunTransactionConfig fast = new StunTransactionConfig(100 * MS, 3, 4);

        BindingOutcome outcome = await(client.binding(serverAddress, BindingRequest.DEFAULT.withTiming(fast)), 10 * SECOND);

        assertEquals(List.of(0L, 100 * MS, 300 * MS), arrivalsNs, "RTO 100 ms, Rc 3");
        assertEquals(700 * MS, ((BindingOutcome.Failed) outcome).elapsedNs(), "300 ms + Rm 4 x 100 ms");
        assertEquals(700 * MS, fast.timeoutNs(), "timeoutNs() agrees");
    }

    @Test
    void malformedUnmatchedAndWrongMethodResponsesAreCountedAndDroppedWhileTheRightOneWins() {
        scriptedServer((request, reply) -> {
            TransactionId id = request.transactionId();
            reply.accept("truncated", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("1.2.3.4", 0)).finish());
            reply.accept("other id", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE,
                new TransactionId(id.high(), id.low() + 1)).addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS,
                address("1.2.3.4", 1)).finish());
            reply.accept("other method", writer -> writer.begin(buffer,
                StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.SUCCESS_RESPONSE), id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("1.2.3.4", 2)).finish());
            reply.accept("no address", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id).finish());
            reply.accept("right", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("1.2.3.4", 3)).finish());
        });
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));

        BindingOutcome outcome = await(client.binding(serverAddress), 2 * SECOND);

        assertEquals(address("1.2.3.4", 3), ((BindingOutcome.Success) outcome).mappedAddress(), "the well-formed one");
        assertEquals(1, client.malformedCount(StunParseResult.LENGTH_MISMATCH), "truncated response counted");
        assertEquals(2, client.unmatchedResponseCount(), "other id and other method counted as unmatched");
        assertEquals(1, client.rejectedResponseCount(), "success without an address rejected by the Binding handler");
    }

    @Test
    void integrityProtectedBindingIgnoresAForgedResponseAndAcceptsTheAuthenticOne() {
        StunKey key = StunKey.shortTerm("s3cret");
        scriptedServer((request, reply) -> {
            TransactionId id = request.transactionId();
            assertTrue(request.verifyIntegrity(key) == StunParseResult.OK, "request authenticated with the key");
            assertEquals("alice:bob", request.findString(StunAttributeType.USERNAME), "USERNAME");
            reply.accept("forged", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("6.6.6.6", 6))
                .addMessageIntegrity(StunKey.shortTerm("guess")).addFingerprint().finish());
            reply.accept("unsigned", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("6.6.6.6", 7)).finish());
            reply.accept("authentic", writer -> writer.begin(buffer, StunMessageType.BINDING_SUCCESS_RESPONSE, id)
                .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("192.0.2.20", 5000))
                .addMessageIntegrity(key).addFingerprint().finish());
        });
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));

        BindingOutcome outcome = await(client.binding(serverAddress,
            BindingRequest.DEFAULT.withCredentials("alice:bob", key)), 2 * SECOND);

        assertEquals(address("192.0.2.20", 5000), ((BindingOutcome.Success) outcome).mappedAddress(), "authentic answer");
        assertEquals(2, client.rejectedResponseCount(), "forged and unsigned responses rejected");
    }

    @Test
    void unknownComprehensionRequiredAttributeInAResponseFailsTheTransaction() {
        scriptedServer((request, reply) -> reply.accept("odd", writer -> writer.begin(buffer,
            StunMessageType.BINDING_SUCCESS_RESPONSE, request.transactionId())
            .addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, address("1.2.3.4", 3))
            .addBytes(0x7ABC, new byte[4]).finish()));
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));

        BindingOutcome outcome = await(client.binding(serverAddress), 2 * SECOND);

        assertEquals(StunTransactionFailure.UNKNOWN_ATTRIBUTE_IN_RESPONSE,
            assertInstanceOf(BindingOutcome.Failed.class, outcome).failure(), "RFC 8489 §6.3.3: transaction failed");
    }

    @Test
    void closingTheClientFailsPendingTransactionsAndRefusesNewOnes() {
        serverHost.bind(3478).receiver((datagram, sender) -> { });
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));
        CompletableFuture<BindingOutcome> first = client.binding(serverAddress);
        CompletableFuture<BindingOutcome> second = client.binding(serverAddress);
        sim.runFor(2 * SECOND);

        client.close();

        for (CompletableFuture<BindingOutcome> f : List.of(first, second)) {
            assertEquals(StunTransactionFailure.CLOSED, ((BindingOutcome.Failed) f.join()).failure(), "closed");
        }
        assertEquals(0, client.pendingCount(), "nothing pending");
        try {
            client.binding(serverAddress);
            throw new AssertionError("a closed client must refuse requests");
        } catch (IllegalStateException expected) {
            // refused
        }
        sim.runFor(60 * SECOND);
        assertEquals(2 * 3, serverHost.counters().delivered(), "no retransmission after close (3 each in 2 s)");
    }

    @Test
    void arbitraryDatagramsNeverThrowOutOfHandle() {
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));
        serverHost.bind(3478).receiver((datagram, sender) -> { });
        client.binding(serverAddress);
        SplittableRandom random = new SplittableRandom(SEED);
        ByteBuf datagram = allocator.buffer(256);
        try {
            for (int i = 0; i < 10_000; i++) {
                datagram.clear();
                byte[] source = i % 2 == 0 ? Rfc5769VectorsTest.IPV4_RESPONSE : Rfc5769VectorsTest.SAMPLE_REQUEST;
                datagram.writeBytes(source, 0, random.nextInt(source.length + 1));
                for (int f = random.nextInt(4); f > 0 && datagram.readableBytes() > 0; f--) {
                    int at = random.nextInt(datagram.readableBytes());
                    datagram.setByte(at, datagram.getByte(at) ^ (1 + random.nextInt(255)));
                }
                client.handle(datagram, serverAddress);
            }
        } finally {
            datagram.release();
        }
        assertEquals(1, client.pendingCount(), "the real transaction is still pending");
        client.close();
        assertEquals(0, client.pendingCount(), "close() ends it and frees its request");
    }

    // ---- helpers -------------------------------------------------------------------------------

    private ByteBuf buffer;

    /** A server whose answers the test writes: for each request, {@code script} sends any responses. */
    private void scriptedServer(BiConsumer<StunReader, BiConsumer<String, java.util.function.Consumer<StunWriter>>> script) {
        TrackedEndpoint endpoint = tracked(serverHost.bind(3478));
        StunReader reader = new StunReader();
        StunWriter writer = new StunWriter();
        endpoint.receiver((datagram, sender) -> {
            assertEquals(StunParseResult.OK, reader.wrap(datagram), "client sent a valid request");
            script.accept(reader, (name, build) -> {
                buffer = endpoint.allocator().buffer();
                build.accept(writer);
                if (name.equals("truncated")) {
                    buffer.writerIndex(buffer.writerIndex() - 4);
                }
                endpoint.send(buffer, sender);
            });
        });
    }
}
