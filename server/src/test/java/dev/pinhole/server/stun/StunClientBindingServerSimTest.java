package dev.pinhole.server.stun;

import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.stun.StunTransactionFailure;

import static dev.pinhole.sim.SimFixture.MS;
import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.PacketKind;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.SimEndpoint;
import dev.pinhole.sim.SimHost;
import dev.pinhole.sim.CountingAllocator;
import dev.pinhole.sim.SimFixture;
import dev.pinhole.sim.TrackedEndpoint;
import dev.pinhole.sim.Simulator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link StunClient} transactions on the deterministic simulator against a {@link StunBindingServer}: the
 * mapped address through a NAT, recovery by retransmission, many concurrent transactions, the 420 answer,
 * and a client and responder sharing one socket.
 */
class StunClientBindingServerSimTest {
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
    void bindingThroughANatReportsTheMappingTheNatCreated() {
        StunBindingServer.basic(tracked(serverHost.bind(3478)), null).listen();
        Nat nat = sim.internet().addNat("203.0.113.5", NatConfig.PORT_RESTRICTED_CONE);
        SimEndpoint inside = nat.inside().addHost("10.0.0.2").bind(4000);
        StunClient client = client(inside);

        BindingOutcome outcome = await(client.binding(serverAddress), 2 * SECOND);

        BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome);
        InetSocketAddress expected = nat.mappingOf(inside.localAddress(), serverAddress).orElseThrow();
        assertEquals(expected, success.mappedAddress(), "mapped address is the NAT's mapping");
        assertEquals(serverAddress, success.source(), "response came from the server");
        assertEquals(1, success.requestsSent(), "no loss, one request");
        assertNull(success.otherAddress(), "a basic server sends no OTHER-ADDRESS");
        assertEquals(0, client.pendingCount(), "no transaction left");
    }

    @Test
    void aLostRequestIsRecoveredByRetransmission() {
        // The server's endpoint loses the first two requests, then answers.
        int[] seen = {0};
        TrackedEndpoint serverSide = tracked(serverHost.bind(3478));
        StunBindingServer deaf = StunBindingServer.basic(serverSide, null);
        serverSide.receiver((datagram, sender) -> {
            if (++seen[0] > 2) {
                deaf.handle(datagram, sender, serverSide);
            }
        });
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));

        BindingOutcome outcome = await(client.binding(serverAddress), 10 * SECOND);

        BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome);
        assertEquals(3, success.requestsSent(), "third request answered");
        assertEquals(1500 * MS, success.elapsedNs(), "third request went out at 1.5 s");
        assertEquals(1, deaf.responseCount(), "one response sent");
    }

    @Test
    void manyConcurrentTransactionsOnOneEndpointEachMatchTheirOwnResponse() {
        int servers = 64;
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int i = 0; i < servers; i++) {
            StunBindingServer.basic(tracked(serverHost.bind(10_000 + i)), null).listen();
            addresses.add(address("198.51.100.10", 10_000 + i));
        }
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));
        List<CompletableFuture<BindingOutcome>> futures = new ArrayList<>();
        for (InetSocketAddress server : addresses) {
            futures.add(client.binding(server));
        }
        assertEquals(servers, client.pendingCount(), "all pending at once");

        assertTrue(sim.runUntil(() -> futures.stream().allMatch(CompletableFuture::isDone), 2 * SECOND), "all done");

        for (int i = 0; i < servers; i++) {
            BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, futures.get(i).join());
            assertEquals(addresses.get(i), success.source(), "transaction " + i + " matched its own server's response");
            assertEquals(address("192.0.2.20", 5000), success.mappedAddress(), "no NAT: mapped is local");
        }
        assertEquals(0, client.pendingCount(), "none left");
        assertEquals(0, client.unmatchedResponseCount(), "no response went unmatched");
    }

    @Test
    void serverAnswers420ForAnUnknownComprehensionRequiredRequestAttribute() {
        StunBindingServer.basic(tracked(serverHost.bind(3478)), null).listen();
        StunClient client = client(sim.internet().addHost("192.0.2.20").bind(5000));
        CompletableFuture<BindingOutcome> outcome = client.binding(serverAddress,
            BindingRequest.DEFAULT.withChangeRequest(true, true));

        BindingOutcome.ErrorResponse error = assertInstanceOf(BindingOutcome.ErrorResponse.class, await(outcome, SECOND));
        assertEquals(420, error.code(), "a basic server cannot change address: 420");
        assertEquals("Unknown Attribute", error.reason(), "reason phrase");

        int[] unknownListed = {-1};
        client.request(serverAddress, StunMessageType.METHOD_BINDING,
            writer -> writer.addBytes(0x7777, new byte[] {1, 2}).addFingerprint(), new StunResponseHandler() {
                @Override
                public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
                    int at = response.findAttribute(StunAttributeType.UNKNOWN_ATTRIBUTES);
                    unknownListed[0] = response.buffer().getUnsignedShort(response.attributeValueIndex(at));
                    return true;
                }

                @Override
                public void onFailure(StunTransactionFailure failure, long nowNs) {
                }
            });
        sim.runFor(SECOND);
        assertEquals(0x7777, unknownListed[0], "UNKNOWN-ATTRIBUTES lists the type");
    }

    @Test
    void clientAndResponderShareOneSocketBehindTheDemultiplexer() {
        // Two peers, each with one socket on which a client and a Binding responder live side by side
        // (as in ICE connectivity checks): the demultiplexer hands STUN to the client first, and what
        // the client does not consume (requests from the other peer) to the responder.
        List<StunClient> clients = new ArrayList<>();
        List<DatagramDemultiplexer> demuxes = new ArrayList<>();
        List<InetSocketAddress> addresses = List.of(address("192.0.2.20", 5000), address("192.0.2.21", 6000));
        for (InetSocketAddress address : addresses) {
            TrackedEndpoint endpoint = tracked(sim.internet().addHost(address.getAddress().getHostAddress())
                .bind(address.getPort()));
            StunClient client = new StunClient(endpoint, StunTransactionConfig.DEFAULT, sim.random("peer" + address));
            StunBindingServer responder = StunBindingServer.basic(endpoint, null);
            DatagramDemultiplexer demux = new DatagramDemultiplexer();
            demux.route(PacketKind.STUN, (datagram, sender) -> {
                if (!client.handle(datagram, sender)) {
                    responder.handle(datagram, sender, endpoint);
                }
            });
            endpoint.receiver(demux);
            clients.add(client);
            demuxes.add(demux);
        }
        CompletableFuture<BindingOutcome> aToB = clients.get(0).binding(addresses.get(1));
        CompletableFuture<BindingOutcome> bToA = clients.get(1).binding(addresses.get(0));

        assertTrue(sim.runUntil(() -> aToB.isDone() && bToA.isDone(), SECOND), "both checks answered");

        assertEquals(addresses.get(0), ((BindingOutcome.Success) aToB.join()).mappedAddress(), "B saw A's address");
        assertEquals(addresses.get(1), ((BindingOutcome.Success) bToA.join()).mappedAddress(), "A saw B's address");
        for (DatagramDemultiplexer demux : demuxes) {
            assertEquals(2, demux.count(PacketKind.STUN), "one request and one response per peer");
        }
    }
}
