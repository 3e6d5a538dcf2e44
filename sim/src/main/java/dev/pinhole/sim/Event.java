package dev.pinhole.sim;

import dev.pinhole.core.time.TimerHandler;
import io.netty.buffer.ByteBuf;

/**
 * One entry of the simulator's event queue: a scenario task, an endpoint timer, or a datagram
 * finishing its crossing of a link. Pooled and reused; a datagram keeps the same event object from
 * {@code send} to delivery or drop, so its header fields travel without copying.
 */
final class Event {
    static final byte TASK = 0;
    static final byte TIMER = 1;
    static final byte PACKET = 2;

    /** Virtual time the event fires at. */
    long timeNs;
    /** Insertion order: breaks ties between events at the same time, which makes runs deterministic. */
    long seq;
    /** Position in the heap, -1 when not queued; lets a cancelled timer leave the heap at once. */
    int heapIndex = -1;
    byte kind;

    Runnable task;
    TimerHandler handler;
    /** Id of a task or timer, for cancellation. */
    long id;

    /** The link whose far end the datagram reaches when this event fires. */
    Link link;
    /** The datagram's payload, owned by the simulator while in flight. */
    ByteBuf data;
    int srcIp;
    int srcPort;
    int dstIp;
    int dstPort;

    void clear() {
        heapIndex = -1;
        task = null;
        handler = null;
        link = null;
        data = null;
    }
}
