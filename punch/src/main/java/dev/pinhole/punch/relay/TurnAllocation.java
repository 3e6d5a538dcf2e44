package dev.pinhole.punch.relay;

import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.protocol.turn.TurnIndication;
import dev.pinhole.protocol.turn.TurnError;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunRequestBody;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransaction;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import dev.pinhole.protocol.stun.StunWriter;
import io.netty.buffer.ByteBuf;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.agrona.collections.Long2ObjectHashMap;

/**
 * One TURN allocation (RFC 8656): a relayed transport address on a TURN server, kept alive, through
 * which the node exchanges datagrams with peers that it cannot reach directly. Made by
 * {@link TurnClient#allocate}; sans-IO on the node's one {@link DatagramEndpoint}: requests are
 * {@link StunClient} transactions, timers are the endpoint's, responses and peer data arrive through
 * the node's demultiplexer and {@link TurnClient}.
 *
 * <h2>What it does by itself</h2>
 * <ul>
 *   <li><b>Authentication</b> (RFC 8489 §9.2): the first Allocate goes without credentials; the 401
 *       challenge gives REALM and NONCE; every later request carries USERNAME, REALM, NONCE and
 *       MESSAGE-INTEGRITY keyed with MD5(username:realm:password). A 438 Stale Nonce is answered by
 *       repeating the request with the new nonce (at most {@value #MAX_STALE_NONCE_RETRIES} times in a row).</li>
 *   <li><b>Refresh</b> (RFC 8656 §8) at 80 % of the granted lifetime; a failed refresh is retried every
 *       {@link #RETRY_DELAY_NS} until the allocation expires, then {@link TurnListener#onAllocationLost}.</li>
 *   <li><b>Permissions</b> (RFC 8656 §9, §10): {@link #sendTo} installs one for a new peer IP and holds
 *       up to {@code maxQueuedPerPeer} datagrams until it is granted; permissions last 300 s and are
 *       refreshed every {@link #PERMISSION_REFRESH_NS}.</li>
 *   <li><b>Channels</b> (RFC 8656 §11, §12): with {@code autoBindChannels}, a peer that is sent to gets
 *       a channel; until it is bound, data goes as Send indications, afterwards as ChannelData.
 *       Bindings last 600 s and are refreshed every {@link #CHANNEL_REFRESH_NS}.</li>
 *   <li><b>Receiving</b>: Data indications and ChannelData become {@code (payload, peer)} calls of the
 *       {@link #receiver}; data from peers without a permission (RFC 8656 §11.6) or on unbound channels
 *       (§12.6), and malformed messages, are counted and dropped.</li>
 *   <li><b>Close</b>: {@link #close} sends a Refresh with LIFETIME 0, which deletes the allocation (§8).</li>
 * </ul>
 *
 * <h2>Buffers</h2>
 * {@link #sendTo} takes ownership of its data, as {@link DatagramEndpoint#send} does. The payload
 * given to the receiver is lent for the call: it is the received datagram itself with its indices
 * narrowed to the application data (no copy, no allocation), restored when the call returns.
 *
 * <h2>Bounds</h2>
 * Peers, permissions, channels and queued datagrams are bounded by {@link TurnConfig}; what exceeds a
 * bound is dropped and counted ({@link TurnStats}), never queued without limit. All methods must be
 * called on the endpoint's event loop; none is thread-safe.
 *
 * <p>Not supported: RFC 8489 §9.2's password-algorithm negotiation (SHA-256 keys announced with a
 * nonce cookie), following 300 Try Alternate, TCP/TLS/DTLS transports to the server, EVEN-PORT and
 * RESERVATION-TOKEN, dual-stack allocations. Every deployed TURN server, coturn included, accepts
 * MD5 long-term credentials over UDP.
 */
public final class TurnAllocation {
    /** Where an allocation is in its life. */
    public enum State {
        /** Allocate request in progress. */
        ALLOCATING,
        /** Allocated and kept alive; data flows. */
        ACTIVE,
        /** {@link #close} sent the deallocating Refresh; waiting for its answer. */
        CLOSING,
        /** Deallocated, or closed before it was allocated. */
        CLOSED,
        /** Allocation refused, or lost afterwards. */
        FAILED
    }

    /** RFC 8656 §18.7: REQUESTED-TRANSPORT carries the IP protocol number, 17 for UDP, in its first byte. */
    static final int REQUESTED_TRANSPORT_UDP = 17 << 24;
    /** RFC 8656 §3.2 and §7.2: the allocation lifetime a server grants when the client names none, 10 minutes. */
    public static final long DEFAULT_ALLOCATION_LIFETIME_NS = Duration.ofMinutes(10).toNanos();
    /** RFC 8656 §9: "The Permission Lifetime MUST be 300 seconds (= 5 minutes)." */
    public static final long PERMISSION_LIFETIME_NS = Duration.ofSeconds(300).toNanos();
    /** Refresh a permission a minute before it lapses: every 240 s, comfortably under RFC 8656 §9's 300 s. */
    public static final long PERMISSION_REFRESH_NS = Duration.ofSeconds(240).toNanos();
    /** RFC 8656 §12: "a channel binding lasts for 10 minutes unless refreshed". */
    public static final long CHANNEL_LIFETIME_NS = Duration.ofMinutes(10).toNanos();
    /** Refresh a channel binding at 80 % of its lifetime: every 480 s. */
    public static final long CHANNEL_REFRESH_NS = Duration.ofSeconds(480).toNanos();
    /** The allocation is refreshed when this many thousandths of its granted lifetime have passed (80 %). */
    public static final int ALLOCATION_REFRESH_PERMILLE = 800;
    /** After a refresh fails with a time-out or a transient error, try again this much later, until expiry. */
    public static final long RETRY_DELAY_NS = Duration.ofSeconds(5).toNanos();
    /** How many 438 Stale Nonce answers in a row a request survives before it fails (RFC 8489 §9.2.5). */
    public static final int MAX_STALE_NONCE_RETRIES = 3;

