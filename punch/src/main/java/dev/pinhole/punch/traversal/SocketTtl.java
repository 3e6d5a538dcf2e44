package dev.pinhole.punch.traversal;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.core.net.UnicastTtl;
import java.io.IOException;

/**
 * Sets the IP TTL of the datagrams a socket sends next, for priming (docs/nat-traversal.md, "Priming
 * against the Linux conntrack trap"): before the checks, the session sends one datagram with a small TTL to
 * each remote candidate. It passes the local NAT, which creates the mapping and records the outgoing flow,
 * and dies at the next router, before the peer's NAT could record it as an unsolicited inbound flow. The
 * peer's first check then matches an existing outbound flow instead of clashing with a stale inbound one.
 *
 * <p>The driver implements it (Java has no public unicast-TTL option) and must send synchronously inside
 * {@link dev.pinhole.core.net.DatagramEndpoint#send}, so that the TTL applies to exactly the datagrams sent
 * between {@link #setTtl} and {@link #restore}. The simulator does not model TTL: it passes {@link #NONE}.
 */
public interface SocketTtl {
    /** No priming: the session sends no priming datagrams. */
    SocketTtl NONE = new SocketTtl() {
        @Override
        public void setTtl(int ttl) {
            throw new UnsupportedOperationException("SocketTtl.NONE sets no TTL");
        }

        @Override
        public void restore() {
            throw new UnsupportedOperationException("SocketTtl.NONE sets no TTL");
        }

        @Override
        public String toString() {
            return "SocketTtl.NONE";
        }
    };

    /**
     * The hook for the real driver: sets the TTL of {@code loop}'s socket, or {@link #NONE} when this JVM
     * cannot (not Linux, or no {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}); the session then
     * punches unprimed and says so if it fails.
     */
    static SocketTtl of(UdpEventLoop loop) {
        if (!UnicastTtl.available()) {
            return NONE;
        }
        return new SocketTtl() {
            @Override
            public void setTtl(int ttl) throws IOException {
                loop.unicastTtl(ttl);
            }

            @Override
            public void restore() throws IOException {
                loop.restoreUnicastTtl();
            }

            @Override
            public String toString() {
                return "SocketTtl.of(" + loop.localAddress() + ")";
            }
        };
    }

    /** Sends the following datagrams with IP TTL (IPv6 hop limit) {@code ttl}. */
    void setTtl(int ttl) throws IOException;

    /** Returns to the socket's default TTL. */
    void restore() throws IOException;
}
