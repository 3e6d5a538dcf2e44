package dev.pinhole.punch.relay;

import dev.pinhole.protocol.turn.ChannelData;
import dev.pinhole.protocol.turn.TurnCredentials;

import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * How to reach and use one TURN server. Immutable; {@link #of} gives the defaults and the
 * {@code with...} methods derive variants.
 *
 * @param server                   the server's UDP address
 * @param credentials              long-term credentials (RFC 8489 §9.2)
 * @param requestedLifetimeSeconds the LIFETIME to ask for in Allocate and Refresh (RFC 8656 §7.1); 0 asks for
 *                                 nothing and gets the server's default (10 minutes per RFC 8656 §3.2)
 * @param maxPermissions           bound on peer IP addresses with a permission (RFC 8656 §9)
 * @param maxChannels              bound on channel bindings (RFC 8656 §12), at most the 4096 channel numbers
 * @param maxPeers                 bound on peer transport addresses the allocation tracks
 * @param maxQueuedPerPeer         datagrams held per peer while its permission is being installed; more are dropped
 * @param autoBindChannels         whether the first {@code sendTo} a peer also binds a channel to it, so later
 *                                 datagrams travel as 4-byte-header ChannelData instead of 36-byte Send indications
 * @param padChannelData           whether to pad ChannelData to a multiple of 4 bytes; optional over UDP (RFC 8656 §12.4)
 * @param software                 the SOFTWARE attribute of requests, or null for none
 * @param timing                   retransmission timing of requests (RFC 8489 §6.2.1)
 */
public record TurnConfig(InetSocketAddress server, TurnCredentials credentials, int requestedLifetimeSeconds,
                         int maxPermissions, int maxChannels, int maxPeers, int maxQueuedPerPeer,
                         boolean autoBindChannels, boolean padChannelData, String software,
                         StunTransactionConfig timing) {
    public static final int DEFAULT_MAX_PERMISSIONS = 64;
    public static final int DEFAULT_MAX_CHANNELS = 64;
    public static final int DEFAULT_MAX_PEERS = 256;
    public static final int DEFAULT_MAX_QUEUED_PER_PEER = 16;
    public static final String DEFAULT_SOFTWARE = "pinhole";

    public TurnConfig {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(timing, "timing");
        if (server.isUnresolved()) {
            throw new IllegalArgumentException("resolve the TURN server's address first: " + server);
        }
        if (requestedLifetimeSeconds < 0) {
            throw new IllegalArgumentException("requestedLifetimeSeconds must be 0 (server default) or positive, was "
                + requestedLifetimeSeconds);
        }
        if (maxPermissions < 1 || maxPeers < 1 || maxQueuedPerPeer < 0) {
            throw new IllegalArgumentException("maxPermissions and maxPeers must be positive and maxQueuedPerPeer "
                + "not negative, were " + maxPermissions + ", " + maxPeers + ", " + maxQueuedPerPeer);
        }
        if (maxChannels < 0 || maxChannels > ChannelData.CHANNEL_COUNT) {
            throw new IllegalArgumentException("maxChannels must be 0 to " + ChannelData.CHANNEL_COUNT + ", was "
                + maxChannels);
        }
    }

    /** A configuration with the defaults: server-chosen lifetime, 64 permissions and channels, channels bound automatically. */
    public static TurnConfig of(InetSocketAddress server, String username, String password) {
        return new TurnConfig(server, new TurnCredentials(username, password), 0, DEFAULT_MAX_PERMISSIONS,
            DEFAULT_MAX_CHANNELS, DEFAULT_MAX_PEERS, DEFAULT_MAX_QUEUED_PER_PEER, true, false, DEFAULT_SOFTWARE,
            StunTransactionConfig.DEFAULT);
    }

    public TurnConfig withCredentials(TurnCredentials credentials) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    public TurnConfig withRequestedLifetimeSeconds(int seconds) {
        return new TurnConfig(server, credentials, seconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    /** Bounds on permissions, channels, tracked peers, and datagrams queued per peer. */
    public TurnConfig withLimits(int maxPermissions, int maxChannels, int maxPeers, int maxQueuedPerPeer) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    public TurnConfig withAutoBindChannels(boolean autoBindChannels) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    public TurnConfig withPadChannelData(boolean padChannelData) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    public TurnConfig withSoftware(String software) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }

    public TurnConfig withTiming(StunTransactionConfig timing) {
        return new TurnConfig(server, credentials, requestedLifetimeSeconds, maxPermissions, maxChannels, maxPeers,
            maxQueuedPerPeer, autoBindChannels, padChannelData, software, timing);
    }
}
