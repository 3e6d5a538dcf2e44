package dev.pinhole.server.rendezvous;

import dev.pinhole.server.RendezvousServerStats;

import dev.pinhole.protocol.rendezvous.PeerNames;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes;
import dev.pinhole.protocol.rendezvous.RendezvousProtocol;

import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_NODE_KEY;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_PEER_KEY;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_SERVER_KEY;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_HOST_CANDIDATE;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_INTRODUCTION_ID;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_LIST_AFTER;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_LOCAL_CREDENTIALS;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_MESSAGE_TEXT;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_NAT_PROFILE;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_PEER_CANDIDATE;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_PEER_COUNT;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_PEER_NAME;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_REFRESH_INTERVAL;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_REGISTRATION_LIFETIME;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_RELAY_OFFER;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_REMOTE_CREDENTIALS;
import static dev.pinhole.protocol.rendezvous.RendezvousProtocol.ATTR_ROLE;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.turn.TurnCredentials;
import dev.pinhole.server.rendezvous.RegistrationTable.Entry;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.server.common.NonceIssuer;
import dev.pinhole.server.common.StunResponder;
import dev.pinhole.server.stun.StunBindingServer;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Objects;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2ObjectHashMap;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes.WireCandidate;
import dev.pinhole.server.relay.RelayGrants;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;

/**
 * The rendezvous server (the "mediation" or "index" server of the peer-to-peer literature), driven through a
 * {@link DatagramEndpoint}: peers register a name, list the names, and ask to be introduced to a named
 * peer; the server then tells both peers, at the same moment, each other's candidates, fresh ICE
 * credentials and roles, so that they can run connectivity checks (RFC 8445) towards each other. It
 * also answers STUN Binding requests (RFC 8489; RFC 5780 with alternate addresses) on the same port.
 * Wire format, authentication and the no-amplification rule: {@link RendezvousProtocol}.
 *
 * <h2>Registrations</h2>
 * A REGISTER carries the name, the node's NODE-KEY (its X25519 public key, its node id), its host
 * candidates and optionally its NAT profile, and is authenticated with MESSAGE-INTEGRITY-SHA256 under the
 * node's session key ({@link RendezvousProtocol#sessionKey}: HKDF of X25519(node key, this server's key),
 * the NONCE as salt), which proves possession of the private key. The server adds the source address it
 * observed (the server-reflexive candidate) and answers with that address, the refresh interval, the
 * lifetime and SERVER-KEY, signed with the same session key. Refreshes are the same request every interval
 * (15 s by default); a registration expires after three intervals without one (45 s). A REGISTER with
 * REGISTRATION-LIFETIME 0 by the name's key ends it at once (as a TURN Refresh with LIFETIME 0 does, RFC 8656
 * §7), and so does DEREGISTER {PEER-NAME, NODE-KEY}, which clients send when they shut down: a client that
 * closes cleanly frees its name at once instead of holding it for 45 s. Anything but the name's key removes
 * nothing and is answered 403 without saying who holds what (counted). Because every refresh carries
 * everything, a restarted server is repopulated by the next round of refreshes (each first gets 438 for its
 * old nonce, with the new SERVER-KEY, then registers with the new nonce and session key).
 *
 * <p><b>Who owns a name.</b> A name belongs to the key that registered it while that registration lives:
 * a REGISTER for it under any other key gets 409 (the reason names no address), also from the holder's very
 * socket address. The owner's key takes it over at once from anywhere (NAT rebinding, a new network, a
 * restarted process with the same identity file): the new registration replaces the old one immediately.
 * A move to another address costs one more round trip: the server answers 438 with a move nonce bound to
 * the key, the new address and the registration's move count, and only a REGISTER carrying it (and signed
 * with the session key it salts) moves the name, so a REGISTER recorded before an earlier move and replayed
 * from the old address (its nonce and MAC still valid there) cannot move the name back. A key may hold
 * several names, each on its own socket (processes sharing one identity file). Each address holds one
 * registration: registering another name from the same address replaces it (one address is one socket).
 * Requests of other methods are authenticated the same way and refused with 403 unless their key holds the
 * registration at their source address; their answers, and the INTRODUCTION, MESSAGE and CANDIDATE requests
 * the server sends a node, are signed with that node's session key, so nobody without a private key forges
 * them. With a shared secret, its key is part of the session key's derivation (admission control on top),
 * and a node's first request (no nonce yet) carries the secret's integrity.
 *
 * <p><b>Replays.</b> A nonce is bound to its source address, so a sniffed request replayed from elsewhere
 * gets 438; from the same address within the nonce's lifetime it repeats what its sender did there (a
 * refresh, or a CONNECT/MESSAGE/CANDIDATE, which retransmission memory recognises for
 * {@link #RELAY_MEMORY_NS}). What is not prevented: a recorded MESSAGE or CANDIDATE replayed from its
 * sender's address after that memory (up to the nonce's hour) is forwarded again, and a recorded DEREGISTER
 * replayed while the same key holds the name at the same address ends it until the next refresh.
 *
 * <p><b>The rate limiter and the owner.</b> Datagrams over their source IP's rate limit are dropped, except
 * a request carrying the NODE-KEY of the registration at that very address, a valid nonce and a MAC that
 * verifies under its session key: a spoofed flood from the owner's address exhausts the address's budget
 * but cannot make the owner's refreshes fail. The check costs a parse, a hash lookup, the nonce's HMAC, at
 * most one HKDF and the request's HMAC per datagram, never an X25519 (only registered keys, whose X25519
 * output is cached).
 *
 * <p><b>Listing.</b> LIST_PEERS is answered only with {@link RendezvousServerConfig.Builder#allowList}
 * (default off: 403 "listing is disabled on this server"); no error names registered peers.
 *
 * <p><b>Quotas.</b> One source address (an IPv4 address, an IPv6 /64) holds at most
 * {@link RendezvousServerConfig#maxRegistrationsPerAddress()} live registrations and one network (an IPv4
 * /24, an IPv6 /56) at most {@link RendezvousServerConfig#maxRegistrationsPerPrefix()}, so that one place
 * cannot fill the table and lock everyone else out with 508. A REGISTER that would add one beyond either
 * gets 508 with a reason naming the quota (the same code as a full table: the server lacks room for
 * this request, and a client does the same about both); what the REGISTER replaces is subtracted first,
 * so refreshes and takeovers by the holder never count as more. The counts follow every registration
 * that is added, replaced, deregistered or expires ({@link RegistrationQuotas}).
 *
 * <h2>Introductions</h2>
 * A registered peer sends CONNECT with the other's name. The server answers 404 if no such peer is
 * registered (naming no one else), otherwise starts two INTRODUCTION requests in the same event-loop turn:
 * to the requester (role controlling) and to the named peer (controlled), each with the other's name,
 * PEER-KEY (its proven X25519 public key), host and server-reflexive candidates, its own and the other's
 * fresh credentials and the other's NAT profile; the CONNECT success carries the target's PEER-KEY too. Each is retransmitted until that peer acknowledges it or
 * {@link RendezvousServerConfig#outboundTiming()} gives up. A retransmitted CONNECT (same transaction)
 * is answered again without a second introduction.
 *
 * <p><b>Relay offers.</b> With {@link RendezvousServerConfig.Builder#relay} configured, each INTRODUCTION
 * also carries a RELAY-OFFER for its recipient: the TURN server's address and TURN REST credentials
 * bound to the recipient node and this introduction ({@code <expiry>:<node>.<introduction>.<role>}),
 * valid for {@link RendezvousServerConfig#relayCredentialLifetimeSeconds()} from now on the configured
 * wall clock. With a relay in this process, the server also writes the recipient's grant
 * ({@link RelayGrants}: relay only to the introduced peer), which forwarded CANDIDATEs extend. Offers go
 * only where introductions go: to registered peers, whose return routability was proven by the nonce, so
 * they add nothing an attacker could reflect.
 *
 * <h2>Trickled candidates</h2>
 * A registered peer sends CANDIDATE with the target's name and one PEER-CANDIDATE (in practice the
 * relayed address it allocated after its introduction); the server forwards it to the target, with the
 * sender's name and PEER-KEY, exactly as it forwards MESSAGE: same checks (403 unregistered or
 * unauthenticated sender, 404 unknown target, 508 when busy), the same memory of retransmitted requests, and the same
 * retransmission until the target acknowledges.
 *
 * <h2>Order of checks, and what costs what</h2>
 * Per datagram: rate limit by source IP (no parsing before it, unless the source holds a registration:
 * see the owner above), parse (malformed: counted, dropped),
 * Binding to the Binding responder, responses to the server's own outbound transactions, then for
 * requests: unknown comprehension-required attributes (420); without NODE-KEY the shared secret (401) and
 * the nonce (438); with NODE-KEY the secret only if the request has no nonce at all (401), the nonce or move
 * nonce (438, with SERVER-KEY, signed with the secret's key if there is one), then the session key's MAC
 * (401: at most one X25519 per request, for a key not registered); and the method. Every answer to a
 * request that passed neither the secret nor the nonce is checked against the request's size before it is
 * sent, in one place. Tables are bounded by {@link RendezvousServerConfig}. A refresh of an unchanged
 * registration compares the request with the stored attribute bytes in place, reuses the session key
 * cached for its nonce, and allocates only a copy of its NODE-KEY.
 *
 * <p>Confined to the endpoint's event loop: create it there (or, on a {@code UdpEventLoop}, before the loop
 * starts), and call every method there. Nothing is thrown out of {@link #onDatagram} for any input.
 */
