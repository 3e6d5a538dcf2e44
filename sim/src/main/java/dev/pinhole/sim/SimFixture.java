package dev.pinhole.sim;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * The simulation fixture tests share: a seeded {@link Simulator} on a {@link CountingAllocator}, its
 * public internet, hosts there or behind NATs, running until a condition or a virtual deadline, and
 * failure messages that name the seed so a run can be replayed.
 *
 * <p>{@link #close()} closes the simulator and fails unless every datagram was accounted for
 * (delivered, dropped or in flight), nothing is in flight afterwards, and every buffer of the
 * simulator's allocator and of each {@link #countedAllocator() counted allocator} was released.
 * Modules above the simulator extend it with their own servers and peers, closing those before
 * calling {@code super.close()}.
 *
 * <p>Not thread-safe: use it on the simulator's thread.
 */
public class SimFixture implements AutoCloseable {
    public static final long MS = 1_000_000L;
    public static final long SECOND = 1_000_000_000L;

    public final long seed;
    /** The simulator's allocator: in-flight copies and every simulated endpoint's {@code allocator()}. */
    public final CountingAllocator allocator = new CountingAllocator();
    public final Simulator sim;
    /** The simulator's public internet. */
    public final Network internet;
    private final List<CountingAllocator> counted = new ArrayList<>();
    /** What protocol code allocates through {@link #tracked} endpoints; {@link #close()} requires it all released. */
    public final CountingAllocator protocolAllocator = countedAllocator();

    public SimFixture(long seed) {
        this.seed = seed;
        this.sim = new Simulator(seed, allocator);
        this.internet = sim.internet();
    }

    /** A host with perfect links on the public internet. */
    public SimHost publicHost(String ip) {
        return internet.addHost(ip);
    }

    /** A host on the public internet whose uplink and downlink are {@code link}. */
    public SimHost publicHost(String ip, LinkConfig link) {
        return internet.addHost(ip, link);
    }

    /** The public host at {@code ip}, added with {@code link} unless it exists. */
    public SimHost publicHostOrExisting(String ip, LinkConfig link) {
        SimHost host = internet.host(ip);
        return host != null ? host : internet.addHost(ip, link);
    }

    /** A NAT on the public internet with external address {@code externalIp} and perfect outside links. */
    public Nat nat(String externalIp, NatConfig config) {
        return internet.addNat(externalIp, config);
    }

    /** A NAT on the public internet whose access line (outside links) is {@code outsideLink}. */
    public Nat nat(String externalIp, NatConfig config, LinkConfig outsideLink) {
        return internet.addNat(externalIp, config, outsideLink);
    }

    /**
     * A host at {@code ip} behind its own new NAT at {@code natIp} of behaviour {@code natConfig}, or, when
     * {@code natConfig} is null, on the public internet at {@code ip}; its links are {@code link}. The NAT is
     * the host's {@code network().nat()}.
     */
    public SimHost addHost(String natIp, NatConfig natConfig, String ip, LinkConfig link) {
        return natConfig == null ? internet.addHost(ip, link) : nat(natIp, natConfig).inside().addHost(ip, link);
    }

    /**
     * An allocator whose buffers {@link #close()} requires to be released too: for code that allocates
     * through an endpoint wrapper rather than from the simulator.
     */
    public CountingAllocator countedAllocator() {
        CountingAllocator extra = new CountingAllocator();
        counted.add(extra);
        return extra;
    }

    /** {@code endpoint} with {@link #protocolAllocator} as its allocator, so protocol code's buffers are counted. */
    public TrackedEndpoint tracked(DatagramEndpoint endpoint) {
        return new TrackedEndpoint(endpoint, protocolAllocator);
    }

    /** Runs events until {@code done} or {@code timeoutNs} of virtual time passed; true if {@code done}. */
    public boolean runUntil(BooleanSupplier done, long timeoutNs) {
        return sim.runUntil(done, timeoutNs);
    }

    /** Runs all events of the next {@code durationNs} of virtual time. */
    public void runFor(long durationNs) {
        sim.runFor(durationNs);
    }

    /** Runs until {@code done}; fails, naming the seed, if it is not within {@code timeoutNs}. */
    public void runUntilOrFail(BooleanSupplier done, long timeoutNs, String what) {
        if (!sim.runUntil(done, timeoutNs)) {
            throw failure(what + ": not within " + timeoutNs / MS + " ms of virtual time");
        }
    }

    /** Runs until {@code future} completes; fails, naming the seed, if it does not within {@code timeoutNs}. */
    public <T> CompletableFuture<T> awaitDone(CompletableFuture<T> future, long timeoutNs) {
        runUntilOrFail(future::isDone, timeoutNs, "no outcome");
        return future;
    }

    /** Runs until {@code future} completes and returns its value; fails, naming the seed, if it failed or timed out. */
    public <T> T await(CompletableFuture<T> future, long timeoutNs) {
        awaitDone(future, timeoutNs);
        try {
            return future.join();
        } catch (CompletionException e) {
            AssertionError error = failure("expected success, failed with " + e.getCause());
            error.initCause(e.getCause());
            throw error;
        }
    }

    /** Runs until {@code future} completes and returns the cause it failed with; fails, naming the seed, otherwise. */
    public Throwable awaitFailure(CompletableFuture<?> future, long timeoutNs) {
        awaitDone(future, timeoutNs);
        try {
            Object value = future.join();
            throw failure("expected a failure, got " + value);
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    /** An assertion failure whose message names the seed. */
    public AssertionError failure(String message) {
        return new AssertionError(message + " (seed " + seed + ")");
    }

    /** Fails, naming the seed, unless {@code condition}. */
    public void check(boolean condition, String message) {
        if (!condition) {
            throw failure(message);
        }
    }

    /**
     * Closes the simulator, then fails, naming the seed, unless every datagram was delivered, dropped or
     * in flight, nothing is left in flight, and every counted buffer was released. Subclasses close their
     * own parts first.
     */
    @Override
    public void close() {
        if (!sim.isClosed()) {
            SimCounters c = sim.counters();
            check(c.sent() + c.duplicated() == c.delivered() + c.droppedTotal() + sim.inFlight(),
                    "every datagram is delivered, dropped or in flight: " + c);
        }
        sim.close();
        check(sim.inFlight() == 0, "nothing in flight after close");
        check(allocator.liveBuffers() == 0, "simulator buffers alive after close, of "
                + allocator.allocatedBuffers() + " allocated");
        for (CountingAllocator extra : counted) {
            check(extra.liveBuffers() == 0, "buffers alive after close, of " + extra.allocatedBuffers() + " allocated");
        }
    }

    /** {@code ip} (a literal, never looked up) and {@code port}. */
    public static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(ip, e);
        }
    }

    /** A copy of the readable bytes of {@code datagram}, which is left as it was. */
    public static byte[] bytes(ByteBuf datagram) {
        byte[] b = new byte[datagram.readableBytes()];
        datagram.getBytes(datagram.readerIndex(), b);
        return b;
    }

    /** How {@code future} failed: "no outcome yet", "no failure", or its cause. Never blocks. */
    public static String failureOf(CompletableFuture<?> future) {
        if (!future.isDone()) {
            return "no outcome yet";
        }
        try {
            future.get();
            return "no failure";
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Sends {@code size} bytes (at least 8) starting with {@code seq}. */
    public static boolean sendSeq(SimEndpoint from, InetSocketAddress to, long seq, int size) {
        ByteBuf b = from.allocator().buffer(size);
        b.writeLong(seq);
        b.writeZero(size - Long.BYTES);
        return from.send(b, to);
    }

    /** Sends {@code text} in UTF-8. */
    public static boolean sendText(SimEndpoint from, InetSocketAddress to, String text) {
        ByteBuf b = from.allocator().buffer();
        b.writeCharSequence(text, StandardCharsets.UTF_8);
        return from.send(b, to);
    }

    /** Records every datagram an endpoint receives, with the virtual time of its arrival. */
    public static final class Inbox implements DatagramReceiver {
        private final Simulator sim;
        public final List<Arrival> arrivals = new ArrayList<>();

        public Inbox(Simulator sim) {
            this.sim = sim;
        }

        /** A new inbox made {@code endpoint}'s receiver. */
        public static Inbox on(SimEndpoint endpoint) {
            Inbox inbox = new Inbox(endpoint.host().simulator());
            endpoint.receiver(inbox);
            return inbox;
        }

        @Override
        public void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
            int size = datagram.readableBytes();
            long seq = size >= Long.BYTES ? datagram.getLong(datagram.readerIndex()) : -1;
            String text = size <= 64 ? datagram.toString(StandardCharsets.UTF_8) : null;
            arrivals.add(new Arrival(sim.nowNs(), sender, seq, size, text));
        }

        public int size() {
            return arrivals.size();
        }

        public Arrival last() {
            return arrivals.get(arrivals.size() - 1);
        }

        public List<InetSocketAddress> senders() {
            List<InetSocketAddress> senders = new ArrayList<>();
            for (Arrival a : arrivals) {
                senders.add(a.from());
            }
            return senders;
        }
    }

    /**
     * A datagram an {@link Inbox} received: when, from where, its first 8 bytes as a long (-1 if shorter),
     * its size, and its UTF-8 text if at most 64 bytes (else null).
     */
    public record Arrival(long atNs, InetSocketAddress from, long seq, int size, String text) {
    }
}
