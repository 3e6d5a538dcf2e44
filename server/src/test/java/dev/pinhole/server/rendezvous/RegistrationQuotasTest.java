package dev.pinhole.server.rendezvous;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/** The quota keys (IPv4 address and /24, IPv6 /64 and /56) and the live counts the table keeps. */
class RegistrationQuotasTest {
    private static final long LIFETIME_NS = 45_000_000_000L;

    @Test
    void ipv4AddressesOfOneSlash24ShareThePrefixKeyButNotTheAddressKey() throws Exception {
        long a = RegistrationQuotas.addressKey(ip("203.0.113.1"));
        long b = RegistrationQuotas.addressKey(ip("203.0.113.254"));
        assertNotEquals(a, b, "two addresses");
        assertEquals(RegistrationQuotas.prefixKey(ip("203.0.113.1")), RegistrationQuotas.prefixKey(ip("203.0.113.254")),
            "one /24");
        assertNotEquals(RegistrationQuotas.prefixKey(ip("203.0.113.1")), RegistrationQuotas.prefixKey(ip("203.0.112.1")),
            "the neighbouring /24 is another network");
        assertEquals(RegistrationQuotas.prefixOf(a), RegistrationQuotas.prefixKey(ip("203.0.113.1")), "prefixOf agrees");
    }

    @Test
    void ipv6AddressesOfOneSlash64AreOneAddressAndOfOneSlash56OneNetwork() throws Exception {
        long host = RegistrationQuotas.addressKey(ip("2001:db8:1234:5601::1"));
        assertEquals(host, RegistrationQuotas.addressKey(ip("2001:db8:1234:5601:a:b:c:d")),
            "a host picks any interface identifier in its /64: one address");
        assertNotEquals(host, RegistrationQuotas.addressKey(ip("2001:db8:1234:5602::1")), "another /64");
        long network = RegistrationQuotas.prefixKey(ip("2001:db8:1234:5600::1"));
        assertEquals(network, RegistrationQuotas.prefixKey(ip("2001:db8:1234:56ff:ffff::1")), "last /64 of the /56");
        assertEquals(network, RegistrationQuotas.prefixKey(ip("2001:db8:1234:5601::1")), "one /56");
        assertNotEquals(network, RegistrationQuotas.prefixKey(ip("2001:db8:1234:5700::1")), "the next /56");
        assertNotEquals(network, RegistrationQuotas.prefixKey(ip("2001:db8:1234:5500::1")), "the previous /56");
    }

    @Test
    void ipv4MappedIpv6CountsAsTheIpv4AddressAndTheFamiliesNeverShareAKey() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = (byte) 203;
        mapped[14] = (byte) 113;
        mapped[15] = 7;
        assertEquals(RegistrationQuotas.addressKey(ip("203.0.113.7")), RegistrationQuotas.addressKey(mapped),
            "::ffff:203.0.113.7 is 203.0.113.7");
        assertNotEquals(RegistrationQuotas.addressKey(ip("0.0.0.1")), RegistrationQuotas.addressKey(ip("::1")),
            "IPv4 keys are tagged");
        assertNotEquals(RegistrationQuotas.prefixKey(ip("0.0.0.1")), RegistrationQuotas.prefixKey(ip("::1")),
            "also as prefixes");
    }

    @Test
    void countsFollowAddRemoveExpiryAndClearAndForgetEmptyKeys() throws Exception {
        RegistrationTable table = new RegistrationTable(100, LIFETIME_NS, 8, 64);
        RegistrationQuotas quotas = table.quotas();
        RegistrationTable.Entry a1 = entry("a1", "203.0.113.1", 4000);
        RegistrationTable.Entry a2 = entry("a2", "203.0.113.1", 4001);
        RegistrationTable.Entry b = entry("b", "203.0.113.2", 4000);
        table.add(a1, 0);
        table.add(a2, 1);
        table.add(b, LIFETIME_NS);
        long a = a1.addressKey;
        assertEquals(2, quotas.atAddress(a), "two sockets behind one address");
        assertEquals(1, quotas.atAddress(b.addressKey), "one at the neighbour");
        assertEquals(3, quotas.inPrefix(a1.prefixKey), "three in the /24");

        table.remove(a2);
        table.remove(a2);
        assertEquals(1, quotas.atAddress(a), "a second remove of the same entry uncounts nothing");
        assertEquals(2, quotas.inPrefix(a1.prefixKey), "two in the /24");

        assertEquals(1, table.expire(LIFETIME_NS), "a1 expired");
        assertEquals(0, quotas.atAddress(a), "expiry uncounts");
        assertEquals(1, quotas.inPrefix(a1.prefixKey), "b only");
        assertEquals(2, quotas.trackedKeys(), "the emptied address key is gone: b's address and its /24");

        table.clear();
        assertEquals(0, quotas.trackedKeys(), "clear forgets everything");
        assertEquals(0, quotas.inPrefix(a1.prefixKey), "nothing counted");
    }

    @Test
    void quotasMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new RegistrationQuotas(0, 64, 10));
        assertThrows(IllegalArgumentException.class, () -> new RegistrationQuotas(8, 0, 10));
        assertThrows(IllegalArgumentException.class,
            () -> RendezvousServerConfig.builder().maxRegistrationsPerAddress(0));
        assertThrows(IllegalArgumentException.class,
            () -> RendezvousServerConfig.builder().maxRegistrationsPerPrefix(-1));
        RendezvousServerConfig defaults = RendezvousServerConfig.builder().build();
        assertEquals(8, defaults.maxRegistrationsPerAddress(), "default per address");
        assertEquals(64, defaults.maxRegistrationsPerPrefix(), "default per prefix");
    }

    private static RegistrationTable.Entry entry(String name, String ip, int port) throws UnknownHostException {
        // Each entry its own key (one registration per key), derived from its name and address.
        byte[] nodeKey = java.util.Arrays.copyOf((name + "@" + ip + ":" + port)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8), 64);
        return new RegistrationTable.Entry(name, name.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            sha256(nodeKey), new byte[32], 0,
            new InetSocketAddress(ip(ip), port), new byte[0][], null);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(input);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static InetAddress ip(String literal) throws UnknownHostException {
        return InetAddress.getByName(literal);
    }
}
