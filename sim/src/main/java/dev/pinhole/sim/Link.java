package dev.pinhole.sim;

import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * One direction of a simulated link: applies a {@link LinkConfig}'s impairments to each datagram
 * and schedules its arrival at the far end. Stages and their order are described on
 * {@link LinkConfig}.
 */
final class Link {
    private static final long NANOS_PER_SECOND_TIMES_BITS_PER_BYTE = 8_000_000_000L;

    private final Simulator sim;
    private final CounterSet owner;
    private final RandomGenerator random;
    /** What happens when a datagram reaches the far end: routing in a realm, a host's delivery, a NAT's inbound. */
    final Consumer<Event> exit;

    private LinkConfig config;
    /** Gilbert–Elliott state. */
    private boolean bad;
    /** When the serialiser finishes everything queued so far. */
    private long busyUntilNs;
    /** Sub-nanosecond remainder of serialisation times, in bits·ns/s, so rounding never drifts the rate. */
    private long serializationRemainder;
    /** Arrival time of the last datagram that is subject to FIFO order. */
    private long lastArrivalNs;

    Link(Simulator sim, CounterSet owner, RandomGenerator random, LinkConfig config, Consumer<Event> exit) {
        this.sim = sim;
        this.owner = owner;
        this.random = random;
        this.config = config;
        this.exit = exit;
    }

    LinkConfig config() {
        return config;
    }

    /** Replaces the impairments from now on; datagrams already on the way keep their arrival times. */
    void config(LinkConfig newConfig) {
        this.config = newConfig;
    }

    /** A datagram enters this link now; it is dropped or scheduled to reach {@link #exit}. */
    void enter(Event packet) {
        LinkConfig c = config;
        if (packet.data.readableBytes() > c.maxPayloadBytes()) {
            sim.drop(packet, DropCause.MTU_EXCEEDED, owner);
            return;
        }
        if (c.duplicationRate() > 0 && random.nextDouble() < c.duplicationRate()) {
            Event copy = sim.duplicate(packet, owner);
            transmit(packet, c);
            transmit(copy, c);
        } else {
            transmit(packet, c);
        }
    }

    private void transmit(Event packet, LinkConfig c) {
        long nowNs = sim.nowNs();
        long departureNs = nowNs;
        long bps = c.bandwidthBitsPerSecond();
        if (bps > 0) {
            int wireBytes = packet.data.readableBytes() + Ipv4.IP_UDP_HEADER_BYTES;
            if (busyUntilNs < nowNs) {
                busyUntilNs = nowNs;
                serializationRemainder = 0;
            }
            double backlogBytes = (double) (busyUntilNs - nowNs) * bps / NANOS_PER_SECOND_TIMES_BITS_PER_BYTE;
            if (backlogBytes + wireBytes > c.queueBytes()) {
                sim.drop(packet, DropCause.QUEUE_OVERFLOW, owner);
                return;
            }
            long numerator = wireBytes * NANOS_PER_SECOND_TIMES_BITS_PER_BYTE + serializationRemainder;
            busyUntilNs += numerator / bps;
            serializationRemainder = numerator % bps;
            departureNs = busyUntilNs;
        }
        if (lost(c)) {
            sim.drop(packet, DropCause.LOSS, owner);
            return;
        }
        long arrivalNs = departureNs + c.delayNs();
        if (c.jitterNs() > 0) {
            arrivalNs += random.nextLong(c.jitterNs() + 1);
        }
        if (c.reorderRate() > 0 && random.nextDouble() < c.reorderRate()) {
            arrivalNs += c.reorderDelayNs();
            sim.countReordered(owner);
        } else {
            if (arrivalNs < lastArrivalNs) {
                arrivalNs = lastArrivalNs;
            }
            lastArrivalNs = arrivalNs;
        }
        packet.link = this;
        sim.enqueuePacket(packet, arrivalNs);
    }

    private boolean lost(LinkConfig c) {
        boolean lost = c.lossRate() > 0 && random.nextDouble() < c.lossRate();
        if (c.burstLoss()) {
            if (bad) {
                if (random.nextDouble() < c.badToGoodProbability()) {
                    bad = false;
                }
            } else if (random.nextDouble() < c.goodToBadProbability()) {
                bad = true;
            }
            double p = bad ? c.lossInBadState() : c.lossInGoodState();
            if (p > 0 && random.nextDouble() < p) {
                lost = true;
            }
        }
        return lost;
    }
}
