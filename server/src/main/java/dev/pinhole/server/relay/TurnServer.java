package dev.pinhole.server.relay;

import dev.pinhole.server.RelayCounter;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.protocol.turn.TurnIndication;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.server.common.NonceIssuer;
import dev.pinhole.server.common.StunResponder;
import dev.pinhole.server.common.TokenBucket;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.random.RandomGenerator;
import org.agrona.collections.Int2ObjectHashMap;

/**
 * Pinhole's built-in relay: a minimal TURN server (RFC 8656) for UDP, speaking exactly the subset
 * Pinhole's own TURN client ({@code dev.pinhole.punch.relay.TurnClient}) uses, so a node has one
 * client path for the built-in relay and for coturn. Sans-IO: it runs on one listening
 * {@link DatagramEndpoint} and the relay sockets a {@link RelaySockets} opens, all on one event loop,
 * in the simulator or on a real {@code UdpEventLoop}.
 *
 * <h2>What it implements</h2>
 * <ul>
 *   <li>Long-term credentials (RFC 8489 §9.2.4) with MD5 keys, a realm, stateless nonces bound to the
 *       client's address ({@link NonceIssuer}, {@link NonceIssuer.Format#HEX_HMAC_SHA1}); 401 to challenge,
 *       438 for a stale nonce (only after the MESSAGE-INTEGRITY held), 441 when a request on an
 *       allocation carries another user's name.</li>
 *   <li>Allocate (RFC 8656 §7.2): REQUESTED-TRANSPORT UDP; 437 for a second allocation on a 5-tuple
 *       (a retransmitted Allocate gets its original answer again), 486 beyond the per-user quota, 508
 *       beyond the server's cap or when no relay socket can be had; EVEN-PORT without reservation is
 *       honoured from the socket pool; 420 for DONT-FRAGMENT, 508 for EVEN-PORT with R and for
 *       RESERVATION-TOKEN, 440 for another address family, 442 for another transport.</li>
 *   <li>Refresh (§8): lifetime clamped to [default, max]; 0 deletes.</li>
 *   <li>CreatePermission (§10, one or more XOR-PEER-ADDRESS, 300 s) and ChannelBind (§11, 600 s,
 *       which also installs the permission); a channel number stays tied to its peer until 5 minutes
 *       after the binding lapsed (§12).</li>
 *   <li>Send indications and ChannelData to peers (§11.3, §12.5); from peers, ChannelData when a
 *       channel is bound to the peer, Data indications otherwise (§11.6, §12.5). Data from or to a
 *       peer IP without a permission is never relayed (§9); nor is anything for an unknown,
 *       unauthenticated or expired allocation.</li>
 *   <li>Binding requests (RFC 8489 §6.3) are answered with XOR-MAPPED-ADDRESS, as every TURN server does.</li>
 *   <li>Peers refused with 403: wildcard, multicast, link-local, port 0, loopback (unless allowed), and the
 *       server's own listening address (no TURN inside TURN).</li>
 *   <li>With a {@link RelayGrants} table (what {@code PinholeServer} runs): an Allocate whose username has no
 *       grant gets 403, allocations count against the grant's quota key (the node, not the username), and
 *       CreatePermission and ChannelBind for a peer outside the grant get 403 Forbidden; datagrams between
 *       two allocations of this relay pass only between the two grants of one introduction, checked per
 *       datagram since permissions are per IP and allocations share the relay's IP.</li>
 *   <li>Credentials are checked when an allocation is made; later requests on a live allocation under
 *       its own username use the allocation's key, also after the username's expiry (coturn does the same:
 *       credentials admit new allocations for minutes, a transfer may take hours).</li>
 * </ul>
 * Not implemented: TCP/TLS/DTLS, TCP relaying (RFC 6062), IPv6 and dual-stack relayed addresses, SHA-256
 * password algorithms, ALTERNATE-SERVER, mobility, DONT-FRAGMENT, ICMP. Datagrams between two
 * allocations of this server go out of one relay socket and into the other through the network (no
 * internal shortcut), so both allocations' permissions and rate limits apply as for any peer.
 *
 * <h2>Bounds</h2>
 * Memory is bounded by the configuration: at most {@code maxAllocations} allocations and as many relay
 * sockets (opened on demand, then pooled: a freed socket serves the next allocation, because a real
 * event loop cannot close a single added socket), {@code maxPermissionsPerAllocation} permissions and
 * {@code maxChannelsPerAllocation} channels each, per-user counts for users that hold an allocation.
 * Before authentication nothing is stored: the nonce is recomputed, not remembered. Relayed bytes pass
 * a token bucket per allocation and one for the server (both directions count); beyond, datagrams are
 * dropped and counted. Every datagram that is not relayed or answered is counted in a
 * {@link RelayCounter}; nothing is thrown out of the receive paths.
 *
 * <h2>No amplification</h2>
 * Before a client proved its key the server answers only with 401, 438 or 400 errors (or a Binding
 * response): header, ERROR-CODE (at most 24 bytes here), REALM (4 + realm padded, realm ≤ 128 bytes),
 * NONCE (36) and FINGERPRINT (8, only if the request had one). So an unauthenticated answer is at most
 * {@value #MAX_UNAUTHENTICATED_GROWTH_BYTES} bytes larger than the smallest possible request (20 bytes)
 * and never larger than {@code request + MAX_UNAUTHENTICATED_GROWTH_BYTES}; with the default realm
 * "pinhole" it is 96 bytes, against Pinhole's 48-byte first Allocate. All unauthenticated answers of
 * the server together are limited to {@code unauthenticatedPerSecond}, so a spoofed flood cannot turn
 * the relay into a reflector of more than that many small datagrams a second.
 *
 * <h2>Steady state</h2>
 * ChannelData in both directions and Data indications towards clients allocate nothing but the pooled
 * buffer of the outgoing datagram (client to peer: not even that, a retained slice of the received one).
 * Send indications decode the peer address (a few small objects); Pinhole's client binds channels
 * automatically, so they carry only the first datagrams. Requests allocate (strings, keys); they are
 * control traffic.
 *
 * <p>All methods run on the event loop of the endpoints; none is thread-safe.
 */