public final class RendezvousServer implements DatagramReceiver, AutoCloseable {
    /** Priority the server gives the server-reflexive candidates it reports (RFC 8445 §5.1.2.1). */
    static final long SERVER_REFLEXIVE_PRIORITY =
        Candidate.priority(CandidateType.SERVER_REFLEXIVE, Candidate.MAX_LOCAL_PREFERENCE, Candidate.COMPONENT_ID);
    private static final int MAX_SCANNED_HOST_CANDIDATES = RendezvousProtocol.MAX_HOST_CANDIDATES + 1;
    /**
     * How long a CONNECT or MESSAGE is remembered by its transaction id, so that a retransmission of it
     * (its response was lost) is answered again instead of starting a second introduction: 40 s covers a
     * client transaction on RFC 8489 §6.2.1's default schedule (39.5 s).
     */
    static final long RELAY_MEMORY_NS = 40_000_000_000L;
    /**
     * One nonce epoch: 30 minutes, so a nonce stays valid for 30 to 60 minutes, and a response hands out a
     * fresh one when the request's is from the previous epoch.
     */
    static final long NONCE_EPOCH_NS = 30L * 60 * 1_000_000_000L;
    /** Remembered requests per allowed outbound request (each remembered one is at most 40 s old). */
    private static final int RELAY_MEMORY_FACTOR = 4;
    /** Initial capacity of a response buffer (it grows for a long peer list). */
    private static final int RESPONSE_CAPACITY = 256;

    private final DatagramEndpoint endpoint;
    private final RendezvousServerConfig config;
    private final StunKey key;
    private final StunReader reader = new StunReader();
    private final StunResponder responder = new StunResponder();
    private final StunWriter writer = responder.writer();
    private final StunBindingServer binding;
    private final StunClient outbound;
    private final SourceRateLimiter limiter;
    private final NonceIssuer nonces;
    /** Nonces that allow a key's registration to move to a new address (see {@link #moveNonce}). */
    private final NonceIssuer moveNonces;
    private final MessageDigest sha256;
    private final ServerKey serverKey;
    private final RegistrationTable table;
    private final RandomGenerator random;
    /** Requests that started outbound work (CONNECT, MESSAGE, CANDIDATE), by their transaction id's first 64 bits. */
    private final Long2ObjectHashMap<Relay> relays = new Long2ObjectHashMap<>();
    /** The same relays in order of creation, which is their order of expiry. */
    private final ArrayDeque<Relay> relaysByAge = new ArrayDeque<>();
    private final TimerHandler expiryHandler = this::onExpiryTimer;
    private final int[] hostAt = new int[MAX_SCANNED_HOST_CANDIDATES];
    private final byte[] nameScratch = new byte[PeerNames.MAX_NAME_BYTES];
    private final long[] malformed = new long[StunParseResult.values().length];
    private final String addressQuotaReason;
    private final String prefixQuotaReason;
    /** The last source whose quota key was derived, and the key: a flood from one address derives it once. */
    private InetAddress quotaKeyOf;
    private long quotaKey;
    private long expiryTimerId = TimerService.NO_TIMER;
    private boolean closed;

    // The request being handled (valid during onDatagram only).
    private InetSocketAddress sender;
    private long nowNs;
    /** What the answer is signed with: the session key or the secret's key, or null (unsigned). */
    private StunKey responseKey;
    /** The request's NODE-KEY value (copied), or null; authenticated when the method handler runs. */
    private byte[] requestKey;
    /** The session key that authenticated the request (with {@link #requestKey}). */
    private StunKey requestSessionKey;
    /** X25519(server, NODE-KEY) of the request, when computed or taken from its registration. */
    private byte[] requestDh;
    /** Whether the request's NONCE is a move nonce for its key's registration's current move count. */
    private boolean moveNonceValid;
    private int nonceAt;
    private int budget;
    private boolean rotateNonce;
    private int nameAt;
    private int nodeKeyAt;
    private int natAt;
    private int listAfterAt;
    private int textAt;
    private int lifetimeAt;
    private int candidateAt;
    private int candidateCount;
    private int hostCount;
    private boolean badAttribute;

    private long registered;
    private long refreshes;
    private long expired;
    private long replaced;
    private long deregistered;
    private long deregistrationsRefused;
    private long nameConflicts;
    private long serverFull;
    private long addressQuotaRefused;
    private long prefixQuotaRefused;
    private long lists;
    private long listsRefused;
    private long movesChallenged;
    private long connects;
    private long peerNotFound;
    private long introductionsSent;
    private long introductionsAcked;
    private long introductionsUnacked;
    private long messagesForwarded;
    private long candidatesForwarded;
    private long relayOffers;
    private long unauthenticated;
    private long staleNonces;
    private long rateLimited;
    private long ownerOverLimit;
    private long badRequests;
    private long unknownMethods;
    private long amplificationDrops;
    private long responsesSent;
    private long sendFailures;
    private long ignored;
    private long notRegisteredSenders;

    private RendezvousServer(DatagramEndpoint endpoint, StunBindingServer binding, RendezvousServerConfig config) {
        this.endpoint = endpoint;
        this.config = config;
        this.key = config.key();
        this.binding = binding;
        this.random = config.random();
        this.outbound = new StunClient(endpoint, config.outboundTiming(), random);
        this.limiter = new SourceRateLimiter(config.ratePerSecond(), config.rateBurst(), config.maxTrackedSources());
        this.nonces = new NonceIssuer(NonceIssuer.Format.BASE64URL_HMAC_SHA256, nonceKey(random), NONCE_EPOCH_NS);
        this.moveNonces = new NonceIssuer(NonceIssuer.Format.BASE64URL_HMAC_SHA256, nonceKey(random), NONCE_EPOCH_NS);
        this.serverKey = new ServerKey(random);
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        this.table = new RegistrationTable(config.maxRegistrations(), config.registrationLifetimeNs(),
            config.maxRegistrationsPerAddress(), config.maxRegistrationsPerPrefix());
        // Made once: a flood of refused REGISTERs builds no strings.
        this.addressQuotaReason = "registration quota reached: " + config.maxRegistrationsPerAddress()
            + " per source address (IPv4 address or IPv6 /64); one of its registrations must end first";
        this.prefixQuotaReason = "registration quota reached: " + config.maxRegistrationsPerPrefix()
            + " per network (IPv4 /24 or IPv6 /56); one of its registrations must end first";
    }

