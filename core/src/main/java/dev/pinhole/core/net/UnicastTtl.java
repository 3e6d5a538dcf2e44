package dev.pinhole.core.net;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.Locale;

/**
 * Sets the unicast TTL (IPv4 {@code IP_TTL}, IPv6 {@code IPV6_UNICAST_HOPS}) of a
 * {@link DatagramChannel}, which Java 17 has no public option for (only the multicast TTL).
 *
 * <p>Why: hole punching between two Linux NATs fails if the peer's first packet reaches your NAT
 * before your own first packet has left it. Conntrack records that unsolicited packet, and your
 * outgoing packet to the peer then clashes with the record, so the NAT maps it to a different,
 * random port which the peer's NAT filters; every retry refreshes the stale record. A first
 * "priming" packet with a TTL just large enough to pass your own NAT (2 when the host sits
 * directly behind it) creates your mapping and dies at the next router, before the peer's NAT can
 * record it as unsolicited: the low-TTL trick TCP hole punching uses to open a NAT without reaching
 * the peer.
 *
 * <p>How: {@code sun.nio.ch.Net.setIntOption0} through reflection, which needs
 * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}. The level and option numbers are Linux's.
 */
public final class UnicastTtl {
    /** {@code IPPROTO_IP} (Linux {@code <netinet/in.h>}). */
    private static final int IPPROTO_IP = 0;
    /** {@code IP_TTL} (Linux {@code <linux/in.h>}). */
    private static final int IP_TTL = 2;
    /** {@code IPPROTO_IPV6} (Linux {@code <netinet/in.h>}). */
    private static final int IPPROTO_IPV6 = 41;
    /** {@code IPV6_UNICAST_HOPS} (Linux {@code <linux/in6.h>}). */
    private static final int IPV6_UNICAST_HOPS = 16;
    /** Writing -1 to either option restores the system default (Linux ip(7), ipv6(7)). */
    private static final int SYSTEM_DEFAULT = -1;
    /** The largest TTL an IPv4 header can carry (RFC 791 section 3.1). */
    private static final int MAX_TTL = 255;

    public static final String ADD_OPENS = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";

    private UnicastTtl() {}

    /**
     * Whether this JVM can set a unicast TTL: Linux, and {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}
     * (or the manifest's {@code Add-Opens: java.base/sun.nio.ch}) given.
     */
    public static boolean available() {
        try {
            Reflection.get();
            return true;
        } catch (IllegalStateException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Sets the TTL (hop limit) of the unicast datagrams {@code channel} sends from now on. */
    public static void set(DatagramChannel channel, int ttl) throws IOException {
        if (ttl < 1 || ttl > MAX_TTL) {
            throw new IllegalArgumentException("TTL must be within 1.." + MAX_TTL + ", got " + ttl);
        }
        write(channel, ttl);
    }

    /** Restores the system default TTL (the namespace's {@code net.ipv4.ip_default_ttl}). */
    public static void reset(DatagramChannel channel) throws IOException {
        write(channel, SYSTEM_DEFAULT);
    }

    /** The TTL of the IPv4 unicast datagrams {@code channel} sends (the system default if never set). */
    public static int get(DatagramChannel channel) throws IOException {
        Reflection r = Reflection.get();
        try {
            return (int) r.getIntOption0.invoke(null, r.fd(channel), false, IPPROTO_IP, IP_TTL);
        } catch (InvocationTargetException e) {
            throw rethrow(e);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(DatagramChannel channel, int value) throws IOException {
        Reflection r = Reflection.get();
        try {
            FileDescriptor fd = r.fd(channel);
            // On Linux IP_TTL also governs IPv4 traffic of a dual-stack IPv6 socket.
            r.setIntOption0.invoke(null, fd, false, IPPROTO_IP, IP_TTL, value, false);
            if (r.family(channel) == StandardProtocolFamily.INET6) {
                r.setIntOption0.invoke(null, fd, false, IPPROTO_IPV6, IPV6_UNICAST_HOPS, value, true);
            }
        } catch (InvocationTargetException e) {
            throw rethrow(e);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static IOException rethrow(InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        return new IOException(cause);
    }

    /** The JDK internals used, looked up once. */
    private record Reflection(Method setIntOption0, Method getIntOption0, Method getFD, Field family) {
        private static volatile Reflection instance;

        static Reflection get() {
            Reflection r = instance;
            if (r == null) {
                r = lookUp();
                instance = r;
            }
            return r;
        }

        private static Reflection lookUp() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                throw new UnsupportedOperationException("UnicastTtl uses Linux option numbers; this is "
                        + System.getProperty("os.name"));
            }
            try {
                Class<?> net = Class.forName("sun.nio.ch.Net");
                Method set = net.getDeclaredMethod("setIntOption0", FileDescriptor.class, boolean.class,
                        int.class, int.class, int.class, boolean.class);
                Method get = net.getDeclaredMethod("getIntOption0", FileDescriptor.class, boolean.class,
                        int.class, int.class);
                Method getFD = Class.forName("sun.nio.ch.SelChImpl").getDeclaredMethod("getFD");
                Field family = Class.forName("sun.nio.ch.DatagramChannelImpl").getDeclaredField("family");
                set.setAccessible(true);
                get.setAccessible(true);
                getFD.setAccessible(true);
                family.setAccessible(true);
                return new Reflection(set, get, getFD, family);
            } catch (InaccessibleObjectException e) {
                throw new IllegalStateException("setting the unicast TTL needs the JVM option " + ADD_OPENS, e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("this JDK (" + Runtime.version()
                        + ") lacks the sun.nio.ch internals UnicastTtl uses", e);
            }
        }

        FileDescriptor fd(DatagramChannel channel) throws IllegalAccessException, InvocationTargetException {
            return (FileDescriptor) getFD.invoke(channel);
        }

        ProtocolFamily family(DatagramChannel channel) throws IllegalAccessException {
            return (ProtocolFamily) family.get(channel);
        }
    }
}