public final class TurnServer implements DatagramReceiver, AutoCloseable {
    /** Most an unauthenticated answer exceeds its request by (see "No amplification"): 24 + 4 + 128 + 36 + 8. */
    public static final int MAX_UNAUTHENTICATED_GROWTH_BYTES = 24 + 4 + TurnServerConfig.MAX_REALM_BYTES + 4
        + NonceIssuer.HEX_LENGTH + 8;
    /** RFC 8656 §9: "The Permission Lifetime MUST be 300 seconds (= 5 minutes)." */
    public static final long PERMISSION_LIFETIME_NS = 300_000_000_000L;
    /** RFC 8656 §12: "a channel binding lasts for 10 minutes unless refreshed". */
    public static final long CHANNEL_LIFETIME_NS = 600_000_000_000L;
    /** RFC 8656 §12: a lapsed channel number is not rebound to another peer for 5 minutes. */
    public static final long CHANNEL_QUARANTINE_NS = 300_000_000_000L;
    /** RFC 8656 §18.7: REQUESTED-TRANSPORT carries protocol 17 (UDP) in its first byte. */
    static final int PROTOCOL_UDP = 17;
    /** RFC 8656 §18.8: REQUESTED-ADDRESS-FAMILY 0x01 IPv4, 0x02 IPv6 in the first byte. */
    static final int FAMILY_IPV4 = 1;
    static final int FAMILY_IPV6 = 2;
    /**
     * Channel numbers accepted: RFC 8656 §12 allows 0x4000–0x4FFF and reserves 0x5000–0xFFFF to
     * avoid DTLS-SRTP on multiplexed sockets (RFC 7983), but RFC 5766 allowed up to 0x7FFF and
     * RFC 5766 clients (coturn's own test client among them) still pick numbers there. The
     * server's listening socket carries only TURN, so it accepts the older range; Pinhole's client
     * binds 0x4000–0x4FFF only.
     */
    static final int MAX_CHANNEL_RFC5766 = 0x7FFF;
    /** First bytes of ChannelData: 0x40 to 0x7F over the RFC 5766 channel range. */
    private static final int FIRST_CHANNEL_BYTE = ChannelData.MIN_CHANNEL >>> 8;
    private static final int LAST_CHANNEL_BYTE_RFC5766 = MAX_CHANNEL_RFC5766 >>> 8;
    /** RFC 8656 §18.6: the R flag of EVEN-PORT asks to reserve the next port as well. */
    static final int EVEN_PORT_R_BIT = 0x80;

    private static final long NS_PER_SECOND = 1_000_000_000L;
    /** Initial capacity of a response buffer: every response of this server fits. */
    private static final int RESPONSE_CAPACITY = 256;
    private static final int ALLOCATE_SUCCESS = StunMessageType.of(StunMessageType.METHOD_ALLOCATE, StunClass.SUCCESS_RESPONSE);

    private final DatagramEndpoint listening;
    private final RelaySockets relaySockets;
    private final TurnAuthenticator authenticator;
    /** Whom each REST username may relay to, or null: every authenticated user may relay to any allowed peer. */
    private final RelayGrants grants;
    private final TurnServerConfig config;
    private final StunReader reader = new StunReader();
    private final StunResponder responder = new StunResponder();
    private final StunWriter writer = responder.writer();
    private final NonceIssuer nonces;
    private final byte[] realm;
    private final byte[] software;
    private final long[] counters = new long[RelayCounter.values().length];
    private final long[] malformedStun = new long[StunParseResult.values().length];
    private final Map<InetSocketAddress, Allocation> byClient = new HashMap<>();
    /** Every relay socket by its relayed address: datagrams between two allocations of this relay are checked. */
    private final Map<InetSocketAddress, RelaySlot> byRelayed = new HashMap<>();
    /** The IPs of the relayed addresses (usually one): a peer on one of them may be another allocation. */
    private final List<InetAddress> relayIps = new ArrayList<>(1);
    private final List<Allocation> allocations = new ArrayList<>();
    private final Map<String, int[]> perUser = new HashMap<>();
    private final ArrayDeque<RelaySlot> freeSlots = new ArrayDeque<>();
    private final List<RelaySlot> slots = new ArrayList<>();
    private final List<InetSocketAddress> peersOfRequest = new ArrayList<>();
    private final List<Allocation> sweepScratch = new ArrayList<>();
    private final TokenBucket serverBucket;
    private final TokenBucket unauthenticatedBucket;
    private final long indicationIdHigh;
    private int indicationIdLow;
    private long sweepTimer = TimerService.NO_TIMER;
    private boolean closed;
    /** Username and password of the request being handled, set by {@link #authenticate}. */
    private String requestUser;
    private String requestPassword;

    /** A server whose nonce secret and indication ids come from a {@link SecureRandom}. */
    public TurnServer(DatagramEndpoint listening, RelaySockets relaySockets, TurnAuthenticator authenticator,
                      TurnServerConfig config) {
        this(listening, relaySockets, authenticator, config, new SecureRandom());
    }

    /**
     * @param listening     the socket clients send to (the server's transport address)
     * @param relaySockets  opens the relayed transport addresses, on the same event loop
     * @param authenticator the users' passwords
     * @param random        source of the nonce secret and indication ids: seeded in simulations
     */
    public TurnServer(DatagramEndpoint listening, RelaySockets relaySockets, TurnAuthenticator authenticator,
                      TurnServerConfig config, RandomGenerator random) {
        this(listening, relaySockets, authenticator, config, random, null);
    }

    /**
     * A relay that lets each username relay only to what its grant allows: {@code grants} is the table the
     * rendezvous server of the same process writes when it issues RELAY-OFFERs (see {@link RelayGrants}).
     * An Allocate whose username has no grant is refused (403), quotas count per grant's quota key, and
     * CreatePermission and ChannelBind for a peer outside the grant get 403 Forbidden (RFC 8656 §9: the
     * server's policy on peers).
     *
     * @param grants the shared grant table, or null for no per-username restriction (static users, tests)
     */
    public TurnServer(DatagramEndpoint listening, RelaySockets relaySockets, TurnAuthenticator authenticator,
                      TurnServerConfig config, RandomGenerator random, RelayGrants grants) {
        this.listening = Objects.requireNonNull(listening, "listening");
        this.relaySockets = Objects.requireNonNull(relaySockets, "relaySockets");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.grants = grants;
        this.config = Objects.requireNonNull(config, "config");
        byte[] secret = new byte[20];
        random.nextBytes(secret);
        this.nonces = new NonceIssuer(NonceIssuer.Format.HEX_HMAC_SHA1, secret, config.nonceLifetimeNs());
        this.realm = config.realm().getBytes(StandardCharsets.UTF_8);
        this.software = config.software() == null ? null : config.software().getBytes(StandardCharsets.UTF_8);
        long nowNs = now();
        this.serverBucket = new TokenBucket(config.serverBytesPerSecond(), config.serverBurstBytes(), nowNs);
        this.unauthenticatedBucket = new TokenBucket(config.unauthenticatedPerSecond(), config.unauthenticatedBurst(), nowNs);
        this.indicationIdHigh = random.nextLong();
        this.indicationIdLow = random.nextInt();
    }

    /** Installs this server as the listening endpoint's receiver. */
    public TurnServer listen() {
        listening.receiver(this);
        return this;
    }

    /** The address clients send to. */
    public InetSocketAddress address() {
        return listening.localAddress();
    }

    public TurnServerConfig config() {
        return config;
    }

