package dev.pinhole.reliability.connection;

import dev.pinhole.core.net.DatagramEndpoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * Where a sans-IO {@link Connection} puts the datagrams it wants sent: the only output channel it
 * has. A {@link DatagramEndpoint} is one ({@link #of}); tests may interpose their own.
 */
interface PacketSink {
    /** The allocator datagrams are taken from. */
    ByteBufAllocator allocator();

    /**
     * Sends {@code datagram} (taking ownership of it, as {@link DatagramEndpoint#send} does).
     *
     * @return false if it was dropped locally (socket buffer full); the connection then stops sending
     *     for this turn and treats the packet as lost if it was tracked
     */
    boolean send(ByteBuf datagram, InetSocketAddress destination);

    /** A sink that sends through {@code endpoint}. */
    static PacketSink of(DatagramEndpoint endpoint) {
        return new PacketSink() {
            @Override
            public ByteBufAllocator allocator() {
                return endpoint.allocator();
            }

            @Override
            public boolean send(ByteBuf datagram, InetSocketAddress destination) {
                return endpoint.send(datagram, destination);
            }
        };
    }
}