    private static final long NEVER = Long.MAX_VALUE;
    private static final String ALLOCATE = "Allocate";
    private static final String REFRESH = "Refresh";
    private static final String CREATE_PERMISSION = "CreatePermission";
    private static final String CHANNEL_BIND = "ChannelBind";

    private final TurnClient client;
    private final StunClient stun;
    private final DatagramEndpoint endpoint;
    private final TurnConfig config;
    private final InetSocketAddress server;
    private final CompletableFuture<TurnAllocation> allocated = new CompletableFuture<>();
    private final StunReader reader = new StunReader();
    private final TimerHandler timerHandler = this::onTimer;
    private final Lease lease = new Lease();
    private final Map<InetSocketAddress, Peer> peers = new HashMap<>();
    private final List<Peer> peerList = new ArrayList<>();
    private final Long2ObjectHashMap<Peer> ipv4Peers = new Long2ObjectHashMap<>();
    private final Map<InetAddress, Permission> permissions = new HashMap<>();
    private final List<Permission> permissionList = new ArrayList<>();
    private final Peer[] byChannel = new Peer[ChannelData.CHANNEL_COUNT];
    private final long indicationIdHigh;
    private int indicationIdLow;

    private State state = State.ALLOCATING;
    private Request allocateRequest;
    private CompletableFuture<Void> closed;
    private String realm;
    private String nonce;
    private StunKey key;
    private InetSocketAddress relayed;
    private InetSocketAddress mapped;
    private long lifetimeNs;
    private int channelsAssigned;
    private int channelsBound;
    private long timerId = TimerService.NO_TIMER;
    private long timerDeadlineNs = NEVER;
    private DatagramReceiver receiver;
    private TurnListener listener = TurnListener.NONE;

    private long sentChannelData;
    private long sentSendIndications;
    private long sendFailures;
    private long queuedForPermission;
    private long droppedNotActive;
    private long droppedNoPermission;
    private long droppedQueueFull;
    private long droppedLimit;
    private long droppedOversize;
    private long receivedChannelData;
    private long receivedDataIndications;
    private long malformedChannelData;
    private long unboundChannelData;
    private long malformedDataIndications;
    private long unpermittedDataIndications;
    private long allocationRefreshes;
    private long permissionRequests;
    private long channelBindRequests;
    private long staleNonceRetries;
    private long undelivered;

    TurnAllocation(TurnClient client, StunClient stun, TurnConfig config, long indicationIdHigh, int indicationIdLow) {
        this.client = client;
        this.stun = stun;
        this.endpoint = stun.endpoint();
        this.config = config;
        this.server = config.server();
        this.indicationIdHigh = indicationIdHigh;
        this.indicationIdLow = indicationIdLow;
    }

    // ------------------------------------------------------------------ public API

    /** The server this allocation is on. */
    public InetSocketAddress server() {
        return server;
    }

    public TurnConfig config() {
        return config;
    }

    public State state() {
        return state;
    }

    /** Completes with this allocation once the server granted it, or with a {@link TurnException}. */
    public CompletableFuture<TurnAllocation> allocated() {
        return allocated;
    }

    /**
     * The relayed transport address (XOR-RELAYED-ADDRESS): where peers send to reach this node and
     * the source they see on what it sends. Null until allocated.
     */
    public InetSocketAddress relayedAddress() {
        return relayed;
    }

    /** The server-reflexive address (XOR-MAPPED-ADDRESS): this node's socket as the server sees it. Null until allocated. */
    public InetSocketAddress mappedAddress() {
        return mapped;
    }

    /** The lifetime the server granted last (Allocate or Refresh). */
    public Duration lifetime() {
        return Duration.ofNanos(lifetimeNs);
    }

    /** When the allocation lapses unless refreshed, on the endpoint's clock; meaningful while active. */
    public long expiresAtNs() {
        return lease.expiresAtNs;
    }

    /** The endpoint the allocation runs on (the node's socket). */
    public DatagramEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Installs the receiver of datagrams from peers: {@code (payload, peer)}, the payload lent for
     * the call (see the class comment). Replaces any earlier one; null drops peer data (counted).
     */
    public void receiver(DatagramReceiver receiver) {
        this.receiver = receiver;
    }

