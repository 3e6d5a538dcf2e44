package dev.pinhole.server.rendezvous;

import java.net.InetAddress;
import org.agrona.collections.Object2ObjectHashMap;

/**
 * A token bucket per source IP address, in a table of bounded size.
 *
 * <p>Each bucket is kept as the generic cell rate algorithm's single number, the theoretical arrival
 * time (TAT, ITU-T I.371): a datagram at {@code now} conforms if {@code TAT - now <= burst × interval};
 * conforming advances TAT by one interval from {@code max(TAT, now)}. That is exactly a bucket of
 * {@code burst} tokens refilled at {@code 1 / interval}, in one long per source and without division.
 * A bucket whose TAT has passed is full, the same as no entry at all.
 *
 * <p>Sources are keyed by IP address, not port, so that a flooder cannot get a fresh bucket per port;
 * the cost is that clients behind one carrier-grade NAT share one bucket, which the default rate
 * leaves room for. The table holds at most {@code capacity} sources: entries are kept in
 * least-recently-seen order (an intrusive list), and a new source when the table is full takes the
 * entry of the source seen longest ago. Nothing is allocated once the table is full.
 */
public final class SourceRateLimiter {
    private final long intervalNs;
    private final long toleranceNs;
    private final int capacity;
    private final Object2ObjectHashMap<InetAddress, Entry> entries;
    /** Most recently seen at the head, least recently at the tail. */
    private Entry head;
    private Entry tail;
    private long evictions;

    /**
     * @param ratePerSecond sustained datagrams per second allowed per source
     * @param burst         datagrams a source may send at once after being quiet
     * @param capacity      sources tracked at most
     */
    public SourceRateLimiter(int ratePerSecond, int burst, int capacity) {
        if (ratePerSecond < 1 || burst < 1 || capacity < 1) {
            throw new IllegalArgumentException("rate, burst and capacity must be positive, were "
                + ratePerSecond + ", " + burst + ", " + capacity);
        }
        this.intervalNs = 1_000_000_000L / ratePerSecond;
        this.toleranceNs = intervalNs * (burst - 1);
        this.capacity = capacity;
        this.entries = new Object2ObjectHashMap<>(Math.min(capacity, 1024) * 2, 0.5f);
    }

    /** Whether a datagram from {@code source} at {@code nowNs} is within its rate; counts it if so. */
    public boolean tryAcquire(InetAddress source, long nowNs) {
        Entry entry = entries.get(source);
        if (entry == null) {
            entry = claimEntry(source, nowNs);
        } else {
            moveToHead(entry);
        }
        long tat = entry.tatNs - nowNs > 0 ? entry.tatNs : nowNs;
        if (tat - nowNs > toleranceNs) {
            return false;
        }
        entry.tatNs = tat + intervalNs;
        return true;
    }

    /** Sources tracked now. */
    public int size() {
        return entries.size();
    }

    int capacity() {
        return capacity;
    }

    /** Entries taken from the least recently seen source because the table was full. */
    public long evictions() {
        return evictions;
    }

    private Entry claimEntry(InetAddress source, long nowNs) {
        Entry entry;
        if (entries.size() >= capacity) {
            entry = tail;
            unlink(entry);
            entries.remove(entry.source);
            evictions++;
        } else {
            entry = new Entry();
        }
        entry.source = source;
        entry.tatNs = nowNs;
        entries.put(source, entry);
        linkAtHead(entry);
        return entry;
    }

    private void moveToHead(Entry entry) {
        if (entry != head) {
            unlink(entry);
            linkAtHead(entry);
        }
    }

    private void linkAtHead(Entry entry) {
        entry.prev = null;
        entry.next = head;
        if (head != null) {
            head.prev = entry;
        }
        head = entry;
        if (tail == null) {
            tail = entry;
        }
    }

    private void unlink(Entry entry) {
        if (entry.prev != null) {
            entry.prev.next = entry.next;
        } else {
            head = entry.next;
        }
        if (entry.next != null) {
            entry.next.prev = entry.prev;
        } else {
            tail = entry.prev;
        }
        entry.prev = null;
        entry.next = null;
    }

    private static final class Entry {
        InetAddress source;
        long tatNs;
        Entry prev;
        Entry next;
    }
}
