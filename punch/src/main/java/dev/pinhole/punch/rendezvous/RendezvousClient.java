package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.NameTakenException;
import dev.pinhole.punch.PeerNotFoundException;
import dev.pinhole.punch.RendezvousAuthenticationException;
import dev.pinhole.punch.RendezvousException;
import dev.pinhole.punch.RendezvousUnreachableException;

import dev.pinhole.protocol.rendezvous.NatProfiles;
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
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.protocol.rendezvous.RendezvousAttributes.WireCandidate;
import dev.pinhole.protocol.stun.StunAttributeType;
import dev.pinhole.protocol.stun.StunClass;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunHeader;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunMessageType;
import dev.pinhole.protocol.stun.StunParseResult;
import dev.pinhole.protocol.stun.StunReader;
import dev.pinhole.protocol.stun.StunResponseHandler;
import dev.pinhole.protocol.stun.StunTransaction;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import dev.pinhole.protocol.stun.StunWriter;
import dev.pinhole.protocol.stun.TransactionId;
import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.punch.traversal.Introduction;
import dev.pinhole.protocol.nat.NatProfile;
import dev.pinhole.protocol.rendezvous.RelayOffer;
import dev.pinhole.punch.traversal.IceRole;
import dev.pinhole.reliability.Identity;
import java.security.InvalidKeyException;
import java.security.SecureRandom;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of the rendezvous protocol ({@link RendezvousProtocol}), sans-IO on the
 * {@link DatagramEndpoint} of a {@link StunClient}: the node's one socket, so that the address the
 * server observes is the one peers must reach (docs/architecture.md, principle 2).
 *
 * <ul>
 *   <li>Every request carries NODE-KEY, the X25519 public key of {@link RendezvousClientConfig#identity}
 *       (the node id), and MESSAGE-INTEGRITY-SHA256 under the session key
 *       {@link RendezvousProtocol#sessionKey} of the latest NONCE and the server's SERVER-KEY (the shared
 *       secret's key on a first request, before any nonce). Answers must be signed with the key the request
 *       was signed with, and INTRODUCTION, MESSAGE and CANDIDATE requests with one of the last three session
 *       keys, else they are dropped (counted); a 438 is the exception, taken unsigned (no secret) or signed
 *       with the secret's key, since the server cannot derive the session key of a nonce it no longer
 *       accepts. An on-path attacker can therefore answer a stale request with its own SERVER-KEY and pose
 *       as the server to this client (not to the real server); with a shared secret it cannot.</li>
 *   <li>{@link #register} registers a name with the host candidates and NAT profile, then refreshes it
 *       every {@link Registration#refreshIntervalNs()} (15 s by default, as RFC 8445 §11 keepalives) on
 *       the same socket, which also keeps the NAT mapping alive. A refresh the server does not recognise
 *       (it restarted, or the NAT mapping changed) is answered 438 and repeated with the fresh nonce,
 *       which registers again in full.</li>
 *   <li>{@link #listPeers} pages through the registered names (403 unless the server allows listing).</li>
 *   <li>{@link #connect} asks for an introduction and completes with our {@link Introduction}
 *       (role controlling) when the server's INTRODUCTION arrives; the peer receives its own at the same
 *       moment through {@link RendezvousListener#onIntroduction}.</li>
 *   <li>{@link #sendMessage} relays a short text through the server (the chat command's {@code send <user> <message>}).</li>
 *   <li>{@link #sendCandidate} trickles one more candidate to a peer through the server (in practice the
 *       relayed address allocated with the introduction's {@link RelayOffer}); the peer hears it through
 *       {@link RendezvousListener#onCandidate}.</li>
 *   <li>{@link #deregister} ends the registration at once (DEREGISTER), so the name is free for anyone;
 *       {@link #close} does it too. One short transaction ({@link #DEREGISTER_TIMING}), so that a
 *       shutdown never waits long for a server that is gone.</li>
 * </ul>
 * Requests are STUN transactions with the RFC 8489 §6.2.1 schedule of
 * {@link RendezvousClientConfig#timing()}; failures complete the futures exceptionally with
 * {@link PeerNotFoundException}, {@link NameTakenException}, {@link RendezvousAuthenticationException},
 * {@link RendezvousUnreachableException} or another {@link RendezvousException}.
 *
 * <p><b>Threading.</b> Every method must be called on the endpoint's event loop, and futures complete
 * and listeners run there. On a {@code UdpEventLoop}, submit calls with its {@code execute}.
 *
 * <p><b>Receiving.</b> INTRODUCTION, MESSAGE and CANDIDATE requests from the server reach the client through
 * {@link #handle}, which a node's STUN dispatcher calls for requests the {@link StunClient} did not take;
 * {@link #listen} sets that up for an endpoint the client has to itself.
 */
public final class RendezvousClient implements AutoCloseable {
    /** Introduction and message ids remembered to recognise retransmissions. */
    private static final int RECENT_IDS = 64;
    private static final int MAX_PEER_CANDIDATES = 16;
    /**
     * DEREGISTER's retransmission schedule (RFC 8489 §6.2.1 with a short RTO): sends at 0, 250 and 750 ms,
     * given up at 1.25 s. It runs while its node shuts down, which must stay prompt when the server is
     * unreachable; if all three are lost the name merely expires after its lifetime, as before.
     */
    public static final StunTransactionConfig DEREGISTER_TIMING = new StunTransactionConfig(250_000_000L, 3, 2);

    private final StunClient stun;
    private final DatagramEndpoint endpoint;
    private final InetSocketAddress server;
    private final RendezvousClientConfig config;
    private final StunKey key;
    private final Identity identity;
    private final byte[] nodeKey;
    private final boolean ownsStunClient;
    private final StunReader reader = new StunReader();
    private final StunWriter writer = new StunWriter();
    private final TimerHandler refreshHandler = this::onRefreshTimer;
    private final Set<Call> active = new LinkedHashSet<>();
    private final Map<String, PendingConnect> connects = new HashMap<>();
    private final long[] recentIds = new long[RECENT_IDS];
    private int recentCount;
    private int recentNext;
    private RendezvousListener listener = new RendezvousListener() { };
    /** The session key that verified the request being handled, which signs our answer to it. */
    private StunKey ackKey;
    private byte[] nonce;
    /** The server's X25519 public key, from its last SERVER-KEY, or null before the first. */
    private byte[] serverKey;
    /** X25519(identity, serverKey), or null. */
    private byte[] serverDh;
    /** The nonce {@link #sessionKeys}[0] was derived with. */
    private byte[] sessionNonce;
    /**
     * The session key of the current nonce first, then the two before it: the server signs its requests
     * with the key of our last request it saw, which may lag our newest by a nonce change or two.
     */
    private final StunKey[] sessionKeys = new StunKey[3];
    private boolean closed;

    private List<Attribute> registerBody;
    private NatProfile localNat = NatProfile.UNKNOWN;
    private CompletableFuture<Registration> pendingRegistration;
    private Call registerCall;
    private Registration registration;
    private long refreshTimerId = TimerService.NO_TIMER;
    private Call deregisterCall;
    private CompletableFuture<Boolean> deregistration;

    private long registrations;
    private long reRegistrations;
    private long staleNonceRetries;
    private long refreshFailures;
    private long introductionsReceived;
    private long duplicateIntroductions;
    private long unexpectedIntroductions;
    private long invalidIntroductions;
    private long unauthenticatedRequests;
    private long rejectedResponses;
    private long messagesReceived;
    private long candidatesReceived;

    /**
     * A client that sends through {@code stun} (shared with the node's other STUN users) to the
     * rendezvous server at {@code server}. Incoming requests must be passed to {@link #handle}.
     */
    public RendezvousClient(StunClient stun, InetSocketAddress server, RendezvousClientConfig config) {
        this(stun, server, config, false);
    }

    private RendezvousClient(StunClient stun, InetSocketAddress server, RendezvousClientConfig config,
                             boolean ownsStunClient) {
        this.stun = Objects.requireNonNull(stun, "stun");
        this.endpoint = stun.endpoint();
        this.server = Objects.requireNonNull(server, "server");
        this.config = Objects.requireNonNull(config, "config");
        if (server.isUnresolved()) {
            throw new IllegalArgumentException("the rendezvous server address must be resolved: " + server);
        }
        this.key = config.key();
        this.identity = config.identity() != null ? config.identity() : Identity.generate(new SecureRandom());
        this.nodeKey = identity.x25519PublicKey();
        this.ownsStunClient = ownsStunClient;
    }

    /**
     * A client that has {@code endpoint} to itself: it installs the receiver that offers every datagram
     * to its own {@link StunClient} (responses) and then to {@link #handle} (the server's requests). Call it
     * on the endpoint's event loop, or on a {@code UdpEventLoop} before the loop starts. A node whose socket
     * also carries connectivity checks and transport packets builds the client on its shared
     * {@link StunClient} instead and offers datagrams in this order: traversal, STUN client, this client.
     */
    public static RendezvousClient listen(DatagramEndpoint endpoint, InetSocketAddress server,
                                          RendezvousClientConfig config) {
        StunClient stun = new StunClient(endpoint, config.timing(), config.random());
        RendezvousClient client = new RendezvousClient(stun, server, config, true);
        endpoint.receiver((datagram, sender) -> {
            if (!stun.handle(datagram, sender)) {
                client.handle(datagram, sender);
            }
        });
        return client;
    }

    /** Where introductions and messages for this client are reported (replacing any earlier listener). */
    public RendezvousClient listener(RendezvousListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        return this;
    }

    public InetSocketAddress server() {
        return server;
    }

    /** The current registration, or null before the first success. */
    public Registration registration() {
        return registration;
    }

    /** The identity whose X25519 public key (NODE-KEY) owns this client's name at the server. */
    public Identity identity() {
        return identity;
    }

    /** The server's X25519 public key as it last announced it (a copy), or null before its first answer. */
    public byte[] serverKey() {
        return serverKey == null ? null : serverKey.clone();
    }

    /** The current session key and the two before it (nulls where none), for tests that check signatures. */
    StunKey[] sessionKeys() {
        return sessionKeys.clone();
    }

    public RendezvousClientStats stats() {
        return new RendezvousClientStats(registrations, reRegistrations, staleNonceRetries, refreshFailures,
            introductionsReceived, duplicateIntroductions, unexpectedIntroductions, invalidIntroductions,
            unauthenticatedRequests, rejectedResponses, messagesReceived, candidatesReceived);
    }

    // ---- registration -----------------------------------------------------------------------------

    /** {@link #register(String, List, NatProfile)} without a NAT profile. */
    public CompletableFuture<Registration> register(String name, List<Candidate> hostCandidates) {
        return register(name, hostCandidates, NatProfile.UNKNOWN);
    }

    /**
     * Registers {@code name} with this socket's host candidates and the NAT behaviour measured in front of
     * it, and keeps the registration refreshed until {@link #close()}. Replaces an earlier registration of
     * this client (a pending one fails).
     *
     * @param name           a peer name; normalised to NFC ({@link PeerNames})
     * @param hostCandidates at most {@value RendezvousProtocol#MAX_HOST_CANDIDATES} local addresses peers
     *                       on the same network may reach us at (RFC 8445 §5.1.1.1); may be empty
     * @param natProfile     what NAT discovery measured, passed on to peers; {@link NatProfile#UNKNOWN} if
     *                       nothing was measured (then not sent)
     * @throws IllegalArgumentException if the name or a candidate is invalid
     */
    public CompletableFuture<Registration> register(String name, List<Candidate> hostCandidates, NatProfile natProfile) {
        requireOpen();
        String normalized = PeerNames.normalize(name);
        if (hostCandidates.size() > RendezvousProtocol.MAX_HOST_CANDIDATES) {
            throw new IllegalArgumentException("at most " + RendezvousProtocol.MAX_HOST_CANDIDATES
                + " host candidates can be registered, got " + hostCandidates.size());
        }
        List<Attribute> body = new ArrayList<>();
        body.add(new Attribute(ATTR_PEER_NAME, normalized.getBytes(StandardCharsets.UTF_8)));
        for (Candidate candidate : hostCandidates) {
            if (candidate.address().getPort() == 0) {
                throw new IllegalArgumentException("a host candidate needs a port: " + candidate);
            }
            byte[] value = new byte[RendezvousAttributes.MAX_HOST_CANDIDATE_BYTES];
            int length = RendezvousAttributes.writeHostCandidate(value, 0, candidate.priority(), candidate.address());
            body.add(new Attribute(ATTR_HOST_CANDIDATE, Arrays.copyOf(value, length)));
        }
        NatProfile nat = natProfile == null ? NatProfile.UNKNOWN : natProfile;
        if (!nat.equals(NatProfile.UNKNOWN)) {
            body.add(new Attribute(ATTR_NAT_PROFILE, NatProfiles.encode(nat)));
        }
        if (pendingRegistration != null && !pendingRegistration.isDone()) {
            pendingRegistration.completeExceptionally(new RendezvousException("superseded by a newer register()"));
        }
        if (registerCall != null) {
            registerCall.cancel();
            registerCall = null;
        }
        cancelRefreshTimer();
        if (deregisterCall != null) {
            // Registering again supersedes a DEREGISTER still in flight.
            Call stale = deregisterCall;
            deregisterCall = null;
            stale.cancel();
            deregistration.completeExceptionally(new RendezvousException("superseded by a newer register()"));
        }
        deregistration = null;
        registerBody = List.copyOf(body);
        localNat = nat;
        registration = null;
        CompletableFuture<Registration> future = new CompletableFuture<>();
        pendingRegistration = future;
        startRegister(false);
        return future;
    }

    private void startRegister(boolean refresh) {
        Call call = new Call(RendezvousProtocol.METHOD_REGISTER, registerBody, null, new Outcome() {
            @Override
            public void succeeded(StunReader response, Call self) {
                onRegistered(response, self, refresh);
            }

            @Override
            public void failed(RendezvousException cause, Call self) {
                onRegisterFailed(cause, self, refresh);
            }
        });
        registerCall = call;
        call.start();
    }

    private void onRegistered(StunReader response, Call call, boolean refresh) {
        if (call != registerCall) {
            return;
        }
        registerCall = null;
        InetSocketAddress observed = response.xorMappedAddress();
        long serverIntervalNs = millisAttribute(response, ATTR_REFRESH_INTERVAL);
        long lifetimeNs = millisAttribute(response, ATTR_REGISTRATION_LIFETIME);
        if (observed == null || serverIntervalNs <= 0 || lifetimeNs <= 0) {
            onRegisterFailed(new RendezvousException("the rendezvous server " + server
                + " accepted REGISTER without XOR-MAPPED-ADDRESS, REFRESH-INTERVAL and REGISTRATION-LIFETIME"),
                call, refresh);
            return;
        }
        registrations++;
        if (refresh && call.nonceRetries > 0) {
            reRegistrations++;
        }
        String name = new String(registerBody.get(0).value, StandardCharsets.UTF_8);
        long intervalNs = Math.min(config.refreshIntervalNs(), serverIntervalNs);
        registration = new Registration(name, observed, intervalNs, lifetimeNs);
        armRefreshTimer(intervalNs);
        if (pendingRegistration != null) {
            CompletableFuture<Registration> future = pendingRegistration;
            pendingRegistration = null;
            future.complete(registration);
        }
    }

    private void onRegisterFailed(RendezvousException cause, Call call, boolean refresh) {
        if (call != registerCall) {
            return;
        }
        registerCall = null;
        if (!refresh || closed) {
            CompletableFuture<Registration> future = pendingRegistration;
            pendingRegistration = null;
            registerBody = null;
            if (future != null) {
                future.completeExceptionally(cause);
            }
            return;
        }
        refreshFailures++;
        if (cause instanceof NameTakenException || cause instanceof RendezvousAuthenticationException) {
            registerBody = null;
            registration = null;
            listener.onRegistrationLost(cause);
            return;
        }
        listener.onRefreshFailed(cause);
        armRefreshTimer(registration != null ? registration.refreshIntervalNs() : config.refreshIntervalNs());
    }

    private void armRefreshTimer(long delayNs) {
        cancelRefreshTimer();
        refreshTimerId = endpoint.timers().schedule(endpoint.clock().nanoTime() + delayNs, refreshHandler);
    }

    private void cancelRefreshTimer() {
        if (refreshTimerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(refreshTimerId);
            refreshTimerId = TimerService.NO_TIMER;
        }
    }

    private void onRefreshTimer(long nowNs, long timerId) {
        if (timerId != refreshTimerId || closed || registerBody == null) {
            return;
        }
        refreshTimerId = TimerService.NO_TIMER;
        if (registerCall == null) {
            startRegister(true);
        }
    }

    // ---- LIST_PEERS -------------------------------------------------------------------------------

    /** The first page of registered names. */
    public CompletableFuture<PeerList> listPeers() {
        return listPeers(null);
    }

    /** The page of names after {@code after} ({@link PeerList#nextAfter()} of the previous page). */
    public CompletableFuture<PeerList> listPeers(String after) {
        requireOpen();
        List<Attribute> body = after == null ? List.of()
            : List.of(new Attribute(ATTR_LIST_AFTER, PeerNames.normalize(after).getBytes(StandardCharsets.UTF_8)));
        CompletableFuture<PeerList> future = new CompletableFuture<>();
        new Call(RendezvousProtocol.METHOD_LIST_PEERS, body, null, new Outcome() {
            @Override
            public void succeeded(StunReader response, Call self) {
                List<String> names = new ArrayList<>();
                for (int at = response.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = response.nextAttribute(at)) {
                    if (response.attributeType(at) == ATTR_PEER_NAME) {
                        names.add(response.string(at));
                    }
                }
                int countAt = response.findAttribute(ATTR_PEER_COUNT);
                int count = countAt != StunReader.NO_ATTRIBUTE && response.attributeLength(countAt) == 4
                    ? (int) Math.min(Integer.MAX_VALUE, response.uint32(countAt)) : names.size();
                future.complete(new PeerList(names, count, response.findString(ATTR_LIST_AFTER)));
            }

            @Override
            public void failed(RendezvousException cause, Call self) {
                future.completeExceptionally(cause);
            }
        }).start();
        return future;
    }

    // ---- CONNECT ----------------------------------------------------------------------------------

    /**
     * Asks the server to introduce us to {@code peerName}. Completes with our introduction (role
     * {@link IceRole#CONTROLLING}) when the server's INTRODUCTION arrives; the peer gets its own at the same
     * moment. A second call for the same peer while one is pending returns the same future.
     * Fails with {@link PeerNotFoundException} if the peer is not registered.
     *
     * @throws IllegalArgumentException if the name is not a valid peer name
     */
    public CompletableFuture<Introduction> connect(String peerName) {
        requireOpen();
        String name = PeerNames.normalize(peerName);
        PendingConnect existing = connects.get(name);
        if (existing != null) {
            return existing.future;
        }
        PendingConnect pending = new PendingConnect(name);
        if (registration == null) {
            pending.future.completeExceptionally(new RendezvousException(
                "cannot connect to '" + name + "' before this client is registered: call register() first"));
            return pending.future;
        }
        connects.put(name, pending);
        pending.call = new Call(RendezvousProtocol.METHOD_CONNECT,
            List.of(new Attribute(ATTR_PEER_NAME, name.getBytes(StandardCharsets.UTF_8))), name, new Outcome() {
                @Override
                public void succeeded(StunReader response, Call self) {
                    pending.call = null;
                    if (!pending.future.isDone()) {
                        pending.timerId = endpoint.timers().schedule(
                            endpoint.clock().nanoTime() + config.introductionTimeoutNs(),
                            (now, id) -> failConnect(pending, new RendezvousException("the rendezvous server "
                                + server + " accepted CONNECT to '" + name + "' but its INTRODUCTION did not arrive within "
                                + config.introductionTimeoutNs() / 1_000_000 + " ms")));
                    }
                }

                @Override
                public void failed(RendezvousException cause, Call self) {
                    pending.call = null;
                    failConnect(pending, cause);
                }
            });
        pending.future.whenComplete((introduction, failure) -> {
            if (pending.future.isCancelled()) {
                failConnect(pending, null);
            }
        });
        pending.call.start();
        return pending.future;
    }

    private void failConnect(PendingConnect pending, RendezvousException cause) {
        if (connects.get(pending.name) == pending) {
            connects.remove(pending.name);
        }
        if (pending.timerId != TimerService.NO_TIMER) {
            endpoint.timers().cancel(pending.timerId);
            pending.timerId = TimerService.NO_TIMER;
        }
        if (pending.call != null) {
            pending.call.cancel();
            pending.call = null;
        }
        if (cause != null) {
            pending.future.completeExceptionally(cause);
        }
    }

    // ---- MESSAGE ----------------------------------------------------------------------------------

    /**
     * Relays {@code text} (at most {@value RendezvousProtocol#MAX_MESSAGE_TEXT_BYTES} bytes of UTF-8)
     * through the server to {@code peerName}. Completes when the server accepted it for forwarding; the
     * server retransmits it to the peer until acknowledged, but does not report delivery.
     */
    public CompletableFuture<Void> sendMessage(String peerName, String text) {
        requireOpen();
        String name = PeerNames.normalize(peerName);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0 || bytes.length > RendezvousProtocol.MAX_MESSAGE_TEXT_BYTES) {
            throw new IllegalArgumentException("a message is 1 to " + RendezvousProtocol.MAX_MESSAGE_TEXT_BYTES
                + " bytes of UTF-8, got " + bytes.length);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        new Call(RendezvousProtocol.METHOD_MESSAGE, List.of(
            new Attribute(ATTR_PEER_NAME, name.getBytes(StandardCharsets.UTF_8)), new Attribute(ATTR_MESSAGE_TEXT, bytes)),
            name, new Outcome() {
                @Override
                public void succeeded(StunReader response, Call self) {
                    future.complete(null);
                }

                @Override
                public void failed(RendezvousException cause, Call self) {
                    future.completeExceptionally(cause);
                }
            }).start();
        return future;
    }

    // ---- CANDIDATE (trickle) ----------------------------------------------------------------------

    /**
     * Sends {@code candidate} (any type; in practice a {@link dev.pinhole.protocol.ice.CandidateType#RELAYED}
     * one) through the server to {@code peerName}, whose listener gets it through
     * {@link RendezvousListener#onCandidate}. Completes when the server accepted it for forwarding; the
     * server retransmits it to the peer until acknowledged, but does not report delivery. Fails with
     * {@link PeerNotFoundException} if the peer is not registered.
     *
     * @throws IllegalArgumentException if the name is invalid or the candidate has port 0
     */
    public CompletableFuture<Void> sendCandidate(String peerName, Candidate candidate) {
        requireOpen();
        String name = PeerNames.normalize(peerName);
        Objects.requireNonNull(candidate, "candidate");
        if (candidate.address().getPort() == 0) {
            throw new IllegalArgumentException("a candidate needs a port: " + candidate);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        new Call(RendezvousProtocol.METHOD_CANDIDATE, List.of(
            new Attribute(ATTR_PEER_NAME, name.getBytes(StandardCharsets.UTF_8)),
            new Attribute(ATTR_PEER_CANDIDATE, RendezvousAttributes.peerCandidate(candidate))),
            name, new Outcome() {
                @Override
                public void succeeded(StunReader response, Call self) {
                    future.complete(null);
                }

                @Override
                public void failed(RendezvousException cause, Call self) {
                    future.completeExceptionally(cause);
                }
            }).start();
        return future;
    }

    // ---- requests from the server -----------------------------------------------------------------

    /**
     * Offers a STUN datagram: INTRODUCTION, MESSAGE and CANDIDATE requests from the server are
     * acknowledged and delivered. Never throws for any content.
     *
     * @return true if it was such a request (consumed, even if it was invalid and answered 400 or failed
     *     authentication and was dropped); false for anything else, for another handler
     */
    public boolean handle(ByteBuf datagram, InetSocketAddress sender) {
        if (closed || !server.equals(sender)) {
            return false;
        }
        if (reader.wrap(datagram) != StunParseResult.OK || reader.messageClass() != StunClass.REQUEST) {
            return false;
        }
        int method = reader.method();
        if (method != RendezvousProtocol.METHOD_INTRODUCTION && method != RendezvousProtocol.METHOD_MESSAGE
            && method != RendezvousProtocol.METHOD_CANDIDATE) {
            return false;
        }
        // Only the server can sign with our session key: nobody else can forge an introduction or a message.
        ackKey = null;
        if (reader.hasMessageIntegritySha256()) {
            for (StunKey candidate : sessionKeys) {
                if (candidate != null && reader.verifyMessageIntegritySha256(candidate) == StunParseResult.OK) {
                    ackKey = candidate;
                    break;
                }
            }
        }
        if (ackKey == null) {
            unauthenticatedRequests++;
            return true;
        }
        switch (method) {
            case RendezvousProtocol.METHOD_INTRODUCTION -> onIntroductionRequest();
            case RendezvousProtocol.METHOD_CANDIDATE -> onCandidateRequest();
            default -> onMessageRequest();
        }
        return true;
    }

    private void onIntroductionRequest() {
        int idAt = reader.findAttribute(ATTR_INTRODUCTION_ID);
        if (idAt == StunReader.NO_ATTRIBUTE || reader.attributeLength(idAt) != RendezvousProtocol.ID_BYTES) {
            rejectRequest("INTRODUCTION without an 8-byte INTRODUCTION-ID");
            return;
        }
        long id = reader.uint64(idAt);
        if (seen(id)) {
            duplicateIntroductions++;
            acknowledge();
            return;
        }
        Introduction introduction;
        try {
            introduction = decodeIntroduction();
        } catch (IllegalArgumentException e) {
            rejectRequest("invalid INTRODUCTION: " + e.getMessage());
            return;
        }
        acknowledge();
        remember(id);
        introductionsReceived++;
        PendingConnect pending = connects.get(introduction.peerName());
        if (introduction.role() == IceRole.CONTROLLING) {
            if (pending == null) {
                unexpectedIntroductions++;
                return;
            }
            failConnect(pending, null);
            pending.future.complete(introduction);
        } else {
            listener.onIntroduction(introduction);
        }
    }

    /** Decodes the INTRODUCTION in {@link #reader}; throws IllegalArgumentException saying what is wrong. */
    private Introduction decodeIntroduction() {
        String peerName = null;
        List<Candidate> candidates = new ArrayList<>();
        Credentials local = null;
        Credentials remote = null;
        IceRole role = null;
        NatProfile peerNat = NatProfile.UNKNOWN;
        RelayOffer relay = null;
        byte[] peerKey = null;
        for (int at = reader.firstAttribute(); at != StunReader.NO_ATTRIBUTE; at = reader.nextAttribute(at)) {
            int value = reader.attributeValueIndex(at);
            int length = reader.attributeLength(at);
            switch (reader.attributeType(at)) {
                case ATTR_PEER_NAME -> {
                    byte[] bytes = new byte[length];
                    reader.copyAttributeValue(at, bytes, 0);
                    peerName = PeerNames.decode(bytes, 0, length);
                    if (peerName == null) {
                        throw new IllegalArgumentException("PEER-NAME is not a valid name");
                    }
                }
                case ATTR_PEER_CANDIDATE -> {
                    WireCandidate wire = RendezvousAttributes.readPeerCandidate(reader.buffer(), value, length);
                    if (wire == null) {
                        throw new IllegalArgumentException("malformed PEER-CANDIDATE");
                    }
                    if (candidates.size() == MAX_PEER_CANDIDATES) {
                        throw new IllegalArgumentException("more than " + MAX_PEER_CANDIDATES + " PEER-CANDIDATEs");
                    }
                    candidates.add(RendezvousAttributes.toCandidate(wire));
                }
                case ATTR_LOCAL_CREDENTIALS -> local = credentials(reader.string(at));
                case ATTR_REMOTE_CREDENTIALS -> remote = credentials(reader.string(at));
                case ATTR_ROLE -> {
                    if (length != 4) {
                        throw new IllegalArgumentException("ROLE is 4 bytes");
                    }
                    long code = reader.uint32(at);
                    role = code == RendezvousProtocol.ROLE_CONTROLLING ? IceRole.CONTROLLING
                        : code == RendezvousProtocol.ROLE_CONTROLLED ? IceRole.CONTROLLED : null;
                    if (role == null) {
                        throw new IllegalArgumentException("unknown ROLE " + code);
                    }
                }
                case ATTR_NAT_PROFILE -> peerNat = NatProfiles.decode(reader.buffer(), value, length);
                case ATTR_PEER_KEY -> {
                    if (length != RendezvousProtocol.KEY_BYTES) {
                        throw new IllegalArgumentException("PEER-KEY is 32 bytes");
                    }
                    peerKey = new byte[length];
                    reader.copyAttributeValue(at, peerKey, 0);
                }
                case ATTR_RELAY_OFFER -> {
                    relay = RendezvousAttributes.readRelayOffer(reader.buffer(), value, length);
                    if (relay == null) {
                        throw new IllegalArgumentException("malformed RELAY-OFFER");
                    }
                }
                default -> {
                    // Unknown comprehension-optional attributes are ignored (RFC 8489 §14).
                }
            }
        }
        if (peerName == null || peerKey == null || local == null || remote == null || role == null) {
            throw new IllegalArgumentException(
                "PEER-NAME, PEER-KEY, LOCAL-CREDENTIALS, REMOTE-CREDENTIALS and ROLE are required");
        }
        return new Introduction(peerName, candidates, local, remote, role, peerNat, localNat, relay, peerKey);
    }

    private static Credentials credentials(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("credentials are ufrag:password");
        }
        return new Credentials(text.substring(0, colon), text.substring(colon + 1));
    }


    private void onMessageRequest() {
        int nameAt = reader.findAttribute(ATTR_PEER_NAME);
        int textAt = reader.findAttribute(ATTR_MESSAGE_TEXT);
        byte[] fromKey = peerKey();
        if (nameAt == StunReader.NO_ATTRIBUTE || textAt == StunReader.NO_ATTRIBUTE || fromKey == null
            || reader.attributeLength(textAt) > RendezvousProtocol.MAX_MESSAGE_TEXT_BYTES) {
            rejectRequest("MESSAGE needs PEER-NAME, PEER-KEY and MESSAGE-TEXT");
            return;
        }
        long id = reader.transactionIdHigh() ^ reader.transactionIdLow();
        acknowledge();
        if (seen(id)) {
            return;
        }
        remember(id);
        messagesReceived++;
        listener.onMessage(reader.string(nameAt), fromKey, reader.string(textAt));
    }

    private void onCandidateRequest() {
        int nameAt = reader.findAttribute(ATTR_PEER_NAME);
        int candidateAt = reader.findAttribute(ATTR_PEER_CANDIDATE);
        byte[] fromKey = peerKey();
        if (nameAt == StunReader.NO_ATTRIBUTE || candidateAt == StunReader.NO_ATTRIBUTE || fromKey == null) {
            rejectRequest("CANDIDATE needs PEER-NAME, PEER-KEY and PEER-CANDIDATE");
            return;
        }
        int nameLength = reader.attributeLength(nameAt);
        String from = null;
        if (nameLength >= 1 && nameLength <= PeerNames.MAX_NAME_BYTES) {
            byte[] bytes = new byte[nameLength];
            reader.copyAttributeValue(nameAt, bytes, 0);
            from = PeerNames.decode(bytes, 0, nameLength);
        }
        WireCandidate wire = RendezvousAttributes.readPeerCandidate(reader.buffer(),
            reader.attributeValueIndex(candidateAt), reader.attributeLength(candidateAt));
        if (from == null || wire == null) {
            rejectRequest("CANDIDATE with an invalid PEER-NAME or a malformed PEER-CANDIDATE");
            return;
        }
        long id = reader.transactionIdHigh() ^ reader.transactionIdLow();
        acknowledge();
        if (seen(id)) {
            return;
        }
        remember(id);
        candidatesReceived++;
        listener.onCandidate(from, fromKey, RendezvousAttributes.toCandidate(wire));
    }

    /** The request's PEER-KEY value, or null if absent or not 32 bytes. */
    private byte[] peerKey() {
        int at = reader.findAttribute(ATTR_PEER_KEY);
        if (at == StunReader.NO_ATTRIBUTE || reader.attributeLength(at) != RendezvousProtocol.KEY_BYTES) {
            return null;
        }
        byte[] value = new byte[RendezvousProtocol.KEY_BYTES];
        reader.copyAttributeValue(at, value, 0);
        return value;
    }

    /**
     * The key a request is signed with: the session key of the current nonce and server key (derived
     * once per nonce), else the shared secret's key (a first request, before any nonce), else null.
     */
    private StunKey requestKey() {
        if (nonce == null || serverDh == null) {
            return key;
        }
        if (sessionNonce == null || !Arrays.equals(sessionNonce, nonce)) {
            sessionKeys[2] = sessionKeys[1];
            sessionKeys[1] = sessionKeys[0];
            sessionKeys[0] = RendezvousProtocol.sessionKey(serverDh, nonce, nodeKey, serverKey, key);
            sessionNonce = nonce;
        }
        return sessionKeys[0];
    }

    /** Takes a SERVER-KEY from an answer; a new one (a restarted server) replaces the cached X25519 output. */
    private void learnServerKey(StunReader response) {
        int at = response.findAttribute(ATTR_SERVER_KEY);
        if (at == StunReader.NO_ATTRIBUTE || response.attributeLength(at) != RendezvousProtocol.KEY_BYTES
            || (serverKey != null && response.attributeValueEquals(at, serverKey))) {
            return;
        }
        byte[] announced = new byte[RendezvousProtocol.KEY_BYTES];
        response.copyAttributeValue(at, announced, 0);
        try {
            serverDh = identity.dh(announced);
            serverKey = announced;
            sessionNonce = null;
        } catch (InvalidKeyException e) {
            rejectedResponses++;
        }
    }

    private void acknowledge() {
        ByteBuf out = endpoint.allocator().buffer(64);
        writer.begin(out, StunMessageType.of(reader.method(), StunClass.SUCCESS_RESPONSE), reader.transactionIdHigh(),
            reader.transactionIdLow());
        finishAndSend(out);
    }

    /** Answers 400 so that the server stops retransmitting a request we cannot use. */
    private void rejectRequest(String reason) {
        invalidIntroductions++;
        ByteBuf out = endpoint.allocator().buffer(128);
        writer.begin(out, StunMessageType.of(reader.method(), StunClass.ERROR_RESPONSE), reader.transactionIdHigh(),
            reader.transactionIdLow());
        writer.addErrorCode(RendezvousProtocol.ERROR_BAD_REQUEST, reason.length() > 120 ? reason.substring(0, 120) : reason);
        finishAndSend(out);
    }

    private void finishAndSend(ByteBuf out) {
        if (ackKey != null) {
            writer.addMessageIntegritySha256(ackKey);
        }
        writer.addFingerprint();
        writer.finish();
        endpoint.send(out, server);
    }

    private boolean seen(long id) {
        for (int i = 0; i < recentCount; i++) {
            if (recentIds[i] == id) {
                return true;
            }
        }
        return false;
    }

    private void remember(long id) {
        recentIds[recentNext] = id;
        recentNext = (recentNext + 1) % RECENT_IDS;
        recentCount = Math.min(recentCount + 1, RECENT_IDS);
    }

    // ---- deregistration ---------------------------------------------------------------------------

    /**
     * Ends the registration now: stops refreshing and sends DEREGISTER {PEER-NAME, NODE-KEY} with the
     * current nonce, under the session key, as one {@link #DEREGISTER_TIMING} transaction, so the name is free for the next
     * REGISTER of anyone. Calling it again returns the same future.
     *
     * @return completes with true when the server removed the registration, false when there was none to
     *         remove (never registered, already deregistered, or the server no longer knows this client:
     *         403, or a 438 after a server restart); completes exceptionally with a
     *         {@link RendezvousException} when no answer came within {@link #DEREGISTER_TIMING} (then the
     *         name expires after its lifetime) or the client was closed before the answer
     */
    public CompletableFuture<Boolean> deregister() {
        if (deregistration != null) {
            return deregistration;
        }
        cancelRefreshTimer();
        if (registerCall != null) {
            registerCall.cancel();
            registerCall = null;
        }
        CompletableFuture<Boolean> future = new CompletableFuture<>();
        deregistration = future;
        List<Attribute> body = registerBody;
        // Not only after a success: a REGISTER still in flight may already have registered us, and with a
        // nonce the server may hold our name. A DEREGISTER for nothing costs one 403.
        boolean mayHoldName = body != null && nonce != null;
        registration = null;
        if (pendingRegistration != null) {
            CompletableFuture<Registration> pending = pendingRegistration;
            pendingRegistration = null;
            pending.completeExceptionally(new RendezvousException("deregistered before the registration completed"));
        }
        if (!mayHoldName) {
            future.complete(false);
            return future;
        }
        // REGISTER's first attribute is PEER-NAME; the NODE-KEY every request carries proves ownership.
        Call call = new Call(RendezvousProtocol.METHOD_DEREGISTER, List.of(body.get(0)), null,
            new Outcome() {
                @Override
                public void succeeded(StunReader response, Call self) {
                    deregisterCall = null;
                    future.complete(true);
                }

                @Override
                public void failed(RendezvousException cause, Call self) {
                    deregisterCall = null;
                    if (cause.errorCode() == RendezvousProtocol.ERROR_NOT_REGISTERED
                        || cause.errorCode() == RendezvousProtocol.ERROR_STALE_NONCE) {
                        future.complete(false);
                    } else {
                        future.completeExceptionally(cause);
                    }
                }
            });
        call.timing = DEREGISTER_TIMING;
        // A 438 means the server no longer knows our nonce (a restart or a new NAT mapping): it holds no
        // registration of this address to remove, and a retry would only lengthen the shutdown.
        call.retryStaleNonce = false;
        deregisterCall = call;
        call.start();
        return future;
    }

    // ---- closing ----------------------------------------------------------------------------------

    /**
     * Stops refreshing, ends the registration with {@link #deregister()} (unless that was already called),
     * and fails every other pending request with a {@link RendezvousException}. The DEREGISTER transaction
     * outlives the close, bounded by {@link #DEREGISTER_TIMING}: {@link #deregistration()} tells when it
     * ended, and the owner of a shared {@link StunClient} should close that only then. Closes the
     * {@link StunClient} only if {@link #listen} created it, after the DEREGISTER ended. The owner of the
     * event loop must likewise stop it only after {@link #deregistration()} completed: the DEREGISTER's
     * request buffer lives until its transaction ends, and a loop closed earlier loses it.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<Boolean> bye = deregister();
        RendezvousException cause = new RendezvousException("the rendezvous client was closed");
        for (Call call : new ArrayList<>(active)) {
            if (call == deregisterCall) {
                continue;
            }
            call.cancel();
            call.outcome.failed(cause, call);
        }
        for (PendingConnect pending : new ArrayList<>(connects.values())) {
            failConnect(pending, cause);
        }
        registerBody = null;
        if (ownsStunClient) {
            bye.whenComplete((freed, failure) -> stun.close());
        }
    }

    /**
     * The DEREGISTER started by {@link #deregister()} or {@link #close()}, or null if neither was called.
     * It completes within {@link #DEREGISTER_TIMING} of its start whether or not the server answers.
     */
    public CompletableFuture<Boolean> deregistration() {
        return deregistration;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the rendezvous client is closed");
        }
    }

    private static long millisAttribute(StunReader response, int type) {
        int at = response.findAttribute(type);
        if (at == StunReader.NO_ATTRIBUTE || response.attributeLength(at) != 4) {
            return -1;
        }
        return response.uint32(at) * 1_000_000L;
    }

    // ---- one request, repeated after 438 ----------------------------------------------------------

    /** An attribute of a request body. */
    private record Attribute(int type, byte[] value) {
        int size() {
            return StunHeader.ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(value.length);
        }
    }

    private interface Outcome {
        void succeeded(StunReader response, Call call);

        void failed(RendezvousException cause, Call call);
    }

    /**
     * One logical request: a STUN transaction, and another with the fresh nonce if the server answers
     * 438 (at most {@link RendezvousClientConfig#MAX_NONCE_RETRIES} times in a row).
     */
    private final class Call implements StunResponseHandler {
        final int method;
        final List<Attribute> body;
        /** The peer name the request is about, for error messages (CONNECT, MESSAGE), or null. */
        final String subject;
        final Outcome outcome;
        int nonceRetries;
        int authenticationFailures;
        StunTransaction transaction;
        /** Retransmission schedule; DEREGISTER shortens it. */
        StunTransactionConfig timing = config.timing();
        /** Whether a 438 is answered by repeating the request with the fresh nonce. */
        boolean retryStaleNonce = true;
        /** The key the current transaction's request was signed with, or null. */
        StunKey signedWith;

        Call(int method, List<Attribute> body, String subject, Outcome outcome) {
            this.method = method;
            this.body = body;
            this.subject = subject;
            this.outcome = outcome;
        }

        void start() {
            active.add(this);
            transaction = stun.request(server, method, this::writeRequest, timing, this);
        }

        void cancel() {
            active.remove(this);
            if (transaction != null) {
                transaction.cancel();
            }
        }

        private void writeRequest(StunWriter w) {
            int size = StunHeader.HEADER_LENGTH;
            for (Attribute attribute : body) {
                w.addBytes(attribute.type(), attribute.value());
                size += attribute.size();
            }
            w.addBytes(ATTR_NODE_KEY, nodeKey);
            size += StunHeader.ATTRIBUTE_HEADER_LENGTH + nodeKey.length;
            signedWith = requestKey();
            if (nonce != null) {
                w.addBytes(StunAttributeType.NONCE, nonce);
                size += StunHeader.ATTRIBUTE_HEADER_LENGTH + StunHeader.padded(nonce.length);
            }
            // RFC 5780 §7.6 PADDING, so the server's 438 is no larger than this request even when its nonce
            // went stale (a server restart, a new NAT mapping).
            int trailer = (signedWith != null ? StunHeader.ATTRIBUTE_HEADER_LENGTH + 32 : 0)
                + StunHeader.ATTRIBUTE_HEADER_LENGTH + 4;
            int missing = RendezvousProtocol.MIN_UNVALIDATED_REQUEST_BYTES - size - trailer
                - StunHeader.ATTRIBUTE_HEADER_LENGTH;
            if (missing > 0) {
                w.addBytes(StunAttributeType.PADDING, new byte[StunHeader.padded(missing)]);
            }
            if (signedWith != null) {
                w.addMessageIntegritySha256(signedWith);
            }
            w.addFingerprint();
        }

        @Override
        public boolean onResponse(StunReader response, InetSocketAddress source, long nowNs) {
            if (!server.equals(source)) {
                return false;
            }
            boolean error = response.messageClass() == StunClass.ERROR_RESPONSE;
            int code = error ? response.errorCode() : 0;
            if (!acceptable(response, error, code)) {
                authenticationFailures++;
                rejectedResponses++;
                return false;
            }
            learnServerKey(response);
            int nonceAt = response.findAttribute(StunAttributeType.NONCE);
            if (nonceAt != StunReader.NO_ATTRIBUTE && response.attributeLength(nonceAt) <= StunAttributeType.MAX_TEXT_BYTES) {
                byte[] fresh = new byte[response.attributeLength(nonceAt)];
                response.copyAttributeValue(nonceAt, fresh, 0);
                nonce = fresh;
            }
            if (error && code == RendezvousProtocol.ERROR_STALE_NONCE && nonceAt != StunReader.NO_ATTRIBUTE
                && retryStaleNonce && nonceRetries < RendezvousClientConfig.MAX_NONCE_RETRIES) {
                nonceRetries++;
                staleNonceRetries++;
                transaction = stun.request(server, method, this::writeRequest, timing, this);
                return true;
            }
            active.remove(this);
            if (error) {
                outcome.failed(errorFor(response, code), this);
            } else {
                outcome.succeeded(response, this);
            }
            return true;
        }

        @Override
        public void onFailure(StunTransactionFailure failure, long nowNs) {
            if (!active.remove(this)) {
                return;
            }
            String methodName = RendezvousProtocol.methodName(method);
            RendezvousException cause = switch (failure) {
                case TIMED_OUT -> authenticationFailures > 0
                    ? new RendezvousAuthenticationException(server, authenticationFailures + " answers to " + methodName
                        + " failed the MESSAGE-INTEGRITY-SHA256 check (does the server have a different secret, or none?)",
                        RendezvousException.NO_ERROR_CODE)
                    : new RendezvousUnreachableException(server, methodName, transaction.requestsSent(),
                        nowNs - transaction.startNs());
                case UNKNOWN_ATTRIBUTE_IN_RESPONSE -> new RendezvousException("the rendezvous server " + server
                    + " answered " + methodName + " with a comprehension-required attribute this client does not know");
                case CLOSED -> new RendezvousException("the STUN client of this rendezvous client was closed");
            };
            outcome.failed(cause, this);
        }

        /**
         * Whether an answer is the server's: signed with the key our request was signed with. Two answers
         * cannot be: a 401 (RFC 8489 §9.1.3: the server could not authenticate us) and a 438 to a request
         * whose nonce it no longer accepts (it cannot derive that request's session key), which the server
         * signs with the shared secret's key when there is one and sends unsigned otherwise. A 438 only
         * makes us repeat the request, at most {@link RendezvousClientConfig#MAX_NONCE_RETRIES} times.
         */
        private boolean acceptable(StunReader response, boolean error, int code) {
            boolean signed = response.hasMessageIntegritySha256();
            if (signedWith != null && signed && response.verifyMessageIntegritySha256(signedWith) == StunParseResult.OK) {
                return true;
            }
            if (error && code == RendezvousProtocol.ERROR_UNAUTHENTICATED && !signed) {
                return true;
            }
            if (error && code == RendezvousProtocol.ERROR_STALE_NONCE) {
                return key == null ? !signed || signedWith == null
                    : signed && response.verifyMessageIntegritySha256(key) == StunParseResult.OK;
            }
            return signedWith == null;
        }

        private RendezvousException errorFor(StunReader response, int code) {
            String reason = response.errorReason();
            reason = reason == null ? "" : reason;
            switch (code) {
                case RendezvousProtocol.ERROR_UNAUTHENTICATED:
                    return new RendezvousAuthenticationException(server, "the server answered 401 (" + reason + ")", code);
                case RendezvousProtocol.ERROR_NAME_TAKEN:
                    return new NameTakenException(new String(body.get(0).value(), StandardCharsets.UTF_8), reason);
                case RendezvousProtocol.ERROR_PEER_NOT_FOUND:
                    // The server names nothing else (docs/security.md): no list of who is registered.
                    return new PeerNotFoundException(subject != null ? subject : "?", List.of(), -1);
                default:
                    return new RendezvousException("the rendezvous server " + server + " answered "
                        + RendezvousProtocol.methodName(method) + " with " + code + " " + reason, code);
            }
        }
    }

    /** A connect() waiting for its CONNECT answer and then its INTRODUCTION. */
    private static final class PendingConnect {
        final String name;
        final CompletableFuture<Introduction> future = new CompletableFuture<>();
        Call call;
        long timerId = TimerService.NO_TIMER;

        PendingConnect(String name) {
            this.name = name;
        }
    }
}