    public void listener(TurnListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * This allocation as a {@link DatagramEndpoint}, so code written for a socket (the reliable
     * transport) runs over the relay unchanged. See {@link RelayedEndpoint}.
     */
    public RelayedEndpoint asEndpoint() {
        return new RelayedEndpoint(this);
    }

    /**
     * Sends the readable bytes of {@code data} to {@code peer} through the relay: as ChannelData when
     * a channel to the peer is bound, as a Send indication otherwise. A peer IP without a permission
     * gets one requested, and the datagram waits for it (bounded). Takes ownership of {@code data}.
     *
     * @return true if the datagram was handed to the socket or queued for the peer's permission;
     *     false if it was dropped (counted in {@link #stats()} by reason)
     */
    public boolean sendTo(InetSocketAddress peer, ByteBuf data) {
        boolean owned = true;
        try {
            if (state != State.ACTIVE) {
                droppedNotActive++;
                return false;
            }
            Peer p = peerFor(peer);
            if (p == null) {
                droppedLimit++;
                return false;
            }
            int limit = p.channelLease.granted ? ChannelData.MAX_DATA_LENGTH : TurnIndication.maxDataLength(p.ip.length);
            if (data.readableBytes() > limit) {
                droppedOversize++;
                return false;
            }
            if (p.channelLease.granted) {
                owned = false;
                return sendChannelData(p, data);
            }
            long nowNs = now();
            Permission permission = p.permission;
            if (permission.lease.granted) {
                maybeBindChannel(p, nowNs);
                owned = false;
                return sendIndication(p, data);
            }
            if (permission.lease.inFlight == null && nowNs >= permission.retryNotBeforeNs) {
                sendCreatePermission(permission, p.address);
            }
            if (permission.lease.inFlight == null) {
                droppedNoPermission++;
                return false;
            }
            maybeBindChannel(p, nowNs);
            if (p.queue.size() >= config.maxQueuedPerPeer()) {
                droppedQueueFull++;
                return false;
            }
            p.queue.addLast(data);
            owned = false;
            queuedForPermission++;
            return true;
        } finally {
            if (owned) {
                data.release();
            }
        }
    }

    /**
     * Installs a permission for {@code peer}'s IP address (RFC 8656 §10): afterwards the server relays
     * datagrams from any port of that IP to this node. Kept refreshed while the allocation lives.
     * Completes when the server granted it (at once if it already has), or with a {@link TurnException}.
     */
    public CompletableFuture<Void> createPermission(InetSocketAddress peer) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (state != State.ACTIVE) {
            result.completeExceptionally(notActive(CREATE_PERMISSION));
            return result;
        }
        Peer p = peerFor(peer);
        if (p == null) {
            result.completeExceptionally(limitReached(CREATE_PERMISSION, peer));
            return result;
        }
        Permission permission = p.permission;
        if (permission.lease.granted) {
            result.complete(null);
            return result;
        }
        permission.waiters.add(result);
        if (permission.lease.inFlight == null) {
            sendCreatePermission(permission, peer);
        }
        return result;
    }

    /**
     * Binds a channel to {@code peer} (RFC 8656 §11.1), which also installs a permission for its IP.
     * Completes with the channel number once bound (at once if it already is), or with a
     * {@link TurnException}. The binding is kept refreshed while the allocation lives.
     */
    public CompletableFuture<Integer> bindChannel(InetSocketAddress peer) {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        if (state != State.ACTIVE) {
            result.completeExceptionally(notActive(CHANNEL_BIND));
            return result;
        }
        Peer p = peerFor(peer);
        if (p == null) {
            result.completeExceptionally(limitReached(CHANNEL_BIND, peer));
            return result;
        }
        if (p.channelLease.granted) {
            result.complete(p.channel);
            return result;
        }
        if (p.channel == 0 && channelsAssigned >= config.maxChannels()) {
            result.completeExceptionally(limitReached(CHANNEL_BIND, peer));
            return result;
        }
        p.bindWaiters.add(result);
        if (p.channelLease.inFlight == null) {
            sendChannelBind(p);
        }
        return result;
    }

    /** The channel bound to {@code peer}, or 0 if none is bound (yet). */
    public int channelOf(InetSocketAddress peer) {
        Peer p = peers.get(peer);
        return p != null && p.channelLease.granted ? p.channel : 0;
    }

    /** Whether a permission for {@code peerIp} is installed now. */
    public boolean hasPermission(InetAddress peerIp) {
        Permission p = permissions.get(peerIp);
        return p != null && p.lease.granted;
    }

    /**
     * Refreshes the allocation now instead of at 80 % of its lifetime (RFC 8656 §8). Completes with
     * the lifetime the server granted, or with a {@link TurnException}.
     */
    public CompletableFuture<Duration> refresh() {
        CompletableFuture<Duration> result = new CompletableFuture<>();
        if (state != State.ACTIVE) {
            result.completeExceptionally(notActive(REFRESH));
            return result;
        }
        lease.refreshWaiters.add(result);
        if (lease.inFlight == null) {
            sendRefresh();
        }
        return result;
    }

    /**
     * Deletes the allocation: a Refresh with LIFETIME 0 (RFC 8656 §8); queued datagrams are dropped.
     * Completes when the server confirmed (a 437 counts: the allocation is gone either way), or with a
     * {@link TurnException} when it did not answer. Idempotent. An allocation still being made is
     * abandoned: its Allocate is cancelled and {@link #allocated()} fails with {@link TurnError#CLOSED}.
     */
    public CompletableFuture<Void> close() {
        if (closed != null) {
            return closed;
        }
        closed = new CompletableFuture<>();
        switch (state) {
            case ALLOCATING -> {
                if (allocateRequest != null) {
                    allocateRequest.cancel();
                }
                state = State.CLOSED;
                allocated.completeExceptionally(TurnException.local(TurnError.CLOSED, server, ALLOCATE, null));
                client.remove(this);
                closed.complete(null);
            }
            case ACTIVE -> {
                state = State.CLOSING;
                TurnException cause = TurnException.local(TurnError.CLOSED, server, REFRESH, null);
                stopEverything(cause);
                Request dealloc = new Request(StunMessageType.METHOD_REFRESH, REFRESH,
                    writer -> writer.addUInt32(StunAttributeType.LIFETIME, 0), new Outcome() {
                        @Override
                        public void success(StunReader response, long nowNs) {
                            finishClose(null);
                        }

                        @Override
                        public void failure(TurnException e, long nowNs) {
                            // 437: there is no allocation any more, which is what closing wanted.
                            finishClose(e.error() == TurnError.ALLOCATION_MISMATCH ? null : e);
                        }
                    });
                dealloc.send();
            }
            default -> closed.complete(null);
        }
        return closed;
    }

    /** A snapshot of the counters. */
    public TurnStats stats() {
        int grantedPermissions = 0;
        for (Permission p : permissionList) {
            if (p.lease.granted) {
                grantedPermissions++;
            }
        }
        return new TurnStats(sentChannelData, sentSendIndications, sendFailures, queuedForPermission,
            droppedNotActive, droppedNoPermission, droppedQueueFull, droppedLimit, droppedOversize,
            receivedChannelData, receivedDataIndications, malformedChannelData, unboundChannelData,
            malformedDataIndications, unpermittedDataIndications, allocationRefreshes, permissionRequests,
            channelBindRequests, staleNonceRetries, grantedPermissions, channelsBound);
    }

