package dev.pinhole.sim;

/**
 * The impairments of one direction of a simulated link (a host's or NAT's uplink or downlink).
 *
 * <p>A datagram entering a link goes through these stages, in this order:
 * <ol>
 *   <li><b>MTU.</b> A datagram whose UDP payload is larger than {@code mtuBytes} minus the 28 bytes of
 *       IPv4 and UDP headers is dropped ({@link DropCause#MTU_EXCEEDED}): the simulator never
 *       fragments, as if every datagram carried Don't Fragment (what path MTU discovery,
 *       RFC 8899, assumes).</li>
 *   <li><b>Duplication.</b> With probability {@code duplicationRate} a copy is made; original and
 *       copy then go through the remaining stages independently.</li>
 *   <li><b>Bandwidth and queue.</b> With {@code bandwidthBitsPerSecond > 0} the link serialises
 *       datagrams one after another at that rate, counting payload plus the 28 header bytes. A
 *       datagram that would make the backlog exceed {@code queueBytes} is tail-dropped
 *       ({@link DropCause#QUEUE_OVERFLOW}). 0 means unlimited: no serialisation delay, no queue.</li>
 *   <li><b>Loss.</b> Independent loss with probability {@code lossRate}, and burst loss from a
 *       Gilbert–Elliott two-state Markov chain stepped once per datagram: from GOOD to BAD with
 *       probability {@code goodToBadProbability} (p), from BAD to GOOD with
 *       {@code badToGoodProbability} (r), then loss with {@code lossInBadState} or
 *       {@code lossInGoodState}. The chain is off while p is 0. With loss 1 in BAD and 0 in GOOD the
 *       average loss is p / (p + r) and the mean burst length 1 / r. A datagram lost here has already
 *       used its share of bandwidth, as one lost on the wire has. {@link #BLACKHOLE} is loss 1.</li>
 *   <li><b>Delay.</b> Arrival = departure + {@code delayNs} + a uniform draw from
 *       [0, {@code jitterNs}]. The fixed delay is the floor (propagation), the jitter only adds, so
 *       the mean one-way delay is {@code delayNs + jitterNs / 2}.</li>
 *   <li><b>Order.</b> A link is FIFO: jitter never reorders. A datagram whose draw would arrive
 *       before the previous one waits for it (its delay is raised to the previous arrival). Real
 *       links reorder only through parallel paths or retransmitting link layers, not through
 *       queueing delay, and a model in which jitter alone reorders would couple two impairments a
 *       test wants to set independently. Reordering comes only from {@code reorderRate}: such a
 *       datagram gets {@code reorderDelayNs} more and is exempt from the FIFO rule, so datagrams sent
 *       within that extra delay after it overtake it.</li>
 * </ol>
 *
 * <p>All random draws come from the link's own seeded stream ({@link Simulator#random}).
 *
 * @param delayNs                fixed one-way delay, nanoseconds
 * @param jitterNs               maximum extra delay, uniform in [0, jitterNs], nanoseconds
 * @param lossRate               independent loss probability per datagram
 * @param goodToBadProbability   Gilbert–Elliott p: per-datagram probability of GOOD to BAD; 0 = off
 * @param badToGoodProbability   Gilbert–Elliott r: per-datagram probability of BAD to GOOD
 * @param lossInBadState         loss probability while BAD
 * @param lossInGoodState        loss probability while GOOD
 * @param duplicationRate        probability a datagram is duplicated
 * @param reorderRate            probability a datagram is held back by {@code reorderDelayNs}
 * @param reorderDelayNs         extra delay of a held-back datagram, nanoseconds
 * @param bandwidthBitsPerSecond serialisation rate, bits per second on the wire; 0 = unlimited
 * @param queueBytes             capacity of the queue in front of the bandwidth limit, bytes on the wire
 * @param mtuBytes               IP MTU, bytes; the largest payload is {@code mtuBytes - 28}
 */
