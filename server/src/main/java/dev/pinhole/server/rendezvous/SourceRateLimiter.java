package dev.pinhole.server.rendezvous;

import dev.pinhole.server.common.TokenBucket;
import java.net.InetAddress;
import org.agrona.collections.Object2ObjectHashMap;

/**
 * A {@link TokenBucket} per source IP address, in a table of bounded size: the rendezvous server's
 * first check of every datagram, before any parsing. A new source starts with a full bucket, the same
 * as a source whose bucket refilled while it was quiet.
 *
 * <p>Sources are keyed by IP address, not port, so that a flooder cannot get a fresh bucket per port;
 * the cost is that clients behind one carrier-grade NAT share one bucket, which the default rate
 * leaves room for. The table holds at most {@code capacity} sources: entries are kept in
 * least-recently-seen order (an intrusive list), and a new source when the table is full takes the
 * entry of the source seen longest ago, and its bucket, reset. Nothing is allocated once the table is full.
 */
final class SourceRateLimiter {
    private final int ratePerSecond;
    private final int burst;
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
    SourceRateLimiter(int ratePerSecond, int burst, int capacity) {
        if (ratePerSecond < 1 || burst < 1 || capacity < 1) {
            throw new IllegalArgumentException("rate, burst and capacity must be positive, were "
                + ratePerSecond + ", " + burst + ", " + capacity);
        }
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.capacity = capacity;
        this.entries = new Object2ObjectHashMap<>(Math.min(capacity, 1024) * 2, 0.5f);
    }

    /** Whether a datagram from {@code source} at {@code nowNs} is within its rate; counts it if so. */
    boolean tryAcquire(InetAddress source, long nowNs) {
        Entry entry = entries.get(source);
        if (entry == null) {
            entry = claimEntry(source, nowNs);
        } else {
            moveToHead(entry);
        }
        return entry.bucket.tryTake(1, nowNs);
    }

    /** Sources tracked now. */
    int size() {
        return entries.size();
    }

    int capacity() {
        return capacity;
    }

    /** Entries taken from the least recently seen source because the table was full. */
    long evictions() {
        return evictions;
    }

    private Entry claimEntry(InetAddress source, long nowNs) {
        Entry entry;
        if (entries.size() >= capacity) {
            entry = tail;
            unlink(entry);
            entries.remove(entry.source);
            evictions++;
            entry.bucket.reset(nowNs);
        } else {
            entry = new Entry(new TokenBucket(ratePerSecond, burst, nowNs));
        }
        entry.source = source;
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
        final TokenBucket bucket;
        InetAddress source;
        Entry prev;
        Entry next;

        Entry(TokenBucket bucket) {
            this.bucket = bucket;
        }
    }
}
