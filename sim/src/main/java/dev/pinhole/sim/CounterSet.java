package dev.pinhole.sim;

import java.util.EnumMap;

/** The live, mutable counters behind a {@link SimCounters} snapshot; touched only on the simulator's thread. */
final class CounterSet {
    private static final DropCause[] CAUSES = DropCause.values();

    long sent;
    long delivered;
    long duplicated;
    long reordered;
    long bytesSent;
    long bytesDelivered;
    long mappingsCreated;
    long translatedOutbound;
    long translatedInbound;
    long hairpinned;
    private final long[] drops = new long[CAUSES.length];

    void drop(DropCause cause) {
        drops[cause.ordinal()]++;
    }

    long dropped(DropCause cause) {
        return drops[cause.ordinal()];
    }

    SimCounters snapshot() {
        EnumMap<DropCause, Long> byCause = new EnumMap<>(DropCause.class);
        for (DropCause cause : CAUSES) {
            byCause.put(cause, drops[cause.ordinal()]);
        }
        return new SimCounters(sent, delivered, duplicated, reordered, bytesSent, bytesDelivered,
                mappingsCreated, translatedOutbound, translatedInbound, hairpinned, byCause);
    }
}
