package dev.pinhole.protocol.rendezvous;



import dev.pinhole.protocol.stun.StunKey;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The numbers of Pinhole's rendezvous protocol: STUN messages (RFC 8489) with methods and attributes of
 * our own, so the server shares its port, codec and demultiplexing with plain STUN Binding.
 *
 * <h2>Methods</h2>
 * RFC 8489 §18.2 leaves 0x000–0x0FF to STUN methods (0x080–0x0FF by Expert Review) and reserves
 * 0x100–0xFFF so that the first byte of every STUN message stays in 0–3 (RFC 7983 §7), which is what
 * our demultiplexer routes on. IANA has assigned only 0x080 (GOOG-PING) above 0x00C; we use the
 * unassigned block 0x0E0–0x0E6, near the top of the Expert Review range:
 * <pre>
 *   0x0E0 REGISTER      client → server request; refreshes are the same request again
 *   0x0E1 LIST_PEERS    client → server request (a directory lookup)
 *   0x0E2 CONNECT       client → server request: introduce me to a named peer
 *   0x0E3 INTRODUCTION  server → client request, answered with an empty success response (the ack)
 *   0x0E4 MESSAGE       a short opaque text: client → server → named peer, acked like INTRODUCTION
 *   0x0E5 CANDIDATE     one more candidate (trickle, as Trickle ICE, RFC 8838): client → server → named
 *                       peer, forwarded and acked like MESSAGE; in practice the relayed address a peer
 *                       allocated with the RELAY-OFFER of its introduction
 *   0x0E6 DEREGISTER    client → server request: end my registration now (a clean shutdown frees the
 *                       name at once instead of 45 s later); proven like a refresh
 * </pre>
 * INTRODUCTION is a request, not an indication, so that an ordinary STUN success response acknowledges
 * it and the server's STUN client transactions retransmit it on RFC 8489 §6.2.1's schedule until then.
 *
 * <h2>Attributes</h2>
 * All are comprehension-optional (RFC 8489 §14: 0x8000–0xFFFF, so a plain STUN agent ignores them) and
 * taken from the Expert Review half 0xC000–0xFFFF at 0xE100–0xE10E, away from the assigned 0xC0xx values.
 * Addresses inside our attributes are XOR-ed as XOR-MAPPED-ADDRESS is (RFC 8489 §14.2: so that
 * application-level gateways do not rewrite them), but with the magic cookie alone, repeated over IPv6
 * addresses, so that the value does not depend on the transaction id (see {@link RendezvousAttributes}).
 * Besides our own, the protocol uses ERROR-CODE, NONCE, PADDING, XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT as RFC 8489 and RFC 5780 define them.
 *
 * <h2>Authentication and address validation</h2>
 * <ul>
 *   <li><b>Shared secret (optional).</b> With one, a request without NODE-KEY, a node's first request
 *       (before it has a nonce), the answers to them and every 438 carry MESSAGE-INTEGRITY-SHA256
 *       (RFC 8489 §14.6) keyed with {@link #deriveKey(byte[])}
 *       {@code = HMAC-SHA256(secret, "pinhole rendezvous v1")}, then FINGERPRINT. Such a request without a
 *       valid one is answered 401 (unsigned; RFC 8489 §9.1.3 answers an unauthenticated request without
 *       integrity) and counted. Every other message is signed with a session key (below), whose
 *       derivation includes the secret's key, so one MESSAGE-INTEGRITY-SHA256 proves both. Without a secret, anyone who reaches the server can
 *       register a free name under its own key.</li>
 *   <li><b>Return routability (always).</b> Every request must carry a NONCE the server issued to its
 *       source address (an HMAC of the address under a key the server instance draws at start), as the
 *       long-term credential mechanism does (RFC 8489 §9.2). A request without one, or with one for
 *       another address or a restarted server, is answered 438 (Stale Nonce) with a fresh NONCE, and the
 *       client repeats it with that nonce. This proves the client receives at its source address before
 *       the server keeps state for it or sends an introduction anywhere; it is also how a client learns
 *       that the server restarted or that its NAT mapping changed.</li>
 *   <li><b>Names bound to keys (always).</b> Every node has an X25519 key pair whose public key is its
 *       node id; the server makes one when it starts and hands its public key out in SERVER-KEY with every
 *       438 and REGISTER success. REGISTER, DEREGISTER, CONNECT, MESSAGE and CANDIDATE carry NODE-KEY and
 *       MESSAGE-INTEGRITY-SHA256 under {@link #sessionKey} (the nonce as salt), which only the holder of the
 *       node's private key (or the server's) can compute, as in Noise's K pattern: possession of the key is
 *       proven with every request, a sniffed request cannot be re-signed with the nonce of another address,
 *       and the server signs its answers and its INTRODUCTION, MESSAGE and CANDIDATE requests to the node
 *       with the same key, so nobody on or off the path can forge them. A name belongs to the key that
 *       registered it while the registration lives. With a shared secret, the secret's key is part of the
 *       session key's derivation (admission control on top); requests without NODE-KEY (the first one,
 *       LIST) carry the secret's MESSAGE-INTEGRITY-SHA256 as before.</li>
 * </ul>
 *
 * <h2>No amplification</h2>
 * A request that is neither authenticated by the secret nor carrying a valid nonce ("unvalidated") is
 * answered with at most as many bytes as it had, or not at all (counted). Clients therefore pad their
 * first request to {@link #MIN_UNVALIDATED_REQUEST_BYTES} with PADDING (RFC 5780 §7.6) so the 438 fits.
 * Plain STUN Binding is the one exception: it is answered by the Binding responder of the stun package,
 * whose bound is three times the request, minus optional attributes (see its class comment), so that
 * standard STUN clients get their mandatory XOR-MAPPED-ADDRESS.
 */
public final class RendezvousProtocol {
    // ---- methods (RFC 8489 §18.2 space, 0x080–0x0FF Expert Review range) ----------------------------
    public static final int METHOD_REGISTER = 0x0E0;
    public static final int METHOD_LIST_PEERS = 0x0E1;
    public static final int METHOD_CONNECT = 0x0E2;
    public static final int METHOD_INTRODUCTION = 0x0E3;
    public static final int METHOD_MESSAGE = 0x0E4;
    /**
     * Trickle: a request {PEER-NAME (the target), PEER-CANDIDATE (one)} from a registered peer, which the
     * server forwards to the target as a CANDIDATE request {PEER-NAME and PEER-KEY (the sender's),
     * PEER-CANDIDATE}.
     */
    public static final int METHOD_CANDIDATE = 0x0E5;
    /**
     * A request {PEER-NAME, NODE-KEY} that ends the sender's registration now, as a TURN Refresh with
     * LIFETIME 0 deletes an allocation (RFC 8656 §7). It must be authenticated with the session key of the
     * registration's NODE-KEY (see "Names bound to keys" above) and name that key's registration, so a
     * spoofed or foreign one removes nothing. Answered with success and REGISTRATION-LIFETIME 0 when it
     * ended the registration, with {@link #ERROR_NOT_REGISTERED} when the key holds no such registration
     * (never saying who does), which a client that deregisters twice reads as "already gone".
     */
    public static final int METHOD_DEREGISTER = 0x0E6;

    // ---- attributes (comprehension-optional, RFC 8489 §14 and §18.3) --------------------------------
    /** A peer name, UTF-8, 1–{@value PeerNames#MAX_NAME_BYTES} bytes ({@link PeerNames}); repeated in LIST responses. */
    public static final int ATTR_PEER_NAME = 0xE100;
    /**
     * The sender's 32-byte X25519 public key (RFC 7748), its node id: who owns a registration. A request
     * that carries it is authenticated with MESSAGE-INTEGRITY-SHA256 under {@link #sessionKey}. (0xE101
     * carried the 8-byte CLIENT-ID of earlier versions, which this replaces.)
     */
    public static final int ATTR_NODE_KEY = 0xE101;
    /** Repeatable: {@code priority(32) | xor-address(8 or 20)}, a host candidate the client reports. */
    public static final int ATTR_HOST_CANDIDATE = 0xE102;
    /** Repeatable: {@code type(8) | 0(24) | priority(32) | xor-address(8 or 20)}, a candidate of the other peer. */
    public static final int ATTR_PEER_CANDIDATE = 0xE103;
    /** ICE credentials of the recipient, {@code ufrag ":" password} in UTF-8 (RFC 8445 §5.3). */
    public static final int ATTR_LOCAL_CREDENTIALS = 0xE104;
    /** ICE credentials of the other peer, same format. */
    public static final int ATTR_REMOTE_CREDENTIALS = 0xE105;
    /** 32 bits: {@link #ROLE_CONTROLLING} or {@link #ROLE_CONTROLLED} (RFC 8445 §6.1.1). */
    public static final int ATTR_ROLE = 0xE106;
    /** Opaque NAT behaviour a client reports at registration and the server passes on, ≤ {@value #MAX_NAT_PROFILE_BYTES} bytes. */
    public static final int ATTR_NAT_PROFILE = 0xE107;
    /** LIST_PEERS request: list names after this one; response: more names follow, ask again with this. */
    public static final int ATTR_LIST_AFTER = 0xE108;
    /** 32 bits: how many peers are registered (LIST responses, on a server that allows listing). */
    public static final int ATTR_PEER_COUNT = 0xE109;
    /** 32 bits, milliseconds: how often the client should refresh its registration. */
    public static final int ATTR_REFRESH_INTERVAL = 0xE10A;
    /**
     * 32 bits, milliseconds: how long the registration lives without a refresh. In a REGISTER request, 0
     * ends the registration now, under the same rule as {@link #METHOD_DEREGISTER} (the older form of a
     * clean close); a success response to either carries 0.
     */
    public static final int ATTR_REGISTRATION_LIFETIME = 0xE10B;
    /** 64 bits: identifies one introduction; both peers' INTRODUCTIONs and the CONNECT response carry it. */
    public static final int ATTR_INTRODUCTION_ID = 0xE10C;
    /** UTF-8 text of a MESSAGE, ≤ {@value #MAX_MESSAGE_TEXT_BYTES} bytes. */
    public static final int ATTR_MESSAGE_TEXT = 0xE10D;
    /**
     * In an INTRODUCTION: a TURN server (RFC 8656) the recipient may allocate on, with credentials issued
     * for it: {@code xor-address(8 or 20) | username length(16) | username | password length(16) | password
     * | expiry(64, Unix seconds)} (see {@link RendezvousAttributes}).
     */
    public static final int ATTR_RELAY_OFFER = 0xE10E;
    /**
     * The server's 32-byte X25519 public key, made when it starts: in every 438 (with the NONCE) and every
     * success response to REGISTER, so a client can derive {@link #sessionKey}.
     */
    public static final int ATTR_SERVER_KEY = 0xE120;
    /**
     * The other peer's 32-byte X25519 public key (its node id), proven to the server by its REGISTER: in
     * both INTRODUCTIONs, the CONNECT success response, and forwarded MESSAGE and CANDIDATE requests (the
     * sender's key).
     */
    public static final int ATTR_PEER_KEY = 0xE121;

    public static final int ROLE_CONTROLLING = 0;
    public static final int ROLE_CONTROLLED = 1;

    /** Wire codes of candidate types in PEER-CANDIDATE (RFC 8445 §5.1.1 kinds). */
    public static final int CANDIDATE_HOST = 0;
    public static final int CANDIDATE_SERVER_REFLEXIVE = 1;
    public static final int CANDIDATE_PEER_REFLEXIVE = 2;
    public static final int CANDIDATE_RELAYED = 3;

    // ---- error codes (RFC 8489 §14.8 classes; the numbers we give them) ---------------------------
    /** Malformed or missing attribute, invalid name. */
    public static final int ERROR_BAD_REQUEST = 400;
    /**
     * Missing or wrong MESSAGE-INTEGRITY-SHA256: under the shared secret, or under the session key of the
     * request's NODE-KEY (RFC 8489 §9.1.3).
     */
    public static final int ERROR_UNAUTHENTICATED = 401;
    /**
     * CONNECT, MESSAGE or CANDIDATE from a sender that is not an authenticated, registered node;
     * DEREGISTER of a registration the sender's key does not hold; LIST on a server without allow-list.
     */
    public static final int ERROR_NOT_REGISTERED = 403;
    /** The named peer is not registered (or its registration expired). */
    public static final int ERROR_PEER_NOT_FOUND = 404;
    /** The name is held by another client (see {@code RendezvousServer} for the rule). */
    public static final int ERROR_NAME_TAKEN = 409;
    /** Unknown comprehension-required attribute (RFC 8489 §6.3.1.1). */
    public static final int ERROR_UNKNOWN_ATTRIBUTE = 420;
    /** No valid NONCE for this source address; a fresh NONCE is attached (RFC 8489 §9.2.4). */
    public static final int ERROR_STALE_NONCE = 438;
    /** The registration or introduction table is full (RFC 8656 §18's "Insufficient Capacity"). */
    public static final int ERROR_SERVER_FULL = 508;

    // ---- limits -------------------------------------------------------------------------------------
    /** Largest NAT-PROFILE value the server stores and forwards. */
    public static final int MAX_NAT_PROFILE_BYTES = 32;
    /** Host candidates a registration may carry; more are a 400. */
    public static final int MAX_HOST_CANDIDATES = 8;
    /** Largest MESSAGE text. */
    public static final int MAX_MESSAGE_TEXT_BYTES = 512;
    /** INTRODUCTION-ID length. */
    public static final int ID_BYTES = 8;
    /**
     * Largest message the server sends: fits the IPv6 minimum MTU of 1280 bytes (RFC 8200 §5) less the
     * IPv6 and UDP headers, so nothing the server says is fragmented.
     */
    public static final int MAX_MESSAGE_BYTES = 1200;
    /**
     * What clients pad every request to (RFC 5780 §7.6 PADDING), so that the server's 438 with a fresh
     * NONCE and its SERVER-KEY (112 bytes, 148 with MESSAGE-INTEGRITY-SHA256) fits the no-amplification
     * rule, also for a request whose nonce went stale (a server restart, a NAT rebinding).
     */
    public static final int MIN_UNVALIDATED_REQUEST_BYTES = 160;
    /** Length of NODE-KEY, SERVER-KEY and PEER-KEY values: a raw X25519 public key. */
    public static final int KEY_BYTES = 32;

    // ---- timers -------------------------------------------------------------------------------------
    /**
     * RFC 8445 §11: ICE keepalives default to every 15 s; registrations refresh at that pace, which also
     * keeps the NAT mapping the server observed alive (RFC 4787 REQ-5 allows 2 minutes at the shortest).
     */
    public static final long DEFAULT_REFRESH_INTERVAL_NS = 15_000_000_000L;
    /** A registration expires after this many refresh intervals without a refresh (45 s by default). */
    public static final int MISSED_REFRESHES_BEFORE_EXPIRY = 3;

    /** The label the secret's key is derived with; the version lets a future change of scheme coexist. */
    static final String KEY_DERIVATION_LABEL = "pinhole rendezvous v1";
    /** HKDF info prefix of {@link #sessionKey}. */
    static final String SESSION_LABEL = "pinhole rendezvous session v1";

    private RendezvousProtocol() {
    }

    /**
     * The MESSAGE-INTEGRITY-SHA256 key of a shared secret: {@code HMAC-SHA256(secret, "pinhole
     * rendezvous v1")}, 32 bytes. Deriving instead of using the secret directly keeps the raw secret out
     * of every HMAC and lets another use of the same secret derive an unrelated key.
     *
     * @throws IllegalArgumentException if the secret is empty
     */
    public static StunKey deriveKey(byte[] secret) {
        if (secret.length == 0) {
            throw new IllegalArgumentException("the rendezvous secret must not be empty");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return StunKey.ofBytes(mac.doFinal(KEY_DERIVATION_LABEL.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA256", e);
        }
    }

    /**
     * The session key of a node at the server: HKDF-SHA256 (RFC 5869) with
     * {@code IKM = X25519(node, server)}, {@code salt = the NONCE value} and
     * {@code info = "pinhole rendezvous session v1" ‖ NODE-KEY ‖ SERVER-KEY ‖ admission key (if any)},
     * 32 bytes. Only the holders of the node's or the server's private key can compute it; it changes with
     * the nonce (a new address or epoch, a restarted server); and with a shared secret it also proves
     * knowledge of the secret, since the secret's {@link #deriveKey} is part of the info.
     *
     * @param dh        the 32-byte X25519 shared secret
     * @param nonce     the NONCE value the request carries
     * @param admission the shared secret's key, or null
     */
    public static StunKey sessionKey(byte[] dh, byte[] nonce, byte[] nodeKey, byte[] serverKey, StunKey admission) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(nonce.length == 0 ? new byte[32] : nonce, "HmacSHA256"));
            byte[] prk = mac.doFinal(dh);
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            mac.update(SESSION_LABEL.getBytes(StandardCharsets.UTF_8));
            mac.update(nodeKey);
            mac.update(serverKey);
            if (admission != null) {
                mac.update(admission.bytes());
            }
            mac.update((byte) 1);
            return StunKey.ofBytes(mac.doFinal());
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every Java platform provides HmacSHA256", e);
        }
    }

    /** {@link #deriveKey(byte[])} of the secret's UTF-8 bytes. */
    public static StunKey deriveKey(String secret) {
        return deriveKey(secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The name of one of our methods, for messages and logs. */
    public static String methodName(int method) {
        return switch (method) {
            case METHOD_REGISTER -> "REGISTER";
            case METHOD_LIST_PEERS -> "LIST_PEERS";
            case METHOD_CONNECT -> "CONNECT";
            case METHOD_INTRODUCTION -> "INTRODUCTION";
            case METHOD_MESSAGE -> "MESSAGE";
            case METHOD_CANDIDATE -> "CANDIDATE";
            case METHOD_DEREGISTER -> "DEREGISTER";
            default -> String.format("0x%03X", method);
        };
    }
}
