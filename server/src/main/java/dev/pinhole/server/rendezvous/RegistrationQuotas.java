package dev.pinhole.server.rendezvous;

import java.net.InetAddress;
import org.agrona.collections.Long2LongHashMap;

/**
 * Live registrations counted per source address and per network prefix, so that no single host or
 * network can fill the registration table: {@link RegistrationTable} adds and removes every entry here
 * as it adds and removes it (registration, takeover, deregistration, expiry, clear), so the counts are
 * exact at every moment, and a key whose count drops to zero is removed, so the maps hold at most one
 * key per live registration.
 *
 * <p>Keys are longs, so the maps are primitive (no boxing, no per-lookup allocation):
 * <ul>
 * <li>IPv4: the address is the 32-bit address; the prefix is its /24 (a home or small office network,
 *     and the usual smallest block a provider routes).</li>
 * <li>IPv6: the address is the /64, because a host forms any number of addresses in its /64 at will
 *     (SLAAC temporary addresses, RFC 8981), so a quota per 128-bit address would bound nothing; the
 *     prefix is the /56, the usual delegation to one home subscriber (RFC 6177 leaves the size to the
 *     provider, and /56 is the common choice).</li>
 * <li>IPv4-mapped IPv6 addresses (a dual-stack socket) count as the IPv4 address they carry.</li>
 * </ul>
 * IPv4 keys have all of their top 32 bits set: as an IPv6 /64 that would lie in ffff:ffff::/32, inside
 * multicast ff00::/8, which is never a source (RFC 4291 §2.7), so the two families never share a key. Confined to the server's event loop.
 */
final class RegistrationQuotas {
    /** Top bits of every IPv4 key: ff00::/8, multicast in IPv6, never a source address. */
    private static final long IPV4_TAG = 0xFFFF_FFFF_0000_0000L;
    private static final long IPV4_PREFIX_MASK = 0xFFFF_FF00L;
    /** The /56 of the /64 that an IPv6 key holds: the last 8 of its 64 bits cleared. */
    private static final long IPV6_PREFIX_MASK = 0xFFFF_FFFF_FFFF_FF00L;
    private static final int IPV4_MAPPED_PREFIX_BYTES = 12;

    private final int maxPerAddress;
    private final int maxPerPrefix;
    private final Long2LongHashMap perAddress;
    private final Long2LongHashMap perPrefix;

    /**
     * @param maxPerAddress live registrations one source address (IPv4 address, IPv6 /64) may hold
     * @param maxPerPrefix  live registrations one network prefix (IPv4 /24, IPv6 /56) may hold
     * @param expected      registrations expected at most (sizes the maps; they grow beyond it if need be)
     */
    RegistrationQuotas(int maxPerAddress, int maxPerPrefix, int expected) {
        if (maxPerAddress < 1 || maxPerPrefix < 1) {
            throw new IllegalArgumentException("quotas must be positive, were " + maxPerAddress + " per address and "
                + maxPerPrefix + " per prefix");
        }
        this.maxPerAddress = maxPerAddress;
        this.maxPerPrefix = maxPerPrefix;
        int initial = Math.max(8, Math.min(expected, 1024) * 2);
        this.perAddress = new Long2LongHashMap(initial, 0.5f, 0L);
        this.perPrefix = new Long2LongHashMap(initial, 0.5f, 0L);
    }

    int maxPerAddress() {
        return maxPerAddress;
    }

    int maxPerPrefix() {
        return maxPerPrefix;
    }

    /** The key of {@code ip}'s address: the IPv4 address, or the IPv6 /64. */
    static long addressKey(InetAddress ip) {
        return addressKey(ip.getAddress());
    }

    /** The address key of an IP address given as its 4 or 16 bytes. */
    static long addressKey(byte[] bytes) {
        if (bytes.length == 4) {
            return IPV4_TAG | ipv4(bytes, 0);
        }
        return isIpv4Mapped(bytes) ? IPV4_TAG | ipv4(bytes, IPV4_MAPPED_PREFIX_BYTES) : high64(bytes);
    }

    /** The key of {@code ip}'s network: the IPv4 /24, or the IPv6 /56. */
    static long prefixKey(InetAddress ip) {
        return prefixOf(addressKey(ip));
    }

    /** The prefix key of an address key: its /24 or /56. */
    static long prefixOf(long addressKey) {
        return (addressKey & IPV4_TAG) == IPV4_TAG ? addressKey & (IPV4_TAG | IPV4_PREFIX_MASK)
            : addressKey & IPV6_PREFIX_MASK;
    }

    /** Live registrations at the address with this key. */
    int atAddress(long addressKey) {
        return (int) perAddress.get(addressKey);
    }

    /** Live registrations in the network with this key. */
    int inPrefix(long prefixKey) {
        return (int) perPrefix.get(prefixKey);
    }

    /** Counts a registration just added to the table. */
    void add(RegistrationTable.Entry registration) {
        increment(perAddress, registration.addressKey);
        increment(perPrefix, registration.prefixKey);
    }

    /** Uncounts a registration just removed from the table. */
    void remove(RegistrationTable.Entry registration) {
        decrement(perAddress, registration.addressKey);
        decrement(perPrefix, registration.prefixKey);
    }

    void clear() {
        perAddress.clear();
        perPrefix.clear();
    }

    /** Distinct addresses and prefixes counted now (for tests: keys of ended registrations are gone). */
    int trackedKeys() {
        return perAddress.size() + perPrefix.size();
    }

    private static void increment(Long2LongHashMap counts, long key) {
        counts.put(key, counts.get(key) + 1);
    }

    private static void decrement(Long2LongHashMap counts, long key) {
        long count = counts.get(key);
        if (count <= 1) {
            counts.remove(key);
        } else {
            counts.put(key, count - 1);
        }
    }

    private static boolean isIpv4Mapped(byte[] bytes) {
        if (bytes.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == (byte) 0xFF && bytes[11] == (byte) 0xFF;
    }

    private static long ipv4(byte[] bytes, int from) {
        return ((bytes[from] & 0xFFL) << 24) | ((bytes[from + 1] & 0xFFL) << 16) | ((bytes[from + 2] & 0xFFL) << 8)
            | (bytes[from + 3] & 0xFFL);
    }

    private static long high64(byte[] bytes) {
        long high = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xFFL);
        }
        return high;
    }
}
