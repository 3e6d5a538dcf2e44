package dev.pinhole.punch.rendezvous;


import dev.pinhole.protocol.rendezvous.RendezvousProtocol;

import dev.pinhole.protocol.stun.StunKey;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.reliability.Identity;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.random.RandomGenerator;

/** Settings of a {@link RendezvousClient}; immutable, made by {@link #builder()}. */
public final class RendezvousClientConfig {
    /**
     * How long {@link RendezvousClient#connect} waits for its INTRODUCTION after the server accepted the
     * CONNECT: the server's retransmissions of it end at 9.5 s ({@code RendezvousServerConfig#DEFAULT_OUTBOUND_TIMING}).
     */
    public static final long DEFAULT_INTRODUCTION_TIMEOUT_NS = 10_000_000_000L;
    /** How many 438 answers in a row one request follows with a fresh nonce before giving up. */
    static final int MAX_NONCE_RETRIES = 3;

    private final StunKey key;
    private final long refreshIntervalNs;
    private final StunTransactionConfig timing;
    private final long introductionTimeoutNs;
    private final RandomGenerator random;
    private final Identity identity;

    private RendezvousClientConfig(Builder b) {
        this.key = b.key;
        this.refreshIntervalNs = b.refreshIntervalNs;
        this.timing = b.timing;
        this.introductionTimeoutNs = b.introductionTimeoutNs;
        this.random = b.random != null ? b.random : new SecureRandom();
        this.identity = b.identity;
    }

    private RendezvousClientConfig(RendezvousClientConfig other, Identity identity) {
        this.key = other.key;
        this.refreshIntervalNs = other.refreshIntervalNs;
        this.timing = other.timing;
        this.introductionTimeoutNs = other.introductionTimeoutNs;
        this.random = other.random;
        this.identity = identity;
    }

    /** This config with {@code identity} (a node gives its client the identity its transport proves). */
    public RendezvousClientConfig withIdentity(Identity identity) {
        return new RendezvousClientConfig(this, java.util.Objects.requireNonNull(identity, "identity"));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The MESSAGE-INTEGRITY-SHA256 key derived from the shared secret, or null without one. */
    public StunKey key() {
        return key;
    }

    /** The longest interval between refreshes; the server's advertised interval caps it. */
    public long refreshIntervalNs() {
        return refreshIntervalNs;
    }

    /** Retransmission schedule of every request (RFC 8489 §6.2.1 defaults: 7 requests over 39.5 s). */
    public StunTransactionConfig timing() {
        return timing;
    }

    public long introductionTimeoutNs() {
        return introductionTimeoutNs;
    }

    /** Source of transaction ids. */
    public RandomGenerator random() {
        return random;
    }

    /**
     * The node's identity: its X25519 public key (NODE-KEY) owns the registered name, and its private key
     * authenticates every request (RendezvousProtocol#sessionKey). Null unless given: then each
     * {@link RendezvousClient} made with this config makes an ephemeral identity of its own.
     */
    public Identity identity() {
        return identity;
    }

    public static final class Builder {
        private StunKey key;
        private long refreshIntervalNs = RendezvousProtocol.DEFAULT_REFRESH_INTERVAL_NS;
        private StunTransactionConfig timing = StunTransactionConfig.DEFAULT;
        private long introductionTimeoutNs = DEFAULT_INTRODUCTION_TIMEOUT_NS;
        private RandomGenerator random;
        private Identity identity;

        private Builder() {
        }

        /**
         * The node's identity (PinholeNode passes its own). The name registered is bound to its X25519
         * public key: a restart with the same identity takes the name over at once, any other key gets 409
         * while the registration lives. Default: each client makes a fresh ephemeral identity (so two clients
     * built with one config never share a key).
         */
        public Builder identity(Identity identity) {
            this.identity = Objects.requireNonNull(identity, "identity");
            return this;
        }

        /** The server's shared secret (UTF-8); see {@link RendezvousProtocol#deriveKey(byte[])}. */
        public Builder secret(String secret) {
            return secret(secret.getBytes(StandardCharsets.UTF_8));
        }

        public Builder secret(byte[] secret) {
            this.key = RendezvousProtocol.deriveKey(secret);
            return this;
        }

        public Builder refreshIntervalNs(long refreshIntervalNs) {
            if (refreshIntervalNs < 1_000_000L) {
                throw new IllegalArgumentException("refresh interval must be at least 1 ms, was " + refreshIntervalNs + " ns");
            }
            this.refreshIntervalNs = refreshIntervalNs;
            return this;
        }

        public Builder timing(StunTransactionConfig timing) {
            this.timing = Objects.requireNonNull(timing, "timing");
            return this;
        }

        public Builder introductionTimeoutNs(long introductionTimeoutNs) {
            if (introductionTimeoutNs <= 0) {
                throw new IllegalArgumentException("introduction timeout must be positive, was " + introductionTimeoutNs);
            }
            this.introductionTimeoutNs = introductionTimeoutNs;
            return this;
        }

        /** A {@link SecureRandom} by default; simulations pass a seeded generator so runs replay. */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        public RendezvousClientConfig build() {
            return new RendezvousClientConfig(this);
        }
    }
}
