package dev.pinhole.server.relay;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link TurnServer}. Build with {@link #builder()}; every bound has a default that
 * suits one rendezvous machine.
 *
 * @param realm                        REALM of the long-term credentials (RFC 8489 §9.2), at most {@value #MAX_REALM_BYTES} bytes
 * @param software                     SOFTWARE in success responses, or null for none
 * @param externalIp                   the IP to announce in XOR-RELAYED-ADDRESS instead of the relay socket's own
 *                                     (a server behind a 1:1 NAT, as on most clouds), or null
 * @param defaultLifetimeNs            lifetime granted when the client asks for none or less (RFC 8656 §7.2: 10 min)
 * @param maxLifetimeNs                longest lifetime granted (RFC 8656 §7.2 suggests 1 hour)
 * @param nonceLifetimeNs              a nonce is valid for one to two of these
 * @param idleTimeoutNs                an allocation that relays nothing and asks for no permission or channel this
 *                                     long is deleted, even if refreshed
 * @param sweepIntervalNs              how often expired state is reclaimed (data paths check expiry exactly anyway)
 * @param maxAllocations               allocations on the server (also the number of relay sockets opened)
 * @param maxAllocationsPerUser        allocations per username (486 beyond)
 * @param maxPermissionsPerAllocation  permissions (peer IPs) per allocation (508 beyond)
 * @param maxChannelsPerAllocation     channel bindings per allocation (508 beyond)
 * @param allocationBytesPerSecond     relayed bytes per second per allocation, both directions together
 * @param allocationBurstBytes         bucket size of the per-allocation limit
 * @param serverBytesPerSecond         relayed bytes per second for the whole server
 * @param serverBurstBytes             bucket size of the server limit
 * @param unauthenticatedPerSecond     401/438/400 answers per second for the whole server (reflection bound)
 * @param unauthenticatedBurst         bucket size of that limit
 * @param allowLoopbackPeers           whether peers on loopback addresses are relayed to (tests on one machine)
 */
public record TurnServerConfig(String realm, String software, InetAddress externalIp,
                               long defaultLifetimeNs, long maxLifetimeNs, long nonceLifetimeNs, long idleTimeoutNs,
                               long sweepIntervalNs, int maxAllocations, int maxAllocationsPerUser,
                               int maxPermissionsPerAllocation, int maxChannelsPerAllocation,
                               long allocationBytesPerSecond, long allocationBurstBytes,
                               long serverBytesPerSecond, long serverBurstBytes,
                               long unauthenticatedPerSecond, long unauthenticatedBurst,
                               boolean allowLoopbackPeers) {
    /** Realm length cap; it bounds the size of unauthenticated answers (see {@link TurnServer}). */
    public static final int MAX_REALM_BYTES = 128;
    public static final String DEFAULT_REALM = "pinhole";
    /** RFC 8656 §7.2: "the default lifetime of 10 minutes". */
    public static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(10);
    /** RFC 8656 §7.2: the maximum lifetime "SHOULD ... be no more than 3600 seconds (1 hour)". */
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofHours(1);
    /** coturn's default nonce lifetime (600 s). */
    public static final Duration DEFAULT_NONCE_LIFETIME = Duration.ofMinutes(10);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_ALLOCATIONS = 1024;
    public static final int DEFAULT_MAX_ALLOCATIONS_PER_USER = 4;
    public static final int DEFAULT_MAX_PERMISSIONS = 64;
    public static final int DEFAULT_MAX_CHANNELS = 64;
    /** 2 MB/s (16 Mbit/s) per allocation. */
    public static final long DEFAULT_ALLOCATION_BYTES_PER_SECOND = 2_000_000;
    public static final long DEFAULT_ALLOCATION_BURST_BYTES = 256 * 1024;
    /** 50 MB/s (400 Mbit/s) for the server. */
    public static final long DEFAULT_SERVER_BYTES_PER_SECOND = 50_000_000;
    public static final long DEFAULT_SERVER_BURST_BYTES = 4 * 1024 * 1024;
    public static final long DEFAULT_UNAUTHENTICATED_PER_SECOND = 1000;
    public static final long DEFAULT_UNAUTHENTICATED_BURST = 200;

    public TurnServerConfig {
        Objects.requireNonNull(realm, "realm");
        int realmBytes = realm.getBytes(StandardCharsets.UTF_8).length;
        if (realmBytes == 0 || realmBytes > MAX_REALM_BYTES) {
            throw new IllegalArgumentException("realm must have 1 to " + MAX_REALM_BYTES + " bytes, has " + realmBytes);
        }
        if (software != null && software.getBytes(StandardCharsets.UTF_8).length > 128) {
            throw new IllegalArgumentException("software is limited to 128 bytes here");
        }
        requirePositive("defaultLifetimeNs", defaultLifetimeNs);
        requirePositive("nonceLifetimeNs", nonceLifetimeNs);
        requirePositive("idleTimeoutNs", idleTimeoutNs);
        requirePositive("sweepIntervalNs", sweepIntervalNs);
        if (maxLifetimeNs < defaultLifetimeNs) {
            throw new IllegalArgumentException("maxLifetimeNs must be at least defaultLifetimeNs");
        }
        requirePositive("maxAllocations", maxAllocations);
        requirePositive("maxAllocationsPerUser", maxAllocationsPerUser);
        requirePositive("maxPermissionsPerAllocation", maxPermissionsPerAllocation);
        if (maxChannelsPerAllocation < 0 || maxChannelsPerAllocation > 0x1000) {
            throw new IllegalArgumentException("maxChannelsPerAllocation must be 0 to 4096");
        }
        requirePositive("allocationBytesPerSecond", allocationBytesPerSecond);
        requirePositive("allocationBurstBytes", allocationBurstBytes);
        requirePositive("serverBytesPerSecond", serverBytesPerSecond);
        requirePositive("serverBurstBytes", serverBurstBytes);
        requirePositive("unauthenticatedPerSecond", unauthenticatedPerSecond);
        requirePositive("unauthenticatedBurst", unauthenticatedBurst);
    }

    private static void requirePositive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, was " + value);
        }
    }

    /** The defaults. */
    public static TurnServerConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.realm = realm;
        b.software = software;
        b.externalIp = externalIp;
        b.defaultLifetimeNs = defaultLifetimeNs;
        b.maxLifetimeNs = maxLifetimeNs;
        b.nonceLifetimeNs = nonceLifetimeNs;
        b.idleTimeoutNs = idleTimeoutNs;
        b.sweepIntervalNs = sweepIntervalNs;
        b.maxAllocations = maxAllocations;
        b.maxAllocationsPerUser = maxAllocationsPerUser;
        b.maxPermissions = maxPermissionsPerAllocation;
        b.maxChannels = maxChannelsPerAllocation;
        b.allocationBytesPerSecond = allocationBytesPerSecond;
        b.allocationBurstBytes = allocationBurstBytes;
        b.serverBytesPerSecond = serverBytesPerSecond;
        b.serverBurstBytes = serverBurstBytes;
        b.unauthenticatedPerSecond = unauthenticatedPerSecond;
        b.unauthenticatedBurst = unauthenticatedBurst;
        b.allowLoopbackPeers = allowLoopbackPeers;
        return b;
    }

    /** Builds a {@link TurnServerConfig}; unset values are the defaults above. */
    public static final class Builder {
        private String realm = DEFAULT_REALM;
        private String software = "pinhole";
        private InetAddress externalIp;
        private long defaultLifetimeNs = DEFAULT_LIFETIME.toNanos();
        private long maxLifetimeNs = DEFAULT_MAX_LIFETIME.toNanos();
        private long nonceLifetimeNs = DEFAULT_NONCE_LIFETIME.toNanos();
        private long idleTimeoutNs = DEFAULT_IDLE_TIMEOUT.toNanos();
        private long sweepIntervalNs = DEFAULT_SWEEP_INTERVAL.toNanos();
        private int maxAllocations = DEFAULT_MAX_ALLOCATIONS;
        private int maxAllocationsPerUser = DEFAULT_MAX_ALLOCATIONS_PER_USER;
        private int maxPermissions = DEFAULT_MAX_PERMISSIONS;
        private int maxChannels = DEFAULT_MAX_CHANNELS;
        private long allocationBytesPerSecond = DEFAULT_ALLOCATION_BYTES_PER_SECOND;
        private long allocationBurstBytes = DEFAULT_ALLOCATION_BURST_BYTES;
        private long serverBytesPerSecond = DEFAULT_SERVER_BYTES_PER_SECOND;
        private long serverBurstBytes = DEFAULT_SERVER_BURST_BYTES;
        private long unauthenticatedPerSecond = DEFAULT_UNAUTHENTICATED_PER_SECOND;
        private long unauthenticatedBurst = DEFAULT_UNAUTHENTICATED_BURST;
        private boolean allowLoopbackPeers;

        private Builder() {
        }

        public Builder realm(String realm) {
            this.realm = realm;
            return this;
        }

        public Builder software(String software) {
            this.software = software;
            return this;
        }

        public Builder externalIp(InetAddress externalIp) {
            this.externalIp = externalIp;
            return this;
        }

        public Builder lifetimes(Duration defaultLifetime, Duration maxLifetime) {
            this.defaultLifetimeNs = defaultLifetime.toNanos();
            this.maxLifetimeNs = maxLifetime.toNanos();
            return this;
        }

        public Builder nonceLifetime(Duration lifetime) {
            this.nonceLifetimeNs = lifetime.toNanos();
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            this.idleTimeoutNs = timeout.toNanos();
            return this;
        }

        public Builder sweepInterval(Duration interval) {
            this.sweepIntervalNs = interval.toNanos();
            return this;
        }

        public Builder maxAllocations(int total, int perUser) {
            this.maxAllocations = total;
            this.maxAllocationsPerUser = perUser;
            return this;
        }

        public Builder maxPermissionsAndChannels(int permissions, int channels) {
            this.maxPermissions = permissions;
            this.maxChannels = channels;
            return this;
        }

        public Builder allocationRate(long bytesPerSecond, long burstBytes) {
            this.allocationBytesPerSecond = bytesPerSecond;
            this.allocationBurstBytes = burstBytes;
            return this;
        }

        public Builder serverRate(long bytesPerSecond, long burstBytes) {
            this.serverBytesPerSecond = bytesPerSecond;
            this.serverBurstBytes = burstBytes;
            return this;
        }

        public Builder unauthenticatedRate(long perSecond, long burst) {
            this.unauthenticatedPerSecond = perSecond;
            this.unauthenticatedBurst = burst;
            return this;
        }

        public Builder allowLoopbackPeers(boolean allow) {
            this.allowLoopbackPeers = allow;
            return this;
        }

        public TurnServerConfig build() {
            return new TurnServerConfig(realm, software, externalIp, defaultLifetimeNs, maxLifetimeNs, nonceLifetimeNs,
                idleTimeoutNs, sweepIntervalNs, maxAllocations, maxAllocationsPerUser, maxPermissions, maxChannels,
                allocationBytesPerSecond, allocationBurstBytes, serverBytesPerSecond, serverBurstBytes,
                unauthenticatedPerSecond, unauthenticatedBurst, allowLoopbackPeers);
        }
    }
}
