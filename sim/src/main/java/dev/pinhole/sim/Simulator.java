package dev.pinhole.sim;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerHandler;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.Object2LongHashMap;

/**
 * A deterministic discrete-event network simulator: virtual time, hosts with impaired links, and
 * NAT boxes that behave as RFC 4787 describes. Protocol code runs on it unchanged through
 * {@link SimEndpoint}, the simulator's {@link dev.pinhole.core.net.DatagramEndpoint}.
 *
 * <p><b>Determinism.</b> A run is a pure function of the seed and the scenario: time is virtual
 * ({@link #clock()} starts at 0 and moves only from event to event), every random choice comes
 * from a stream derived from the seed and a name ({@link #random}), events at the same virtual time
 * run in the order they were scheduled, and no iteration over an identity-ordered collection
 * decides anything.
 *
 * <p><b>Threading.</b> Single-threaded: the simulator, every endpoint's receiver and timer, and
 * every scheduled action run on the thread that calls {@link #step}, {@link #runFor} or
 * {@link #runUntil}. An exception thrown by one of them propagates out of that call (in a
 * simulation it is a bug to report, not a condition to survive); the simulator stays consistent.
 *
 * <pre>{@code
 * try (Simulator sim = new Simulator(seed, new CountingAllocator())) {
 *     SimHost server = sim.internet().addHost("198.51.100.10");
 *     Nat nat = sim.internet().addNat("203.0.113.5", NatConfig.PORT_RESTRICTED_CONE);
 *     SimHost alice = nat.inside().addHost("10.0.0.2", LinkConfig.builder().delay(20_000_000).loss(0.01).build());
 *     DatagramEndpoint ep = alice.bind(4000);
 *     sim.schedule(2_000_000_000L, () -> alice.link(LinkConfig.BLACKHOLE));
 *     boolean done = sim.runUntil(() -> transferComplete(), 60_000_000_000L);
 * }
 * }</pre>
 *
 * <p><b>Buffers.</b> {@code send} copies the datagram and releases the caller's buffer. A datagram
 * dropped in the network is released when dropped; a delivered one is lent to the receiver and
 * released when the receiver returns. {@link #close()} releases whatever is still in flight.
 *
 * <p><b>Speed.</b> Events are a binary heap keyed by (time, sequence) of pooled event objects; a
 * datagram keeps one event object from send to delivery, and nothing on the per-datagram path
 * allocates except the datagram's buffer copy. Under {@code -Dio.netty.leakDetection.level=paranoid}
 * every pooled buffer records stack traces, which makes runs on the default allocator about ten
 * times slower; scenario suites should run on a {@link CountingAllocator}, whose exact live count
 * replaces GC-driven leak detection.
 */
public final class Simulator implements AutoCloseable {
    private static final long MISSING_KEY = -1L;
    /** Bound on the destination-resolution cache, so a scenario spraying addresses cannot grow it without limit. */
    private static final int RESOLVE_CACHE_LIMIT = 1 << 16;

    private final long seed;
    private final ByteBufAllocator allocator;
    private final EventQueue queue = new EventQueue();
    private final ArrayDeque<Event> pool = new ArrayDeque<>();
    private final Long2ObjectHashMap<Event> scheduledById = new Long2ObjectHashMap<>();
    private final Map<String, RandomGenerator> randoms = new HashMap<>();
    private final Object2LongHashMap<InetSocketAddress> resolveCache =
            new Object2LongHashMap<>(64, 0.65f, MISSING_KEY);
    private final Long2ObjectHashMap<InetSocketAddress> addressCache = new Long2ObjectHashMap<>();
    private final CounterSet counters = new CounterSet();
    private final Clock clock = this::nowNs;
    private final TimerService timers = new Timers();
    private final Network internet;

    private long nowNs;
    private long nextId = 1;
    private long inFlight;
    private long eventsProcessed;
    private SimTracer tracer;
    private boolean dispatching;
    private boolean closed;

    /** A simulator whose whole run is determined by {@code seed}. */
    public Simulator(long seed) {
        this(seed, Buffers.ALLOCATOR);
    }

