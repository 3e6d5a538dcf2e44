package dev.pinhole.punch.interop;

import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.protocol.turn.TurnError;
import dev.pinhole.punch.relay.RelayedEndpoint;
import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;
import dev.pinhole.punch.relay.TurnStats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.interop.RealNode.Got;
import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.protocol.stun.StunClient;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TURN client against a real coturn on loopback, over real {@link dev.pinhole.core.net.UdpEventLoop}s:
 * allocate, permissions, Send and Data indications, channels and ChannelData both ways, refresh,
 * deallocation, and coturn's errors. Skipped, saying how to enable it, when coturn is not installed.
 */
class TurnCoturnInteropTest {
    private static CoturnTurnServer coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = CoturnTurnServer.start(20);
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    @Test
    void allocatePermitIndicationsChannelRefreshAndDeallocate() throws Exception {
        try (RealNode node = RealNode.start("turn-node"); RealNode peer = RealNode.plain("turn-peer")) {
            TurnAllocation allocation = node.allocate(coturn.config().withAutoBindChannels(false));
            InetSocketAddress relayed = allocation.relayedAddress();
            assertEquals(InetAddress.getLoopbackAddress(), relayed.getAddress(), "relayed on --relay-ip");
            assertTrue(relayed.getPort() >= coturn.minRelayPort() && relayed.getPort() <= coturn.maxRelayPort(),
                "relayed port " + relayed.getPort() + " in " + coturn.minRelayPort() + "-" + coturn.maxRelayPort());
            assertEquals(node.address(), allocation.mappedAddress(), "XOR-MAPPED-ADDRESS is our socket (no NAT)");
            assertTrue(allocation.lifetime().toSeconds() > 0, "a lifetime: " + allocation.lifetime());

            // Permission, then Send indication out and Data indication back.
            node.call(() -> allocation.createPermission(peer.address()));
            node.run(() -> allocation.sendTo(peer.address(), node.utf8("hello by Send indication")));
            assertEquals(new Got("hello by Send indication", relayed), peer.next(), "the peer sees the relayed address");
            peer.sendDirect("reply by Data indication", relayed);
            assertEquals(new Got("reply by Data indication", peer.address()), node.next(), "from the peer, relayed");
            TurnStats afterIndications = node.run(allocation::stats);
            assertEquals(1, afterIndications.sentSendIndications(), "one Send indication");
            assertEquals(1, afterIndications.receivedDataIndications(), "one Data indication");

            // A channel, then ChannelData both ways.
            int channel = node.call(() -> allocation.bindChannel(peer.address()));
            assertEquals(ChannelData.MIN_CHANNEL, channel, "the first channel");
            node.run(() -> allocation.sendTo(peer.address(), node.utf8("hello by ChannelData")));
            assertEquals(new Got("hello by ChannelData", relayed), peer.next(), "ChannelData relayed to the peer");
            peer.sendDirect("reply by ChannelData", relayed);
            assertEquals(new Got("reply by ChannelData", peer.address()), node.next(), "the reply on the channel");
            TurnStats afterChannel = node.run(allocation::stats);
            assertEquals(1, afterChannel.sentChannelData(), "one ChannelData out");
            assertEquals(1, afterChannel.receivedChannelData(), "one ChannelData in");
            assertEquals(0, afterChannel.droppedOnReceive(), "nothing dropped: " + afterChannel);

            // Refresh, then deallocate. Proof that the allocation is gone: the same socket can allocate again,
            // which coturn refuses with 437 while the 5-tuple has an allocation. coturn deletes a deallocated
            // allocation on its next one-second tick, so the new Allocate is repeated while it gets 437.
            Duration granted = node.call(allocation::refresh);
            assertTrue(granted.toSeconds() > 0, "refresh granted " + granted);
            node.call(allocation::close);
            assertEquals(TurnAllocation.State.CLOSED, node.run(allocation::state), "closed");
            TurnAllocation again = node.call(() -> allocateWhile437(node, coturn.config(), 20));
            assertEquals(TurnAllocation.State.ACTIVE, node.run(again::state), "allocated again on the same socket");
        } catch (AssertionError | java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e.getMessage() + "\ncoturn said:\n" + coturn.logTail(), e);
        }
    }

    /** Allocates, repeating every 250 ms (at most {@code attempts} times) while the server answers 437. */
    private static CompletableFuture<TurnAllocation> allocateWhile437(RealNode node, TurnConfig config, int attempts) {
        return node.turn().allocate(config).allocated().handle((allocation, failure) -> {
            boolean mismatch = failure instanceof TurnException e && e.error() == TurnError.ALLOCATION_MISMATCH;
            if (failure == null) {
                return CompletableFuture.completedFuture(allocation);
            }
            if (!mismatch || attempts <= 1) {
                return CompletableFuture.<TurnAllocation>failedFuture(failure);
            }
            CompletableFuture<TurnAllocation> next = new CompletableFuture<>();
            node.loop.timers().schedule(node.loop.clock().nanoTime() + 250_000_000L, (nowNs, id) ->
                allocateWhile437(node, config, attempts - 1).whenComplete((a, f) -> {
                    if (f != null) {
                        next.completeExceptionally(f);
                    } else {
                        next.complete(a);
                    }
                }));
            return next;
        }).thenCompose(f -> f);
    }

    @Test
    void wrongPasswordIsRejectedWithUnauthorized() throws Exception {
        try (RealNode node = RealNode.start("turn-wrong-password")) {
            TurnConfig wrong = coturn.config().withCredentials(new TurnCredentials(CoturnTurnServer.USER, "wrong"));

            TurnException e = node.failure(() -> node.turn().allocate(wrong).allocated());

            assertTrue(e.error() == TurnError.UNAUTHORIZED || e.error() == TurnError.WRONG_CREDENTIALS,
                "401 or 441, got " + e.getMessage());
            assertTrue(e.getMessage().contains(CoturnTurnServer.REALM), "names the realm: " + e.getMessage());
        }
    }

    @Test
    void aSecondAllocationFromTheSameSocketGets437AllocationMismatch() throws Exception {
        try (RealNode node = RealNode.start("turn-mismatch")) {
            node.allocate(coturn.config());
            // A second TURN client on the same socket and STUN client: coturn sees the same 5-tuple.
            TurnClient second = node.run(() -> new TurnClient(node.stun()));

            TurnException e = node.failure(() -> second.allocate(coturn.config()).allocated());

            assertEquals(TurnError.ALLOCATION_MISMATCH, e.error(), e.getMessage());
            assertEquals(437, e.code(), "code");
        }
    }

    @Test
    void aStunClientOnTheRelayedEndpointIsSeenAtTheRelayedAddress() throws Exception {
        try (RealNode node = RealNode.start("turn-stun-over-relay");
             UdpEventLoop stunPeer = UdpEventLoop.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                 .threadName("turn-stun-peer").daemon(true).build().start()) {
            stunPeer.submit(() -> StunBindingServer.basic(stunPeer, null).listen()).get(RealNode.TIMEOUT_S, TimeUnit.SECONDS);
            TurnAllocation allocation = node.allocate(coturn.config());

            BindingOutcome outcome = node.call(() -> {
                RelayedEndpoint endpoint = allocation.asEndpoint();
                StunClient overRelay = new StunClient(endpoint);
                endpoint.receiver(overRelay);
                return overRelay.binding(stunPeer.localAddress());
            });

            BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome, "outcome");
            assertEquals(allocation.relayedAddress(), success.mappedAddress(), "the STUN server saw the relayed address");
            assertEquals(stunPeer.localAddress(), success.source(), "and answered as the peer");
        }
    }

    @Test
    void paddedChannelDataIsUnderstoodByCoturn() throws Exception {
        try (RealNode node = RealNode.start("turn-padded"); RealNode peer = RealNode.plain("turn-padded-peer")) {
            TurnAllocation allocation = node.allocate(coturn.config().withPadChannelData(true).withAutoBindChannels(false));
            InetSocketAddress relayed = allocation.relayedAddress();
            node.call(() -> allocation.bindChannel(peer.address()));

            for (String text : new String[] {"a", "ab", "abc", "abcd", "abcde"}) {
                node.run(() -> allocation.sendTo(peer.address(), node.utf8(text)));
                assertEquals(new Got(text, relayed), peer.next(), "padding stripped by coturn for " + text.length() + " bytes");
                peer.sendDirect(text, relayed);
                assertEquals(new Got(text, peer.address()), node.next(), "and back");
            }
        }
    }
}
