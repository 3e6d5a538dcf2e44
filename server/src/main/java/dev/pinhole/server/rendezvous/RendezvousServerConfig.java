package dev.pinhole.server.rendezvous;

import dev.pinhole.protocol.rendezvous.RendezvousProtocol;

import dev.pinhole.server.relay.RelayGrants;
import dev.pinhole.server.relay.RestCredentials;
import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Settings of a {@link RendezvousServer}; immutable, made by {@link #builder()}.
 *
 * <p>Every table the server keeps is bounded here: registrations (in all, and per source address and
 * network, so that no one place can fill the table), tracked sources of the rate limiter,
 * and outbound requests (INTRODUCTIONs and forwarded MESSAGEs) waiting for their acknowledgement.
 */
public final class RendezvousServerConfig {
    /** Registrations the server holds at most; more get 508 "server full". */
    public static final int DEFAULT_MAX_REGISTRATIONS = 10_000;
    /**
     * Live registrations one source address may hold (an IPv4 address, an IPv6 /64); more get 508.
     * Several nodes behind one NAT share its address, and a node holds one registration per socket.
     */
    public static final int DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS = 8;
    /**
     * Live registrations one network may hold (an IPv4 /24, an IPv6 /56); more get 508. With the
     * default table of {@value #DEFAULT_MAX_REGISTRATIONS}, filling it takes 157 networks, not one.
     */
    public static final int DEFAULT_MAX_REGISTRATIONS_PER_PREFIX = 64;
    /** Requests per second a source IP address may send, sustained. */
    public static final int DEFAULT_RATE_PER_SECOND = 20;
    /** Requests a quiet source IP address may send at once. */
    public static final int DEFAULT_RATE_BURST = 40;
    /** Source addresses the rate limiter remembers; the least recently seen is forgotten first. */
    public static final int DEFAULT_MAX_TRACKED_SOURCES = 65_536;
    /** INTRODUCTION, MESSAGE and CANDIDATE requests the server retransmits at once; a CONNECT beyond gets 508. */
    public static final int DEFAULT_MAX_OUTBOUND_REQUESTS = 2_048;
    /** Names in one LIST_PEERS page at most (fewer if they do not fit {@link RendezvousProtocol#MAX_MESSAGE_BYTES}). */
    public static final int DEFAULT_MAX_NAMES_PER_PAGE = 64;
    /**
     * Retransmission of INTRODUCTION and MESSAGE (RFC 8489 §6.2.1 with RTO 500 ms, Rc 5, Rm 4): sent at
     * 0, 0.5, 1.5, 3.5 and 7.5 s, given up at 9.5 s. Shorter than a client's 39.5 s because a peer that
     * has not answered in 10 s will not be punching in time anyway.
     */
    public static final StunTransactionConfig DEFAULT_OUTBOUND_TIMING =
        new StunTransactionConfig(StunTransactionConfig.DEFAULT_RTO_NS, 5, 4);
    /**
     * How long the TURN credentials of a relay offer admit new allocations: 10 minutes. A node allocates
     * within seconds of its introduction (at once, or after the 2.5 s fallback delay), so minutes leave room
     * for slow paths and clock skew between this server and the relay, while a leaked username is soon
     * useless. An allocation made in time keeps refreshing past the expiry: both the built-in relay and
     * coturn check the credentials' expiry when they authenticate a new allocation, and later requests on
     * that allocation with the key it was made with (docs/security.md, "The relay").
     */
    public static final Duration DEFAULT_RELAY_CREDENTIAL_LIFETIME = Duration.ofMinutes(10);
    /** Shortest REST secret {@link RestCredentials} accepts (128 bits). */
    public static final int MIN_REST_SECRET_BYTES = 16;
    /** The wall clock of credential expiry, in Unix seconds. */
    public static final LongSupplier SYSTEM_UNIX_SECONDS = () -> System.currentTimeMillis() / 1000;

    private final StunKey key;
    private final long refreshIntervalNs;
    private final int missedRefreshesBeforeExpiry;
    private final int maxRegistrations;
    private final int maxRegistrationsPerAddress;
    private final int maxRegistrationsPerPrefix;
    private final int ratePerSecond;
    private final int rateBurst;
    private final int maxTrackedSources;
    private final int maxOutboundRequests;
    private final int maxNamesPerPage;
    private final boolean messagesEnabled;
    private final boolean allowList;
    private final StunTransactionConfig outboundTiming;
    private final String software;
    private final RandomGenerator random;
    private final InetSocketAddress relayServer;
    private final RestCredentials relayCredentials;
    private final RelayGrants relayGrants;
    private final long relayCredentialLifetimeSeconds;
    private final LongSupplier unixSeconds;

    private RendezvousServerConfig(Builder b) {
        this.key = b.key;
        this.refreshIntervalNs = b.refreshIntervalNs;
        this.missedRefreshesBeforeExpiry = b.missedRefreshesBeforeExpiry;
        this.maxRegistrations = b.maxRegistrations;
        this.maxRegistrationsPerAddress = b.maxRegistrationsPerAddress;
        this.maxRegistrationsPerPrefix = b.maxRegistrationsPerPrefix;
        this.ratePerSecond = b.ratePerSecond;
        this.rateBurst = b.rateBurst;
        this.maxTrackedSources = b.maxTrackedSources;
        this.maxOutboundRequests = b.maxOutboundRequests;
        this.maxNamesPerPage = b.maxNamesPerPage;
        this.messagesEnabled = b.messagesEnabled;
        this.allowList = b.allowList;
        this.outboundTiming = b.outboundTiming;
        this.software = b.software;
        this.random = b.random != null ? b.random : new SecureRandom();
        this.relayServer = b.relayServer;
        this.unixSeconds = b.unixSeconds;
        this.relayCredentials = b.relayServer == null ? null : new RestCredentials(b.restSecret, b.unixSeconds);
        this.relayGrants = b.relayGrants;
        this.relayCredentialLifetimeSeconds = b.relayCredentialLifetime.toSeconds();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The MESSAGE-INTEGRITY-SHA256 key derived from the shared secret, or null without one. */
    public StunKey key() {
        return key;
    }

    public long refreshIntervalNs() {
        return refreshIntervalNs;
    }

    public int missedRefreshesBeforeExpiry() {
        return missedRefreshesBeforeExpiry;
    }

    /** How long a registration lives without a refresh: interval × missed refreshes. */
    public long registrationLifetimeNs() {
        return refreshIntervalNs * missedRefreshesBeforeExpiry;
    }

    public int maxRegistrations() {
        return maxRegistrations;
    }

    /** Live registrations one source address (IPv4 address, IPv6 /64) may hold. */
    public int maxRegistrationsPerAddress() {
        return maxRegistrationsPerAddress;
    }

    /** Live registrations one network (IPv4 /24, IPv6 /56) may hold. */
    public int maxRegistrationsPerPrefix() {
        return maxRegistrationsPerPrefix;
    }

    public int ratePerSecond() {
        return ratePerSecond;
    }

    public int rateBurst() {
        return rateBurst;
    }

    public int maxTrackedSources() {
        return maxTrackedSources;
    }

    public int maxOutboundRequests() {
        return maxOutboundRequests;
    }

    public int maxNamesPerPage() {
        return maxNamesPerPage;
    }

    public boolean messagesEnabled() {
        return messagesEnabled;
    }

    /** Whether LIST_PEERS is answered; without it the server says 403 and names nothing. */
    public boolean allowList() {
        return allowList;
    }

    public StunTransactionConfig outboundTiming() {
        return outboundTiming;
    }

    /** SOFTWARE of Binding responses, or null. */
    public String software() {
        return software;
    }

    /** Source of nonce keys, introduction ids, credentials and transaction ids. */
    public RandomGenerator random() {
        return random;
    }

    /** The TURN server every INTRODUCTION offers its recipient, or null when the server offers no relay. */
    public InetSocketAddress relayServer() {
        return relayServer;
    }

    /** Issues the offers' TURN REST credentials under the relay's secret, or null without a relay. */
    public RestCredentials relayCredentials() {
        return relayCredentials;
    }

    /**
     * The grant table shared with a relay in this process, which the server writes an entry into for every
     * offer (whom the recipient may relay to), or null: the relay is in another process (coturn) and
     * enforces no grants.
     */
    public RelayGrants relayGrants() {
        return relayGrants;
    }

    /** How long an offer's credentials are valid from the moment they are issued, in seconds. */
    public long relayCredentialLifetimeSeconds() {
        return relayCredentialLifetimeSeconds;
    }

    /** The wall clock offers' expiries are computed from, in seconds since 1970. */
    public LongSupplier unixSeconds() {
        return unixSeconds;
    }

    public static final class Builder {
        private StunKey key;
        private long refreshIntervalNs = RendezvousProtocol.DEFAULT_REFRESH_INTERVAL_NS;
        private int missedRefreshesBeforeExpiry = RendezvousProtocol.MISSED_REFRESHES_BEFORE_EXPIRY;
        private int maxRegistrations = DEFAULT_MAX_REGISTRATIONS;
        private int maxRegistrationsPerAddress = DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS;
        private int maxRegistrationsPerPrefix = DEFAULT_MAX_REGISTRATIONS_PER_PREFIX;
        private int ratePerSecond = DEFAULT_RATE_PER_SECOND;
        private int rateBurst = DEFAULT_RATE_BURST;
        private int maxTrackedSources = DEFAULT_MAX_TRACKED_SOURCES;
        private int maxOutboundRequests = DEFAULT_MAX_OUTBOUND_REQUESTS;
        private int maxNamesPerPage = DEFAULT_MAX_NAMES_PER_PAGE;
        private boolean messagesEnabled = true;
        private boolean allowList;
        private StunTransactionConfig outboundTiming = DEFAULT_OUTBOUND_TIMING;
        private String software = "pinhole";
        private RandomGenerator random;
        private InetSocketAddress relayServer;
        private byte[] restSecret;
        private RelayGrants relayGrants;
        private Duration relayCredentialLifetime = DEFAULT_RELAY_CREDENTIAL_LIFETIME;
        private LongSupplier unixSeconds = SYSTEM_UNIX_SECONDS;

        private Builder() {
        }

        /**
         * Offers the TURN server at {@code turnServer} in every INTRODUCTION, with credentials issued for
         * the recipient by {@link RestCredentials#issue} under {@code restSecret}, which the relay verifies
         * with the same secret (coturn with {@code --use-auth-secret}, or a built-in relay in another
         * process). The secret is the relay's own: never the rendezvous shared secret, which every peer
         * knows. No grants: such a relay's peers are limited by its own configuration only.
         *
         * @param restSecret at least 16 bytes (copied)
         * @throws IllegalArgumentException if the address is unresolved or has port 0, or the secret is short
         */
        public Builder relay(InetSocketAddress turnServer, byte[] restSecret) {
            return relay(turnServer, restSecret, null);
        }

        /**
         * Offers the built-in relay of this process at {@code turnServer}: credentials as {@link #relay(
         * InetSocketAddress, byte[])} gives, and for each offer a grant in {@code grants} that the relay
         * ({@code TurnServer} constructed with the same table) enforces: the recipient may relay only to
         * the peer it is introduced to.
         *
         * @param grants the table shared with the relay, or null for none
         */
        public Builder relay(InetSocketAddress turnServer, byte[] restSecret, RelayGrants grants) {
            Objects.requireNonNull(turnServer, "turnServer");
            Objects.requireNonNull(restSecret, "restSecret");
            if (turnServer.isUnresolved() || turnServer.getPort() == 0 || turnServer.getAddress().isAnyLocalAddress()) {
                throw new IllegalArgumentException("the relay offered to peers needs a specific address and port, was "
                    + turnServer);
            }
            if (restSecret.length < MIN_REST_SECRET_BYTES) {
                throw new IllegalArgumentException("the relay's REST secret needs at least " + MIN_REST_SECRET_BYTES
                    + " bytes, got " + restSecret.length);
            }
            this.relayServer = turnServer;
            this.restSecret = restSecret.clone();
            this.relayGrants = grants;
            return this;
        }

        /** How long offered credentials stay valid (default {@link #DEFAULT_RELAY_CREDENTIAL_LIFETIME}). */
        public Builder relayCredentialLifetime(Duration lifetime) {
            Objects.requireNonNull(lifetime, "lifetime");
            if (lifetime.toSeconds() < 60 || lifetime.toDays() > 365) {
                throw new IllegalArgumentException("relay credential lifetime must be 1 minute to 365 days, was "
                    + lifetime);
            }
            this.relayCredentialLifetime = lifetime;
            return this;
        }

        /**
         * The wall clock offers' expiries are computed from, Unix seconds: {@link #SYSTEM_UNIX_SECONDS} by
         * default; tests pass virtual time (the endpoint's clock is monotonic nanoseconds, not a date).
         */
        public Builder unixSeconds(LongSupplier unixSeconds) {
            this.unixSeconds = Objects.requireNonNull(unixSeconds, "unixSeconds");
            return this;
        }

        /** Requires MESSAGE-INTEGRITY-SHA256 under the key derived from {@code secret} (UTF-8) on every message. */
        public Builder secret(String secret) {
            return secret(secret.getBytes(StandardCharsets.UTF_8));
        }

        public Builder secret(byte[] secret) {
            this.key = RendezvousProtocol.deriveKey(secret);
            return this;
        }

        public Builder refreshIntervalNs(long refreshIntervalNs) {
            if (refreshIntervalNs < 1_000_000L || refreshIntervalNs > 3_600_000_000_000L) {
                throw new IllegalArgumentException("refresh interval must be 1 ms to 1 h, was " + refreshIntervalNs + " ns");
            }
            this.refreshIntervalNs = refreshIntervalNs;
            return this;
        }

        public Builder missedRefreshesBeforeExpiry(int missed) {
            if (missed < 1 || missed > 100) {
                throw new IllegalArgumentException("missed refreshes before expiry must be 1 to 100, was " + missed);
            }
            this.missedRefreshesBeforeExpiry = missed;
            return this;
        }

        public Builder maxRegistrations(int maxRegistrations) {
            this.maxRegistrations = positive("maxRegistrations", maxRegistrations);
            return this;
        }

        /**
         * Live registrations one source address may hold (default
         * {@value #DEFAULT_MAX_REGISTRATIONS_PER_ADDRESS}): an IPv4 address, or an IPv6 /64, since a host
         * picks addresses in its /64 at will. A REGISTER that would add one more gets 508; refreshes of a
         * held registration never count as more.
         */
        public Builder maxRegistrationsPerAddress(int max) {
            this.maxRegistrationsPerAddress = positive("maxRegistrationsPerAddress", max);
            return this;
        }

        /**
         * Live registrations one network may hold (default {@value #DEFAULT_MAX_REGISTRATIONS_PER_PREFIX}):
         * an IPv4 /24 or an IPv6 /56. A REGISTER that would add one more gets 508.
         */
        public Builder maxRegistrationsPerPrefix(int max) {
            this.maxRegistrationsPerPrefix = positive("maxRegistrationsPerPrefix", max);
            return this;
        }

        /** Per source IP address: {@code perSecond} sustained, {@code burst} at once. */
        public Builder rateLimit(int perSecond, int burst) {
            this.ratePerSecond = positive("rate per second", perSecond);
            this.rateBurst = positive("burst", burst);
            return this;
        }

        public Builder maxTrackedSources(int maxTrackedSources) {
            this.maxTrackedSources = positive("maxTrackedSources", maxTrackedSources);
            return this;
        }

        public Builder maxOutboundRequests(int maxOutboundRequests) {
            if (maxOutboundRequests < 2) {
                throw new IllegalArgumentException("an introduction needs 2 outbound requests, maxOutboundRequests was "
                    + maxOutboundRequests);
            }
            this.maxOutboundRequests = maxOutboundRequests;
            return this;
        }

        public Builder maxNamesPerPage(int maxNamesPerPage) {
            this.maxNamesPerPage = positive("maxNamesPerPage", maxNamesPerPage);
            return this;
        }

        /** Whether the server relays MESSAGE requests between registered peers (on by default). */
        public Builder messagesEnabled(boolean messagesEnabled) {
            this.messagesEnabled = messagesEnabled;
            return this;
        }

        /**
         * Whether anyone who reaches the server (and knows the shared secret, if there is one) may list the
         * registered names. Default false: LIST_PEERS gets 403 "listing is disabled on this server", and a
         * peer must know the name it connects to.
         */
        public Builder allowList(boolean allowList) {
            this.allowList = allowList;
            return this;
        }

        public Builder outboundTiming(StunTransactionConfig outboundTiming) {
            this.outboundTiming = Objects.requireNonNull(outboundTiming, "outboundTiming");
            return this;
        }

        /** SOFTWARE of Binding responses (RFC 8489 §14.14), or null for none. */
        public Builder software(String software) {
            this.software = software;
            return this;
        }

        /**
         * The randomness of nonce keys, introduction ids, ICE credentials and transaction ids:
         * a {@link SecureRandom} by default; simulations pass a seeded generator so runs replay.
         */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        public RendezvousServerConfig build() {
            return new RendezvousServerConfig(this);
        }

        private static int positive(String what, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(what + " must be positive, was " + value);
            }
            return value;
        }
    }
}
