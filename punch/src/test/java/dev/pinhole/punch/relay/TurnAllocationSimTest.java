package dev.pinhole.punch.relay;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.protocol.turn.TurnError;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.ONE_WAY_NS;
import static dev.pinhole.punch.PunchSim.RTT_NS;
import static dev.pinhole.punch.PunchSim.SECOND;
import static dev.pinhole.punch.PunchSim.turnFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.relay.ScriptedTurnServer.Received;
import dev.pinhole.punch.relay.ScriptedTurnServer.Reply;
import dev.pinhole.punch.PunchSim.Text;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@link TurnAllocation} state machine against a {@link ScriptedTurnServer} on virtual time:
 * authentication, stale nonces, error mapping, refresh timing of allocation, permissions and
 * channels, the data path and its bounds. Every test ends with all buffers released.
 */
class TurnAllocationSimTest {
    private static final long SEED = 0x7E57_0001L;
    private static final int ALLOCATE = StunMessageType.METHOD_ALLOCATE;
    private static final int REFRESH = StunMessageType.METHOD_REFRESH;
    private static final int CREATE_PERMISSION = StunMessageType.METHOD_CREATE_PERMISSION;
    private static final int CHANNEL_BIND = StunMessageType.METHOD_CHANNEL_BIND;

    private final PunchSim f = PunchSim.withScriptedTurnServer(SEED);
    private final InetSocketAddress peer = f.peer.localAddress();

    @AfterEach
    void close() {
        f.close();
    }

    // ------------------------------------------------------------------ allocate and authentication

    @Test
    void allocateAnswersThe401ChallengeWithLongTermCredentials() {
        TurnAllocation allocation = f.allocate(f.config());

        List<Received> allocates = f.scriptedServer.received(ALLOCATE);
        assertEquals(2, allocates.size(), "an unauthenticated try and an authenticated one: " + allocates);
        Received first = allocates.get(0);
        assertNull(first.username(), "the first Allocate carries no credentials");
        assertEquals(17L << 24, first.requestedTransport(), "REQUESTED-TRANSPORT is UDP (17)");
        assertTrue(first.hasFingerprint(), "requests carry FINGERPRINT");
        Received second = allocates.get(1);
        assertEquals(ScriptedTurnServer.USER, second.username(), "USERNAME");
        assertEquals("nonce-1", second.nonce(), "the NONCE of the 401");
        assertTrue(second.integrityValid(), "MESSAGE-INTEGRITY keyed with MD5(user:realm:password)");
        assertEquals(17L << 24, second.requestedTransport(), "REQUESTED-TRANSPORT again");
        assertEquals(-1, second.lifetimeSeconds(), "no LIFETIME asked for by default");

        assertEquals(TurnAllocation.State.ACTIVE, allocation.state(), "state");
        assertEquals(f.scriptedServer.relayAddress(), allocation.relayedAddress(), "XOR-RELAYED-ADDRESS");
        assertEquals(f.node.localAddress(), allocation.mappedAddress(), "XOR-MAPPED-ADDRESS (no NAT here)");
        assertEquals(Duration.ofSeconds(600), allocation.lifetime(), "LIFETIME");
        assertSame(allocation, f.turn.allocation(f.scriptedServer.address()), "the client knows the allocation by server");
    }

    @Test
    void requestedLifetimeGoesIntoAllocateAndRefresh() {
        TurnAllocation allocation = f.allocate(f.config().withRequestedLifetimeSeconds(1200));
        f.awaitDone(allocation.refresh(), 5 * SECOND).join();

        assertEquals(1200, f.scriptedServer.received(ALLOCATE).get(1).lifetimeSeconds(), "LIFETIME in Allocate");
        assertEquals(1200, f.scriptedServer.received(REFRESH).get(0).lifetimeSeconds(), "LIFETIME in Refresh");
    }