    /** Allocations alive now (expired ones not yet swept included until the next sweep or lookup). */
    public int allocationCount() {
        return allocations.size();
    }

    /** Relay sockets opened so far (at most {@code maxAllocations}); free ones are reused. */
    public int relaySocketCount() {
        return slots.size();
    }

    /** Permissions held by all allocations together (bounded by the caps). */
    public int permissionCount() {
        int n = 0;
        for (Allocation a : allocations) {
            n += a.permissions.size();
        }
        return n;
    }

    /** Channel bindings held by all allocations together, quarantined ones included. */
    public int channelCount() {
        int n = 0;
        for (Allocation a : allocations) {
            n += a.channels.size();
        }
        return n;
    }

    /** The relayed addresses of the live allocations. */
    public List<InetSocketAddress> relayedAddresses() {
        List<InetSocketAddress> list = new ArrayList<>(allocations.size());
        for (Allocation a : allocations) {
            list.add(a.slot.relayed);
        }
        return list;
    }

    public long count(RelayCounter counter) {
        return counters[counter.ordinal()];
    }

    /** STUN messages dropped for {@code reason} (a subset of {@link RelayCounter#MALFORMED_STUN}). */
    public long malformedStunCount(StunParseResult reason) {
        return malformedStun[reason.ordinal()];
    }

    /** A snapshot of every counter. */
    public Map<RelayCounter, Long> counters() {
        Map<RelayCounter, Long> snapshot = new EnumMap<>(RelayCounter.class);
        for (RelayCounter c : RelayCounter.values()) {
            snapshot.put(c, counters[c.ordinal()]);
        }
        return snapshot;
    }