    /**
     * A simulator whose in-flight copies and endpoints' {@code allocator()} use {@code allocator}:
     * a {@link CountingAllocator} makes leak checks exact and large scenario suites fast.
     */
    public Simulator(long seed, ByteBufAllocator allocator) {
        this.seed = seed;
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.internet = new Network(this, "internet", null);
    }

    public long seed() {
        return seed;
    }

    /** The virtual clock: starts at 0, advances only as the simulator processes events. */
    public Clock clock() {
        return clock;
    }

    public long nowNs() {
        return nowNs;
    }

    /** Timers on the simulator's event queue, with exact deadlines; every endpoint's {@code timers()} is this one. */
    public TimerService timers() {
        return timers;
    }

    /**
     * The random stream named {@code streamName}, seeded from the simulator's seed and the name, so
     * that adding a consumer with a new name does not perturb any other stream. The same name
     * returns the same generator. Names starting with {@code "sim/"} are used by the simulator itself.
     */
    public RandomGenerator random(String streamName) {
        Objects.requireNonNull(streamName, "streamName");
        return randoms.computeIfAbsent(streamName, name -> new SplittableRandom(streamSeed(seed, name)));
    }

    /** The public address realm: hosts here reach each other directly; NATs attach here. */
    public Network internet() {
        return internet;
    }

    /**
     * Runs {@code action} at virtual time {@code atNs} (now, after the events already due now, if
     * {@code atNs} has passed). Returns an id for {@link #cancel}.
     */
    public long schedule(long atNs, Runnable action) {
        Objects.requireNonNull(action, "action");
        requireOpen();
        Event e = obtain();
        e.kind = Event.TASK;
        e.task = action;
        return enqueueCancellable(e, atNs);
    }

    /** Runs {@code action} {@code delayNs} after now. */
    public long scheduleAfter(long delayNs, Runnable action) {
        if (delayNs < 0) {
            throw new IllegalArgumentException("delayNs must not be negative, was " + delayNs);
        }
        return schedule(saturatedAdd(nowNs, delayNs), action);
    }

    /** Cancels a scheduled action or timer that has not run; false if it ran, was cancelled or never existed. */
    public boolean cancel(long id) {
        Event e = scheduledById.remove(id);
        if (e == null) {
            return false;
        }
        queue.remove(e);
        recycle(e);
        return true;
    }

    /**
     * Processes the next event, advancing the clock to its time; false if nothing is scheduled.
     *
     * @throws IllegalStateException if called from inside an event (a receiver, timer or action)
     */
    public boolean step() {
        requireRunnable();
        Event e = queue.poll();
        if (e == null) {
            return false;
        }
        nowNs = e.timeNs;
        eventsProcessed++;
        dispatching = true;
        try {
            dispatch(e);
        } finally {
            dispatching = false;
        }
        return true;
    }

    private void dispatch(Event e) {
        switch (e.kind) {
            case Event.TASK -> {
                Runnable task = e.task;
                scheduledById.remove(e.id);
                recycle(e);
                task.run();
            }
            case Event.TIMER -> {
                TimerHandler handler = e.handler;
                long id = e.id;
                scheduledById.remove(id);
                recycle(e);
                handler.onTimer(nowNs, id);
            }
            default -> {
                Link link = e.link;
                e.link = null;
                link.exit.accept(e);
            }
        }
    }

    /**
     * Processes every event up to and including {@code nowNs() + durationNs}, then sets the clock there.
     *
     * @throws IllegalStateException if called from inside an event
     */
    public void runFor(long durationNs) {
        if (durationNs < 0) {
            throw new IllegalArgumentException("durationNs must not be negative, was " + durationNs);
        }
        requireRunnable();
        long endNs = saturatedAdd(nowNs, durationNs);
        for (Event next = queue.peek(); next != null && next.timeNs <= endNs; next = queue.peek()) {
            step();
        }
        nowNs = endNs;
    }

