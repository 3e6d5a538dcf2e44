package dev.pinhole.sim;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;

/**
 * Observes every datagram's fate, for traces, debugging and determinism checks. Called on the
 * simulator's thread at the virtual time of the event; must not send or schedule.
 *
 * <p>Addresses are as the datagram carries them at that point: {@code sent} sees the sender's local
 * address, {@code delivered} the (translated) source the receiver sees, {@code dropped} whatever the
 * headers held where it died. The datagram's payload is lent for the call: read it with absolute
 * getters ({@code getByte(readerIndex() + i)}); never change its indexes, retain or release it.
 */
public interface SimTracer {
    /** A datagram passed to {@code send}. */
    default void sent(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
    }

    /** A datagram handed to a receiver. */
    default void delivered(long nowNs, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
    }

    /** A datagram dropped, and why. */
    default void dropped(long nowNs, DropCause cause, InetSocketAddress from, InetSocketAddress to, ByteBuf datagram) {
    }
}
