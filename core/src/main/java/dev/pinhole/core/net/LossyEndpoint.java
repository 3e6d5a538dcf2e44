package dev.pinhole.core.net;

import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;

/**
 * An endpoint that loses a seeded random fraction of the Pinhole transport packets it sends (and, if
 * asked, receives): the loss injection of {@code pinhole demo --loss} and of the goodput benchmarks. Only
 * the transport's first-byte range (128–191, {@link PacketKind#TRANSPORT}) is touched: STUN and
 * rendezvous datagrams pass, so the loss models the data path, not the introduction. A dropped datagram
 * is released and reported as sent ({@code true}), as a loss further along the path would look. Confined
 * to the wrapped endpoint's event loop, like the endpoint.
 */
public final class LossyEndpoint implements DatagramEndpoint {

    private final DatagramEndpoint inner;
    private final double lossFraction;
    private final boolean dropReceived;
    private final SplittableRandom random;
    private long dropped;

    /**
     * @param lossFraction the chance in [0, 1] that one transport packet is dropped, independently of the others
     * @param seed         seed of the drop decisions, so a run can be repeated
     * @param dropReceived whether received transport packets are dropped too (both directions of the path),
     *                     or only those sent
     */
    public LossyEndpoint(DatagramEndpoint inner, double lossFraction, long seed, boolean dropReceived) {
        if (!(lossFraction >= 0 && lossFraction <= 1)) {
            throw new IllegalArgumentException("loss fraction must be in [0, 1], got " + lossFraction);
        }
        this.dropReceived = dropReceived;
        this.inner = inner;
        this.lossFraction = lossFraction;
        this.random = new SplittableRandom(seed);
    }

    private boolean drop(ByteBuf datagram) {
        if (!datagram.isReadable()) {
            return false;
        }
        if (DatagramDemultiplexer.classify(datagram) != PacketKind.TRANSPORT) {
            return false;
        }
        if (random.nextDouble() < lossFraction) {
            dropped++;
            return true;
        }
        return false;
    }

    /** Transport packets dropped so far; read it on the event loop, or after the loop has stopped. */
    public long dropped() {
        return dropped;
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    @Override
    public boolean send(ByteBuf datagram, InetSocketAddress destination) {
        if (drop(datagram)) {
            // send() owns the buffer (Buffers): a dropped datagram is released here, reported as sent.
            datagram.release();
            return true;
        }
        return inner.send(datagram, destination);
    }

    @Override
    public void receiver(DatagramReceiver receiver) {
        inner.receiver((datagram, sender) -> {
            if (!(dropReceived && drop(datagram))) {
                receiver.onDatagram(datagram, sender);
            }
        });
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
}