    /**
     * Processes events until {@code done} holds (checked first and after every event) or until
     * {@code timeoutNs} of virtual time have passed. On success the clock stays at the event that
     * made {@code done} true; on timeout it is set to the deadline.
     *
     * @return whether {@code done} holds
     * @throws IllegalStateException if called from inside an event
     */
    public boolean runUntil(BooleanSupplier done, long timeoutNs) {
        if (timeoutNs < 0) {
            throw new IllegalArgumentException("timeoutNs must not be negative, was " + timeoutNs);
        }
        requireRunnable();
        if (done.getAsBoolean()) {
            return true;
        }
        long endNs = saturatedAdd(nowNs, timeoutNs);
        for (Event next = queue.peek(); next != null && next.timeNs <= endNs; next = queue.peek()) {
            step();
            if (done.getAsBoolean()) {
                return true;
            }
        }
        nowNs = endNs;
        return done.getAsBoolean();
    }

    /** Counters of the whole simulation (a snapshot). */
    public SimCounters counters() {
        return counters.snapshot();
    }

    /** Datagrams in the network now: sent or duplicated, neither delivered nor dropped yet. */
    public long inFlight() {
        return inFlight;
    }

    /** Events waiting in the queue: datagrams in flight, timers and scheduled actions. */
    public int pendingEvents() {
        return queue.size();
    }

    /** Events processed since the start, for measuring the simulator's speed. */
    public long eventsProcessed() {
        return eventsProcessed;
    }

    /** Installs an observer of every datagram's fate, or removes it with null. */
    public void tracer(SimTracer tracer) {
        this.tracer = tracer;
    }

    /**
     * Ends the simulation: releases the buffers of every datagram still in flight and discards all
     * scheduled events. Further sends are rejected and running it again is an error. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Event e = queue.poll(); e != null; e = queue.poll()) {
            if (e.data != null) {
                e.data.release();
                inFlight--;
            }
            e.clear();
        }
        scheduledById.clear();
        pool.clear();
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "Simulator{seed=" + seed + ", nowNs=" + nowNs + ", pendingEvents=" + queue.size() + "}";
    }

    // ---------------------------------------------------------------- package-private machinery

    ByteBufAllocator allocator() {
        return allocator;
    }

    CounterSet globalCounters() {
        return counters;
    }

    /** A new datagram entering the network: copies {@code source}'s readable bytes (the caller releases source). */
    Event newPacket(ByteBuf source, int srcIp, int srcPort, int dstIp, int dstPort) {
        int length = source.readableBytes();
        ByteBuf copy = allocator.buffer(length, length);
        copy.writeBytes(source, source.readerIndex(), length);
        Event e = obtain();
        e.kind = Event.PACKET;
        e.data = copy;
        e.srcIp = srcIp;
        e.srcPort = srcPort;
        e.dstIp = dstIp;
        e.dstPort = dstPort;
        inFlight++;
        return e;
    }

    /** An independent copy of an in-flight datagram (link duplication). */
    Event duplicate(Event original, CounterSet owner) {
        Event copy = newPacket(original.data, original.srcIp, original.srcPort, original.dstIp, original.dstPort);
        counters.duplicated++;
        owner.duplicated++;
        return copy;
    }

    void countReordered(CounterSet owner) {
        counters.reordered++;
        owner.reordered++;
    }

    void enqueuePacket(Event packet, long atNs) {
        queue.add(packet, Math.max(atNs, nowNs));
    }

    /** Drops an in-flight datagram: counts it globally and at {@code local} (if any), traces it, releases it. */
    void drop(Event packet, DropCause cause, CounterSet local) {
        counters.drop(cause);
        if (local != null) {
            local.drop(cause);
        }
        if (tracer != null) {
            tracer.dropped(nowNs, cause, address(packet.srcIp, packet.srcPort), address(packet.dstIp, packet.dstPort),
                    packet.data);
        }
        packet.data.release();
        inFlight--;
        recycle(packet);
    }

    /** Hands an arrived datagram to its receiver, then releases it. */
    void deliver(Event packet, CounterSet host, DatagramReceiver receiver) {
        ByteBuf data = packet.data;
        int bytes = data.readableBytes();
        InetSocketAddress from = address(packet.srcIp, packet.srcPort);
        counters.delivered++;
        counters.bytesDelivered += bytes;
        host.delivered++;
        host.bytesDelivered += bytes;
        if (tracer != null) {
            tracer.delivered(nowNs, from, address(packet.dstIp, packet.dstPort), data);
        }
        inFlight--;
        recycle(packet);
        try {
            receiver.onDatagram(data, from);
        } finally {
            data.release();
        }
    }

