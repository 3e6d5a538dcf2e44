package dev.pinhole.core.net;

import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * An endpoint behind an outbound firewall: datagrams go out only to destinations the rule allows; the
 * rest are released and reported as sent ({@code true}), as a firewall further along would drop them
 * silently. Receiving is untouched. It makes a direct path impossible on one machine, so that
 * {@code pinhole demo --relayed} and the relay tests run through a relay. Confined to the wrapped
 * endpoint's event loop, like the endpoint.
 */
public final class FirewalledEndpoint implements DatagramEndpoint {
    private final DatagramEndpoint inner;
    private final Predicate<InetSocketAddress> allowed;
    private long blocked;

    /** @param allowed decides per destination whether a datagram may leave */
    public FirewalledEndpoint(DatagramEndpoint inner, Predicate<InetSocketAddress> allowed) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.allowed = Objects.requireNonNull(allowed, "allowed");
    }

    /** Datagrams the rule kept from leaving; read it on the event loop, or after the loop has stopped. */
    public long blocked() {
        return blocked;
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        if (!allowed.test(destination)) {
            blocked++;
            datagram.release();
            return true;
        }
        return inner.send(datagram, destination);
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        inner.receiver(receiver);
    }

    @Override
    public Clock clock() {
        return inner.clock();
    }

    @Override
    public TimerService timers() {
        return inner.timers();
    }

    @Override
    public ByteBufAllocator allocator() {
        return inner.allocator();
    }

    @Override
    public String toString() {
        return "FirewalledEndpoint[" + inner + ", " + blocked + " blocked]";
    }
}
