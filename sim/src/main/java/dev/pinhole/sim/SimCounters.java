package dev.pinhole.sim;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of datagram counters, for the whole simulation ({@link Simulator#counters()}), one
 * host ({@link SimHost#counters()}) or one NAT ({@link Nat#counters()}).
 *
 * <p>Globally, every datagram is accounted for: {@code sent + duplicated == delivered +
 * droppedTotal() + Simulator.inFlight()}. A host counts what its endpoints sent and received and
 * what was dropped on its own links or for want of a listener; a NAT counts its translations and
 * what it or its own (outside) links dropped. Fields that do not apply to an element stay 0.
 *
 * @param sent               datagrams passed to {@code send} (including rejected ones)
 * @param delivered          datagrams handed to a receiver
 * @param duplicated         extra copies made by link duplication
 * @param reordered          datagrams a link held back for reordering
 * @param bytesSent          payload bytes of {@code sent}
 * @param bytesDelivered     payload bytes of {@code delivered}
 * @param mappingsCreated    NAT mappings created
 * @param translatedOutbound datagrams a NAT translated from inside to outside (hairpinned ones included)
 * @param translatedInbound  datagrams a NAT translated from outside to inside (hairpinned ones included)
 * @param hairpinned         datagrams a NAT turned back inside (RFC 4787 §6)
 * @param drops              dropped datagrams by cause; every cause present, zero or not
 */
public record SimCounters(
        long sent,
        long delivered,
        long duplicated,
        long reordered,
        long bytesSent,
        long bytesDelivered,
        long mappingsCreated,
        long translatedOutbound,
        long translatedInbound,
        long hairpinned,
        Map<DropCause, Long> drops) {

    public SimCounters {
        EnumMap<DropCause, Long> copy = new EnumMap<>(DropCause.class);
        for (DropCause cause : DropCause.values()) {
            Long value = drops.get(cause);
            copy.put(cause, value == null ? 0L : value);
        }
        drops = Collections.unmodifiableMap(copy);
    }

    /** Datagrams dropped for {@code cause}. */
    public long dropped(DropCause cause) {
        return drops.get(cause);
    }

    /** Datagrams dropped for any cause. */
    public long droppedTotal() {
        long total = 0;
        for (long value : drops.values()) {
            total += value;
        }
        return total;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("SimCounters{sent=").append(sent)
                .append(", delivered=").append(delivered)
                .append(", duplicated=").append(duplicated)
                .append(", reordered=").append(reordered)
                .append(", bytesSent=").append(bytesSent)
                .append(", bytesDelivered=").append(bytesDelivered);
        if (mappingsCreated + translatedOutbound + translatedInbound + hairpinned > 0) {
            s.append(", mappingsCreated=").append(mappingsCreated)
                    .append(", translatedOutbound=").append(translatedOutbound)
                    .append(", translatedInbound=").append(translatedInbound)
                    .append(", hairpinned=").append(hairpinned);
        }
        s.append(", dropped={");
        boolean first = true;
        for (Map.Entry<DropCause, Long> e : drops.entrySet()) {
            if (e.getValue() != 0) {
                s.append(first ? "" : ", ").append(e.getKey()).append('=').append(e.getValue());
                first = false;
            }
        }
        return s.append("}}").toString();
    }
}
