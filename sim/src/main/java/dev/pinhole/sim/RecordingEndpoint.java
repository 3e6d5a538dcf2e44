package dev.pinhole.sim;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiPredicate;

/**
 * An endpoint that records a copy of every datagram sent on it, and where to. Either it delegates to a
 * real endpoint (simulated or UDP), which sends and receives as usual, or it stands alone at any address
 * (IPv6 too, which the simulator lacks) for unit tests of code that only answers datagrams: then it
 * releases what is sent, receives nothing, has no timers and its clock stays at 0. A delegating one may also
 * drop the datagrams a test chooses, to lose exactly one message instead of a random fraction.
 */
public final class RecordingEndpoint implements DatagramEndpoint {
    /** A datagram sent: its bytes and its destination. */
    public record Sent(byte[] bytes, InetSocketAddress destination) {
    }

    /** Every datagram sent, oldest first; tests may clear it. */
    public final List<Sent> sent = new ArrayList<>();
    private final DatagramEndpoint delegate;
    private final InetSocketAddress local;
    private final ByteBufAllocator allocator;
    private final BiPredicate<byte[], InetSocketAddress> drop;
    private int dropped;

    /** Records what is sent on {@code delegate}, which does everything else. */
    public RecordingEndpoint(DatagramEndpoint delegate) {
        this(delegate, (bytes, destination) -> false);
    }

    /**
     * Records what is sent on {@code delegate} and passes it on, except the datagrams {@code drop} chooses:
     * those are recorded, counted ({@link #dropped()}) and released.
     */
    public RecordingEndpoint(DatagramEndpoint delegate, BiPredicate<byte[], InetSocketAddress> drop) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.drop = Objects.requireNonNull(drop, "drop");
        this.local = null;
        this.allocator = null;
    }

    /** A stand-alone endpoint at {@code local} whose {@code allocator()} is {@code allocator}. */
    public RecordingEndpoint(InetSocketAddress local, ByteBufAllocator allocator) {
        this.delegate = null;
        this.local = Objects.requireNonNull(local, "local");
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.drop = (bytes, destination) -> false;
    }

    /** How many datagrams the drop predicate chose. */
    public int dropped() {
        return dropped;
    }

    @Override
    public InetSocketAddress localAddress() {
        return delegate != null ? delegate.localAddress() : local;
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        byte[] bytes = SimFixture.bytes(datagram);
        sent.add(new Sent(bytes, destination));
        if (drop.test(bytes, destination)) {
            dropped++;
            datagram.release();
            return true;
        }
        if (delegate != null) {
            return delegate.send(datagram, destination);
        }
        datagram.release();
        return true;
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        if (delegate == null) {
            throw new UnsupportedOperationException("a stand-alone recording endpoint receives nothing");
        }
        delegate.receiver(receiver);
    }

    @Override
    public Clock clock() {
        return delegate != null ? delegate.clock() : () -> 0L;
    }

    @Override
    public TimerService timers() {
        if (delegate == null) {
            throw new UnsupportedOperationException("a stand-alone recording endpoint has no timers");
        }
        return delegate.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return delegate != null ? delegate.allocator() : allocator;
    }

    @Override
    public String toString() {
        return "Recording" + (delegate != null ? delegate.toString() : "Endpoint{" + local + "}");
    }
}
