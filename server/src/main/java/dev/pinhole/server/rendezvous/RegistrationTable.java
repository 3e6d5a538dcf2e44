package dev.pinhole.server.rendezvous;

import dev.pinhole.protocol.stun.StunKey;

import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.agrona.collections.Object2ObjectHashMap;

/**
 * The server's registrations, indexed three ways: by name (sorted, for LIST pages and CONNECT), by
 * source transport address (a refresh finds its entry without decoding anything), and in order of last
 * refresh (an intrusive list, so that expiry looks only at the oldest entry and a refresh moves an entry
 * to the end in O(1)). Every registration has exactly one name and one address, both unique in the
 * table, and one key (NODE-KEY, which owns the name); a key may hold several names (one node's processes
 * sharing an identity file, each on its own socket). Every entry that enters or leaves passes {@link RegistrationQuotas}, which therefore counts
 * exactly the live registrations per source address and network. Confined to the server's event loop.
 */
final class RegistrationTable {
    private final int capacity;
    private final long lifetimeNs;
    private final TreeMap<String, Entry> byName = new TreeMap<>();
    private final Object2ObjectHashMap<InetSocketAddress, Entry> byAddress;
    private final RegistrationQuotas quotas;
    /** Least recently refreshed at the head. */
    private Entry oldest;
    private Entry newest;

    RegistrationTable(int capacity, long lifetimeNs, int maxPerAddress, int maxPerPrefix) {
        this.capacity = capacity;
        this.lifetimeNs = lifetimeNs;
        this.byAddress = new Object2ObjectHashMap<>(Math.min(capacity, 1024) * 2, 0.5f);
        this.quotas = new RegistrationQuotas(maxPerAddress, maxPerPrefix, capacity);
    }

    /** The live registrations per source address and network, kept by {@link #add} and {@link #remove}. */
    RegistrationQuotas quotas() {
        return quotas;
    }

    int size() {
        return byName.size();
    }

    int capacity() {
        return capacity;
    }

    boolean isFull() {
        return byName.size() >= capacity;
    }

    Entry byName(String name) {
        return byName.get(name);
    }

    Entry byAddress(InetSocketAddress address) {
        return byAddress.get(address);
    }

    /** Adds {@code registration}, whose name and address no entry may hold (remove those first). */
    void add(Entry registration, long nowNs) {
        if (byName.containsKey(registration.name) || byAddress.containsKey(registration.address)) {
            throw new IllegalStateException("name or address already registered: " + registration);
        }
        if (isFull()) {
            throw new IllegalStateException("registration table is full (" + capacity + ")");
        }
        registration.lastRefreshNs = nowNs;
        byName.put(registration.name, registration);
        byAddress.put(registration.address, registration);
        append(registration);
        quotas.add(registration);
    }

    void remove(Entry registration) {
        if (byName.get(registration.name) == registration) {
            byName.remove(registration.name);
            byAddress.remove(registration.address);
            unlink(registration);
            quotas.remove(registration);
        }
    }

    /** Marks a refresh: the registration lives another lifetime from {@code nowNs}. */
    void refresh(Entry registration, long nowNs) {
        registration.lastRefreshNs = nowNs;
        if (registration != newest) {
            unlink(registration);
            append(registration);
        }
    }

    /** When the oldest registration expires, or {@link Long#MAX_VALUE} if the table is empty. */
    long nextExpiryNs() {
        return oldest == null ? Long.MAX_VALUE : oldest.lastRefreshNs + lifetimeNs;
    }

    /** Removes every registration whose lifetime has passed at {@code nowNs}; returns how many. */
    int expire(long nowNs) {
        int expired = 0;
        while (oldest != null && nowNs - oldest.lastRefreshNs >= lifetimeNs) {
            remove(oldest);
            expired++;
        }
        return expired;
    }

    /** Registrations whose names sort after {@code after} (exclusive; null from the start), in name order. */
    Iterator<Entry> after(String after) {
        NavigableMap<String, Entry> tail = after == null ? byName : byName.tailMap(after, false);
        return tail.values().iterator();
    }

    /** All registrations in name order. */
    Iterable<Entry> inNameOrder() {
        return byName.values();
    }

    /** Drops everything. */
    void clear() {
        byName.clear();
        byAddress.clear();
        quotas.clear();
        oldest = null;
        newest = null;
    }

    private void append(Entry registration) {
        registration.older = newest;
        registration.newer = null;
        if (newest != null) {
            newest.newer = registration;
        }
        newest = registration;
        if (oldest == null) {
            oldest = registration;
        }
    }

    private void unlink(Entry registration) {
        if (registration.older != null) {
            registration.older.newer = registration.newer;
        } else {
            oldest = registration.newer;
        }
        if (registration.newer != null) {
            registration.newer.older = registration.older;
        } else {
            newest = registration.older;
        }
        registration.older = null;
        registration.newer = null;
    }

    /**
     * One registered peer: what it reported (name, node key, host candidates, NAT profile, as the raw
     * attribute values so that a refresh compares them in place) and what the server observed (its
     * source address, the server-reflexive candidate).
     */
    static final class Entry {
        final String name;
        final byte[] nameBytes;
        /** The node's X25519 public key (NODE-KEY), which owns the name. */
        final byte[] nodeKey;
        /** X25519(server, node): the input of every session key of this node, computed once. */
        final byte[] dh;
        /**
         * How many times this key's registration moved to another address; a move needs a NONCE bound to
         * the key and this count, so a replayed older REGISTER cannot move it back.
         */
        final int moves;
        final InetSocketAddress address;
        /** {@link RegistrationQuotas#addressKey} of the address, computed once when the entry is made. */
        final long addressKey;
        /** {@link RegistrationQuotas#prefixOf} the address key. */
        final long prefixKey;
        /** HOST-CANDIDATE values as received, in order. */
        final byte[][] hostCandidates;
        /** NAT-PROFILE value as received, or null. */
        final byte[] natProfile;
        long lastRefreshNs;
        /** The NONCE value the session key below was derived with (the node's latest), or null. */
        byte[] sessionNonce;
        StunKey sessionKey;
        Entry older;
        Entry newer;

        Entry(String name, byte[] nameBytes, byte[] nodeKey, byte[] dh, int moves, InetSocketAddress address,
              byte[][] hostCandidates, byte[] natProfile) {
            this.name = name;
            this.nameBytes = nameBytes;
            this.nodeKey = nodeKey;
            this.dh = dh;
            this.moves = moves;
            this.address = address;
            this.addressKey = RegistrationQuotas.addressKey(address.getAddress());
            this.prefixKey = RegistrationQuotas.prefixOf(addressKey);
            this.hostCandidates = hostCandidates;
            this.natProfile = natProfile;
        }

        @Override
        public String toString() {
            return "Entry[" + name + " at " + address + ", " + hostCandidates.length + " host candidates]";
        }
    }
}
