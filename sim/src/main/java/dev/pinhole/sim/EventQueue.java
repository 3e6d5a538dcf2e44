package dev.pinhole.sim;

import java.util.Arrays;

/**
 * A binary min-heap of {@link Event}s ordered by (time, insertion sequence). Events know their own
 * index, so removal of a cancelled timer is O(log n) and the heap never fills with dead entries.
 */
final class EventQueue {
    private Event[] heap = new Event[1024];
    private int size;
    private long nextSeq;

    int size() {
        return size;
    }

    Event peek() {
        return size == 0 ? null : heap[0];
    }

    void add(Event event, long timeNs) {
        event.timeNs = timeNs;
        event.seq = nextSeq++;
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        siftUp(size++, event);
    }

    Event poll() {
        if (size == 0) {
            return null;
        }
        Event first = heap[0];
        Event last = heap[--size];
        heap[size] = null;
        if (size > 0) {
            siftDown(0, last);
        }
        first.heapIndex = -1;
        return first;
    }

    /** Removes a queued event; returns false if it was not in the queue. */
    boolean remove(Event event) {
        int i = event.heapIndex;
        if (i < 0 || i >= size || heap[i] != event) {
            return false;
        }
        Event last = heap[--size];
        heap[size] = null;
        if (i < size) {
            siftDown(i, last);
            if (heap[i] == last) {
                siftUp(i, last);
            }
        }
        event.heapIndex = -1;
        return true;
    }

    private static boolean before(Event a, Event b) {
        return a.timeNs < b.timeNs || (a.timeNs == b.timeNs && a.seq < b.seq);
    }

    private void siftUp(int index, Event event) {
        int i = index;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Event p = heap[parent];
            if (!before(event, p)) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = event;
        event.heapIndex = i;
    }

    private void siftDown(int index, Event event) {
        int i = index;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            Event c = heap[child];
            int right = child + 1;
            if (right < size && before(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!before(c, event)) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = event;
        event.heapIndex = i;
    }
}
