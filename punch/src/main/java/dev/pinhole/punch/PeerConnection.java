package dev.pinhole.punch;

import dev.pinhole.reliability.ConnectionStats;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A reliable, ordered, bidirectional byte stream to a named peer, over the UDP path that
 * {@link PinholeNode#connect} or {@link PinholeNode#accept} punched (one Pinhole transport connection,
 * docs/protocol.md).
 *
 * <p>Streams block the calling thread; the protocol runs on the node's event-loop thread. Reads and writes
 * may happen on two different threads at once (one reader, one writer). A connection that ends abnormally
 * makes every pending and later read and write throw the same {@link dev.pinhole.reliability.ConnectionException}
 * subclass: {@link dev.pinhole.reliability.ConnectionTimeoutException} (the path died),
 * {@link dev.pinhole.reliability.ConnectionResetException} (the peer aborted),
 * {@link dev.pinhole.reliability.IdleTimeoutException} (nothing heard for the idle timeout).
 *
 * <pre>{@code
 * try (PeerConnection c = node.connect("bob")) {
 *     c.outputStream().write("hello".getBytes(UTF_8));
 *     c.shutdownOutput();                       // FIN: bob's read returns -1 after "hello"
 *     byte[] answer = c.inputStream().readAllBytes();
 * }
 * }</pre>
 */
public interface PeerConnection extends Closeable {
    /** The name the peer registered at the rendezvous server. */
    String peerName();

    /**
     * The peer's node id ({@link dev.pinhole.reliability.Identity#id()}): the static key its handshake proved.
     * Every byte read from this connection comes from that key's holder, and every byte written reaches only it.
     */
    String peerId();

    /** The path the connection runs on. */
    PathInfo path();

    /**
     * The received bytes, in order. {@code read} blocks until data arrives, the peer finishes its stream
     * (then -1), the connection fails (then it throws), or the transport's read timeout passes (then
     * {@link java.net.SocketTimeoutException}).
     */
    InputStream inputStream();

    /**
     * Bytes to send. {@code write} returns once the bytes are queued for sending; it blocks while the
     * send buffer is full (the peer or the path is slower than the writer): that is the back-pressure.
     * {@code flush} does nothing: queued bytes are sent as soon as congestion control allows.
     * {@code close} on the stream is {@link #shutdownOutput()}.
     */
    OutputStream outputStream();

    /**
     * Finishes this side's stream after the bytes written so far (a half-close, like TCP's FIN): the peer
     * reads them and then the end of the stream; this side can still read. Idempotent.
     */
    void shutdownOutput() throws IOException;

    /** A snapshot of the transport's counters (bytes, packets, losses, RTT, congestion window). */
    ConnectionStats stats() throws IOException;

    /**
     * Milliseconds from the start of {@link PinholeNode#connect} (or, for an accepted connection, from the
     * introduction) until the transport handshake completed: rendezvous, hole punching and handshake.
     */
    long connectMillis();

    /**
     * Aborts at once: unsent data is dropped and the peer's reads and writes fail with a
     * {@link dev.pinhole.reliability.ConnectionResetException} carrying {@code code}.
     */
    void abort(long code);

    /**
     * Closes gracefully: finishes the stream, discards data not yet read, and waits (at most the transport's
     * close timeout, 10 s by default) until the peer has acknowledged everything written and finished its
     * own stream. Idempotent.
     */
    @Override
    void close() throws IOException;
}