    /** Peer datagrams that arrived while no receiver was installed. */
    public long undeliveredCount() {
        return undelivered;
    }

    @Override
    public String toString() {
        return "TurnAllocation[" + server + " " + state + (relayed != null ? " relayed " + relayed : "") + "]";
    }

    // ------------------------------------------------------------------ allocate and refresh

    /** Sends the first Allocate (RFC 8656 §7.1), without credentials: the 401 tells the realm and nonce. */
    void start() {
        allocateRequest = new Request(StunMessageType.METHOD_ALLOCATE, ALLOCATE, writer -> {
            writer.addUInt32(StunAttributeType.REQUESTED_TRANSPORT, REQUESTED_TRANSPORT_UDP);
            if (config.requestedLifetimeSeconds() > 0) {
                writer.addUInt32(StunAttributeType.LIFETIME, config.requestedLifetimeSeconds());
            }
        }, new Outcome() {
            @Override
            public void success(StunReader response, long nowNs) {
                onAllocated(response, nowNs);
            }

            @Override
            public void failure(TurnException e, long nowNs) {
                allocateRequest = null;
                state = State.FAILED;
                client.remove(TurnAllocation.this);
                allocated.completeExceptionally(e);
            }
        });
        allocateRequest.send();
    }

    private void onAllocated(StunReader response, long nowNs) {
        allocateRequest = null;
        InetSocketAddress relayedAddress = response.findAddress(StunAttributeType.XOR_RELAYED_ADDRESS);
        long lifetime = grantedLifetimeNs(response);
        if (relayedAddress == null || lifetime <= 0) {
            state = State.FAILED;
            client.remove(this);
            allocated.completeExceptionally(TurnException.local(TurnError.BAD_RESPONSE, server, ALLOCATE,
                relayedAddress == null ? "no XOR-RELAYED-ADDRESS in the success response" : "granted lifetime 0"));
            return;
        }
        relayed = relayedAddress;
        mapped = response.xorMappedAddress();
        state = State.ACTIVE;
        grantAllocation(lifetime, nowNs);
        allocated.complete(this);
    }

    /** LIFETIME of a success response in nanoseconds; RFC 8656 §7.3 requires it, its absence means the default. */
    private long grantedLifetimeNs(StunReader response) {
        int at = response.findAttribute(StunAttributeType.LIFETIME);
        return at == StunReader.NO_ATTRIBUTE ? DEFAULT_ALLOCATION_LIFETIME_NS : response.uint32(at) * 1_000_000_000L;
    }

    private void grantAllocation(long lifetime, long nowNs) {
        lifetimeNs = lifetime;
        lease.grant(nowNs, lifetime, lifetime / 1000 * ALLOCATION_REFRESH_PERMILLE);
        reschedule();
    }

    private void sendRefresh() {
        allocationRefreshes++;
        lease.inFlight = new Request(StunMessageType.METHOD_REFRESH, REFRESH, writer -> {
            if (config.requestedLifetimeSeconds() > 0) {
                writer.addUInt32(StunAttributeType.LIFETIME, config.requestedLifetimeSeconds());
            }
        }, new Outcome() {
            @Override
            public void success(StunReader response, long nowNs) {
                lease.inFlight = null;
                long lifetime = grantedLifetimeNs(response);
                if (lifetime <= 0) {
                    lost(TurnException.local(TurnError.BAD_RESPONSE, server, REFRESH, "granted lifetime 0"));
                    return;
                }
                grantAllocation(lifetime, nowNs);
                for (CompletableFuture<Duration> waiter : lease.takeRefreshWaiters()) {
                    waiter.complete(Duration.ofNanos(lifetime));
                }
            }

            @Override
            public void failure(TurnException e, long nowNs) {
                lease.inFlight = null;
                for (CompletableFuture<Duration> waiter : lease.takeRefreshWaiters()) {
                    waiter.completeExceptionally(e);
                }
                if (isTransient(e) && nowNs + RETRY_DELAY_NS < lease.expiresAtNs) {
                    lease.refreshAtNs = nowNs + RETRY_DELAY_NS;
                    reschedule();
                } else if (isTransient(e)) {
                    // Retrying cannot finish before expiry; the timer declares the loss at expiry.
                    lease.refreshAtNs = NEVER;
                    reschedule();
                } else {
                    lost(e);
                }
            }
        });
        lease.inFlight.send();
    }

    /** Time-outs and server trouble are worth a retry; refusals (437, 403, 401, 441, ...) are not. */
    private static boolean isTransient(TurnException e) {
        return e.error() == TurnError.TIMED_OUT || e.error() == TurnError.SERVER_ERROR
            || e.error() == TurnError.INSUFFICIENT_CAPACITY || e.error() == TurnError.STALE_NONCE;
    }

    private void lost(TurnException cause) {
        if (state != State.ACTIVE) {
            return;
        }
        state = State.FAILED;
        stopEverything(cause);
        client.remove(this);
        listener.onAllocationLost(this, cause);
    }

    /** Cancels requests and the timer, drops queued data and fails every waiter. */
    private void stopEverything(TurnException cause) {
        if (timerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(timerId);
            timerId = TimerService.NO_TIMER;
            timerDeadlineNs = NEVER;
        }
        lease.cancel();
        lease.granted = false;
        for (CompletableFuture<Duration> waiter : lease.takeRefreshWaiters()) {
            waiter.completeExceptionally(cause);
        }
        for (Permission p : permissionList) {
            p.lease.cancel();
            p.lease.granted = false;
            for (CompletableFuture<Void> waiter : p.takeWaiters()) {
                waiter.completeExceptionally(cause);
            }
        }
        for (Peer peer : peerList) {
            peer.channelLease.cancel();
            peer.channelLease.granted = false;
            droppedNotActive += peer.dropQueue();
            for (CompletableFuture<Integer> waiter : peer.takeBindWaiters()) {
                waiter.completeExceptionally(cause);
            }
        }
        channelsBound = 0;
    }