    @Test
    void aStaleNonceOnAllocateIsRetriedWithTheNewNonce() {
        f.scriptedServer.nextReply(ALLOCATE, new Reply.Error(438, "Stale Nonce", false));

        TurnAllocation allocation = f.allocate(f.config());

        List<String> nonces = f.scriptedServer.received(ALLOCATE).stream().map(Received::nonce).toList();
        assertEquals(java.util.Arrays.asList(null, "nonce-1", "nonce-2"), nonces, "401, then 438, then the new nonce");
        assertEquals(1, allocation.stats().staleNonceRetries(), "one stale-nonce retry");
    }

    @Test
    void aStaleNonceOnRefreshIsRetriedWithTheNewNonce() {
        TurnAllocation allocation = f.allocate(f.config());
        f.scriptedServer.staleNonce();

        Duration granted = f.awaitDone(allocation.refresh(), 5 * SECOND).join();

        assertEquals(Duration.ofSeconds(600), granted, "refresh granted");
        List<String> nonces = f.scriptedServer.received(REFRESH).stream().map(Received::nonce).toList();
        assertEquals(List.of("nonce-1", "nonce-2"), nonces, "the old nonce got 438, the new one success");
    }

    @Test
    void aServerThatKeepsDeclaringTheNonceStaleFailsTheRequest() {
        for (int i = 0; i < 4; i++) {
            f.scriptedServer.nextReply(ALLOCATE, new Reply.Error(438, "Stale Nonce", false));
        }
        TurnAllocation allocation = f.turn.allocate(f.config());

        TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));

        assertEquals(TurnError.STALE_NONCE, e.error(), e.getMessage());
        assertEquals(438, e.code(), "code");
        assertEquals(2 + TurnAllocation.MAX_STALE_NONCE_RETRIES, f.scriptedServer.received(ALLOCATE).size(),
            "the 401 try, the first authenticated try and three retries");
        assertEquals(TurnAllocation.State.FAILED, allocation.state(), "state");
        assertNull(f.turn.allocation(f.scriptedServer.address()), "a failed allocation is forgotten");
    }

    @Test
    void aWrongPasswordFailsWith401AfterOneAuthenticatedTry() {
        TurnAllocation allocation = f.turn.allocate(f.config().withCredentials(new TurnCredentials("alice", "wrong")));

        TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));

        assertEquals(TurnError.UNAUTHORIZED, e.error(), e.getMessage());
        assertEquals(401, e.code(), "code");
        assertEquals("Unauthorized", e.serverReason(), "the server's reason phrase");
        assertTrue(e.getMessage().contains("\"alice\"") && e.getMessage().contains(ScriptedTurnServer.REALM),
            "the message names user and realm: " + e.getMessage());
        assertTrue(e.getMessage().contains("check them"), "the message says what to do: " + e.getMessage());
        assertEquals(2, f.scriptedServer.received(ALLOCATE).size(), "no third try with the same wrong password");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "437, Allocation Mismatch, ALLOCATION_MISMATCH",
        "441, Wrong Credentials, WRONG_CREDENTIALS",
        "442, Unsupported Transport Protocol, UNSUPPORTED_TRANSPORT_PROTOCOL",
        "486, Allocation Quota Reached, ALLOCATION_QUOTA_REACHED",
        "508, Insufficient Capacity, INSUFFICIENT_CAPACITY",
        "403, Forbidden, FORBIDDEN",
        "500, Server Error, SERVER_ERROR",
        "499, Something New, OTHER_ERROR"})
    void errorResponsesToAllocateBecomeTypedExceptions(int code, String reason, TurnError expected) {
        f.scriptedServer.nextReply(ALLOCATE, new Reply.Error(code, reason, true));
        TurnAllocation allocation = f.turn.allocate(f.config());

        TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));

        assertEquals(expected, e.error(), e.getMessage());
        assertEquals(code, e.code(), "code");
        assertEquals(reason, e.serverReason(), "reason phrase");
        assertEquals("Allocate", e.request(), "request");
        assertEquals(f.scriptedServer.address(), e.server(), "server");
        assertTrue(e.getMessage().contains(code + " ") && e.getMessage().contains(reason)
            && e.getMessage().contains(expected.advice()), "message has code, reason and advice: " + e.getMessage());
    }

    @Test
    void aSuccessResponseWithAForgedIntegrityIsIgnoredAndTheRetransmissionSucceeds() {
        StunKey forged = StunKey.longTerm(ScriptedTurnServer.USER, ScriptedTurnServer.REALM, "not-the-password");
        f.scriptedServer.nextReply(ALLOCATE, new Reply.Success(w -> w
            .addXorAddress(StunAttributeType.XOR_RELAYED_ADDRESS, new InetSocketAddress("192.0.2.66", 666))
            .addUInt32(StunAttributeType.LIFETIME, 600), forged));

        TurnAllocation allocation = f.allocate(f.config());

        assertEquals(f.scriptedServer.relayAddress(), allocation.relayedAddress(), "the forged relayed address was not taken");
        assertEquals(1, f.stun.rejectedResponseCount(), "the forged response was rejected");
        assertEquals(3, f.scriptedServer.received(ALLOCATE).size(), "401 try, the answered-with-forgery try, its retransmission");
    }

    @Test
    void aSuccessWithoutRelayedAddressIsABadResponse() {
        f.scriptedServer.nextReply(ALLOCATE, new Reply.Success(w -> w.addUInt32(StunAttributeType.LIFETIME, 600),
            ScriptedTurnServer.key()));
        TurnAllocation allocation = f.turn.allocate(f.config());

        TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 10 * SECOND));

        assertEquals(TurnError.BAD_RESPONSE, e.error(), e.getMessage());
        assertTrue(e.getMessage().contains("XOR-RELAYED-ADDRESS"), e.getMessage());
    }

    @Test
    void aSilentServerTimesOutOnTheStunRetransmissionSchedule() {
        TurnConfig nowhere = TurnConfig.of(new InetSocketAddress("198.51.100.1", 3479), "alice", "secret");
        long startNs = f.sim.nowNs();
        TurnAllocation allocation = f.turn.allocate(nowhere);

        TurnException e = turnFailure(f.awaitDone(allocation.allocated(), 60 * SECOND));

        assertEquals(TurnError.TIMED_OUT, e.error(), e.getMessage());
        assertEquals(-1, e.code(), "no code without an answer");
        assertEquals(39_500 * MS, f.sim.nowNs() - startNs, "RFC 8489 §6.2.1: Rc = 7, Rm = 16, RTO 500 ms");
    }

    @Test
    void aSecondAllocationOnTheSameServerIsRefusedLocally() {
        f.allocate(f.config());

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.turn.allocate(f.config()));

        assertTrue(e.getMessage().contains("RFC 8656"), e.getMessage());
    }

    // ------------------------------------------------------------------ refresh timing

    @Test
    void theAllocationIsRefreshedAtEightyPercentOfItsLifetime() {
        long[] grantedAtNs = new long[1];
        TurnAllocation allocation = f.turn.allocate(f.config());
        allocation.allocated().thenRun(() -> grantedAtNs[0] = f.sim.nowNs());
        f.awaitDone(allocation.allocated(), 10 * SECOND).join();

        f.sim.runFor(25 * 60 * SECOND);

        List<Long> refreshes = f.scriptedServer.requestTimes(REFRESH);
        // Each Refresh goes 480 s after the previous grant; a grant arrives one 20 ms round trip after its request.
        // Times are arrivals at the server; each grant comes one round trip after its request.
        long g = grantedAtNs[0];
        List<Long> expected = List.of(g + 480 * SECOND + ONE_WAY_NS, g + 960 * SECOND + RTT_NS + ONE_WAY_NS,
            g + 1440 * SECOND + 2 * RTT_NS + ONE_WAY_NS);
        assertEquals(expected, refreshes, "Refresh at 80 % of 600 s after each grant");
        assertEquals(3, allocation.stats().allocationRefreshes(), "three refreshes in 25 minutes");
        assertEquals(TurnAllocation.State.ACTIVE, allocation.state(), "still active");
    }

    @Test
    void aShorterGrantedLifetimeIsRefreshedSooner() {
        f.scriptedServer.grantedLifetimeSeconds = 100;
        long[] grantedAtNs = new long[1];
        TurnAllocation allocation = f.turn.allocate(f.config());
        allocation.allocated().thenRun(() -> grantedAtNs[0] = f.sim.nowNs());
        f.awaitDone(allocation.allocated(), 10 * SECOND).join();

        f.sim.runFor(100 * SECOND);

        assertEquals(List.of(grantedAtNs[0] + 80 * SECOND + ONE_WAY_NS), f.scriptedServer.requestTimes(REFRESH),
            "80 % of 100 s (arrival at the server)");
        assertEquals(Duration.ofSeconds(100), allocation.lifetime(), "lifetime");
    }

    @Test
    void unansweredRefreshesAreRetriedUntilExpiryAndThenTheAllocationIsLost() {
        List<TurnException> lost = new ArrayList<>();
        TurnAllocation allocation = f.allocate(f.config());
        allocation.listener(new TurnListener() {
            @Override
            public void onAllocationLost(TurnAllocation a, TurnException cause) {
                lost.add(cause);
            }
        });
        for (int i = 0; i < 100; i++) {
            f.scriptedServer.nextReply(REFRESH, Reply.DROP);
        }
        long expiresAtNs = allocation.expiresAtNs();

        f.sim.runFor(700 * SECOND);

        assertEquals(1, lost.size(), "one loss reported");
        assertEquals(TurnError.EXPIRED, lost.get(0).error(), lost.get(0).getMessage());
        assertEquals(TurnAllocation.State.FAILED, allocation.state(), "state");
        assertEquals(3, allocation.stats().allocationRefreshes(),
            "Refreshes at 480 s, 524.5 s and 569 s (each times out after 39.5 s, then 5 s pass); the last outlives expiry");
        assertTrue(f.scriptedServer.requestTimes(REFRESH).stream().allMatch(t -> t < expiresAtNs), "no Refresh after expiry");
        assertFalse(allocation.sendTo(peer, f.text("late")), "a lost allocation sends nothing");
        assertEquals(1, allocation.stats().droppedNotActive(), "counted");
        assertNull(f.turn.allocation(f.scriptedServer.address()), "the client forgot it");
    }

    @Test
    void aRefreshAnswered437MeansTheAllocationIsGone() {
        List<TurnException> lost = new ArrayList<>();
        TurnAllocation allocation = f.allocate(f.config());
        allocation.listener(new TurnListener() {
            @Override
            public void onAllocationLost(TurnAllocation a, TurnException cause) {
                lost.add(cause);
            }
        });
        f.scriptedServer.nextReply(REFRESH, new Reply.Error(437, "Allocation Mismatch", true));

        TurnException e = turnFailure(f.awaitDone(allocation.refresh(), 5 * SECOND));

        assertEquals(TurnError.ALLOCATION_MISMATCH, e.error(), e.getMessage());
        assertEquals(List.of(e), lost, "the listener heard the same cause");
        assertEquals(TurnAllocation.State.FAILED, allocation.state(), "state");
    }

    @Test
    void permissionsAreRefreshedEvery240Seconds() {
        TurnAllocation allocation = f.allocate(f.config());
        long startNs = f.sim.nowNs();
        f.awaitDone(allocation.createPermission(peer), 5 * SECOND).join();
        long grantedAtNs = f.sim.nowNs();

        f.sim.runFor(13 * 60 * SECOND);

        List<Long> times = f.scriptedServer.requestTimes(CREATE_PERMISSION);
        long g = grantedAtNs;
        assertEquals(List.of(startNs + ONE_WAY_NS, g + 240 * SECOND + ONE_WAY_NS, g + 480 * SECOND + RTT_NS + ONE_WAY_NS,
            g + 720 * SECOND + 2 * RTT_NS + ONE_WAY_NS), times, "CreatePermission every 240 s after each grant (arrivals)");
        assertTrue(allocation.hasPermission(peer.getAddress()), "still permitted");
        assertEquals(peer, f.scriptedServer.received(CREATE_PERMISSION).get(0).peer(), "XOR-PEER-ADDRESS");
    }

    @Test
    void channelBindingsAreRefreshedEvery480Seconds() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        long startNs = f.sim.nowNs();
        int channel = f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        long boundAtNs = f.sim.nowNs();

        f.sim.runFor(17 * 60 * SECOND);

        assertEquals(ChannelData.MIN_CHANNEL, channel, "the first channel is 0x4000");
        List<Long> times = f.scriptedServer.requestTimes(CHANNEL_BIND);
        assertEquals(List.of(startNs + ONE_WAY_NS, boundAtNs + 480 * SECOND + ONE_WAY_NS,
            boundAtNs + 960 * SECOND + RTT_NS + ONE_WAY_NS), times, "ChannelBind every 480 s after each grant (arrivals)");
        assertTrue(f.scriptedServer.received(CHANNEL_BIND).stream().allMatch(r -> r.channel() == channel && peer.equals(r.peer())),
            "the same channel and peer each time");
        assertEquals(channel, allocation.channelOf(peer), "still bound");
        assertTrue(allocation.hasPermission(peer.getAddress()), "ChannelBind installed the permission (RFC 8656 §11.2)");
    }

    @Test
    void closeDeallocatesWithLifetimeZeroAndStopsAllTimers() {
        TurnAllocation allocation = f.allocate(f.config());
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();

        f.awaitDone(allocation.close(), 5 * SECOND).join();
        int requestsAtClose = f.scriptedServer.received.size();
        f.sim.runFor(3600 * SECOND);

        List<Received> refreshes = f.scriptedServer.received(REFRESH);
        assertEquals(1, refreshes.size(), "one Refresh");
        assertEquals(0, refreshes.get(0).lifetimeSeconds(), "with LIFETIME 0 (RFC 8656 §8)");
        assertTrue(refreshes.get(0).integrityValid(), "authenticated");
        assertEquals(TurnAllocation.State.CLOSED, allocation.state(), "state");
        assertEquals(requestsAtClose, f.scriptedServer.received.size(), "nothing sent after closing");
        assertNull(f.turn.allocation(f.scriptedServer.address()), "the client forgot it");
        assertSame(allocation.close(), allocation.close(), "close is idempotent");
    }

    @Test
    void closeCountsA437AsDeallocated() {
        TurnAllocation allocation = f.allocate(f.config());
        f.scriptedServer.nextReply(REFRESH, new Reply.Error(437, "Allocation Mismatch", true));

        CompletableFuture<Void> closed = f.awaitDone(allocation.close(), 5 * SECOND);

        assertFalse(closed.isCompletedExceptionally(), "no allocation left is what close wanted: " + closed);
    }

    @Test
    void closingWhileAllocatingAbandonsTheAllocation() {
        TurnAllocation allocation = f.turn.allocate(f.config());

        allocation.close().join();

        TurnException e = turnFailure(allocation.allocated());
        assertEquals(TurnError.CLOSED, e.error(), e.getMessage());
        f.sim.runFor(60 * SECOND);
        assertEquals(1, f.scriptedServer.received(ALLOCATE).size(), "the cancelled Allocate was not retransmitted");
    }

    // ------------------------------------------------------------------ data path

    @Test
    void dataGoesAsSendIndicationUntilTheChannelIsBoundThenAsChannelData() {
        TurnAllocation allocation = f.allocate(f.config());

        assertTrue(allocation.sendTo(peer, f.text("one")), "queued for the permission");
        f.sim.runFor(SECOND);
        assertTrue(allocation.sendTo(peer, f.text("two")), "sent");
        f.sim.runFor(SECOND);

        InetSocketAddress relayed = allocation.relayedAddress();
        assertEquals(List.of(new Text("one", relayed), new Text("two", relayed)), f.peerGot,
            "the peer got both, from the relayed address");
        List<Received> send = f.scriptedServer.received(StunMessageType.METHOD_SEND);
        assertEquals(1, send.size(), "one Send indication");
        assertEquals(StunClass.INDICATION, send.get(0).messageClass(), "an indication");
        assertEquals(peer, send.get(0).peer(), "XOR-PEER-ADDRESS");
        assertNull(send.get(0).username(), "indications are not authenticated");
        List<Received> channelData = f.scriptedServer.received(-1);
        assertEquals(1, channelData.size(), "one ChannelData");
        assertEquals(ChannelData.MIN_CHANNEL, channelData.get(0).channel(), "on channel 0x4000");
        TurnStats stats = allocation.stats();
        assertEquals(1, stats.queuedForPermission(), "the first waited for the permission");
        assertEquals(1, stats.sentSendIndications(), "Send indications");
        assertEquals(1, stats.sentChannelData(), "ChannelData");
        assertEquals(1, stats.permissions(), "permissions");
        assertEquals(1, stats.channels(), "channels");
    }

    @Test
    void peerDataArrivesAsDataIndicationThenAsChannelData() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        InetSocketAddress relayed = allocation.relayedAddress();
        f.awaitDone(allocation.createPermission(peer), 5 * SECOND).join();

        f.peerSends("by indication", relayed);
        f.sim.runFor(SECOND);
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        f.peerSends("by channel", relayed);
        f.sim.runFor(SECOND);

        assertEquals(List.of(new Text("by indication", peer), new Text("by channel", peer)), f.nodeGot,
            "both arrived, from the peer");
        assertEquals(1, allocation.stats().receivedDataIndications(), "one Data indication");
        assertEquals(1, allocation.stats().receivedChannelData(), "one ChannelData");
    }

    @Test
    void dataQueuedForAPermissionIsBoundedAndDroppedWhenThePermissionFails() {
        List<InetAddress> refused = new ArrayList<>();
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false).withLimits(8, 8, 8, 4));
        allocation.listener(new TurnListener() {
            @Override
            public void onPermissionFailed(TurnAllocation a, InetAddress ip, TurnException cause) {
                refused.add(ip);
            }
        });
        f.scriptedServer.nextReply(CREATE_PERMISSION, new Reply.Error(403, "Forbidden", true));

        int accepted = 0;
        for (int i = 0; i < 6; i++) {
            accepted += allocation.sendTo(peer, f.text("d" + i)) ? 1 : 0;
        }
        f.sim.runFor(SECOND);

        assertEquals(4, accepted, "four queued (maxQueuedPerPeer), two dropped");
        TurnStats stats = allocation.stats();
        assertEquals(2, stats.droppedQueueFull(), "dropped for a full queue");
        assertEquals(4, stats.droppedNoPermission(), "the queued ones dropped when the permission was refused");
        assertEquals(List.of(peer.getAddress()), refused, "the listener heard of the refusal");
        assertTrue(f.peerGot.isEmpty(), "nothing reached the peer");
    }

    @Test
    void aRefusedPermissionIsAskedForAgainNoSoonerThanTheRetryDelay() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.scriptedServer.nextReply(CREATE_PERMISSION, new Reply.Error(403, "Forbidden", true));
        allocation.sendTo(peer, f.text("refused"));
        f.sim.runFor(SECOND);

        assertFalse(allocation.sendTo(peer, f.text("too soon")), "dropped during the retry delay");
        f.sim.runFor(TurnAllocation.RETRY_DELAY_NS);
        assertTrue(allocation.sendTo(peer, f.text("later")), "queued again after the delay");
        f.sim.runFor(SECOND);

        assertEquals(2, f.scriptedServer.received(CREATE_PERMISSION).size(), "one request per retry delay, not per datagram");
        assertEquals(List.of(new Text("later", allocation.relayedAddress())), f.peerGot, "the later one arrived");
    }

    @Test
    void aFailedChannelBindFallsBackToSendIndications() {
        List<InetSocketAddress> failed = new ArrayList<>();
        TurnAllocation allocation = f.allocate(f.config());
        allocation.listener(new TurnListener() {
            @Override
            public void onChannelBindFailed(TurnAllocation a, InetSocketAddress p, TurnException cause) {
                failed.add(p);
            }
        });
        f.scriptedServer.nextReply(CHANNEL_BIND, new Reply.Error(400, "Bad Request", true));

        allocation.sendTo(peer, f.text("a"));
        f.sim.runFor(SECOND);
        allocation.sendTo(peer, f.text("b"));
        f.sim.runFor(SECOND);

        assertEquals(List.of(peer), failed, "the listener heard of the failed bind");
        assertEquals(2, f.peerGot.size(), "both arrived: " + f.peerGot);
        assertEquals(2, allocation.stats().sentSendIndications(), "as Send indications");
        assertEquals(0, allocation.channelOf(peer), "no channel");
    }

    @Test
    void peerAndPermissionBoundsDropAndFailClearly() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false).withLimits(2, 1, 3, 4));
        InetSocketAddress[] peers = {
            new InetSocketAddress("203.0.113.7", 6000), new InetSocketAddress("203.0.113.8", 6000),
            new InetSocketAddress("203.0.113.9", 6000)};

        assertTrue(allocation.sendTo(peers[0], f.text("x")), "first IP");
        assertTrue(allocation.sendTo(peers[1], f.text("x")), "second IP");
        assertFalse(allocation.sendTo(peers[2], f.text("x")), "a third IP exceeds maxPermissions 2");
        TurnException e = turnFailure(allocation.createPermission(peers[2]));
        f.awaitDone(allocation.bindChannel(peers[0]), 5 * SECOND).join();
        TurnException noChannel = turnFailure(allocation.bindChannel(peers[1]));

        assertEquals(TurnError.LIMIT_REACHED, e.error(), e.getMessage());
        assertTrue(e.getMessage().contains("2 permissions"), e.getMessage());
        assertEquals(TurnError.LIMIT_REACHED, noChannel.error(), "maxChannels 1: " + noChannel.getMessage());
        assertEquals(1, allocation.stats().droppedLimit(), "one datagram dropped at the bound");
    }

    @Test
    void oversizedDatagramsAreDroppedAndCounted() {
        TurnAllocation allocation = f.allocate(f.config());
        io.netty.buffer.ByteBuf huge = f.node.allocator().buffer(70_000).writeZero(65_600);

        assertFalse(allocation.sendTo(peer, huge), "65,600 bytes fit no TURN message");
        assertEquals(1, allocation.stats().droppedOversize(), "counted");
    }

    @Test
    void paddedChannelDataIsDeliveredWithoutItsPadding() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();

        f.scriptedServer.sendRaw(new byte[] {0x40, 0x00, 0x00, 0x03, 'a', 'b', 'c', 0});
        f.scriptedServer.sendRaw(new byte[] {0x40, 0x00, 0x00, 0x02, 'd', 'e'});
        f.sim.runFor(SECOND);

        assertEquals(List.of(new Text("abc", peer), new Text("de", peer)), f.nodeGot, "padded and unpadded both read");
    }

    @Test
    void dataFromUnpermittedPeersAndUnboundChannelsIsDropped() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();
        byte[] stranger = DataIndications.encode(new InetSocketAddress("198.51.100.200", 7), "psst".getBytes());
        byte[] unboundChannel = {0x40, 0x01, 0x00, 0x01, 'x'};
        byte[] reservedChannel = {0x4F, (byte) 0xFF, 0x00, 0x00};

        f.scriptedServer.sendRaw(stranger);
        f.scriptedServer.sendRaw(unboundChannel);
        f.scriptedServer.sendRaw(reservedChannel);
        f.sim.runFor(SECOND);

        assertTrue(f.nodeGot.isEmpty(), "nothing delivered: " + f.nodeGot);
        TurnStats stats = allocation.stats();
        assertEquals(1, stats.unpermittedDataIndications(), "Data indication from a peer without permission");
        assertEquals(2, stats.unboundChannelData(), "ChannelData on channels not bound (0x4001, 0x4FFF)");
    }

    @Test
    void aStrangerCannotInjectChannelData() {
        TurnAllocation allocation = f.allocate(f.config().withAutoBindChannels(false));
        f.awaitDone(allocation.bindChannel(peer), 5 * SECOND).join();

        // The peer itself sends ChannelData straight to the node: not from the server, so not relayed data.
        f.peer.send(f.peer.allocator().buffer().writeBytes(new byte[] {0x40, 0x00, 0x00, 0x01, 'x'}), f.node.localAddress());
        f.sim.runFor(SECOND);

        assertTrue(f.nodeGot.isEmpty(), "nothing delivered");
        assertEquals(1, f.turn.channelDataFromUnknownSendersCount(), "counted as from an unknown sender");
        assertEquals(0, allocation.stats().receivedChannelData(), "not received by the allocation");
    }
}
