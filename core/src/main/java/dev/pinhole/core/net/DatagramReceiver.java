package dev.pinhole.core.net;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;

/**
 * Receives the datagrams that arrive on a {@link DatagramEndpoint}, on the endpoint's event loop.
 *
 * <p><b>Buffer rule:</b> {@code datagram} is lent for the duration of the call only. The driver
 * releases it when the call returns; a receiver that keeps it (or a slice of it) must
 * {@code retain()} it and release it later. Readable bytes are exactly the datagram's payload.
 */
@FunctionalInterface
public interface DatagramReceiver {
    void onDatagram(ByteBuf datagram, InetSocketAddress sender);
}
