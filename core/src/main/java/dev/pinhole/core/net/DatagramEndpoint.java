package dev.pinhole.core.net;

import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;

/**
 * What protocol code is written against: one UDP socket with its clock, timers and buffer
 * allocator, all owned by a single event-loop thread: one socket per node, one thread owning all its
 * protocol state (docs/architecture.md, principles 2 and 3).
 *
 * <p>Two drivers implement it: {@code UdpEventLoop} over a real NIO {@code DatagramChannel},
 * and the simulator's hosts in {@code dev.pinhole.sim}. Protocol code cannot tell them apart.
 *
 * <p>Every method is called on the endpoint's event loop only (inside a
 * {@link DatagramReceiver} or {@link dev.pinhole.core.time.TimerHandler} callback, or a task the
 * driver runs); none is thread-safe.
 */
public interface DatagramEndpoint {
    /** The address this endpoint is bound to, as the local host sees it (not as a NAT maps it). */
    InetSocketAddress localAddress();

    /**
     * Sends the readable bytes of {@code datagram} as one UDP datagram to {@code destination}.
     *
     * <p><b>Buffer rule:</b> this call takes ownership of {@code datagram} and releases it, whether
     * the datagram was sent or not. Callers that need it afterwards {@code retain()} it first.
     *
     * @return true if the datagram was handed to the network; false if it was dropped locally
     *     (the socket's send buffer was full, or the datagram exceeds the endpoint's size limit).
     *     UDP gives no stronger promise: true does not mean it arrived.
     */
    boolean send(ByteBuf datagram, InetSocketAddress destination);

    /** Installs the receiver of every datagram that arrives from now on (replacing any earlier one). */
    void receiver(DatagramReceiver receiver);

    /** The clock protocol code must use for this endpoint. */
    Clock clock();

    /** Timers that fire on this endpoint's event loop. */
    TimerService timers();

    /** The allocator for datagrams sent on this endpoint (pooled; see {@code dev.pinhole.core.buffer.Buffers}). */
    ByteBufAllocator allocator();
}