    /**
     * The nonce key, drawn when the server starts, so that a restarted server rejects old nonces, which
     * tells clients to re-register (438).
     */
    private static byte[] nonceKey(RandomGenerator random) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i += 8) {
            long bits = random.nextLong();
            for (int j = 0; j < 8; j++) {
                key[i + j] = (byte) (bits >>> (8 * j));
            }
        }
        return key;
    }

    /**
     * A server on {@code endpoint}, installed as its receiver. Binding requests get plain RFC 8489
     * answers.
     */
    public static RendezvousServer listen(DatagramEndpoint endpoint, RendezvousServerConfig config) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(config, "config");
        RendezvousServer server = new RendezvousServer(endpoint, StunBindingServer.basic(endpoint, config.software()),
            config);
        endpoint.receiver(server);
        return server;
    }

    /**
     * A server on {@code primary} that is also an RFC 5780 NAT behaviour discovery server with the three
     * other endpoints (same IP other port, other IP same port, other IP and port; see
     * {@link StunBindingServer#rfc5780}). The rendezvous methods are served on {@code primary} only; the
     * alternates answer Binding, under the same rate limit.
     */
    public static RendezvousServer listenRfc5780(DatagramEndpoint primary, DatagramEndpoint alternatePort,
                                                 DatagramEndpoint alternateIp, DatagramEndpoint alternateBoth,
                                                 RendezvousServerConfig config) {
        Objects.requireNonNull(config, "config");
        StunBindingServer binding = StunBindingServer.rfc5780(primary, alternatePort, alternateIp, alternateBoth,
            config.software());
        RendezvousServer server = new RendezvousServer(primary, binding, config);
        primary.receiver(server);
        for (DatagramEndpoint alternate : new DatagramEndpoint[] {alternatePort, alternateIp, alternateBoth}) {
            alternate.receiver((datagram, from) -> server.onAlternateDatagram(datagram, from, alternate));
        }
        return server;
    }

    /** The address clients send to. */
    public InetSocketAddress localAddress() {
        return endpoint.localAddress();
    }

    public RendezvousServerConfig config() {
        return config;
    }

    /** Registrations held now. */
    public int registrationCount() {
        return table.size();
    }

    /** Whether {@code name} is registered now. */
    public boolean isRegistered(String name) {
        return table.byName(name) != null;
    }

    /** The server's X25519 public key (a copy), as SERVER-KEY carries it. */
    public byte[] publicKey() {
        return serverKey.publicKey().clone();
    }

    /** The NODE-KEY that holds {@code name} (a copy), or null. */
    public byte[] registeredKey(String name) {
        Entry registration = table.byName(name);
        return registration == null ? null : registration.nodeKey.clone();
    }

    /** The source address {@code name} registered from, or null. */
    public InetSocketAddress registeredAddress(String name) {
        Entry registration = table.byName(name);
        return registration == null ? null : registration.address;
    }

    /** Datagrams dropped as malformed STUN, by reason. */
    public long malformedCount(StunParseResult reason) {
        return malformed[reason.ordinal()];
    }

    public RendezvousServerStats stats() {
        long malformedTotal = 0;
        for (long count : malformed) {
            malformedTotal += count;
        }
        return new RendezvousServerStats(table.size(), registered, refreshes, expired, replaced, deregistered,
            deregistrationsRefused, nameConflicts,
            serverFull, addressQuotaRefused, prefixQuotaRefused, lists, connects, peerNotFound, introductionsSent, introductionsAcked, introductionsUnacked,
            relayOffers, messagesForwarded, candidatesForwarded, unauthenticated, staleNonces, rateLimited, malformedTotal, badRequests, unknownMethods,
            amplificationDrops, responsesSent, sendFailures, ignored,
            binding.responseCount() + binding.errorResponseCount(), limiter.size(), limiter.evictions(),
            outbound.pendingCount(), listsRefused, notRegisteredSenders, movesChallenged, ownerOverLimit);
    }

    /**
     * Stops serving: outbound transactions end, the expiry timer is cancelled, every table is emptied and
     * later datagrams are ignored. The endpoint is left open (its owner closes it).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outbound.close();
        relays.clear();
        relaysByAge.clear();
        if (expiryTimerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(expiryTimerId);
            expiryTimerId = TimerService.NO_TIMER;
        }
        table.clear();
    }

    // ---- receiving -------------------------------------------------------------------------------

    /** A datagram on the primary endpoint. Never throws for any content. */
    @Override
    public void onDatagram(ByteBuf datagram, InetSocketAddress from) {
        if (closed) {
            ignored++;
            return;
        }
        long now = endpoint.clock().nanoTime();
        if (!limiter.tryAcquire(from.getAddress(), now) && !ownerOverLimit(datagram, from, now)) {
            rateLimited++;
            return;
        }
        StunParseResult result = reader.wrap(datagram);
        if (result != StunParseResult.OK && result != StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            malformed[result.ordinal()]++;
            return;
        }
        int method = reader.method();
        if (method == StunMessageType.METHOD_BINDING) {
            binding.handle(datagram, from, endpoint);
            return;
        }
        StunClass messageClass = reader.messageClass();
        if (messageClass.isResponse()) {
            // Acknowledgements of our INTRODUCTION and MESSAGE requests; the client counts strays.
            outbound.handle(datagram, from);
            return;
        }
        if (messageClass != StunClass.REQUEST) {
            ignored++;
            return;
        }
        sender = from;
        nowNs = now;
        responseKey = null;
        requestKey = null;
        requestSessionKey = null;
        requestDh = null;
        moveNonceValid = false;
        rotateNonce = false;
        budget = reader.messageLength();
        handleRequest(method, result);
    }

    private void onAlternateDatagram(ByteBuf datagram, InetSocketAddress from, DatagramEndpoint alternate) {
        if (closed) {
            ignored++;
            return;
        }
        if (!limiter.tryAcquire(from.getAddress(), endpoint.clock().nanoTime())) {
            rateLimited++;
            return;
        }
        binding.handle(datagram, from, alternate);
    }

    private void handleRequest(int method, StunParseResult result) {
        boolean ours = method == RendezvousProtocol.METHOD_REGISTER || method == RendezvousProtocol.METHOD_LIST_PEERS
            || method == RendezvousProtocol.METHOD_CONNECT
            || method == RendezvousProtocol.METHOD_CANDIDATE
            || method == RendezvousProtocol.METHOD_DEREGISTER
            || method == RendezvousProtocol.METHOD_MESSAGE;
        if (!ours) {
            unknownMethods++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "unknown method " + RendezvousProtocol.methodName(method));
            return;
        }
        if (result == StunParseResult.UNKNOWN_COMPREHENSION_REQUIRED) {
            badRequests++;
            sendUnknownAttributes();
            return;
        }
        nodeKeyAt = reader.findAttribute(ATTR_NODE_KEY);
        nonceAt = reader.findAttribute(StunAttributeType.NONCE);
        if (nodeKeyAt == StunReader.NO_ATTRIBUTE) {
            // No key: the secret's integrity (if any) and the nonce, as before keys existed.
            if (key != null) {
                if (!verifies(key)) {
                    unauthenticated++;
                    // RFC 8489's reason phrase; short, because the answer must fit the unauthenticated request.
                    sendError(RendezvousProtocol.ERROR_UNAUTHENTICATED, "Unauthorized");
                    return;
                }
                responseKey = key;
            }
            if (checkNonce() == NonceIssuer.Check.INVALID) {
                sendStaleNonce(null);
                return;
            }
        } else {
            if (reader.attributeLength(nodeKeyAt) != RendezvousProtocol.KEY_BYTES) {
                badRequests++;
                sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "NODE-KEY is 32 bytes");
                return;
            }
            // A request without any nonce is a client's first: it signs with the secret's key, if there is one.
            if (key != null && nonceAt == StunReader.NO_ATTRIBUTE && !verifies(key)) {
                unauthenticated++;
                sendError(RendezvousProtocol.ERROR_UNAUTHENTICATED, "Unauthorized");
                return;
            }
            if (checkNonce() == NonceIssuer.Check.INVALID) {
                // With a secret the challenge is signed with its key, so nobody without it can swap SERVER-KEY.
                responseKey = key;
                sendStaleNonce(null);
                return;
            }
            requestKey = copyValue(nodeKeyAt);
            Entry owned = ownedBy(nodeKeyAt);
            StunKey session = sessionKeyOf(owned);
            if (session == null || !verifies(session)) {
                unauthenticated++;
                requestKey = null;
                sendError(RendezvousProtocol.ERROR_UNAUTHENTICATED, "Unauthorized");
                return;
            }
            requestSessionKey = session;
            responseKey = session;
            if (owned != null && owned.address.equals(sender)) {
                rememberSession(owned);
            }
        }
        // Return routability is proven: the answer may be as large as the protocol allows.
        budget = RendezvousProtocol.MAX_MESSAGE_BYTES;
        scanAttributes();
        if (badAttribute) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "malformed rendezvous attribute");
            return;
        }
        switch (method) {
            case RendezvousProtocol.METHOD_REGISTER -> onRegister();
            case RendezvousProtocol.METHOD_LIST_PEERS -> onListPeers();
            case RendezvousProtocol.METHOD_CONNECT -> onConnect();
            case RendezvousProtocol.METHOD_CANDIDATE -> onCandidate();
            case RendezvousProtocol.METHOD_DEREGISTER -> onDeregister();
            default -> {
                if (config.messagesEnabled()) {
                    onMessage();
                } else {
                    // Refused after authentication, so the sender can verify the refusal.
                    unknownMethods++;
                    sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "unknown method MESSAGE: messages are disabled");
                }
            }
        }
    }

    private boolean verifies(StunKey candidate) {
        return reader.hasMessageIntegritySha256()
            && reader.verifyMessageIntegritySha256(candidate) == StunParseResult.OK;
    }

    /**
     * The registration of the request's NODE-KEY that the request is about: the one at the sender's address
     * if it has that key (compared in place: a refresh allocates nothing here), else the one of the
     * request's PEER-NAME if that key holds it (the owner moved, or restarted elsewhere), or null.
     */
    private Entry ownedBy(int keyAt) {
        Entry here = ownedHere(keyAt);
        return here != null ? here : ownedByName(keyAt);
    }

    private Entry ownedHere(int keyAt) {
        Entry atAddress = table.byAddress(sender);
        return atAddress != null && reader.attributeValueEquals(keyAt, atAddress.nodeKey) ? atAddress : null;
    }

    private Entry ownedByName(int keyAt) {
        int at = reader.findAttribute(ATTR_PEER_NAME);
        String name = at == StunReader.NO_ATTRIBUTE ? null : decodeName(at);
        Entry holder = name == null ? null : table.byName(name);
        return holder != null && reader.attributeValueEquals(keyAt, holder.nodeKey) ? holder : null;
    }

    /**
     * Checks the request's NONCE: one issued to the sender's address; else, for a request with NODE-KEY, a
     * move nonce: of the key's registration at this address for its previous move count (it moved here
     * with it), or of the registration of the request's PEER-NAME held by that key elsewhere for its
     * current move count (then {@link #moveNonceValid}: the move may happen). Sets {@link #rotateNonce}
     * when the nonce is from the previous epoch.
     */
    private NonceIssuer.Check checkNonce() {
        if (nonceAt == StunReader.NO_ATTRIBUTE) {
            staleNonces++;
            return NonceIssuer.Check.INVALID;
        }
        int index = reader.attributeValueIndex(nonceAt);
        int length = reader.attributeLength(nonceAt);
        NonceIssuer.Check check = nonces.verify(reader.buffer(), index, length, sender, nowNs);
        if (check == NonceIssuer.Check.INVALID && nodeKeyAt != StunReader.NO_ATTRIBUTE) {
            Entry here = ownedHere(nodeKeyAt);
            if (here != null && here.moves > 0) {
                check = moveNonces.verify(reader.buffer(), index, length, moveAddress(here.nodeKey, here.moves - 1),
                    nowNs);
            }
            Entry elsewhere = check == NonceIssuer.Check.INVALID ? ownedByName(nodeKeyAt) : null;
            if (elsewhere != null && !elsewhere.address.equals(sender)) {
                check = moveNonces.verify(reader.buffer(), index, length, moveAddress(elsewhere.nodeKey,
                    elsewhere.moves), nowNs);
                moveNonceValid = check != NonceIssuer.Check.INVALID;
            }
        }
        if (check == NonceIssuer.Check.INVALID) {
            staleNonces++;
        }
        rotateNonce = check == NonceIssuer.Check.VALID_PREVIOUS_EPOCH;
        return check;
    }

    /**
     * The address a move nonce is issued to: the sender's port and a 16-byte address hashed from the key,
     * the move count and the sender's address. So a move nonce is bound to one key, one address and one
     * move: a REGISTER recorded before the registration last moved carries a nonce that no longer moves it.
     */
    private InetSocketAddress moveAddress(byte[] nodeKey, int moves) {
        return moveAddress(nodeKey, moves, sender);
    }

    private InetSocketAddress moveAddress(byte[] nodeKey, int moves, InetSocketAddress to) {
        sha256.update(nodeKey);
        sha256.update(new byte[] {(byte) (moves >>> 24), (byte) (moves >>> 16), (byte) (moves >>> 8), (byte) moves});
        sha256.update(to.getAddress().getAddress());
        byte[] digest = sha256.digest();
        try {
            return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOf(digest, 16)), to.getPort());
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }

    /** The move nonce that lets {@code owned} move to the sender's address (ASCII, a fresh array). */
    private byte[] moveNonce(Entry owned) {
        return moveNonces.issue(moveAddress(owned.nodeKey, owned.moves), nowNs).clone();
    }

    /** 438 with a fresh NONCE (the given one, else the sender's) and SERVER-KEY. */
    private void sendStaleNonce(byte[] nonce) {
        beginResponse(StunClass.ERROR_RESPONSE);
        writer.addErrorCode(RendezvousProtocol.ERROR_STALE_NONCE, "Stale Nonce");
        writer.addBytes(StunAttributeType.NONCE, nonce != null ? nonce : nonces.issue(sender, nowNs));
        writer.addBytes(ATTR_SERVER_KEY, serverKey.publicKey());
        rotateNonce = false;
        finishAndSend();
    }

    /**
     * The session key of {@link #requestKey} under the request's NONCE: the one cached on its registration
     * when the nonce is the same, else derived (HKDF over the registration's cached X25519 output, or a
     * fresh X25519 for a key not registered), or null if the key is not a usable X25519 public key.
     */
    private StunKey sessionKeyOf(Entry owned) {
        if (owned != null && owned.sessionNonce != null && reader.attributeValueEquals(nonceAt, owned.sessionNonce)) {
            requestDh = owned.dh;
            return owned.sessionKey;
        }
        requestDh = owned != null ? owned.dh : serverKey.dh(requestKey);
        if (requestDh == null) {
            return null;
        }
        return RendezvousProtocol.sessionKey(requestDh, copyValue(nonceAt), requestKey, serverKey.publicKey(), key);
    }

    /** Caches the request's session key on the registration, which signs what the server sends it. */
    private void rememberSession(Entry registration) {
        if (registration.sessionNonce == null || !reader.attributeValueEquals(nonceAt, registration.sessionNonce)) {
            registration.sessionNonce = copyValue(nonceAt);
            registration.sessionKey = requestSessionKey;
        }
    }

    /**
     * Whether a request over its source's rate limit is nonetheless an owner's: a request with the NODE-KEY
     * of the registration at that very address, a valid NONCE and a MESSAGE-INTEGRITY-SHA256 that verifies
     * under the session key. A spoofed flood from the owner's address exhausts that address's budget, but
     * cannot make the owner's own refreshes fail. Bounded cost per datagram, whatever the flood: a parse,
     * a hash lookup, the nonce's HMAC, at most one HKDF (two HMACs) and the request's HMAC; never an
     * X25519 (only keys already registered, whose shared secret is cached).
     */
    private boolean ownerOverLimit(ByteBuf datagram, InetSocketAddress from, long now) {
        Entry owner = table.byAddress(from);
        if (owner == null || reader.wrap(datagram) != StunParseResult.OK
            || reader.messageClass() != StunClass.REQUEST) {
            return false;
        }
        int keyAt = reader.findAttribute(ATTR_NODE_KEY);
        int at = reader.findAttribute(StunAttributeType.NONCE);
        if (keyAt == StunReader.NO_ATTRIBUTE || at == StunReader.NO_ATTRIBUTE
            || !reader.attributeValueEquals(keyAt, owner.nodeKey)) {
            return false;
        }
        NonceIssuer.Check check = nonces.verify(reader.buffer(), reader.attributeValueIndex(at),
            reader.attributeLength(at), from, now);
        if (check == NonceIssuer.Check.INVALID && owner.moves > 0) {
            check = moveNonces.verify(reader.buffer(), reader.attributeValueIndex(at), reader.attributeLength(at),
                moveAddress(owner.nodeKey, owner.moves - 1, from), now);
        }
        if (check == NonceIssuer.Check.INVALID) {
            return false;
        }
        StunKey session = owner.sessionNonce != null && reader.attributeValueEquals(at, owner.sessionNonce)
            ? owner.sessionKey
            : RendezvousProtocol.sessionKey(owner.dh, copyValue(at), owner.nodeKey, serverKey.publicKey(), key);
        if (!verifies(session)) {
            return false;
        }
        ownerOverLimit++;
        return true;
    }

    /** Finds our attributes in one pass and checks their lengths. */
    private void scanAttributes() {
        nameAt = StunReader.NO_ATTRIBUTE;
        natAt = StunReader.NO_ATTRIBUTE;
        listAfterAt = StunReader.NO_ATTRIBUTE;
        textAt = StunReader.NO_ATTRIBUTE;
        lifetimeAt = StunReader.NO_ATTRIBUTE;
        candidateAt = StunReader.NO_ATTRIBUTE;
        candidateCount = 0;
        hostCount = 0;
        badAttribute = false;
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            int length = reader.attributeLength(at);
            switch (reader.attributeType(at)) {
                case ATTR_PEER_NAME -> {
                    if (nameAt == StunReader.NO_ATTRIBUTE) {
                        nameAt = at;
                    }
                }
                case ATTR_HOST_CANDIDATE -> {
                    if (hostCount < MAX_SCANNED_HOST_CANDIDATES) {
                        hostAt[hostCount] = at;
                    }
                    hostCount++;
                    badAttribute |= !RendezvousAttributes.isHostCandidate(reader.buffer(),
                        reader.attributeValueIndex(at), length);
                }
                case ATTR_NAT_PROFILE -> {
                    if (natAt == StunReader.NO_ATTRIBUTE) {
                        natAt = at;
                        badAttribute |= length > RendezvousProtocol.MAX_NAT_PROFILE_BYTES;
                    }
                }
                case ATTR_REGISTRATION_LIFETIME -> {
                    if (lifetimeAt == StunReader.NO_ATTRIBUTE) {
                        lifetimeAt = at;
                        badAttribute |= length != 4;
                    }
                }
                case ATTR_LIST_AFTER -> {
                    if (listAfterAt == StunReader.NO_ATTRIBUTE) {
                        listAfterAt = at;
                    }
                }
                case ATTR_PEER_CANDIDATE -> {
                    if (candidateAt == StunReader.NO_ATTRIBUTE) {
                        candidateAt = at;
                    }
                    candidateCount++;
                    badAttribute |= RendezvousAttributes.readPeerCandidate(reader.buffer(),
                        reader.attributeValueIndex(at), length) == null;
                }
                case ATTR_MESSAGE_TEXT -> {
                    if (textAt == StunReader.NO_ATTRIBUTE) {
                        textAt = at;
                        badAttribute |= length == 0 || length > RendezvousProtocol.MAX_MESSAGE_TEXT_BYTES;
                    }
                }
                default -> {
                    // Other attributes (NONCE, PADDING, SOFTWARE, unknown optional ones) are ignored here.
                }
            }
        }
    }

    // ---- REGISTER ---------------------------------------------------------------------------------

    private void onRegister() {
        if (nameAt == StunReader.NO_ATTRIBUTE || requestKey == null) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "REGISTER needs PEER-NAME and a 32-byte NODE-KEY");
            return;
        }
        if (hostCount > RendezvousProtocol.MAX_HOST_CANDIDATES) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST,
                "at most " + RendezvousProtocol.MAX_HOST_CANDIDATES + " host candidates, got " + hostCount);
            return;
        }
        Entry atAddress = table.byAddress(sender);
        if (atAddress != null && Arrays.equals(atAddress.nodeKey, requestKey) && unchanged(atAddress)
            && (lifetimeAt == StunReader.NO_ATTRIBUTE || reader.uint32(lifetimeAt) != 0)) {
            refreshes++;
            table.refresh(atAddress, nowNs);
            sendRegisterSuccess();
            return;
        }
        String name = decodeName(nameAt);
        if (name == null) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "invalid peer name: " + nameProblem(nameAt));
            return;
        }
        Entry holder = table.byName(name);
        Entry owned = holder != null && Arrays.equals(holder.nodeKey, requestKey) ? holder : null;
        if (lifetimeAt != StunReader.NO_ATTRIBUTE && reader.uint32(lifetimeAt) == 0) {
            // Deregistration: only the key that holds the name may end its registration early.
            if (owned != null) {
                table.remove(owned);
                deregistered++;
            }
            beginResponse(StunClass.SUCCESS_RESPONSE);
            writer.addUInt32(ATTR_REGISTRATION_LIFETIME, 0);
            finishAndSend();
            return;
        }
        if (holder != null && owned == null) {
            nameConflicts++;
            sendError(RendezvousProtocol.ERROR_NAME_TAKEN, "name '" + name + "' is registered to another key;"
                + " it is freed when that node shuts down, or " + (config.registrationLifetimeNs() / 1_000_000_000L)
                + " s after its last refresh if it stops");
            return;
        }
        if (owned != null && !owned.address.equals(sender) && !moveNonceValid) {
            // The owner moved (a new address, a restart): one more round trip with a nonce for this move, so
            // that a REGISTER recorded earlier and replayed from an old address cannot move the name back.
            movesChallenged++;
            sendStaleNonce(moveNonce(owned));
            return;
        }
        if (overQuota(owned, atAddress)) {
            return;
        }
        if (owned == null && atAddress == null && table.isFull()) {
            serverFull++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, "server full: " + table.capacity() + " peers are registered");
            return;
        }
        int moves = 0;
        if (owned != null) {
            moves = owned.address.equals(sender) ? owned.moves : owned.moves + 1;
            table.remove(owned);
            replaced++;
        }
        if (atAddress != null && atAddress != owned) {
            // A new node on the very socket address of the old one: the old one is necessarily gone.
            table.remove(atAddress);
            replaced++;
        }
        byte[][] hosts = new byte[hostCount][];
        for (int i = 0; i < hostCount; i++) {
            hosts[i] = copyValue(hostAt[i]);
        }
        byte[] nat = natAt == StunReader.NO_ATTRIBUTE ? null : copyValue(natAt);
        Entry registration = new Entry(name, copyValue(nameAt), requestKey, requestDh, moves, sender, hosts, nat);
        rememberSession(registration);
        table.add(registration, nowNs);
        registered++;
        armExpiryTimer();
        sendRegisterSuccess();
    }

    /**
     * Refuses (508, counted) a REGISTER that would leave its source address or network with more live
     * registrations than the quota allows. What the REGISTER replaces is subtracted first: a refresh, a
     * change of candidates, another name from the same socket, or a re-registration by the owner's key
     * from the same address never adds a registration there, so a holder is never refused; a name moving
     * in from another address or network counts as new there, or a source could gather names from
     * elsewhere without bound.
     */
    private boolean overQuota(Entry holder, Entry atAddress) {
        RegistrationQuotas quotas = table.quotas();
        long addressKey = senderQuotaKey(atAddress);
        long prefixKey = RegistrationQuotas.prefixOf(addressKey);
        int freedAtAddress = 0;
        int freedInPrefix = 0;
        if (holder != null) {
            freedAtAddress += holder.addressKey == addressKey ? 1 : 0;
            freedInPrefix += holder.prefixKey == prefixKey ? 1 : 0;
        }
        if (atAddress != null && atAddress != holder) {
            freedAtAddress++;
            freedInPrefix++;
        }
        if (quotas.atAddress(addressKey) - freedAtAddress >= quotas.maxPerAddress()) {
            addressQuotaRefused++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, addressQuotaReason);
            return true;
        }
        if (quotas.inPrefix(prefixKey) - freedInPrefix >= quotas.maxPerPrefix()) {
            prefixQuotaRefused++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, prefixQuotaReason);
            return true;
        }
        return false;
    }

    /**
     * The sender's {@link RegistrationQuotas#addressKey}: from its registration if it has one, else from
     * the last source derived if it is the same IP (compared in place), else derived from the address.
     */
    private long senderQuotaKey(Entry atAddress) {
        if (atAddress != null) {
            return atAddress.addressKey;
        }
        InetAddress ip = sender.getAddress();
        if (!ip.equals(quotaKeyOf)) {
            quotaKey = RegistrationQuotas.addressKey(ip);
            quotaKeyOf = ip;
        }
        return quotaKey;
    }

    // ---- DEREGISTER -------------------------------------------------------------------------------

    /**
     * Ends the sender's own registration. Ownership is what the session key proved: the registration of
     * the request's NODE-KEY, under the request's name. An unknown name, a name held by another key, a
     * request without a key and a second DEREGISTER all get the same 403, which names nothing, so the
     * answer reveals no other registration.
     */
    private void onDeregister() {
        if (nameAt == StunReader.NO_ATTRIBUTE) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "DEREGISTER needs PEER-NAME and NODE-KEY");
            return;
        }
        String name = decodeName(nameAt);
        Entry owned = requestKey == null || name == null ? null : table.byName(name);
        if (owned == null || !Arrays.equals(owned.nodeKey, requestKey)) {
            deregistrationsRefused++;
            sendError(RendezvousProtocol.ERROR_NOT_REGISTERED, "no such registration of this key");
            return;
        }
        table.remove(owned);
        deregistered++;
        beginResponse(StunClass.SUCCESS_RESPONSE);
        writer.addUInt32(ATTR_REGISTRATION_LIFETIME, 0);
        finishAndSend();
    }

    /** Whether the REGISTER being handled repeats {@code registration} exactly (compared in place). */
    private boolean unchanged(Entry registration) {
        if (!reader.attributeValueEquals(nameAt, registration.nameBytes)
            || hostCount != registration.hostCandidates.length) {
            return false;
        }
        for (int i = 0; i < hostCount; i++) {
            if (!reader.attributeValueEquals(hostAt[i], registration.hostCandidates[i])) {
                return false;
            }
        }
        if (natAt == StunReader.NO_ATTRIBUTE) {
            return registration.natProfile == null;
        }
        return registration.natProfile != null && reader.attributeValueEquals(natAt, registration.natProfile);
    }

    private void sendRegisterSuccess() {
        beginResponse(StunClass.SUCCESS_RESPONSE);
        writer.addXorAddress(StunAttributeType.XOR_MAPPED_ADDRESS, sender);
        writer.addUInt32(ATTR_REFRESH_INTERVAL, millis(config.refreshIntervalNs()));
        writer.addUInt32(ATTR_REGISTRATION_LIFETIME, millis(config.registrationLifetimeNs()));
        writer.addBytes(ATTR_SERVER_KEY, serverKey.publicKey());
        finishAndSend();
    }

    // ---- LIST_PEERS -------------------------------------------------------------------------------

    private void onListPeers() {
        if (!config.allowList()) {
            listsRefused++;
            sendError(RendezvousProtocol.ERROR_NOT_REGISTERED, "listing is disabled on this server");
            return;
        }
        String after = null;
        if (listAfterAt != StunReader.NO_ATTRIBUTE) {
            after = decodeName(listAfterAt);
            if (after == null) {
                badRequests++;
                sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "LIST-AFTER is not a valid peer name");
                return;
            }
        }
        lists++;
        beginResponse(StunClass.SUCCESS_RESPONSE);
        writer.addUInt32(ATTR_PEER_COUNT, table.size());
        // Room for what must follow the names: LIST-AFTER at its largest, then integrity and fingerprint.
        int reserved = attributeSize(PeerNames.MAX_NAME_BYTES) + trailerSize();
        int size = StunHeader.HEADER_LENGTH + attributeSize(4);
        int listed = 0;
        Entry last = null;
        Iterator<Entry> names = table.after(after);
        boolean more = false;
        while (names.hasNext()) {
            Entry next = names.next();
            int nameSize = attributeSize(next.nameBytes.length);
            if (listed == config.maxNamesPerPage() || size + nameSize + reserved > budget) {
                more = true;
                break;
            }
            writer.addBytes(ATTR_PEER_NAME, next.nameBytes);
            size += nameSize;
            listed++;
            last = next;
        }
        if (more && last != null) {
            writer.addBytes(ATTR_LIST_AFTER, last.nameBytes);
        }
        finishAndSend();
    }

    // ---- CONNECT ----------------------------------------------------------------------------------

    private void onConnect() {
        Relay repeat = repeatedRequest();
        if (repeat != null) {
            sendConnectSuccess(repeat.introductionId, repeat.peerKey);
            return;
        }
        Entry requester = requireRegisteredSender("CONNECT");
        if (requester == null) {
            return;
        }
        Entry target = requireTarget("CONNECT");
        if (target == null) {
            return;
        }
        if (target == requester) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "cannot CONNECT to yourself ('" + target.name + "')");
            return;
        }
        if (outbound.pendingCount() + 2 > config.maxOutboundRequests() || !roomForRelay()) {
            serverFull++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, "server busy: too many introductions in progress");
            return;
        }
        connects++;
        long introductionId = random.nextLong();
        Credentials requesterCredentials = Credentials.random(random);
        Credentials targetCredentials = Credentials.random(random);
        Relay relay = remember(new Relay(reader.transactionIdHigh(), reader.transactionIdLow(), introductionId,
            target.nodeKey, nowNs));
        // Both in the same turn of the loop, so both peers start checking at the same moment (± path delay).
        introduce(relay, requester, target, requesterCredentials, targetCredentials, RendezvousProtocol.ROLE_CONTROLLING);
        introduce(relay, target, requester, targetCredentials, requesterCredentials, RendezvousProtocol.ROLE_CONTROLLED);
        sendConnectSuccess(introductionId, target.nodeKey);
    }

    private void sendConnectSuccess(long introductionId, byte[] peerKey) {
        beginResponse(StunClass.SUCCESS_RESPONSE);
        writer.addUInt64(ATTR_INTRODUCTION_ID, introductionId);
        if (peerKey != null) {
            // Null only for a CONNECT that reuses the transaction id of an earlier MESSAGE or CANDIDATE.
            writer.addBytes(ATTR_PEER_KEY, peerKey);
        }
        finishAndSend();
    }

    /** Starts the INTRODUCTION to {@code recipient} about {@code peer}. */
    private void introduce(Relay relay, Entry recipient, Entry peer, Credentials local,
                           Credentials remote, int role) {
        byte[] reflexive = serverReflexiveCandidate(peer);
        String localText = local.ufrag() + ":" + local.password();
        String remoteText = remote.ufrag() + ":" + remote.password();
        byte[] offer = relayOfferFor(recipient, peer, relay.introductionId, role);
        StunKey signing = recipient.sessionKey;
        introductionsSent++;
        outbound.request(recipient.address, RendezvousProtocol.METHOD_INTRODUCTION, w -> {
            w.addUInt64(ATTR_INTRODUCTION_ID, relay.introductionId);
            w.addBytes(ATTR_PEER_NAME, peer.nameBytes);
            w.addBytes(ATTR_PEER_KEY, peer.nodeKey);
            for (byte[] host : peer.hostCandidates) {
                w.addBytes(ATTR_PEER_CANDIDATE, peerCandidate(RendezvousProtocol.CANDIDATE_HOST, host));
            }
            if (reflexive != null) {
                w.addBytes(ATTR_PEER_CANDIDATE, reflexive);
            }
            w.addString(ATTR_LOCAL_CREDENTIALS, localText);
            w.addString(ATTR_REMOTE_CREDENTIALS, remoteText);
            w.addUInt32(ATTR_ROLE, role);
            if (peer.natProfile != null) {
                w.addBytes(ATTR_NAT_PROFILE, peer.natProfile);
            }
            if (offer != null) {
                w.addBytes(ATTR_RELAY_OFFER, offer);
            }
            signAndFingerprint(w, signing);
        }, new OutboundHandler(recipient.address, signing, true));
    }

    /**
     * The RELAY-OFFER value for {@code recipient} in the introduction {@code introductionId} to {@code peer}
     * (RFC 8656 §9.2 long-term credentials in TURN REST form), or null without a relay. The username is
     * {@code <expiry>:<quota key>.<introduction id>.<role>}: bound to the recipient node and this
     * introduction, valid for the configured lifetime from now. With a relay in this process, the grant
     * of that name lets the recipient relay only to {@code peer} ({@link RelayGrants}).
     */
    private byte[] relayOfferFor(Entry recipient, Entry peer, long introductionId, int role) {
        if (config.relayServer() == null) {
            return null;
        }
        long now = config.unixSeconds().getAsLong();
        long expiry = now + config.relayCredentialLifetimeSeconds();
        String grantId = RelayGrants.grantId(relayQuotaKey(recipient), introductionId, role);
        RelayGrants grants = config.relayGrants();
        if (grants != null) {
            List<InetSocketAddress> hosts = new ArrayList<>(peer.hostCandidates.length);
            for (byte[] host : peer.hostCandidates) {
                WireCandidate candidate = RendezvousAttributes.readHostCandidate(Unpooled.wrappedBuffer(host), 0,
                    host.length);
                if (candidate != null) {
                    hosts.add(candidate.address());
                }
            }
            String reciprocalId = RelayGrants.grantId(relayQuotaKey(peer), introductionId,
                role == RendezvousProtocol.ROLE_CONTROLLING ? RendezvousProtocol.ROLE_CONTROLLED
                    : RendezvousProtocol.ROLE_CONTROLLING);
            grants.issue(grantId, reciprocalId, relayQuotaKey(recipient), relayQuotaKey(peer), peer.address, hosts,
                expiry, now);
        }
        TurnCredentials credentials = config.relayCredentials().issue(grantId, expiry);
        relayOffers++;
        return RendezvousAttributes.relayOffer(new RelayOffer(config.relayServer(), credentials.username(),
            credentials.password(), expiry));
    }

    /**
     * Whose relay quota a registration's allocations count against, and the node part of its relay
     * usernames and grants.
     */
    /**
     * Whom relay allocations count against: the node's X25519 key (base64url, 43 characters), not the name,
     * since one key may hold several names and a name says nothing about who holds it.
     */
    private static String relayQuotaKey(Entry registration) {
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(registration.nodeKey);
    }

    /**
     * A candidate {@code from} trickled to {@code to}: if it reaches the relay of this process, {@code to}'s
     * grant toward {@code from} now includes it (a globally routable address only; {@link RelayGrants#extend}).
     */
    private void grantTrickled(Entry to, Entry from, byte[] candidate) {
        RelayGrants grants = config.relayGrants();
        if (grants == null) {
            return;
        }
        WireCandidate wire = RendezvousAttributes.readPeerCandidate(Unpooled.wrappedBuffer(candidate), 0,
            candidate.length);
        if (wire != null) {
            grants.extend(relayQuotaKey(to), relayQuotaKey(from), wire.address());
        }
    }

    /**
     * The PEER-CANDIDATE of {@code peer}'s observed address, or null if a host candidate already has
     * that address (no NAT: RFC 8445 §5.1.3 drops such a redundant candidate).
     */
    private static byte[] serverReflexiveCandidate(Entry peer) {
        byte[] candidate = new byte[RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES
            + RendezvousAttributes.MAX_HOST_CANDIDATE_BYTES];
        candidate[0] = (byte) RendezvousProtocol.CANDIDATE_SERVER_REFLEXIVE;
        int length = RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES + RendezvousAttributes.writeHostCandidate(
            candidate, RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES, SERVER_REFLEXIVE_PRIORITY, peer.address);
        int addressFrom = RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES + RendezvousAttributes.PRIORITY_BYTES;
        for (byte[] host : peer.hostCandidates) {
            if (host.length + RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES == length
                && Arrays.equals(host, RendezvousAttributes.PRIORITY_BYTES, host.length,
                    candidate, addressFrom, length)) {
                return null;
            }
        }
        return Arrays.copyOf(candidate, length);
    }

    private static byte[] peerCandidate(int type, byte[] hostCandidate) {
        byte[] value = new byte[RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES + hostCandidate.length];
        value[0] = (byte) type;
        System.arraycopy(hostCandidate, 0, value, RendezvousAttributes.PEER_CANDIDATE_PREFIX_BYTES, hostCandidate.length);
        return value;
    }

    // ---- MESSAGE ----------------------------------------------------------------------------------

    private void onMessage() {
        if (repeatedRequest() != null) {
            beginResponse(StunClass.SUCCESS_RESPONSE);
            finishAndSend();
            return;
        }
        Entry from = requireRegisteredSender("MESSAGE");
        if (from == null) {
            return;
        }
        if (textAt == StunReader.NO_ATTRIBUTE) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "MESSAGE needs MESSAGE-TEXT");
            return;
        }
        Entry to = requireTarget("MESSAGE");
        if (to == null) {
            return;
        }
        if (outbound.pendingCount() + 1 > config.maxOutboundRequests() || !roomForRelay()) {
            serverFull++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, "server busy: too many messages in flight");
            return;
        }
        byte[] text = copyValue(textAt);
        remember(new Relay(reader.transactionIdHigh(), reader.transactionIdLow(), 0, null, nowNs));
        messagesForwarded++;
        StunKey signing = to.sessionKey;
        outbound.request(to.address, RendezvousProtocol.METHOD_MESSAGE, w -> {
            w.addBytes(ATTR_PEER_NAME, from.nameBytes);
            w.addBytes(ATTR_PEER_KEY, from.nodeKey);
            w.addBytes(ATTR_MESSAGE_TEXT, text);
            signAndFingerprint(w, signing);
        }, new OutboundHandler(to.address, signing, false));
        beginResponse(StunClass.SUCCESS_RESPONSE);
        finishAndSend();
    }

    // ---- CANDIDATE --------------------------------------------------------------------------------

    /** Trickle: forwards one PEER-CANDIDATE to the named peer, as {@link #onMessage} forwards a text. */
    private void onCandidate() {
        if (repeatedRequest() != null) {
            beginResponse(StunClass.SUCCESS_RESPONSE);
            finishAndSend();
            return;
        }
        Entry from = requireRegisteredSender("CANDIDATE");
        if (from == null) {
            return;
        }
        if (candidateCount != 1) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "CANDIDATE needs exactly one PEER-CANDIDATE, got "
                + candidateCount);
            return;
        }
        Entry to = requireTarget("CANDIDATE");
        if (to == null) {
            return;
        }
        if (to == from) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "cannot send a CANDIDATE to yourself ('" + to.name + "')");
            return;
        }
        if (outbound.pendingCount() + 1 > config.maxOutboundRequests() || !roomForRelay()) {
            serverFull++;
            sendError(RendezvousProtocol.ERROR_SERVER_FULL, "server busy: too many messages in flight");
            return;
        }
        byte[] candidate = copyValue(candidateAt);
        remember(new Relay(reader.transactionIdHigh(), reader.transactionIdLow(), 0, null, nowNs));
        candidatesForwarded++;
        grantTrickled(to, from, candidate);
        StunKey signing = to.sessionKey;
        outbound.request(to.address, RendezvousProtocol.METHOD_CANDIDATE, w -> {
            w.addBytes(ATTR_PEER_NAME, from.nameBytes);
            w.addBytes(ATTR_PEER_KEY, from.nodeKey);
            w.addBytes(ATTR_PEER_CANDIDATE, candidate);
            signAndFingerprint(w, signing);
        }, new OutboundHandler(to.address, signing, false));
        beginResponse(StunClass.SUCCESS_RESPONSE);
        finishAndSend();
    }

    // ---- helpers shared by CONNECT, MESSAGE and CANDIDATE -----------------------------------------

    /** The relay started by this very request (a retransmission of it), or null. */
    private Relay repeatedRequest() {
        Relay relay = relays.get(reader.transactionIdHigh());
        return relay != null && relay.requestIdLow == reader.transactionIdLow() ? relay : null;
    }

    /**
     * The sender's registration: the request carried a NODE-KEY its session key authenticated, and that
     * key's registration is at the sender's address. Anything else is 403 (counted), naming nothing.
     */
    private Entry requireRegisteredSender(String method) {
        Entry registration = table.byAddress(sender);
        if (requestKey == null || registration == null || !Arrays.equals(registration.nodeKey, requestKey)) {
            notRegisteredSenders++;
            sendError(RendezvousProtocol.ERROR_NOT_REGISTERED, method + " is only for registered nodes,"
                + " authenticated by their key: REGISTER first");
            return null;
        }
        return registration;
    }

    private Entry requireTarget(String method) {
        if (nameAt == StunReader.NO_ATTRIBUTE) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, method + " needs PEER-NAME");
            return null;
        }
        String name = decodeName(nameAt);
        if (name == null) {
            badRequests++;
            sendError(RendezvousProtocol.ERROR_BAD_REQUEST, "invalid peer name: " + nameProblem(nameAt));
            return null;
        }
        Entry target = table.byName(name);
        if (target == null) {
            peerNotFound++;
            beginResponse(StunClass.ERROR_RESPONSE);
            // Names nothing else: the answer says only that this name is not registered.
            writer.addErrorCode(RendezvousProtocol.ERROR_PEER_NOT_FOUND, "peer '" + name + "' is not registered");
            finishAndSend();
        }
        return target;
    }

    /** Whether another request can be remembered, after forgetting those older than {@link #RELAY_MEMORY_NS}. */
    private boolean roomForRelay() {
        for (Relay oldest = relaysByAge.peekFirst(); oldest != null && nowNs - oldest.createdNs >= RELAY_MEMORY_NS;
             oldest = relaysByAge.peekFirst()) {
            relaysByAge.pollFirst();
            if (relays.get(oldest.requestIdHigh) == oldest) {
                relays.remove(oldest.requestIdHigh);
            }
        }
        return relaysByAge.size() < RELAY_MEMORY_FACTOR * config.maxOutboundRequests();
    }

    private Relay remember(Relay relay) {
        relays.put(relay.requestIdHigh, relay);
        relaysByAge.addLast(relay);
        return relay;
    }

    private void onOutboundEnded(boolean introduction, boolean acknowledged) {
        if (introduction) {
            if (acknowledged) {
                introductionsAcked++;
            } else {
                introductionsUnacked++;
            }
        }
    }

    // ---- writing responses ------------------------------------------------------------------------

    private StunWriter beginResponse(StunClass messageClass) {
        return responder.begin(endpoint.allocator(), RESPONSE_CAPACITY, reader, messageClass);
    }

    private void sendError(int code, String reason) {
        beginResponse(StunClass.ERROR_RESPONSE).addErrorCode(code, reason);
        finishAndSend();
    }

    /** RFC 8489 §6.3.1.1: 420 listing the unknown comprehension-required attributes (as many as fit). */
    private void sendUnknownAttributes() {
        responder.beginUnknownAttributes(endpoint.allocator(), RESPONSE_CAPACITY, reader, budget, trailerSize());
        finishAndSend();
    }

    /**
     * Adds a fresh NONCE if the request's is from the previous epoch, then MESSAGE-INTEGRITY-SHA256 if the
     * request was authenticated and FINGERPRINT, and sends, unless the answer is larger than the budget:
     * the request's own size when it passed neither the secret nor the nonce (no amplification), else
     * {@link RendezvousProtocol#MAX_MESSAGE_BYTES}.
     */
    private void finishAndSend() {
        if (rotateNonce) {
            writer.addBytes(StunAttributeType.NONCE, nonces.issue(sender, nowNs));
        }
        ByteBuf out = responder.finish(StunResponder.Integrity.HMAC_SHA256, responseKey, true);
        if (out.readableBytes() > budget) {
            out.release();
            amplificationDrops++;
            return;
        }
        responsesSent++;
        if (!endpoint.send(out, sender)) {
            sendFailures++;
        }
    }

    /** Signs a request to a node with its session key (which includes the secret's key, if any). */
    private static void signAndFingerprint(StunWriter w, StunKey signing) {
        if (signing != null) {
            w.addMessageIntegritySha256(signing);
        }
        w.addFingerprint();
    }

    /** Bytes of the attributes every answer ends with: NONCE if rotated, integrity if signed, FINGERPRINT. */
    private int trailerSize() {
        return (rotateNonce ? attributeSize(nonces.length()) : 0) + (responseKey != null ? attributeSize(32) : 0)
            + attributeSize(4);
    }

    private static int attributeSize(int valueLength) {
        return StunResponder.attributeSize(valueLength);
    }

    private static int millis(long ns) {
        return (int) Math.min(Integer.MAX_VALUE, ns / 1_000_000L);
    }

    private String decodeName(int at) {
        int length = reader.attributeLength(at);
        if (length < 1 || length > PeerNames.MAX_NAME_BYTES) {
            return null;
        }
        reader.copyAttributeValue(at, nameScratch, 0);
        return PeerNames.decode(nameScratch, 0, length);
    }

    private String nameProblem(int at) {
        int length = reader.attributeLength(at);
        if (length < 1 || length > PeerNames.MAX_NAME_BYTES) {
            return "a name is 1 to " + PeerNames.MAX_NAME_BYTES + " bytes of UTF-8, got " + length;
        }
        reader.copyAttributeValue(at, nameScratch, 0);
        String lenient = new String(nameScratch, 0, length, StandardCharsets.UTF_8);
        String problem = PeerNames.problem(lenient);
        return problem != null ? problem : "not valid UTF-8";
    }

    private byte[] copyValue(int at) {
        byte[] value = new byte[reader.attributeLength(at)];
        reader.copyAttributeValue(at, value, 0);
        return value;
    }

    // ---- expiry -----------------------------------------------------------------------------------

    private void armExpiryTimer() {
        if (expiryTimerId == TimerService.NO_TIMER && table.size() > 0) {
            expiryTimerId = endpoint.timers().schedule(table.nextExpiryNs(), expiryHandler);
        }
    }

    private void onExpiryTimer(long now, long timerId) {
        if (timerId != expiryTimerId || closed) {
            return;
        }
        expiryTimerId = TimerService.NO_TIMER;
        expired += table.expire(now);
        armExpiryTimer();
    }

    /**
     * A CONNECT or MESSAGE that started outbound requests, remembered by its transaction id for
     * {@link #RELAY_MEMORY_NS}.
     */
    private static final class Relay {
        final long requestIdHigh;
        final int requestIdLow;
        /** The INTRODUCTION-ID of a CONNECT; 0 for a MESSAGE. */
        final long introductionId;
        /** The target's NODE-KEY of a CONNECT; null for a MESSAGE. */
        final byte[] peerKey;
        final long createdNs;

        Relay(long requestIdHigh, int requestIdLow, long introductionId, byte[] peerKey, long createdNs) {
            this.requestIdHigh = requestIdHigh;
            this.requestIdLow = requestIdLow;
            this.introductionId = introductionId;
            this.peerKey = peerKey;
            this.createdNs = createdNs;
        }
    }

    /**
     * Accepts a peer's acknowledgement of an INTRODUCTION or MESSAGE: from the peer's address, signed with
     * the session key the request was signed with.
     */
    private final class OutboundHandler implements StunResponseHandler {
        private final InetSocketAddress peer;
        private final StunKey signing;
        private final boolean introduction;

        OutboundHandler(InetSocketAddress peer, StunKey signing, boolean introduction) {
            this.peer = peer;
            this.signing = signing;
            this.introduction = introduction;
        }

        @Override
        public boolean onResponse(StunReader response, InetSocketAddress source, long now) {
            if (!peer.equals(source)) {
                return false;
            }
            if (signing != null && (!response.hasMessageIntegritySha256()
                || response.verifyMessageIntegritySha256(signing) != StunParseResult.OK)) {
                return false;
            }
            onOutboundEnded(introduction, response.messageClass() == StunClass.SUCCESS_RESPONSE);
            return true;
        }

        @Override
        public void onFailure(StunTransactionFailure failure, long now) {
            onOutboundEnded(introduction, false);
        }
    }

    /** For tests: the outbound transaction client (its counters show retransmissions). */
    public StunClient outboundClient() {
        return outbound;
    }
}
