package dev.pinhole.cli;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.server.relay.RelaySockets;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.server.relay.TurnServer;
import dev.pinhole.server.relay.TurnServerConfig;
import dev.pinhole.server.rendezvous.RendezvousServerConfig;
import dev.pinhole.punch.traversal.HostAddresses;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.security.SecureRandom;
import java.util.List;

/**
 * The built-in TURN relay (RFC 8656, {@link TurnServer}) that {@code pinhole rendezvous} and the demo run
 * next to the rendezvous server: its own UDP socket on the rendezvous server's event loop, relay sockets
 * on ephemeral ports of the relay IP, and TURN REST credentials ({@link RestCredentials}) under a secret
 * only this process issues credentials with, so the rendezvous server's offers are the only way in.
 *
 * <p>{@link #open} runs before the loop starts (it adds a socket to the loop); {@link #start} runs on the
 * loop thread.
 */
final class BuiltInRelay {
    /** Bytes of a random per-run REST secret: 256 bits, twice {@link RendezvousServerConfig#MIN_REST_SECRET_BYTES}. */
    static final int RANDOM_SECRET_BYTES = 32;

    private final UdpEventLoop loop;
    private final DatagramEndpoint listening;
    private final InetAddress relayIp;
    private final InetAddress socketIp;
    private final byte[] restSecret;
    private final TurnServerConfig config;

    private BuiltInRelay(UdpEventLoop loop, DatagramEndpoint listening, InetAddress relayIp, InetAddress socketIp,
                         byte[] restSecret, TurnServerConfig config) {
        this.loop = loop;
        this.listening = listening;
        this.relayIp = relayIp;
        this.socketIp = socketIp;
        this.restSecret = restSecret;
        this.config = config;
    }

    /**
     * Opens the relay's listening socket on {@code loop} (before it starts).
     *
     * @param listen            where the relay listens (may be the wildcard address)
     * @param relayIp           the specific address peers are told: in offers and XOR-RELAYED-ADDRESS
     * @param sharedSecret      the REST secret, or null (or shorter than 16 bytes) for a random one per run
     * @param bytesPerSecond    relayed bytes per second per allocation, or null for the default
     */
    static BuiltInRelay open(UdpEventLoop loop, InetSocketAddress listen, InetAddress relayIp, byte[] sharedSecret,
                             Long bytesPerSecond, String software) throws CliException {
        InetAddress socketIp = relayIp;
        InetAddress externalIp = null;
        if (!isLocal(relayIp)) {
            // A public address in front of this host (a cloud's 1:1 NAT): relay sockets bind the listening IP,
            // and XOR-RELAYED-ADDRESS announces the public one (TurnServerConfig.externalIp).
            if (listen.getAddress().isAnyLocalAddress()) {
                throw new CliException(ExitCodes.USAGE, "--relay-ip " + relayIp.getHostAddress() + " is not an"
                        + " address of this host: also pass --relay-listen with a local IP to bind the relay sockets to");
            }
            socketIp = listen.getAddress();
            externalIp = relayIp;
        }
        TurnServerConfig.Builder config = TurnServerConfig.builder().software(software).externalIp(externalIp)
                .allowLoopbackPeers(relayIp.isLoopbackAddress());
        if (bytesPerSecond != null) {
            if (bytesPerSecond <= 0) {
                throw new CliException(ExitCodes.USAGE, "--relay-rate must be positive, got " + bytesPerSecond);
            }
            config.allocationRate(bytesPerSecond,
                    Math.max(TurnServerConfig.DEFAULT_ALLOCATION_BURST_BYTES, bytesPerSecond / 8));
            if (bytesPerSecond > TurnServerConfig.DEFAULT_SERVER_BYTES_PER_SECOND) {
                // The server's limit never undercuts what one allocation may use.
                config.serverRate(bytesPerSecond,
                        Math.max(TurnServerConfig.DEFAULT_SERVER_BURST_BYTES, bytesPerSecond / 8));
            }
        }
        byte[] secret = sharedSecret;
        if (secret == null || secret.length < RendezvousServerConfig.MIN_REST_SECRET_BYTES) {
            secret = new byte[RANDOM_SECRET_BYTES];
            new SecureRandom().nextBytes(secret);
        }
        DatagramEndpoint listening = Loops.openSocket(loop, listen);
        return new BuiltInRelay(loop, listening, relayIp, socketIp, secret, config.build());
    }

    /** Starts serving; on the loop thread. */
    TurnServer start() {
        return new TurnServer(listening, RelaySockets.onLoop(loop, socketIp),
                new RestCredentials(restSecret, RendezvousServerConfig.SYSTEM_UNIX_SECONDS), config).listen();
    }

    /** The address offered to peers: the relay IP and the listening port. */
    InetSocketAddress offeredAddress() {
        return new InetSocketAddress(relayIp, listening.localAddress().getPort());
    }

    /** The REST secret the rendezvous server issues offers under. */
    byte[] restSecret() {
        return restSecret.clone();
    }

    /**
     * The relay IP when none is given: {@code listenIp} when it is specific; for the wildcard, the first
     * IPv4 address of an up interface that is neither loopback nor link-local, or null when there is none.
     */
    static InetAddress defaultRelayIp(InetAddress listenIp) throws CliException {
        if (!listenIp.isAnyLocalAddress()) {
            return listenIp;
        }
        List<InetAddress> addresses;
        try {
            addresses = HostAddresses.system(HostAddresses.Filter.DEFAULT).addresses();
        } catch (IOException e) {
            throw new CliException(ExitCodes.INTERNAL, "cannot list the network interfaces to choose the relay"
                    + " address: " + e.getMessage() + "; pass --relay-ip IP or --no-relay", e);
        }
        for (InetAddress address : addresses) {
            if (address instanceof Inet4Address && !address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
                return address;
            }
        }
        return null;
    }

    private static boolean isLocal(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