    void countSent(CounterSet host, int bytes) {
        counters.sent++;
        counters.bytesSent += bytes;
        host.sent++;
        host.bytesSent += bytes;
    }

    void traceSent(int srcIp, int srcPort, int dstIp, int dstPort, ByteBuf datagram) {
        if (tracer != null) {
            tracer.sent(nowNs, address(srcIp, srcPort), address(dstIp, dstPort), datagram);
        }
    }

    /** Counts and traces a datagram {@code send} refused before it entered the network. */
    void reject(CounterSet host, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
        counters.drop(DropCause.SEND_REJECTED);
        host.drop(DropCause.SEND_REJECTED);
        if (tracer != null) {
            tracer.sent(nowNs, from, to, datagram);
            tracer.dropped(nowNs, DropCause.SEND_REJECTED, from, to, datagram);
        }
    }

    /**
     * The (ip, port) key of a destination, or -1 if it is not a resolved IPv4 address. Cached, because
     * {@code Inet4Address.getAddress()} allocates a fresh array on every call.
     */
    long resolve(InetSocketAddress destination) {
        long key = resolveCache.getValue(destination);
        if (key != MISSING_KEY) {
            return key;
        }
        if (destination.isUnresolved() || !(destination.getAddress() instanceof Inet4Address v4)) {
            return MISSING_KEY;
        }
        key = Ipv4.endpointKey(Ipv4.fromInetAddress(v4), destination.getPort());
        if (resolveCache.size() >= RESOLVE_CACHE_LIMIT) {
            resolveCache.clear();
        }
        resolveCache.put(destination, key);
        return key;
    }

    /** A shared {@link InetSocketAddress} for (ip, port), so delivering a datagram allocates nothing. */
    InetSocketAddress address(int ip, int port) {
        long key = Ipv4.endpointKey(ip, port);
        InetSocketAddress address = addressCache.get(key);
        if (address == null) {
            if (addressCache.size() >= RESOLVE_CACHE_LIMIT) {
                addressCache.clear();
            }
            address = new InetSocketAddress(Ipv4.toInetAddress(ip), port);
            addressCache.put(key, address);
        }
        return address;
    }

    void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the simulator is closed");
        }
    }

    private void requireRunnable() {
        requireOpen();
        if (dispatching) {
            throw new IllegalStateException("the simulator cannot be run from inside one of its own events");
        }
    }

    private long enqueueCancellable(Event e, long atNs) {
        long id = nextId++;
        e.id = id;
        scheduledById.put(id, e);
        queue.add(e, Math.max(atNs, nowNs));
        return id;
    }

    private Event obtain() {
        Event e = pool.pollLast();
        return e != null ? e : new Event();
    }

    private void recycle(Event e) {
        e.clear();
        if (!closed) {
            pool.addLast(e);
        }
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < a ? Long.MAX_VALUE : sum;
    }

    /** A 64-bit seed for a named stream: FNV-1a over the name's UTF-16 units, mixed with the simulator seed. */
    static long streamSeed(long seed, String name) {
        long hash = 0xcbf2_9ce4_8422_2325L;
        for (int i = 0; i < name.length(); i++) {
            hash ^= name.charAt(i);
            hash *= 0x0000_0100_0000_01b3L;
        }
        return mix64(mix64(seed) ^ hash);
    }

    /** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijective avalanche of 64 bits. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58_476d_1ce4_e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d0_49bb_1331_11ebL;
        return z ^ (z >>> 31);
    }

    /** The simulator's {@link TimerService}: timers are events on the one queue, fired at their exact deadline. */
    private final class Timers implements TimerService {
        @Override
        public long schedule(long deadlineNs, TimerHandler handler) {
            Objects.requireNonNull(handler, "handler");
            requireOpen();
            Event e = obtain();
            e.kind = Event.TIMER;
            e.handler = handler;
            return enqueueCancellable(e, deadlineNs);
        }

        @Override
        public boolean cancel(long timerId) {
            return Simulator.this.cancel(timerId);
        }
    }
}
