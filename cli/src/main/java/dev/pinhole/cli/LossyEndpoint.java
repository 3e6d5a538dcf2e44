package dev.pinhole.cli;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;

/**
 * An endpoint that drops a fraction of the Pinhole transport packets it sends and receives (first byte
 * 128-191, the RFC 7983-style range of DESIGN.md), so the demo can show recovery from loss. STUN and
 * rendezvous datagrams pass untouched: the loss models the data path, not the introduction. Confined to
 * the wrapped endpoint's event loop, like the endpoint.
 */
final class LossyEndpoint implements DatagramEndpoint {
    private static final int TRANSPORT_FIRST_BYTE_MIN = 128;
    private static final int TRANSPORT_FIRST_BYTE_MAX = 191;

    private final DatagramEndpoint inner;
    private final double lossFraction;
    private final SplittableRandom random;
    private long dropped;

    LossyEndpoint(DatagramEndpoint inner, double lossFraction, long seed) {
        this.inner = inner;
        this.lossFraction = lossFraction;
        this.random = new SplittableRandom(seed);
    }

    private boolean drop(ByteBuf datagram) {
        if (!datagram.isReadable()) {
            return false;
        }
        int first = datagram.getUnsignedByte(datagram.readerIndex());
        if (first < TRANSPORT_FIRST_BYTE_MIN || first > TRANSPORT_FIRST_BYTE_MAX) {
            return false;
        }
        if (random.nextDouble() < lossFraction) {
            dropped++;
            return true;
        }
        return false;
    }

    long dropped() {
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
            if (!drop(datagram)) {
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