    /**
     * Deletes every allocation and stops the sweep timer; datagrams that still arrive are dropped and
     * counted. The sockets stay open: they belong to the driver (the event loop closes them with itself).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!allocations.isEmpty()) {
            delete(allocations.get(allocations.size() - 1));
        }
        if (sweepTimer != TimerService.NO_TIMER) {
            listening.timers().cancel(sweepTimer);
            sweepTimer = TimerService.NO_TIMER;
        }
    }

    @Override
    public String toString() {
        return "TurnServer[" + listening.localAddress() + " realm " + config.realm() + ", " + allocations.size()
            + " allocations]";
    }

    // ------------------------------------------------------------------ from clients

    /** A datagram on the listening socket. Never throws for any content. */
    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        try {
            if (closed || datagram.readableBytes() == 0) {
                increment(closed ? RelayCounter.DROPPED_NO_ALLOCATION : RelayCounter.MALFORMED_NOT_TURN);
                return;
            }
            int first = datagram.getUnsignedByte(datagram.readerIndex());
            if (first < 4) {
                onStun(datagram, sender);
            } else if (first >= FIRST_CHANNEL_BYTE && first <= LAST_CHANNEL_BYTE_RFC5766) {
                onChannelData(datagram, sender);
            } else {
                increment(RelayCounter.MALFORMED_NOT_TURN);
            }
        } catch (RuntimeException e) {
            increment(RelayCounter.INTERNAL_ERRORS);
        }
    }

    private void onStun(ByteBuf datagram, InetSocketAddress sender) {
        StunParseResult result = reader.wrap(datagram);
        if (result != StunParseResult.OK && result != StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            malformedStun[result.ordinal()]++;
            increment(RelayCounter.MALFORMED_STUN);
            return;
        }
        StunClass messageClass = reader.messageClass();
        int method = reader.method();
        if (messageClass == StunClass.INDICATION && method == StunMessageType.METHOD_SEND
            && result == StunParseResult.OK) {
            onSendIndication(sender);
        } else if (messageClass != StunClass.REQUEST) {
            increment(RelayCounter.DROPPED_UNEXPECTED_STUN);
        } else if (method == StunMessageType.METHOD_BINDING) {
            onBinding(sender, result);
        } else if (method == StunMessageType.METHOD_ALLOCATE || method == StunMessageType.METHOD_REFRESH
            || method == StunMessageType.METHOD_CREATE_PERMISSION || method == StunMessageType.METHOD_CHANNEL_BIND) {
            onTurnRequest(sender, method, result);
        } else {
            increment(RelayCounter.DROPPED_UNKNOWN_METHOD);
        }
    }

    private void onBinding(InetSocketAddress sender, StunParseResult result) {
        if (result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            return;
        }
        if (!unauthenticatedBucket.tryTake(1, now())) {
            increment(RelayCounter.DROPPED_UNAUTHENTICATED_RATE);
            return;
        }
        // 20 + 12 + 8 bytes at most for an IPv4 client, no more than request + 20.
        responder.beginBindingSuccess(listening.allocator(), RESPONSE_CAPACITY, reader, sender);
        finishAndSend(null, sender);
    }

    /** Authenticates, then dispatches an Allocate, Refresh, CreatePermission or ChannelBind. */
    private void onTurnRequest(InetSocketAddress sender, int method, StunParseResult result) {
        long nowNs = now();
        Allocation existing = liveAllocation(sender, nowNs);
        StunKey key = authenticate(sender, method, existing, nowNs);
        if (key == null) {
            return;
        }
        if (result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            // Authenticated, so no amplification budget: every unknown attribute recorded is listed.
            responder.beginUnknownAttributes(listening.allocator(), RESPONSE_CAPACITY, reader, Integer.MAX_VALUE, 0);
            finishAndSend(key, sender);
            return;
        }
        switch (method) {
            case StunMessageType.METHOD_ALLOCATE -> onAllocate(sender, existing, key, nowNs);
            case StunMessageType.METHOD_REFRESH -> onRefresh(sender, existing, key, nowNs);
            case StunMessageType.METHOD_CREATE_PERMISSION -> onCreatePermission(sender, existing, key, nowNs);
            default -> onChannelBind(sender, existing, key, nowNs);
        }
    }

    /**
     * RFC 8489 §9.2.4, in its order: no MESSAGE-INTEGRITY → 401 challenge; MESSAGE-INTEGRITY without
     * USERNAME, REALM or NONCE → 400; unknown user or other realm → 401; MESSAGE-INTEGRITY wrong → 401;
     * nonce not (or no longer) ours → 438. Returns the key, or null after answering.
     */
    private StunKey authenticate(InetSocketAddress sender, int method, Allocation existing, long nowNs) {
        if (!reader.hasMessageIntegrity() && !reader.hasMessageIntegritySha256()) {
            increment(RelayCounter.CHALLENGED);
            sendChallenge(sender, method, 401, "Unauthorized", nowNs);
            return null;
        }
        int usernameAt = reader.findAttribute(StunAttributeType.USERNAME);
        int realmAt = reader.findAttribute(StunAttributeType.REALM);
        int nonceAt = reader.findAttribute(StunAttributeType.NONCE);
        if (usernameAt == StunReader.NO_ATTRIBUTE || realmAt == StunReader.NO_ATTRIBUTE
            || nonceAt == StunReader.NO_ATTRIBUTE) {
            increment(RelayCounter.BAD_REQUESTS);
            sendUnauthenticatedError(sender, method, 400, "Bad Request", nowNs);
            return null;
        }
        if (!reader.attributeValueEquals(realmAt, realm)) {
            increment(RelayCounter.REJECTED_CREDENTIALS);
            sendChallenge(sender, method, 401, "Unauthorized", nowNs);
            return null;
        }
        String username = reader.string(usernameAt);
        // A request on a live allocation under its own username is checked with the allocation's key, even
        // once the username's expiry has passed: credentials admit new allocations for minutes, and an
        // allocation made in time lives as long as its client refreshes it (as on coturn, which keeps the
        // key of an authenticated session). Only the allocation's own 5-tuple gets here with it.
        boolean ownAllocation = existing != null && existing.username.equals(username);
        String password = ownAllocation ? existing.password : authenticator.password(username);
        if (password == null || password.isEmpty()) {
            increment(RelayCounter.REJECTED_CREDENTIALS);
            sendChallenge(sender, method, 401, "Unauthorized", nowNs);
            return null;
        }
        StunKey key;
        if (ownAllocation) {
            key = existing.key;
        } else {
            try {
                key = StunKey.longTerm(username, config.realm(), password);
            } catch (IllegalArgumentException e) {
                increment(RelayCounter.REJECTED_CREDENTIALS);
                sendChallenge(sender, method, 401, "Unauthorized", nowNs);
                return null;
            }
        }
        if (reader.verifyIntegrity(key) != StunParseResult.OK) {
            increment(RelayCounter.REJECTED_CREDENTIALS);
            sendChallenge(sender, method, 401, "Unauthorized", nowNs);
            return null;
        }
        // A nonce of the previous epoch is as good as a current one: RFC 8489 §9.2.4 leaves the lifetime to
        // the server, and the next 438 hands out a fresh nonce anyway.
        if (nonces.verify(reader.buffer(), reader.attributeValueIndex(nonceAt), reader.attributeLength(nonceAt),
            sender, nowNs) == NonceIssuer.Check.INVALID) {
            increment(RelayCounter.STALE_NONCES);
            sendChallenge(sender, method, 438, "Stale Nonce", nowNs);
            return null;
        }
        requestUser = username;
        requestPassword = password;
        return key;
    }

    // ------------------------------------------------------------------ Allocate, Refresh

    private void onAllocate(InetSocketAddress sender, Allocation existing, StunKey key, long nowNs) {
        int method = StunMessageType.METHOD_ALLOCATE;
        if (existing != null) {
            // RFC 8656 §7.2: a retransmission (same transaction) gets the original success again.
            if (existing.allocateIdHigh == reader.transactionIdHigh() && existing.allocateIdLow == reader.transactionIdLow()
                && existing.username.equals(requestUser)) {
                increment(RelayCounter.ALLOCATE_RETRANSMISSIONS);
                sendAllocateSuccess(existing, sender, nowNs);
            } else {
                increment(RelayCounter.ALLOCATION_MISMATCHES);
                sendError(sender, method, 437, "Allocation Mismatch", key);
            }
            return;
        }
        int transportAt = reader.findAttribute(StunAttributeType.REQUESTED_TRANSPORT);
        if (transportAt == StunReader.NO_ATTRIBUTE) {
            increment(RelayCounter.BAD_REQUESTS);
            sendError(sender, method, 400, "Bad Request", key);
            return;
        }
        if ((int) (reader.uint32(transportAt) >>> 24) != PROTOCOL_UDP) {
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            sendError(sender, method, 442, "Unsupported Transport Protocol", key);
            return;
        }
        if (reader.hasAttribute(StunAttributeType.DONT_FRAGMENT)) {
            // RFC 8656 §7.2: a server that cannot set DF treats DONT-FRAGMENT as unknown.
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            responder.beginUnknownAttribute(listening.allocator(), RESPONSE_CAPACITY, reader,
                StunAttributeType.DONT_FRAGMENT);
            finishAndSend(key, sender);
            return;
        }
        int evenPortAt = reader.findAttribute(StunAttributeType.EVEN_PORT);
        boolean evenPort = evenPortAt != StunReader.NO_ATTRIBUTE;
        if (reader.hasAttribute(StunAttributeType.RESERVATION_TOKEN)
            || evenPort && (reader.buffer().getUnsignedByte(reader.attributeValueIndex(evenPortAt)) & EVEN_PORT_R_BIT) != 0) {
            // RFC 8656 §7.2: this server reserves no ports, and a request it cannot honour is 508.
            increment(RelayCounter.CAPACITY_REJECTIONS);
            sendError(sender, method, 508, "Insufficient Capacity", key);
            return;
        }
        int familyAt = reader.findAttribute(StunAttributeType.REQUESTED_ADDRESS_FAMILY);
        if (reader.hasAttribute(StunAttributeType.ADDITIONAL_ADDRESS_FAMILY)
            || familyAt != StunReader.NO_ATTRIBUTE && (int) (reader.uint32(familyAt) >>> 24) != FAMILY_IPV4) {
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            sendError(sender, method, 440, "Address Family not Supported", key);
            return;
        }
        RelayGrants.Grant grant = null;
        String quotaKey;
        if (grants != null) {
            grant = grants.byId(RelayGrants.grantIdOf(requestUser));
            if (grant == null) {
                increment(RelayCounter.NOT_GRANTED);
                sendError(sender, method, 403, "Forbidden: no relay grant for this username", key);
                return;
            }
            quotaKey = grant.quotaKey;
        } else {
            quotaKey = authenticator.quotaKey(requestUser);
        }
        int[] userCount = perUser.get(quotaKey);
        if (userCount != null && userCount[0] >= config.maxAllocationsPerUser()) {
            increment(RelayCounter.QUOTA_REJECTIONS);
            sendError(sender, method, 486, "Allocation Quota Reached", key);
            return;
        }
        if (allocations.size() >= config.maxAllocations()) {
            increment(RelayCounter.CAPACITY_REJECTIONS);
            sendError(sender, method, 508, "Insufficient Capacity", key);
            return;
        }
        RelaySlot slot = takeSlot(evenPort);
        if (slot == null) {
            increment(RelayCounter.CAPACITY_REJECTIONS);
            sendError(sender, method, 508, "Insufficient Capacity", key);
            return;
        }
        Allocation allocation = new Allocation(sender, requestUser, quotaKey, grant, requestPassword, key, slot,
            reader.transactionIdHigh(), reader.transactionIdLow(), config, nowNs);
        if (grant != null) {
            grant.relayed.add(slot.relayed);
        }
        allocation.expiresAtNs = nowNs + grantedLifetimeNs();
        slot.allocation = allocation;
        byClient.put(sender, allocation);
        allocations.add(allocation);
        perUser.computeIfAbsent(quotaKey, u -> new int[1])[0]++;
        increment(RelayCounter.ALLOCATIONS_CREATED);
        armSweep(nowNs);
        sendAllocateSuccess(allocation, sender, nowNs);
    }

    private void sendAllocateSuccess(Allocation allocation, InetSocketAddress sender, long nowNs) {
        begin(ALLOCATE_SUCCESS);
        writer.addXorAddress(StunAttributeType.XOR_RELAYED_ADDRESS, allocation.slot.relayed);
        writer.addUInt32(StunAttributeType.LIFETIME, lifetimeSeconds(allocation.expiresAtNs - nowNs));
        writer.addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, sender);
        addSoftware();
        finishAndSend(allocation.key, sender);
    }

    private void onRefresh(InetSocketAddress sender, Allocation allocation, StunKey key, long nowNs) {
        int method = StunMessageType.METHOD_REFRESH;
        if (!checkAllocation(sender, allocation, method, key)) {
            return;
        }
        int lifetimeAt = reader.findAttribute(StunAttributeType.LIFETIME);
        long requestedSeconds = lifetimeAt == StunReader.NO_ATTRIBUTE ? -1 : reader.uint32(lifetimeAt);
        increment(RelayCounter.REFRESHES);
        int granted;
        if (requestedSeconds == 0) {
            delete(allocation);
            increment(RelayCounter.ALLOCATIONS_DELETED);
            granted = 0;
        } else {
            long lifetimeNs = grantedLifetimeNs();
            allocation.expiresAtNs = nowNs + lifetimeNs;
            granted = lifetimeSeconds(lifetimeNs);
        }
        begin(StunMessageType.of(method, StunClass.SUCCESS_RESPONSE));
        writer.addUInt32(StunAttributeType.LIFETIME, granted);
        addSoftware();
        finishAndSend(key, sender);
    }

    /**
     * The lifetime to grant for the request's LIFETIME (RFC 8656 §7.2, §8): absent or below the default
     * gives the default, above the maximum the maximum.
     */
    private long grantedLifetimeNs() {
        int at = reader.findAttribute(StunAttributeType.LIFETIME);
        if (at == StunReader.NO_ATTRIBUTE) {
            return config.defaultLifetimeNs();
        }
        long requestedNs = Math.min(reader.uint32(at), config.maxLifetimeNs() / NS_PER_SECOND) * NS_PER_SECOND;
        return Math.max(config.defaultLifetimeNs(), Math.min(requestedNs, config.maxLifetimeNs()));
    }

    private static int lifetimeSeconds(long ns) {
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, (ns + NS_PER_SECOND - 1) / NS_PER_SECOND));
    }

    /** 437 without an allocation, 441 when another user asks (RFC 8656 §7.2, §8–§11). */
    private boolean checkAllocation(InetSocketAddress sender, Allocation allocation, int method, StunKey key) {
        if (allocation == null) {
            increment(RelayCounter.ALLOCATION_MISMATCHES);
            sendError(sender, method, 437, "Allocation Mismatch", key);
            return false;
        }
        if (!allocation.username.equals(requestUser)) {
            increment(RelayCounter.WRONG_CREDENTIALS);
            sendError(sender, method, 441, "Wrong Credentials", key);
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ permissions and channels

    private void onCreatePermission(InetSocketAddress sender, Allocation allocation, StunKey key, long nowNs) {
        int method = StunMessageType.METHOD_CREATE_PERMISSION;
        if (!checkAllocation(sender, allocation, method, key)) {
            return;
        }
        peersOfRequest.clear();
        int newIps = 0;
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            if (reader.attributeType(at) != StunAttributeType.XOR_PEER_ADDRESS) {
                continue;
            }
            InetSocketAddress peer = reader.xorAddress(at);
            if (peer == null) {
                increment(RelayCounter.BAD_REQUESTS);
                sendError(sender, method, 400, "Bad Request", key);
                return;
            }
            if (!checkPeer(sender, method, key, peer, allocation)) {
                return;
            }
            if (allocation.permissions.get(peer.getAddress()) == null && !containsIp(peersOfRequest, peer.getAddress())) {
                newIps++;
            }
            if (allocation.permissions.size() + newIps > config.maxPermissionsPerAllocation()) {
                increment(RelayCounter.CAPACITY_REJECTIONS);
                sendError(sender, method, 508, "Insufficient Capacity", key);
                return;
            }
            peersOfRequest.add(peer);
        }
        if (peersOfRequest.isEmpty()) {
            increment(RelayCounter.BAD_REQUESTS);
            sendError(sender, method, 400, "Bad Request", key);
            return;
        }
        for (InetSocketAddress peer : peersOfRequest) {
            allocation.permit(peer.getAddress(), nowNs);
            increment(RelayCounter.PERMISSIONS_INSTALLED);
        }
        peersOfRequest.clear();
        allocation.lastActivityNs = nowNs;
        sendSuccess(sender, method, key);
    }

    /**
     * Whether {@code peer} is this server's own listening address: relaying to it would let a client
     * talk TURN to the server from a relayed address (an allocation inside an allocation), so it is
     * no peer.
     */
    private boolean isListeningAddress(InetSocketAddress peer) {
        InetSocketAddress own = listening.localAddress();
        return peer.getPort() == own.getPort() && (peer.getAddress().equals(own.getAddress())
            || peer.getAddress().equals(config.externalIp()) || own.getAddress().isAnyLocalAddress());
    }

    private static boolean isChannel(int number) {
        return number >= ChannelData.MIN_CHANNEL && number <= MAX_CHANNEL_RFC5766;
    }

    private static boolean containsIp(List<InetSocketAddress> peers, InetAddress ip) {
        for (InetSocketAddress p : peers) {
            if (p.getAddress().equals(ip)) {
                return true;
            }
        }
        return false;
    }

    /**
     * 443 for another family than the relay's, 403 for addresses the relay does not serve and for peers
     * outside the allocation's grant.
     */
    private boolean checkPeer(InetSocketAddress sender, int method, StunKey key, InetSocketAddress peer,
                              Allocation allocation) {
        InetAddress ip = peer.getAddress();
        if (!(ip instanceof Inet4Address)) {
            increment(RelayCounter.UNSUPPORTED_REQUESTS);
            sendError(sender, method, 443, "Peer Address Family Mismatch", key);
            return false;
        }
        if (ip.isAnyLocalAddress() || ip.isMulticastAddress() || ip.isLinkLocalAddress() || peer.getPort() == 0
            || ip.isLoopbackAddress() && !config.allowLoopbackPeers() || isListeningAddress(peer)) {
            increment(RelayCounter.FORBIDDEN_PEERS);
            sendError(sender, method, 403, "Forbidden", key);
            return false;
        }
        // A relayed address of this relay is granted only as the reciprocal grant's allocation, even when the
        // relay's IP came into the grant's addresses (a trickled relayed candidate names it).
        if (allocation.grant != null && !(byRelayed.containsKey(peer) ? allocation.grant.isReciprocalRelayed(peer)
            : allocation.grant.permits(peer))) {
            increment(RelayCounter.NOT_GRANTED);
            sendError(sender, method, 403, "Forbidden: not the introduced peer", key);
            return false;
        }
        return true;
    }

    /**
     * Whether {@code allocation} may exchange datagrams with {@code peer} when {@code peer} is a relayed
     * address of this very relay: permissions are per IP, so a permission for the reciprocal's relayed
     * address covers the relay's whole IP, and this check narrows it to the allocations of the reciprocal
     * grant. Both sides must hold grants of one introduction, or neither a grant (static users). Allocation-free.
     */
    private boolean mayExchange(Allocation allocation, InetSocketAddress peer) {
        if (!isRelayIp(peer.getAddress())) {
            return true;
        }
        RelaySlot slot = byRelayed.get(peer);
        Allocation other = slot == null ? null : slot.allocation;
        if (other == null) {
            // No allocation there: a peer on the relay's host (loopback set-ups) only if granted by IP.
            return allocation.grant == null || allocation.grant.addresses.contains(peer.getAddress());
        }
        return allocation.grant == null ? other.grant == null : other.grant == allocation.grant.peer;
    }

    private boolean isRelayIp(InetAddress ip) {
        for (int i = 0; i < relayIps.size(); i++) {
            if (relayIps.get(i).equals(ip)) {
                return true;
            }
        }
        return false;
    }

    private void onChannelBind(InetSocketAddress sender, Allocation allocation, StunKey key, long nowNs) {
        int method = StunMessageType.METHOD_CHANNEL_BIND;
        if (!checkAllocation(sender, allocation, method, key)) {
            return;
        }
        int channelAt = reader.findAttribute(StunAttributeType.CHANNEL_NUMBER);
        int peerAt = reader.findAttribute(StunAttributeType.XOR_PEER_ADDRESS);
        InetSocketAddress peer = peerAt == StunReader.NO_ATTRIBUTE ? null : reader.xorAddress(peerAt);
        int number = channelAt == StunReader.NO_ATTRIBUTE ? 0 : (int) (reader.uint32(channelAt) >>> 16);
        if (peer == null || !isChannel(number)) {
            increment(RelayCounter.BAD_REQUESTS);
            sendError(sender, method, 400, "Bad Request", key);
            return;
        }
        if (!checkPeer(sender, method, key, peer, allocation)) {
            return;
        }
        Channel byNumber = allocation.channels.get(number);
        Channel byPeer = allocation.channelsByPeer.get(peer);
        // RFC 8656 §11.2: a number bound to another peer, or a peer bound to another number, is 400.
        if (byNumber != null && !byNumber.peer.equals(peer) || byPeer != null && byPeer.number != number) {
            increment(RelayCounter.BAD_REQUESTS);
            sendError(sender, method, 400, "Bad Request", key);
            return;
        }
        boolean newPermission = allocation.permissions.get(peer.getAddress()) == null;
        if (byNumber == null && allocation.channels.size() >= config.maxChannelsPerAllocation()
            || newPermission && allocation.permissions.size() >= config.maxPermissionsPerAllocation()) {
            increment(RelayCounter.CAPACITY_REJECTIONS);
            sendError(sender, method, 508, "Insufficient Capacity", key);
            return;
        }
        Channel channel = byNumber;
        if (channel == null) {
            channel = new Channel(number, peer);
            allocation.channels.put(number, channel);
            allocation.channelsByPeer.put(peer, channel);
        }
        channel.expiresAtNs = nowNs + CHANNEL_LIFETIME_NS;
        // RFC 8656 §11.2: a ChannelBind installs or refreshes the permission for the peer's IP as well.
        channel.permission = allocation.permit(peer.getAddress(), nowNs);
        allocation.lastActivityNs = nowNs;
        increment(RelayCounter.CHANNELS_BOUND);
        sendSuccess(sender, method, key);
    }

    // ------------------------------------------------------------------ data, client to peer

    private void onSendIndication(InetSocketAddress sender) {
        long nowNs = now();
        Allocation allocation = liveAllocation(sender, nowNs);
        if (allocation == null) {
            increment(RelayCounter.DROPPED_NO_ALLOCATION);
            return;
        }
        int peerAt = reader.findAttribute(StunAttributeType.XOR_PEER_ADDRESS);
        int dataAt = reader.findAttribute(StunAttributeType.DATA);
        InetSocketAddress peer = peerAt == StunReader.NO_ATTRIBUTE ? null : reader.xorAddress(peerAt);
        if (peer == null || dataAt == StunReader.NO_ATTRIBUTE || peer.getPort() == 0) {
            increment(RelayCounter.MALFORMED_SEND_INDICATION);
            return;
        }
        Permission permission = allocation.permissions.get(peer.getAddress());
        if (permission == null || permission.expiresAtNs <= nowNs || isListeningAddress(peer)) {
            increment(RelayCounter.DROPPED_NO_PERMISSION);
            return;
        }
        toPeer(allocation, reader.buffer(), reader.attributeValueIndex(dataAt), reader.attributeLength(dataAt), peer,
            nowNs);
    }

    private void onChannelData(ByteBuf datagram, InetSocketAddress sender) {
        int start = datagram.readerIndex();
        // RFC 8656 §12.6 checks, over the RFC 5766 channel range (see MAX_CHANNEL_RFC5766).
        if (datagram.readableBytes() < ChannelData.HEADER_LENGTH || !isChannel(ChannelData.channel(datagram, start))
            || ChannelData.dataLength(datagram, start) > datagram.readableBytes() - ChannelData.HEADER_LENGTH) {
            increment(RelayCounter.MALFORMED_CHANNEL_DATA);
            return;
        }
        long nowNs = now();
        Allocation allocation = liveAllocation(sender, nowNs);
        if (allocation == null) {
            increment(RelayCounter.DROPPED_NO_ALLOCATION);
            return;
        }
        Channel channel = allocation.channels.get(ChannelData.channel(datagram, start));
        if (channel == null || channel.expiresAtNs <= nowNs) {
            increment(RelayCounter.DROPPED_UNBOUND_CHANNEL);
            return;
        }
        if (channel.permission.expiresAtNs <= nowNs) {
            increment(RelayCounter.DROPPED_NO_PERMISSION);
            return;
        }
        toPeer(allocation, datagram, start + ChannelData.HEADER_LENGTH, ChannelData.dataLength(datagram, start),
            channel.peer, nowNs);
    }

    private void toPeer(Allocation allocation, ByteBuf datagram, int index, int length, InetSocketAddress peer, long nowNs) {
        if (!mayExchange(allocation, peer)) {
            increment(RelayCounter.DROPPED_NOT_GRANTED);
            return;
        }
        if (!takeTokens(allocation, length, nowNs)) {
            return;
        }
        allocation.lastActivityNs = nowNs;
        // The payload leaves as a slice of the received datagram: no copy (the send releases the slice).
        if (allocation.slot.endpoint.send(datagram.retainedSlice(index, length), peer)) {
            increment(RelayCounter.RELAYED_TO_PEERS);
            add(RelayCounter.RELAYED_TO_PEERS_BYTES, length);
        } else {
            increment(RelayCounter.SEND_FAILURES);
        }
    }

    // ------------------------------------------------------------------ data, peer to client

    /** A datagram on a relay socket, from a peer. Never throws for any content. */
    private void onPeerDatagram(RelaySlot slot, ByteBuf datagram, InetSocketAddress peer) {
        try {
            long nowNs = now();
            Allocation allocation = slot.allocation;
            if (closed || allocation == null || allocation.expiresAtNs <= nowNs) {
                increment(RelayCounter.DROPPED_NO_ALLOCATION);
                return;
            }
            Permission permission = allocation.permissions.get(peer.getAddress());
            if (permission == null || permission.expiresAtNs <= nowNs) {
                increment(RelayCounter.DROPPED_NO_PERMISSION);
                return;
            }
            if (!mayExchange(allocation, peer)) {
                increment(RelayCounter.DROPPED_NOT_GRANTED);
                return;
            }
            int length = datagram.readableBytes();
            if (!takeTokens(allocation, length, nowNs)) {
                return;
            }
            allocation.lastActivityNs = nowNs;
            Channel channel = allocation.channelsByPeer.get(peer);
            ByteBuf out;
            if (channel != null && channel.expiresAtNs > nowNs) {
                out = listening.allocator().buffer(ChannelData.HEADER_LENGTH + length);
                out.writeShort(channel.number);
                out.writeShort(length);
                out.writeBytes(datagram, datagram.readerIndex(), length);
            } else {
                out = dataIndication(permission.ip, peer.getPort(), datagram, length);
            }
            if (listening.send(out, allocation.client)) {
                increment(RelayCounter.RELAYED_TO_CLIENTS);
                add(RelayCounter.RELAYED_TO_CLIENTS_BYTES, length);
            } else {
                increment(RelayCounter.SEND_FAILURES);
            }
        } catch (RuntimeException e) {
            increment(RelayCounter.INTERNAL_ERRORS);
        }
    }

    /**
     * A Data indication (RFC 8656 §11.6): XOR-PEER-ADDRESS and DATA, written in one pass. No
     * MESSAGE-INTEGRITY (indications are not authenticated, §11.1) and no FINGERPRINT.
     */
    private ByteBuf dataIndication(byte[] peerIp, int peerPort, ByteBuf data, int length) {
        return TurnIndication.encode(listening.allocator(), TurnIndication.DATA_MESSAGE_TYPE, indicationIdHigh,
            indicationIdLow++, peerIp, peerPort, data, data.readerIndex(), length);
    }

    /** The allocation's bucket, then the server's; counts the drop when either is empty. */
    private boolean takeTokens(Allocation allocation, int length, long nowNs) {
        if (!allocation.bucket.tryTake(length, nowNs)) {
            increment(RelayCounter.DROPPED_ALLOCATION_RATE);
            return false;
        }
        if (!serverBucket.tryTake(length, nowNs)) {
            allocation.bucket.refund(length);
            increment(RelayCounter.DROPPED_SERVER_RATE);
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ allocations' lives

    /** The allocation of {@code client}, deleting it first if it expired. */
    private Allocation liveAllocation(InetSocketAddress client, long nowNs) {
        Allocation allocation = byClient.get(client);
        if (allocation != null && allocation.expiresAtNs <= nowNs) {
            delete(allocation);
            increment(RelayCounter.ALLOCATIONS_EXPIRED);
            return null;
        }
        return allocation;
    }

    /**
     * A free relay socket, opening one if the pool has none (up to {@code maxAllocations}); with
     * {@code evenPort}, one whose port is even (RFC 8656 §14.6 EVEN-PORT): odd ones opened on the way
     * stay in the pool for later allocations.
     */
    private RelaySlot takeSlot(boolean evenPort) {
        for (java.util.Iterator<RelaySlot> free = freeSlots.iterator(); free.hasNext(); ) {
            RelaySlot slot = free.next();
            if (!evenPort || (slot.relayed.getPort() & 1) == 0) {
                free.remove();
                return slot;
            }
        }
        while (slots.size() < config.maxAllocations()) {
            DatagramEndpoint endpoint;
            try {
                endpoint = relaySockets.open();
            } catch (IOException | RuntimeException e) {
                return null;
            }
            InetSocketAddress local = endpoint.localAddress();
            InetSocketAddress relayed = config.externalIp() != null
                ? new InetSocketAddress(config.externalIp(), local.getPort()) : local;
            RelaySlot created = new RelaySlot(endpoint, relayed);
            endpoint.receiver((datagram, peer) -> onPeerDatagram(created, datagram, peer));
            slots.add(created);
            // Datagrams between allocations leave from the socket's own address and arrive at the announced one.
            registerRelayed(local, created);
            registerRelayed(relayed, created);
            if (!evenPort || (local.getPort() & 1) == 0) {
                return created;
            }
            freeSlots.addLast(created);
        }
        return null;
    }

    private void registerRelayed(InetSocketAddress address, RelaySlot slot) {
        byRelayed.put(address, slot);
        if (!relayIps.contains(address.getAddress())) {
            relayIps.add(address.getAddress());
        }
    }

    private void delete(Allocation allocation) {
        byClient.remove(allocation.client);
        allocations.remove(allocation);
        int[] count = perUser.get(allocation.quotaKey);
        if (count != null && --count[0] <= 0) {
            perUser.remove(allocation.quotaKey);
        }
        if (allocation.grant != null) {
            allocation.grant.relayed.remove(allocation.slot.relayed);
        }
        allocation.slot.allocation = null;
        freeSlots.addLast(allocation.slot);
    }

    private void armSweep(long nowNs) {
        if (sweepTimer == TimerService.NO_TIMER && !closed) {
            sweepTimer = listening.timers().schedule(nowNs + config.sweepIntervalNs(), this::onSweep);
        }
    }

    /** Deletes expired and idle allocations and forgets lapsed permissions and channels. */
    private void onSweep(long nowNs, long timerId) {
        if (timerId != sweepTimer) {
            return;
        }
        sweepTimer = TimerService.NO_TIMER;
        try {
            sweepScratch.clear();
            sweepScratch.addAll(allocations);
            for (Allocation allocation : sweepScratch) {
                if (allocation.expiresAtNs <= nowNs) {
                    delete(allocation);
                    increment(RelayCounter.ALLOCATIONS_EXPIRED);
                } else if (nowNs - allocation.lastActivityNs >= config.idleTimeoutNs()) {
                    delete(allocation);
                    increment(RelayCounter.ALLOCATIONS_IDLE_EXPIRED);
                } else {
                    allocation.forgetLapsed(nowNs);
                }
            }
            sweepScratch.clear();
        } catch (RuntimeException e) {
            increment(RelayCounter.INTERNAL_ERRORS);
        }
        if (!allocations.isEmpty()) {
            armSweep(nowNs);
        }
    }

    // ------------------------------------------------------------------ responses

    private StunWriter begin(int messageType) {
        return responder.begin(listening.allocator(), RESPONSE_CAPACITY, reader, messageType);
    }

    private void beginError(int method, int code, String reason) {
        begin(StunMessageType.of(method, StunClass.ERROR_RESPONSE)).addErrorCode(code, reason);
    }

    private void addSoftware() {
        if (software != null) {
            writer.addBytes(StunAttributeType.SOFTWARE, software);
        }
    }

    /** 401 or 438 with REALM and a fresh NONCE, no MESSAGE-INTEGRITY (RFC 8489 §9.2.4). */
    private void sendChallenge(InetSocketAddress sender, int method, int code, String reason, long nowNs) {
        if (!unauthenticatedBucket.tryTake(1, nowNs)) {
            increment(RelayCounter.DROPPED_UNAUTHENTICATED_RATE);
            return;
        }
        responder.beginChallenge(listening.allocator(), RESPONSE_CAPACITY, reader, code, reason, realm,
            nonces.issue(sender, nowNs));
        finishAndSend(null, sender);
    }

    private void sendUnauthenticatedError(InetSocketAddress sender, int method, int code, String reason, long nowNs) {
        if (!unauthenticatedBucket.tryTake(1, nowNs)) {
            increment(RelayCounter.DROPPED_UNAUTHENTICATED_RATE);
            return;
        }
        beginError(method, code, reason);
        finishAndSend(null, sender);
    }

    /** An error to an authenticated request: with MESSAGE-INTEGRITY (RFC 8489 §9.2.4). */
    private void sendError(InetSocketAddress sender, int method, int code, String reason, StunKey key) {
        beginError(method, code, reason);
        finishAndSend(key, sender);
    }

    private void sendSuccess(InetSocketAddress sender, int method, StunKey key) {
        begin(StunMessageType.of(method, StunClass.SUCCESS_RESPONSE));
        addSoftware();
        finishAndSend(key, sender);
    }

    /** MESSAGE-INTEGRITY with {@code key} (if any), FINGERPRINT if the request had one, then sends. */
    private void finishAndSend(StunKey key, InetSocketAddress destination) {
        ByteBuf out = responder.finish(StunResponder.Integrity.HMAC_SHA1, key, reader.hasFingerprint());
        if (!listening.send(out, destination)) {
            increment(RelayCounter.SEND_FAILURES);
        }
    }

    // ------------------------------------------------------------------ plumbing

    private long now() {
        return listening.clock().nanoTime();
    }

    private void increment(RelayCounter counter) {
        counters[counter.ordinal()]++;
    }

    private void add(RelayCounter counter, long amount) {
        counters[counter.ordinal()] += amount;
    }

    /** A relay socket: the relayed transport address of at most one allocation at a time. */
    private static final class RelaySlot {
        final DatagramEndpoint endpoint;
        final InetSocketAddress relayed;
        Allocation allocation;

        RelaySlot(DatagramEndpoint endpoint, InetSocketAddress relayed) {
            this.endpoint = endpoint;
            this.relayed = relayed;
        }
    }

    /** A permission for one peer IP (RFC 8656 §9); the IP's bytes are kept for Data indications. */
    private static final class Permission {
        final byte[] ip;
        long expiresAtNs;

        Permission(InetAddress address) {
            this.ip = address.getAddress();
        }
    }

    /** A channel binding (RFC 8656 §12). */
    private static final class Channel {
        final int number;
        final InetSocketAddress peer;
        Permission permission;
        long expiresAtNs;

        Channel(int number, InetSocketAddress peer) {
            this.number = number;
            this.peer = peer;
        }
    }

    /** One allocation (RFC 8656 §2.2), keyed by the client's transport address on the listening socket. */
    private static final class Allocation {
        final InetSocketAddress client;
        final String username;
        final String quotaKey;
        /** What the username may relay to, or null without a grant table. */
        final RelayGrants.Grant grant;
        final String password;
        final StunKey key;
        final RelaySlot slot;
        final long allocateIdHigh;
        final int allocateIdLow;
        final TokenBucket bucket;
        final Map<InetAddress, Permission> permissions = new HashMap<>();
        final Int2ObjectHashMap<Channel> channels = new Int2ObjectHashMap<>();
        final Map<InetSocketAddress, Channel> channelsByPeer = new HashMap<>();
        long expiresAtNs;
        long lastActivityNs;

        Allocation(InetSocketAddress client, String username, String quotaKey, RelayGrants.Grant grant, String password,
                   StunKey key, RelaySlot slot, long allocateIdHigh, int allocateIdLow, TurnServerConfig config,
                   long nowNs) {
            this.client = client;
            this.username = username;
            this.quotaKey = quotaKey;
            this.grant = grant;
            this.password = password;
            this.key = key;
            this.slot = slot;
            this.allocateIdHigh = allocateIdHigh;
            this.allocateIdLow = allocateIdLow;
            this.bucket = new TokenBucket(config.allocationBytesPerSecond(), config.allocationBurstBytes(), nowNs);
            this.lastActivityNs = nowNs;
        }

        Permission permit(InetAddress ip, long nowNs) {
            Permission permission = permissions.get(ip);
            if (permission == null) {
                permission = new Permission(ip);
                permissions.put(ip, permission);
            }
            permission.expiresAtNs = nowNs + PERMISSION_LIFETIME_NS;
            return permission;
        }

        /** Drops lapsed permissions, and channels past their quarantine (RFC 8656 §12). */
        void forgetLapsed(long nowNs) {
            channels.values().removeIf(c -> {
                boolean gone = c.expiresAtNs + CHANNEL_QUARANTINE_NS <= nowNs;
                if (gone) {
                    channelsByPeer.remove(c.peer);
                }
                return gone;
            });
            // A permission a live (or quarantined) channel points at stays, so the channel keeps its object.
            permissions.values().removeIf(p -> p.expiresAtNs <= nowNs && !referenced(p));
        }

        private boolean referenced(Permission p) {
            for (Channel c : channelsByPeer.values()) {
                if (c.permission == p) {
                    return true;
                }
            }
            return false;
        }
    }
}
