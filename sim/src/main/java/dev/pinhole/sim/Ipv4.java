package dev.pinhole.sim;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IPv4 addresses as {@code int}s (network byte order packed big-endian), the simulator's routing key. */
final class Ipv4 {
    /** Bytes of an IPv4 header without options (RFC 791) plus a UDP header (RFC 768): 20 + 8. */
    static final int IP_UDP_HEADER_BYTES = 28;
    /** Largest UDP payload an IPv4 datagram can carry: 65535 total length minus the two headers. */
    static final int MAX_UDP_PAYLOAD_BYTES = 65_535 - IP_UDP_HEADER_BYTES;

    private Ipv4() {
    }

    /** Parses a strict dotted quad ("10.0.0.2"); no host names, no shortened forms, no DNS. */
    static int parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("IPv4 address is null");
        }
        int value = 0;
        int octets = 0;
        int i = 0;
        int length = text.length();
        while (i <= length && octets < 4) {
            int start = i;
            int octet = 0;
            while (i < length && text.charAt(i) >= '0' && text.charAt(i) <= '9' && i - start < 3) {
                octet = octet * 10 + (text.charAt(i) - '0');
                i++;
            }
            if (i == start || octet > 255) {
                throw notAnAddress(text);
            }
            value = (value << 8) | octet;
            octets++;
            if (octets < 4) {
                if (i >= length || text.charAt(i) != '.') {
                    throw notAnAddress(text);
                }
                i++;
            }
        }
        if (octets != 4 || i != length) {
            throw notAnAddress(text);
        }
        return value;
    }

    static String format(int ip) {
        return ((ip >>> 24) & 0xff) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff);
    }

    static Inet4Address toInetAddress(int ip) {
        byte[] bytes = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always a valid IPv4 address", e);
        }
    }

    static int fromInetAddress(Inet4Address address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    /** Packs an IPv4 address and a UDP port into one 48-bit key. */
    static long endpointKey(int ip, int port) {
        return ((ip & 0xffff_ffffL) << 16) | (port & 0xffff);
    }

    static int keyIp(long key) {
        return (int) (key >>> 16);
    }

    static int keyPort(long key) {
        return (int) (key & 0xffff);
    }

    private static IllegalArgumentException notAnAddress(String text) {
        return new IllegalArgumentException("not a dotted-quad IPv4 address: \"" + text + "\"");
    }
}
