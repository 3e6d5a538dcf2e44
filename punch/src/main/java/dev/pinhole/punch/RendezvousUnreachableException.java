package dev.pinhole.punch;

import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * No answer came from the rendezvous server after the whole STUN retransmission schedule (RFC 8489
 * §6.2.1): the server is down, the address is wrong, or a firewall drops UDP to it.
 */
public final class RendezvousUnreachableException extends RendezvousException {
    private static final long serialVersionUID = 1L;

    private final InetSocketAddress server;
    private final int requestsSent;
    private final long waitedNs;

    public RendezvousUnreachableException(InetSocketAddress server, String method, int requestsSent, long waitedNs) {
        super("no answer from the rendezvous server " + format(server) + " to " + method + " after " + requestsSent
            + " requests over " + seconds(waitedNs) + " s; check the address and that UDP to it is not blocked");
        this.server = server;
        this.requestsSent = requestsSent;
        this.waitedNs = waitedNs;
    }

    public InetSocketAddress server() {
        return server;
    }

    public int requestsSent() {
        return requestsSent;
    }

    /** From the first request to giving up, nanoseconds. */
    public long waitedNs() {
        return waitedNs;
    }

    private static String format(InetSocketAddress address) {
        if (address == null || address.getAddress() == null) {
            return String.valueOf(address);
        }
        String ip = address.getAddress().getHostAddress();
        return ip.indexOf(':') >= 0 ? "[" + ip + "]:" + address.getPort() : ip + ":" + address.getPort();
    }

    private static String seconds(long ns) {
        return String.format(Locale.ROOT, "%.1f", ns / 1e9);
    }
}
