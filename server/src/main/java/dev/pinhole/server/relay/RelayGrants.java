package dev.pinhole.server.relay;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Whom the built-in relay relays to for whom: one grant per RELAY-OFFER, written by the rendezvous
 * server when it introduces two peers and read by the {@link TurnServer} when a client allocates,
 * installs a permission or binds a channel. The rendezvous server and the relay share one instance in
 * one process ({@code PinholeServer} does that), on one event loop: nothing here is thread-safe.
 *
 * <p>A grant is named by the part of the TURN REST username after the expiry ({@code
 * "<expiry>:<grant id>"}, the id being {@code <quota key>.<introduction id>.<role>}); the username is
 * signed with the relay's own key, so only the rendezvous server makes grant ids that authenticate. A
 * grant carries:
 * <ul>
 *   <li>the <b>quota key</b> its allocations count against: the recipient node (its name today, its node
 *       key once registrations carry one), never anything the client chooses;</li>
 *   <li>the <b>introduced peer's addresses</b>: the address the rendezvous server observed it at (always
 *       granted: the nonce proved the peer receives there), its host candidates and the candidates it
 *       trickled to this peer afterwards (granted only when globally routable, because the peer reports
 *       them itself: see {@link #grantable}), at most {@value #MAX_ADDRESSES} in all;</li>
 *   <li>its <b>reciprocal</b>: the grant of the same introduction issued to the other peer. The relayed
 *       addresses of the reciprocal's allocations on this relay are granted too, exactly (IP and port),
 *       which is how both peers relay through the same relay.</li>
 * </ul>
 * TURN permissions are per IP (RFC 8656 §9); the grant is checked when a permission or channel is asked
 * for, and for the relay's own IP again per datagram, so that a permission for the relay's IP (the
 * reciprocal's relayed address) does not open every other allocation on it ({@link TurnServer}).
 *
 * <p>Bounded: at most {@code capacity} grants; each lives until its credentials expire, and when the
 * table is full the oldest goes first (its credentials then get 403 on Allocate; allocations already
 * made keep their grant). An allocation holds its grant by reference, so a live allocation keeps
 * relaying to what it was granted after the table forgot the grant.
 */
public final class RelayGrants {
    /** Grants kept at most by default: two per introduction, 16,384 introductions within one credential lifetime. */
    public static final int DEFAULT_CAPACITY = 32_768;
    /** Peer addresses one grant holds at most (1 observed + 8 host candidates + trickled ones). */
    public static final int MAX_ADDRESSES = 16;

    private final int capacity;
    private final Map<String, Grant> byId = new HashMap<>();
    /** The latest grant of a recipient toward a peer, by {@link #pairKey}: where trickled candidates go. */
    private final Map<String, Grant> byPair = new HashMap<>();
    /** In order of issue, which is the order of expiry (one lifetime for all). */
    private final ArrayDeque<Grant> byAge = new ArrayDeque<>();

    public RelayGrants() {
        this(DEFAULT_CAPACITY);
    }

    public RelayGrants(int capacity) {
        if (capacity < 2) {
            throw new IllegalArgumentException("a relay grant table holds at least the 2 grants of one introduction, was "
                + capacity);
        }
        this.capacity = capacity;
    }

    /** The grant id of one side of an introduction: {@code <quotaKey>.<introduction id, 16 hex digits>.<role>}. */
    public static String grantId(String quotaKey, long introductionId, int role) {
        return quotaKey + "." + String.format("%016x", introductionId) + "." + role;
    }

    /** The grant id of a TURN REST username {@code "<expiry>:<grant id>"}: what follows the first colon. */
    static String grantIdOf(String username) {
        return username.substring(username.indexOf(':') + 1);
    }

    /**
     * Issues the grant {@code id} (see {@link #grantId}) to the recipient of an introduction, linked to
     * the grant {@code reciprocalId} of its peer if that one exists already (the second of the pair links
     * both).
     *
     * @param quotaKey          whose allocation quota the grant's allocations count against
     * @param peerQuotaKey      the peer's quota key (where the peer's trickled candidates are found)
     * @param peerObserved      where the rendezvous server sees the peer: always granted
     * @param peerReported      the peer's host candidates: granted if {@link #grantable}
     * @param expiresUnixSeconds when the grant's credentials expire; the grant is forgotten then
     * @param nowUnixSeconds    the time now, to forget expired grants first
     */
    public void issue(String id, String reciprocalId, String quotaKey, String peerQuotaKey,
                      InetSocketAddress peerObserved, List<InetSocketAddress> peerReported, long expiresUnixSeconds,
                      long nowUnixSeconds) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(quotaKey, "quotaKey");
        forgetExpired(nowUnixSeconds);
        while (byAge.size() >= capacity) {
            forget(byAge.pollFirst());
        }
        Grant old = byId.get(id);
        if (old != null) {
            forget(old);
            byAge.remove(old);
        }
        Grant grant = new Grant(id, quotaKey, pairKey(quotaKey, peerQuotaKey), expiresUnixSeconds);
        if (peerObserved != null) {
            grant.addresses.add(peerObserved.getAddress());
        }
        for (InetSocketAddress reported : peerReported) {
            grant.addReported(reported.getAddress());
        }
        Grant reciprocal = reciprocalId == null ? null : byId.get(reciprocalId);
        if (reciprocal != null) {
            grant.peer = reciprocal;
            reciprocal.peer = grant;
        }
        byId.put(id, grant);
        byPair.put(grant.pairKey, grant);
        byAge.addLast(grant);
    }

    /**
     * A candidate the peer {@code peerQuotaKey} trickled to {@code quotaKey} (the rendezvous server's
     * CANDIDATE) extends the latest grant of {@code quotaKey} toward that peer, if it is {@link #grantable}
     * and the grant has room. Returns whether it was added.
     */
    public boolean extend(String quotaKey, String peerQuotaKey, InetSocketAddress candidate) {
        Grant grant = byPair.get(pairKey(quotaKey, peerQuotaKey));
        return grant != null && grant.addReported(candidate.getAddress());
    }

    /** The grant named {@code id}, or null if none was issued or it was forgotten. */
    Grant byId(String id) {
        return byId.get(id);
    }

    /** Grants held now. */
    public int size() {
        return byAge.size();
    }

    public int capacity() {
        return capacity;
    }

    /**
     * Whether a peer may name {@code ip} itself (a host or trickled candidate) and have it granted: a
     * globally routable unicast address. Not the wildcard, loopback, link-local, private (RFC 1918, IPv6
     * site-local and unique local fc00::/7), shared carrier-grade NAT space (100.64/10, RFC 6598),
     * "this network" 0/8, broadcast or multicast: otherwise any peer could point the relay into the
     * relay's own network by reporting such a candidate. (The address the rendezvous server observed is
     * granted whatever it is.)
     */
    public static boolean grantable(InetAddress ip) {
        if (ip == null || ip.isAnyLocalAddress() || ip.isLoopbackAddress() || ip.isLinkLocalAddress()
            || ip.isSiteLocalAddress() || ip.isMulticastAddress()) {
            return false;
        }
        byte[] b = ip.getAddress();
        if (ip instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            return first != 0 && first != 255 && !(first == 100 && (second & 0xc0) == 64);
        }
        return !(ip instanceof Inet6Address) || (b[0] & 0xfe) != 0xfc;
    }

    private static String pairKey(String quotaKey, String peerQuotaKey) {
        return quotaKey + "\n" + peerQuotaKey;
    }

    private void forgetExpired(long nowUnixSeconds) {
        for (Grant oldest = byAge.peekFirst(); oldest != null && oldest.expiresUnixSeconds <= nowUnixSeconds;
             oldest = byAge.peekFirst()) {
            forget(byAge.pollFirst());
        }
    }

    private void forget(Grant grant) {
        if (byId.get(grant.id) == grant) {
            byId.remove(grant.id);
        }
        if (byPair.get(grant.pairKey) == grant) {
            byPair.remove(grant.pairKey);
        }
    }

    @Override
    public String toString() {
        return "RelayGrants[" + byAge.size() + " of " + capacity + "]";
    }

    /** One side's grant of one introduction. */
    static final class Grant {
        final String id;
        final String quotaKey;
        final String pairKey;
        final long expiresUnixSeconds;
        /** Peer IPs granted (TURN permissions are per IP). */
        final List<InetAddress> addresses = new ArrayList<>(4);
        /** The relayed addresses of this grant's live allocations on the relay (kept by {@link TurnServer}). */
        final List<InetSocketAddress> relayed = new ArrayList<>(1);
        /** The other peer's grant of the same introduction, once issued. */
        Grant peer;

        Grant(String id, String quotaKey, String pairKey, long expiresUnixSeconds) {
            this.id = id;
            this.quotaKey = quotaKey;
            this.pairKey = pairKey;
            this.expiresUnixSeconds = expiresUnixSeconds;
        }

        boolean addReported(InetAddress ip) {
            if (!grantable(ip) || addresses.size() >= MAX_ADDRESSES) {
                return false;
            }
            if (!addresses.contains(ip)) {
                addresses.add(ip);
            }
            return true;
        }

        /**
         * Whether this grant lets its allocation relay to {@code peer}: a granted IP, or exactly the
         * relayed address of one of the reciprocal grant's allocations.
         */
        boolean permits(InetSocketAddress peer) {
            return addresses.contains(peer.getAddress()) || isReciprocalRelayed(peer);
        }

        /** Whether {@code address} is the relayed address of an allocation made with the reciprocal grant. */
        boolean isReciprocalRelayed(InetSocketAddress address) {
            return peer != null && peer.relayed.contains(address);
        }

        @Override
        public String toString() {
            return "Grant[" + id + ", " + addresses.size() + " addresses, " + relayed.size() + " allocations]";
        }
    }
}
