package dev.pinhole.server;

import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.SecureRandom;
import java.util.Collections;

/**
 * The defaults of the TURN relay (RFC 8656) that a {@link PinholeServer} runs next to its rendezvous
 * server: where it listens, which address peers are told (offers and XOR-RELAYED-ADDRESS, RFC 8656
 * §7.3), its rate limits, and the TURN REST key its credentials are issued under: its own, random per
 * run (only this process issues them, so the rendezvous server's offers are the only way in).
 */
final class BuiltInRelay {
    /** Bytes of a random per-run REST secret: 256 bits, twice {@link RendezvousServerConfig#MIN_REST_SECRET_BYTES}. */
    static final int RANDOM_SECRET_BYTES = 32;

    private BuiltInRelay() {
    }

    /**
     * The relay's listening address when none is given: the rendezvous IP and the first port after every
     * port the server's own sockets use. Without an RFC 5780 alternate that is the listen port + 1; with
     * one, the server also listens on IP1:PORT2, IP2:PORT1 and IP2:PORT2, so the relay takes the higher
     * of PORT1 and PORT2 + 1 ({@code --listen IP1:3478 --alt IP2:3479}: 3480). Ephemeral when either
     * given port is 0 (an ephemeral port is only known once bound, and a relay next to it could take
     * it), or when the next port would pass 65535.
     *
     * @param alternate the RFC 5780 alternate address, or null
     */
    static InetSocketAddress defaultListen(InetSocketAddress rendezvousListen, InetSocketAddress alternate) {
        int highest = rendezvousListen.getPort();
        if (alternate != null) {
            highest = alternate.getPort() == 0 ? 0 : Math.max(highest, alternate.getPort());
        }
        int port = highest == 0 || highest >= 65_535 ? 0 : highest + 1;
        return new InetSocketAddress(rendezvousListen.getAddress(), port);
    }

    /**
     * The relay IP when none is given: {@code listenIp} when it is specific; for the wildcard, the first
     * IPv4 address of an up interface that is neither virtual, point-to-point nor loopback, and is not
     * link-local; null when there is none.
     *
     * @throws IOException if the interfaces cannot be listed
     */
    static InetAddress defaultRelayIp(InetAddress listenIp) throws IOException {
        if (!listenIp.isAnyLocalAddress()) {
            return listenIp;
        }
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                // A tunnel's address rarely reaches a peer, and a virtual sub-interface repeats its parent's.
                if (!ni.isUp() || ni.isVirtual() || ni.isPointToPoint() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress address : Collections.list(ni.getInetAddresses())) {
                    if (address instanceof Inet4Address && !address.isLoopbackAddress()
                        && !address.isLinkLocalAddress() && !address.isMulticastAddress()
                        && !address.isAnyLocalAddress()) {
                        return address;
                    }
                }
            }
        } catch (SocketException e) {
            throw new IOException("cannot list the network interfaces: " + e.getMessage(), e);
        }
        return null;
    }

    /** Whether {@code address} belongs to this host, so that relay sockets can bind it. */
    static boolean isLocal(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    /**
     * The relay's settings: SOFTWARE, the announced IP behind a 1:1 NAT ({@code externalIp}, or null),
     * loopback peers when the relay itself is on loopback, and with {@code bytesPerSecond} (or null for
     * the defaults) that rate per allocation with a burst of an eighth of it.
     */
    static TurnServerConfig config(String software, InetAddress externalIp, boolean loopbackRelay,
                                   Long bytesPerSecond) {
        TurnServerConfig.Builder config = TurnServerConfig.builder().software(software).externalIp(externalIp)
            .allowLoopbackPeers(loopbackRelay);
        if (bytesPerSecond != null) {
            config.allocationRate(bytesPerSecond,
                Math.max(TurnServerConfig.DEFAULT_ALLOCATION_BURST_BYTES, bytesPerSecond / 8));
            if (bytesPerSecond > TurnServerConfig.DEFAULT_SERVER_BYTES_PER_SECOND) {
                // The server's limit never undercuts what one allocation may use.
                config.serverRate(bytesPerSecond,
                    Math.max(TurnServerConfig.DEFAULT_SERVER_BURST_BYTES, bytesPerSecond / 8));
            }
        }
        return config.build();
    }

    /**
     * The relay's own credential key: random per run, never the rendezvous shared secret (every peer knows
     * that one, and could sign relay credentials of any name and any lifetime with it). Only this process
     * issues credentials, so the key never needs to leave it.
     */
    static byte[] randomRelaySecret() {
        byte[] secret = new byte[RANDOM_SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        return secret;
    }
}
