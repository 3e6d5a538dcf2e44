package dev.pinhole.core.net;

import java.net.BindException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Locale;

/**
 * Why a UDP socket could not be bound, in the words a user can act on: the port is taken
 * ({@code EADDRINUSE}), or the address is not on this host ({@code EADDRNOTAVAIL}). Java reports both as
 * a {@link BindException} and tells them apart only by the operating system's message, so this class
 * also checks the host's interfaces.
 */
public final class BindErrors {
    private BindErrors() {
    }

    /** The operating system's words: the message of the innermost cause (e.g. "Address already in use"). */
    public static String osReason(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /**
     * Whether binding {@code ip} failed because it is not an address of this host: the OS said
     * {@code EADDRNOTAVAIL}, or no interface holds the (specific, non-loopback) address.
     */
    public static boolean addressNotLocal(InetAddress ip, Throwable e) {
        String reason = osReason(e).toLowerCase(Locale.ROOT);
        if (reason.contains("cannot assign requested address") || reason.contains("can't assign requested address")) {
            return true;
        }
        if (ip == null || ip.isAnyLocalAddress() || ip.isLoopbackAddress()) {
            return false;
        }
        try {
            return NetworkInterface.getByInetAddress(ip) == null;
        } catch (SocketException notListed) {
            return false;
        }
    }

    /** Whether the OS said the address and port are taken ({@code EADDRINUSE}). */
    public static boolean addressInUse(Throwable e) {
        return osReason(e).toLowerCase(Locale.ROOT).contains("already in use");
    }
}