public record LinkConfig(
        long delayNs,
        long jitterNs,
        double lossRate,
        double goodToBadProbability,
        double badToGoodProbability,
        double lossInBadState,
        double lossInGoodState,
        double duplicationRate,
        double reorderRate,
        long reorderDelayNs,
        long bandwidthBitsPerSecond,
        int queueBytes,
        int mtuBytes) {

    /** Ethernet's IP MTU (RFC 894), the default. */
    public static final int DEFAULT_MTU_BYTES = 1500;
    /** The smallest MTU every IPv4 host must accept (RFC 791: 68 octets). */
    public static final int MIN_MTU_BYTES = 68;
    /** Largest IPv4 datagram (RFC 791 total length field). */
    public static final int MAX_MTU_BYTES = 65_535;
    /** Queue in front of a bandwidth limit unless set: 64 KiB, about 45 full-size Ethernet frames. */
    public static final int DEFAULT_QUEUE_BYTES = 64 * 1024;

    /** No delay, no loss, no limit: a datagram crosses in zero virtual time. */
    public static final LinkConfig PERFECT = builder().build();
    /** Every datagram is lost (loss rate 1). */
    public static final LinkConfig BLACKHOLE = builder().loss(1.0).build();

    public LinkConfig {
        requireNonNegative("delayNs", delayNs);
        requireNonNegative("jitterNs", jitterNs);
        requireNonNegative("reorderDelayNs", reorderDelayNs);
        requireNonNegative("bandwidthBitsPerSecond", bandwidthBitsPerSecond);
        requireProbability("lossRate", lossRate);
        requireProbability("goodToBadProbability", goodToBadProbability);
        requireProbability("badToGoodProbability", badToGoodProbability);
        requireProbability("lossInBadState", lossInBadState);
        requireProbability("lossInGoodState", lossInGoodState);
        requireProbability("duplicationRate", duplicationRate);
        requireProbability("reorderRate", reorderRate);
        if (queueBytes <= 0) {
            throw new IllegalArgumentException("queueBytes must be positive, was " + queueBytes);
        }
        if (mtuBytes < MIN_MTU_BYTES || mtuBytes > MAX_MTU_BYTES) {
            throw new IllegalArgumentException(
                    "mtuBytes must be in [" + MIN_MTU_BYTES + ", " + MAX_MTU_BYTES + "], was " + mtuBytes);
        }
    }

    /** True if the Gilbert–Elliott chain is on. */
    public boolean burstLoss() {
        return goodToBadProbability > 0;
    }

    /** The largest UDP payload this link carries: {@code mtuBytes} minus 28 bytes of IPv4 and UDP headers. */
    public int maxPayloadBytes() {
        return mtuBytes - Ipv4.IP_UDP_HEADER_BYTES;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.delayNs = delayNs;
        b.jitterNs = jitterNs;
        b.lossRate = lossRate;
        b.goodToBadProbability = goodToBadProbability;
        b.badToGoodProbability = badToGoodProbability;
        b.lossInBadState = lossInBadState;
        b.lossInGoodState = lossInGoodState;
        b.duplicationRate = duplicationRate;
        b.reorderRate = reorderRate;
        b.reorderDelayNs = reorderDelayNs;
        b.bandwidthBitsPerSecond = bandwidthBitsPerSecond;
        b.queueBytes = queueBytes;
        b.mtuBytes = mtuBytes;
        return b;
    }

    private static void requireNonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, was " + value);
        }
    }

    private static void requireProbability(String name, double value) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(name + " must be a probability in [0, 1], was " + value);
        }
    }

    /** Builds a {@link LinkConfig}; starts as {@link #PERFECT}. */
    public static final class Builder {
        private long delayNs;
        private long jitterNs;
        private double lossRate;
        private double goodToBadProbability;
        private double badToGoodProbability;
        private double lossInBadState;
        private double lossInGoodState;
        private double duplicationRate;
        private double reorderRate;
        private long reorderDelayNs;
        private long bandwidthBitsPerSecond;
        private int queueBytes = DEFAULT_QUEUE_BYTES;
        private int mtuBytes = DEFAULT_MTU_BYTES;

        private Builder() {
        }

        /** Fixed one-way delay in nanoseconds. */
        public Builder delay(long delayNs) {
            this.delayNs = delayNs;
            return this;
        }

        /** Extra delay drawn uniformly from [0, jitterNs] per datagram; never reorders (see class comment). */
        public Builder jitter(long jitterNs) {
            this.jitterNs = jitterNs;
            return this;
        }

        /** Independent loss probability per datagram. */
        public Builder loss(double lossRate) {
            this.lossRate = lossRate;
            return this;
        }

        /**
         * Gilbert–Elliott burst loss.
         *
         * @param goodToBad p, per-datagram probability of GOOD to BAD
         * @param badToGood r, per-datagram probability of BAD to GOOD
         * @param lossInBad loss probability while BAD (classically 1)
         * @param lossInGood loss probability while GOOD (classically 0)
         */
        public Builder gilbertElliott(double goodToBad, double badToGood, double lossInBad, double lossInGood) {
            this.goodToBadProbability = goodToBad;
            this.badToGoodProbability = badToGood;
            this.lossInBadState = lossInBad;
            this.lossInGoodState = lossInGood;
            return this;
        }

        /** Probability that a datagram is duplicated. */
        public Builder duplication(double duplicationRate) {
            this.duplicationRate = duplicationRate;
            return this;
        }

        /** Probability that a datagram is held back by {@code extraDelayNs}, letting later ones overtake it. */
        public Builder reordering(double reorderRate, long extraDelayNs) {
            this.reorderRate = reorderRate;
            this.reorderDelayNs = extraDelayNs;
            return this;
        }

        /** Serialisation rate in bits per second on the wire (payload + 28 header bytes); 0 = unlimited. */
        public Builder bandwidth(long bitsPerSecond) {
            this.bandwidthBitsPerSecond = bitsPerSecond;
            return this;
        }

        /** Serialisation rate and the size of the tail-drop queue in front of it, in bytes on the wire. */
        public Builder bandwidth(long bitsPerSecond, int queueBytes) {
            this.bandwidthBitsPerSecond = bitsPerSecond;
            this.queueBytes = queueBytes;
            return this;
        }

        /** IP MTU in bytes; datagrams with more than {@code mtuBytes - 28} payload bytes are dropped. */
        public Builder mtu(int mtuBytes) {
            this.mtuBytes = mtuBytes;
            return this;
        }

        public LinkConfig build() {
            return new LinkConfig(delayNs, jitterNs, lossRate, goodToBadProbability, badToGoodProbability,
                    lossInBadState, lossInGoodState, duplicationRate, reorderRate, reorderDelayNs,
                    bandwidthBitsPerSecond, queueBytes, mtuBytes);
        }
    }
}