    private void finishClose(TurnException failure) {
        state = State.CLOSED;
        client.remove(this);
        if (failure == null) {
            closed.complete(null);
        } else {
            closed.completeExceptionally(failure);
        }
    }

    // ------------------------------------------------------------------ permissions and channels

    /** The peer entry for {@code address}, created if the bounds allow; null if they do not. */
    private Peer peerFor(InetSocketAddress address) {
        Peer p = peers.get(address);
        if (p != null) {
            return p;
        }
        Objects.requireNonNull(address, "peer");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("resolve the peer's address first: " + address);
        }
        if (peers.size() >= config.maxPeers()) {
            return null;
        }
        InetAddress ip = address.getAddress();
        Permission permission = permissions.get(ip);
        if (permission == null) {
            if (permissions.size() >= config.maxPermissions()) {
                return null;
            }
            permission = new Permission(ip);
            permissions.put(ip, permission);
            permissionList.add(permission);
        }
        p = new Peer(address, permission);
        peers.put(address, p);
        peerList.add(p);
        permission.peers.add(p);
        if (ip instanceof Inet4Address) {
            ipv4Peers.put(ipv4Key(p.ip, address.getPort()), p);
        }
        return p;
    }

    private void sendCreatePermission(Permission permission, InetSocketAddress peer) {
        permissionRequests++;
        permission.lease.inFlight = new Request(StunMessageType.METHOD_CREATE_PERMISSION, CREATE_PERMISSION,
            writer -> writer.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer), new Outcome() {
                @Override
                public void success(StunReader response, long nowNs) {
                    permission.lease.inFlight = null;
                    grantPermission(permission, nowNs);
                    for (CompletableFuture<Void> waiter : permission.takeWaiters()) {
                        waiter.complete(null);
                    }
                }

                @Override
                public void failure(TurnException e, long nowNs) {
                    permission.lease.inFlight = null;
                    if (e.error() == TurnError.ALLOCATION_MISMATCH) {
                        lost(e);
                        return;
                    }
                    if (permission.lease.granted && isTransient(e) && nowNs + RETRY_DELAY_NS < permission.lease.expiresAtNs) {
                        permission.lease.refreshAtNs = nowNs + RETRY_DELAY_NS;
                        reschedule();
                        return;
                    }
                    failPermission(permission, e, nowNs);
                }
            });
        permission.lease.inFlight.send();
    }

    private void grantPermission(Permission permission, long nowNs) {
        permission.lease.grant(nowNs, PERMISSION_LIFETIME_NS, PERMISSION_REFRESH_NS);
        // Datagrams that waited for the permission go now, in order.
        for (Peer peer : permission.peers) {
            for (ByteBuf data = peer.queue.pollFirst(); data != null; data = peer.queue.pollFirst()) {
                if (peer.channelLease.granted) {
                    sendChannelData(peer, data);
                } else {
                    sendIndication(peer, data);
                }
            }
        }
        reschedule();
    }

    private void failPermission(Permission permission, TurnException cause, long nowNs) {
        permission.lease.granted = false;
        permission.lease.refreshAtNs = NEVER;
        // Do not ask again for every datagram: a refused peer costs one request per RETRY_DELAY_NS.
        permission.retryNotBeforeNs = nowNs + RETRY_DELAY_NS;
        for (Peer peer : permission.peers) {
            droppedNoPermission += peer.dropQueue();
        }
        for (CompletableFuture<Void> waiter : permission.takeWaiters()) {
            waiter.completeExceptionally(cause);
        }
        reschedule();
        listener.onPermissionFailed(this, permission.ip, cause);
    }

    private void maybeBindChannel(Peer peer, long nowNs) {
        if (config.autoBindChannels() && peer.channelLease.inFlight == null && !peer.channelLease.granted
            && nowNs >= peer.channelRetryNotBeforeNs && (peer.channel != 0 || channelsAssigned < config.maxChannels())) {
            sendChannelBind(peer);
        }
    }

    private void sendChannelBind(Peer peer) {
        if (peer.channel == 0) {
            // Numbers are never reused: a binding whose answer was lost may exist on the server (RFC 8656 §12).
            peer.channel = ChannelData.MIN_CHANNEL + channelsAssigned++;
            byChannel[peer.channel - ChannelData.MIN_CHANNEL] = peer;
        }
        channelBindRequests++;
        int channel = peer.channel;
        peer.channelLease.inFlight = new Request(StunMessageType.METHOD_CHANNEL_BIND, CHANNEL_BIND, writer -> {
            // RFC 8656 §18.1: the channel number in the top 16 bits, RFFU zero after it.
            writer.addUInt32(StunAttributeType.CHANNEL_NUMBER, channel << 16);
            writer.addXorAddress(StunAttributeType.XOR_PEER_ADDRESS, peer.address);
        }, new Outcome() {
            @Override
            public void success(StunReader response, long nowNs) {
                peer.channelLease.inFlight = null;
                if (!peer.channelLease.granted) {
                    channelsBound++;
                }
                peer.channelLease.grant(nowNs, CHANNEL_LIFETIME_NS, CHANNEL_REFRESH_NS);
                // RFC 8656 §11.2: a ChannelBind installs or refreshes the permission for the peer's IP too.
                Permission permission = peer.permission;
                if (permission.lease.granted) {
                    permission.lease.grant(nowNs, PERMISSION_LIFETIME_NS, PERMISSION_REFRESH_NS);
                } else {
                    grantPermission(permission, nowNs);
                    for (CompletableFuture<Void> waiter : permission.takeWaiters()) {
                        waiter.complete(null);
                    }
                }
                for (CompletableFuture<Integer> waiter : peer.takeBindWaiters()) {
                    waiter.complete(channel);
                }
                reschedule();
            }

            @Override
            public void failure(TurnException e, long nowNs) {
                peer.channelLease.inFlight = null;
                if (e.error() == TurnError.ALLOCATION_MISMATCH) {
                    lost(e);
                    return;
                }
                if (peer.channelLease.granted && isTransient(e) && nowNs + RETRY_DELAY_NS < peer.channelLease.expiresAtNs) {
                    peer.channelLease.refreshAtNs = nowNs + RETRY_DELAY_NS;
                    reschedule();
                    return;
                }
                if (peer.channelLease.granted) {
                    peer.channelLease.granted = false;
                    channelsBound--;
                }
                peer.channelLease.refreshAtNs = NEVER;
                peer.channelRetryNotBeforeNs = nowNs + RETRY_DELAY_NS;
                for (CompletableFuture<Integer> waiter : peer.takeBindWaiters()) {
                    waiter.completeExceptionally(e);
                }
                reschedule();
                listener.onChannelBindFailed(TurnAllocation.this, peer.address, e);
            }
        });
        peer.channelLease.inFlight.send();
    }

    // ------------------------------------------------------------------ timers

    /** Keeps one timer armed at the earliest refresh or expiry of the allocation, its permissions and channels. */
    private void reschedule() {
        long next = NEVER;
        if (state == State.ACTIVE) {
            next = lease.deadline();
            for (Permission p : permissionList) {
                next = Math.min(next, p.lease.deadline());
            }
            for (Peer peer : peerList) {
                next = Math.min(next, peer.channelLease.deadline());
            }
        }
        if (next == timerDeadlineNs && timerId != TimerService.NO_TIMER) {
            return;
        }
        if (timerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(timerId);
            timerId = TimerService.NO_TIMER;
        }
        timerDeadlineNs = next;
        if (next != NEVER) {
            timerId = endpoint.timers().schedule(next, timerHandler);
        }
    }

    private void onTimer(long nowNs, long firedId) {
        if (firedId != timerId) {
            return;
        }
        timerId = TimerService.NO_TIMER;
        timerDeadlineNs = NEVER;
        if (state != State.ACTIVE) {
            return;
        }
        if (lease.granted && nowNs >= lease.expiresAtNs) {
            lost(TurnException.local(TurnError.EXPIRED, server, REFRESH, "no Refresh succeeded within the lifetime of "
                + Duration.ofNanos(lifetimeNs).toSeconds() + " s"));
            return;
        }
        if (lease.inFlight == null && nowNs >= lease.refreshAtNs) {
            sendRefresh();
        }
        for (int i = 0; i < permissionList.size() && state == State.ACTIVE; i++) {
            Permission p = permissionList.get(i);
            if (p.lease.granted && nowNs >= p.lease.expiresAtNs) {
                failPermission(p, TurnException.local(TurnError.EXPIRED, server, CREATE_PERMISSION,
                    "the permission for " + p.ip.getHostAddress() + " lapsed"), nowNs);
            } else if (p.lease.granted && p.lease.inFlight == null && nowNs >= p.lease.refreshAtNs) {
                sendCreatePermission(p, p.peers.get(0).address);
            }
        }
        for (int i = 0; i < peerList.size() && state == State.ACTIVE; i++) {
            Peer peer = peerList.get(i);
            Lease channel = peer.channelLease;
            if (channel.granted && nowNs >= channel.expiresAtNs) {
                channel.granted = false;
                channel.refreshAtNs = NEVER;
                channelsBound--;
                listener.onChannelBindFailed(this, peer.address, TurnException.local(TurnError.EXPIRED, server,
                    CHANNEL_BIND, "the channel to " + peer.address + " lapsed"));
            } else if (channel.granted && channel.inFlight == null && nowNs >= channel.refreshAtNs) {
                sendChannelBind(peer);
            }
        }
        reschedule();
    }

    // ------------------------------------------------------------------ data path

    private boolean sendChannelData(Peer peer, ByteBuf data) {
        ByteBuf out;
        try {
            out = ChannelData.encode(endpoint.allocator(), peer.channel, data, config.padChannelData());
        } finally {
            data.release();
        }
        if (endpoint.send(out, server)) {
            sentChannelData++;
            return true;
        }
        sendFailures++;
        return false;
    }

    private boolean sendIndication(Peer peer, ByteBuf data) {
        ByteBuf out;
        try {
            out = TurnIndication.encode(endpoint.allocator(), indicationIdHigh, indicationIdLow++, peer.ip,
                peer.address.getPort(), data);
        } finally {
            data.release();
        }
        if (endpoint.send(out, server)) {
            sentSendIndications++;
            return true;
        }
        sendFailures++;
        return false;
    }

    /** A ChannelData datagram from the server; never throws for any content. */
    void onChannelData(ByteBuf datagram) {
        int start = datagram.readerIndex();
        if (ChannelData.check(datagram) != ChannelData.Result.OK) {
            malformedChannelData++;
            return;
        }
        if (state != State.ACTIVE) {
            droppedNotActive++;
            return;
        }
        Peer peer = byChannel[ChannelData.channel(datagram, start) - ChannelData.MIN_CHANNEL];
        if (peer == null) {
            unboundChannelData++;
            return;
        }
        // RFC 8656 §11.2: ChannelData may arrive as soon as the ChannelBind was sent, before its answer.
        if (!peer.channelLease.granted && peer.channelLease.inFlight == null) {
            unboundChannelData++;
            return;
        }
        receivedChannelData++;
        deliver(datagram, start + ChannelData.HEADER_LENGTH, ChannelData.dataLength(datagram, start), peer.address);
    }

    /**
     * A well-formed STUN message from the server that no transaction claimed.
     *
     * @return true if it was a Data indication (delivered or counted and dropped); false if it is not ours
     */
    boolean onStun(ByteBuf datagram) {
        StunParseResult result = reader.wrap(datagram);
        if (result != StunParseResult.OK || reader.messageClass() != StunClass.INDICATION
            || reader.method() != StunMessageType.METHOD_DATA) {
            return false;
        }
        int peerAt = reader.findAttribute(StunAttributeType.XOR_PEER_ADDRESS);
        int dataAt = reader.findAttribute(StunAttributeType.DATA);
        if (peerAt == StunReader.NO_ATTRIBUTE || dataAt == StunReader.NO_ATTRIBUTE) {
            malformedDataIndications++;
            return true;
        }
        if (state != State.ACTIVE) {
            droppedNotActive++;
            return true;
        }
        InetSocketAddress peerAddress = null;
        int value = reader.attributeValueIndex(peerAt);
        if (reader.attributeLength(peerAt) == 8) {
            // IPv4 (the reader checked the family against the length): look the peer up without allocating.
            int port = datagram.getUnsignedShort(value + 2) ^ (StunHeader.MAGIC_COOKIE >>> 16);
            long ip = (datagram.getInt(value + 4) ^ StunHeader.MAGIC_COOKIE) & 0xFFFF_FFFFL;
            Peer peer = ipv4Peers.get((ip << 16) | port);
            if (peer != null) {
                if (!peer.permission.lease.granted) {
                    unpermittedDataIndications++;
                    return true;
                }
                peerAddress = peer.address;
            }
        }
        if (peerAddress == null) {
            InetSocketAddress source = reader.xorAddress(peerAt);
            Permission permission = source == null ? null : permissions.get(source.getAddress());
            if (permission == null || !permission.lease.granted) {
                unpermittedDataIndications++;
                return true;
            }
            peerAddress = source;
        }
        receivedDataIndications++;
        deliver(datagram, reader.attributeValueIndex(dataAt), reader.attributeLength(dataAt), peerAddress);
        return true;
    }

    /** Lends {@code [index, index + length)} of the datagram to the receiver, then restores its indices. */
    private void deliver(ByteBuf datagram, int index, int length, InetSocketAddress peer) {
        DatagramReceiver r = receiver;
        if (r == null) {
            undelivered++;
            return;
        }
        int readerIndex = datagram.readerIndex();
        int writerIndex = datagram.writerIndex();
        datagram.setIndex(index, index + length);
        try {
            r.onDatagram(datagram, peer);
        } finally {
            datagram.setIndex(readerIndex, writerIndex);
        }
    }

    // ------------------------------------------------------------------ requests

    private long now() {
        return endpoint.clock().nanoTime();
    }

    private TurnException notActive(String request) {
        return TurnException.local(TurnError.NOT_ACTIVE, server, request,
            "the allocation is " + state.name().toLowerCase(java.util.Locale.ROOT));
    }

    private TurnException limitReached(String request, InetSocketAddress peer) {
        return TurnException.local(TurnError.LIMIT_REACHED, server, request, "peer " + peer + " (at most "
            + config.maxPeers() + " peers, " + config.maxPermissions() + " permissions, " + config.maxChannels()
            + " channels)");
    }

    private StunKey keyFor(String newRealm) {
        if (key == null || !newRealm.equals(realm)) {
            key = StunKey.longTerm(config.credentials().username(), newRealm, config.credentials().password());
        }
        return key;
    }

    /** How a request ended, once authentication and stale nonces are dealt with. */
    private interface Outcome {
        void success(StunReader response, long nowNs);

        void failure(TurnException e, long nowNs);
    }

    /**
     * One TURN request with long-term authentication (RFC 8489 §9.2.4, §9.2.5): repeated as a new
     * transaction after the first 401 (with credentials) and after each 438 (with the new nonce).
     */
    private final class Request implements StunResponseHandler {
        private final int method;
        private final String name;
        private final StunRequestBody attributes;
        private final Outcome outcome;
        private final StunRequestBody body = this::write;
        private StunTransaction transaction;
        private boolean withCredentials;
        private boolean cancelled;
        private int staleNonces;

        Request(int method, String name, StunRequestBody attributes, Outcome outcome) {
            this.method = method;
            this.name = name;
            this.attributes = attributes;
            this.outcome = outcome;
        }

        void send() {
            withCredentials = key != null;
            transaction = stun.request(server, method, body, config.timing(), this);
        }

        void cancel() {
            cancelled = true;
            if (transaction != null) {
                transaction.cancel();
            }
        }

        private void write(StunWriter writer) {
            attributes.write(writer);
            if (config.software() != null) {
                writer.addString(StunAttributeType.SOFTWARE, config.software());
            }
            if (withCredentials) {
                writer.addString(StunAttributeType.USERNAME, config.credentials().username())
                    .addString(StunAttributeType.REALM, realm)
                    .addString(StunAttributeType.NONCE, nonce)
                    .addMessageIntegrity(key);
            }
            writer.addFingerprint();
        }

        @Override
        public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
            if (!server.equals(source)) {
                // Only the server answers TURN requests; anything else is forged or misrouted.
                return false;
            }
            if (cancelled) {
                return true;
            }
            boolean protectedResponse = response.hasMessageIntegrity() || response.hasMessageIntegritySha256();
            if (response.messageClass() == StunClass.SUCCESS_RESPONSE) {
                // RFC 8489 §9.2.5: a response to an authenticated request must authenticate too.
                if (withCredentials && response.verifyIntegrity(key) != StunParseResult.OK) {
                    return false;
                }
                outcome.success(response, nowNs);
                return true;
            }
            // Error responses to authenticated requests may lack integrity (401, 438 always do); if present it must hold.
            if (withCredentials && protectedResponse && response.verifyIntegrity(key) != StunParseResult.OK) {
                return false;
            }
            int code = response.errorCode();
            String reason = response.errorReason();
            if ((code == 401 && !withCredentials) || (code == 438 && staleNonces < MAX_STALE_NONCE_RETRIES)) {
                String newRealm = response.findString(StunAttributeType.REALM);
                String newNonce = response.findString(StunAttributeType.NONCE);
                if (newNonce == null || newRealm == null && realm == null) {
                    outcome.failure(TurnException.local(TurnError.BAD_RESPONSE, server, name, code
                        + " without " + (newNonce == null ? "NONCE" : "REALM")), nowNs);
                    return true;
                }
                if (code == 438) {
                    staleNonces++;
                    staleNonceRetries++;
                }
                String challengeRealm = newRealm != null ? newRealm : realm;
                key = keyFor(challengeRealm);
                realm = challengeRealm;
                nonce = newNonce;
                send();
                return true;
            }
            if (code < 0) {
                outcome.failure(TurnException.local(TurnError.BAD_RESPONSE, server, name,
                    "an error response without ERROR-CODE"), nowNs);
                return true;
            }
            String detail = code == 401 ? "user \"" + config.credentials().username() + "\" in realm \"" + realm + "\""
                : code == 300 ? "ALTERNATE-SERVER " + response.findAddress(StunAttributeType.ALTERNATE_SERVER) : null;
            outcome.failure(TurnException.fromServer(code, reason, server, name, detail), nowNs);
            return true;
        }

        @Override
        public void onFailure(StunTransactionFailure failure, long nowNs) {
            if (cancelled) {
                return;
            }
            TurnError error = switch (failure) {
                case TIMED_OUT -> TurnError.TIMED_OUT;
                case CLOSED -> TurnError.CLOSED;
                case UNKNOWN_ATTRIBUTE_IN_RESPONSE -> TurnError.BAD_RESPONSE;
            };
            outcome.failure(TurnException.local(error, server, name,
                failure == StunTransactionFailure.TIMED_OUT ? "no answer in "
                    + Duration.ofNanos(config.timing().timeoutNs()).toMillis() + " ms" : null), nowNs);
        }
    }

    // ------------------------------------------------------------------ state of leases, permissions, peers

    /** Something the server grants for a lifetime and the client keeps alive: the allocation, a permission, a channel. */
    private static final class Lease {
        boolean granted;
        long expiresAtNs = NEVER;
        long refreshAtNs = NEVER;
        Request inFlight;
        List<CompletableFuture<Duration>> refreshWaiters = new ArrayList<>(0);

        void grant(long nowNs, long lifetimeNs, long refreshAfterNs) {
            granted = true;
            expiresAtNs = nowNs + lifetimeNs;
            refreshAtNs = nowNs + refreshAfterNs;
        }

        /** When the timer must look at this lease next: its refresh (unless one is in flight) or its expiry. */
        long deadline() {
            long deadline = inFlight == null ? refreshAtNs : NEVER;
            return granted ? Math.min(deadline, expiresAtNs) : deadline;
        }

        void cancel() {
            if (inFlight != null) {
                inFlight.cancel();
                inFlight = null;
            }
            refreshAtNs = NEVER;
        }

        List<CompletableFuture<Duration>> takeRefreshWaiters() {
            List<CompletableFuture<Duration>> taken = refreshWaiters;
            refreshWaiters = new ArrayList<>(0);
            return taken;
        }
    }

    /** A permission for one peer IP address (RFC 8656 §9). */
    private static final class Permission {
        final InetAddress ip;
        final Lease lease = new Lease();
        final List<Peer> peers = new ArrayList<>(1);
        List<CompletableFuture<Void>> waiters = new ArrayList<>(0);
        long retryNotBeforeNs = Long.MIN_VALUE;

        Permission(InetAddress ip) {
            this.ip = ip;
        }

        List<CompletableFuture<Void>> takeWaiters() {
            List<CompletableFuture<Void>> taken = waiters;
            waiters = new ArrayList<>(0);
            return taken;
        }
    }

    /** A peer transport address: its permission, its channel, and data waiting for the permission. */
    private static final class Peer {
        final InetSocketAddress address;
        final byte[] ip;
        final Permission permission;
        final Lease channelLease = new Lease();
        final ArrayDeque<ByteBuf> queue = new ArrayDeque<>(0);
        List<CompletableFuture<Integer>> bindWaiters = new ArrayList<>(0);
        int channel;
        long channelRetryNotBeforeNs = Long.MIN_VALUE;

        Peer(InetSocketAddress address, Permission permission) {
            this.address = address;
            this.ip = address.getAddress().getAddress();
            this.permission = permission;
        }

        /** Releases the queued datagrams; returns how many there were. */
        int dropQueue() {
            int n = queue.size();
            for (ByteBuf data = queue.pollFirst(); data != null; data = queue.pollFirst()) {
                data.release();
            }
            return n;
        }

        List<CompletableFuture<Integer>> takeBindWaiters() {
            List<CompletableFuture<Integer>> taken = bindWaiters;
            bindWaiters = new ArrayList<>(0);
            return taken;
        }
    }

    private static long ipv4Key(byte[] ip, int port) {
        long address = ((ip[0] & 0xFFL) << 24) | ((ip[1] & 0xFFL) << 16) | ((ip[2] & 0xFFL) << 8) | (ip[3] & 0xFFL);
        return (address << 16) | port;
    }
}
