package dev.pinhole.core.net;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UDP sockets of one {@link UdpEventLoop}: the primary socket and those {@link UdpEventLoop#openSocket}
 * added, their non-blocking channels registered with one {@link Selector}, each socket's receiver, its TTL,
 * and reading and sending datagrams. The loop decides when to read and when to sleep; this set does the
 * socket work and owns the selector the loop sleeps in.
 *
 * <p>Loop thread only (or the building thread before the loop starts), except {@link #wakeUp()}.
 */
final class SocketSet {
    /** Under the loop's name: a socket's failures are the loop's, and operators look for them there. */
    private static final Logger LOG = LoggerFactory.getLogger(UdpEventLoop.class);

    private final UdpEventLoop loop;
    private final Selector selector;
    private final Socket primary;
    /** The primary socket first, then those {@link #open} added; replaced, never mutated. */
    private volatile Socket[] sockets;
    private final int grantedReceiveBufferBytes;
    private final int grantedSendBufferBytes;
    private final int requestedReceiveBufferBytes;
    private final int requestedSendBufferBytes;
    private final int maxDatagramSize;
    private final int receiveBatchSize;
    private final LoopCounters counters;
    private final RateLimitedLog failureLog;
    private final Consumer<SelectionKey> ignoreReadyKey = key -> { };
    /** A read buffer left over from a read that found no datagram. */
    private ByteBuf spareReadBuffer;

    /**
     * Opens the selector and binds the primary socket.
     *
     * @param loop the loop that owns the sockets: its thread, clock, timers and closed state are theirs
     */
    SocketSet(UdpEventLoop loop, InetSocketAddress bindAddress, int receiveBufferBytes, int sendBufferBytes,
              int maxDatagramSize, int receiveBatchSize, LoopCounters counters, RateLimitedLog failureLog)
            throws IOException {
        this.loop = loop;
        this.requestedReceiveBufferBytes = receiveBufferBytes;
        this.requestedSendBufferBytes = sendBufferBytes;
        this.maxDatagramSize = maxDatagramSize;
        this.receiveBatchSize = receiveBatchSize;
        this.counters = counters;
        this.failureLog = failureLog;
        this.selector = Selector.open();
        final DatagramChannel openedChannel;
        final InetSocketAddress localAddress;
        try {
            openedChannel = openChannel(bindAddress, selector, receiveBufferBytes, sendBufferBytes);
            localAddress = (InetSocketAddress) openedChannel.getLocalAddress();
            this.grantedReceiveBufferBytes = openedChannel.getOption(StandardSocketOptions.SO_RCVBUF);
            this.grantedSendBufferBytes = openedChannel.getOption(StandardSocketOptions.SO_SNDBUF);
        } catch (IOException | RuntimeException e) {
            closeQuietly(selector);
            throw e;
        }
        this.primary = new Socket(openedChannel, localAddress);
        this.sockets = new Socket[] {primary};
    }

    /** The primary socket, which lives as long as the loop. */
    DatagramEndpoint primary() {
        return primary;
    }

    /** The receive buffer size the OS granted the primary socket, in bytes. */
    int grantedReceiveBufferBytes() {
        return grantedReceiveBufferBytes;
    }

    /** The send buffer size the OS granted the primary socket, in bytes. */
    int grantedSendBufferBytes() {
        return grantedSendBufferBytes;
    }

    /** Binds one more socket with the primary one's buffer sizes; see {@link UdpEventLoop#openSocket}. */
    DatagramEndpoint open(InetSocketAddress bindAddress) throws IOException {
        final DatagramChannel opened = openChannel(bindAddress, selector, requestedReceiveBufferBytes,
            requestedSendBufferBytes);
        final Socket socket = new Socket(opened, (InetSocketAddress) opened.getLocalAddress());
        final Socket[] current = sockets;
        final Socket[] grown = Arrays.copyOf(current, current.length + 1);
        grown[current.length] = socket;
        sockets = grown;
        return socket;
    }

    /** Closes a socket {@link #open} opened; see {@link UdpEventLoop#closeSocket}. */
    void close(DatagramEndpoint socket) {
        final Socket[] current = sockets;
        int index = -1;
        for (int i = 1; i < current.length; i++) {
            if (current[i] == socket) {
                index = i;
            }
        }
        if (index < 0) {
            if (socket == loop || socket == primary) {
                throw new IllegalArgumentException("the primary socket closes with the loop, not with closeSocket");
            }
            if (socket instanceof Socket s && s.socketClosed) {
                return;
            }
            throw new IllegalArgumentException(socket + " was not opened by this loop's openSocket");
        }
        final Socket closing = current[index];
        final Socket[] shrunk = new Socket[current.length - 1];
        System.arraycopy(current, 0, shrunk, 0, index);
        System.arraycopy(current, index + 1, shrunk, index, current.length - index - 1);
        sockets = shrunk;
        closing.socketClosed = true;
        // Closing a registered channel only cancels its key; the port is released when the selector next
        // deregisters it, so select at once (ready keys are ignored, as in every select of this loop).
        closeQuietly(closing.channel);
        try {
            selector.selectNow(ignoreReadyKey);
        } catch (IOException e) {
            failureLog.warn("select after closing " + closing.localAddress + " failed", e, loop.clock().nanoTime());
        }
    }

    /** Sends the socket's following datagrams with IP TTL (IPv6 hop limit) {@code ttl}; see {@link UnicastTtl}. */
    void unicastTtl(DatagramEndpoint socket, int ttl) throws IOException {
        UnicastTtl.set(own(socket).channel, ttl);
    }

    /** Returns the socket to the system's default TTL. */
    void restoreUnicastTtl(DatagramEndpoint socket) throws IOException {
        UnicastTtl.reset(own(socket).channel);
    }

    private Socket own(DatagramEndpoint socket) {
        for (Socket s : sockets) {
            if (s == socket) {
                return s;
            }
        }
        throw new IllegalArgumentException(socket + " is not an open socket of this loop");
    }

    /**
     * Reads up to one batch of datagrams from every socket and hands them to the receivers. Returns true if
     * some socket filled its batch (more may wait, so the loop must not sleep).
     */
    boolean receive() {
        boolean mayHaveMoreDatagrams = false;
        for (Socket socket : sockets) {
            mayHaveMoreDatagrams |= socket.receiveBatch();
        }
        return mayHaveMoreDatagrams;
    }

    /** Sleeps until a socket is readable or {@link #wakeUp()}; ready keys are ignored (every turn reads all). */
    void select() throws IOException {
        selector.select(ignoreReadyKey);
    }

    /** As {@link #select()}, for at most {@code timeoutMs} milliseconds (positive). */
    void select(long timeoutMs) throws IOException {
        selector.select(ignoreReadyKey, timeoutMs);
    }

    /** Does not sleep; clears a pending {@link #wakeUp()}. */
    void selectNow() throws IOException {
        selector.selectNow(ignoreReadyKey);
    }

    /** Any thread: ends the current or the next {@link #select}. */
    void wakeUp() {
        selector.wakeup();
    }

    /** Releases the read buffer, the selector and every socket. Once, when the loop ends. */
    void release() {
        if (spareReadBuffer != null) {
            spareReadBuffer.release();
            spareReadBuffer = null;
        }
        closeQuietly(selector);
        for (Socket socket : sockets) {
            closeQuietly(socket.channel);
        }
    }

    /** Opens, sizes, binds and registers a non-blocking channel; closes it again on any failure. */
    private static DatagramChannel openChannel(InetSocketAddress bindAddress, Selector selector,
                                               int receiveBufferBytes, int sendBufferBytes) throws IOException {
        final DatagramChannel channel;
        if (bindAddress.getAddress() instanceof Inet4Address) {
            channel = DatagramChannel.open(StandardProtocolFamily.INET);
        } else if (bindAddress.getAddress() instanceof Inet6Address && !bindAddress.getAddress().isAnyLocalAddress()) {
            channel = DatagramChannel.open(StandardProtocolFamily.INET6);
        } else {
            channel = DatagramChannel.open(); // wildcard: dual-stack where the OS offers it
        }
        try {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferBytes);
            channel.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferBytes);
            try {
                channel.bind(bindAddress);
            } catch (BindException e) {
                final BindException withAddress = new BindException("cannot bind a UDP socket to " + bindAddress
                    + ": " + e.getMessage());
                withAddress.initCause(e);
                throw withAddress;
            }
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            return channel;
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException e) {
            LOG.debug("closing {} failed", closeable, e);
        }
    }

    /** One UDP socket of the loop: the primary one, or one {@link #open} added. */
    private final class Socket implements DatagramEndpoint {
        private final DatagramChannel channel;
        private final InetSocketAddress localAddress;
        private DatagramReceiver receiver;
        /** Closed by {@link SocketSet#close} before the loop. */
        private boolean socketClosed;

        Socket(DatagramChannel channel, InetSocketAddress localAddress) {
            this.channel = channel;
            this.localAddress = localAddress;
        }

        @Override
        public InetSocketAddress localAddress() {
            return localAddress;
        }

        @Override
        public boolean send(ByteBuf datagram, InetSocketAddress destination) {
            Objects.requireNonNull(datagram, "datagram");
            try {
                loop.checkOwner("send");
                Objects.requireNonNull(destination, "destination");
                final int length = datagram.readableBytes();
                if (length > maxDatagramSize) {
                    counters.increment(LoopCounters.SEND_DROPS_OVERSIZE);
                    return false;
                }
                if (loop.isClosed() || socketClosed) {
                    counters.increment(LoopCounters.SEND_ERRORS);
                    return false;
                }
                final ByteBuffer payload = datagram.nioBufferCount() == 1
                    ? datagram.internalNioBuffer(datagram.readerIndex(), length)
                    : datagram.nioBuffer();
                final int written;
                try {
                    written = channel.send(payload, destination);
                } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
                    counters.increment(LoopCounters.SEND_ERRORS);
                    failureLog.warn("UDP send from " + localAddress + " to " + destination + " failed", e,
                        loop.clock().nanoTime());
                    return false;
                }
                if (written == 0) {
                    counters.increment(LoopCounters.SEND_DROPS_BUFFER_FULL);
                    return false;
                }
                counters.increment(LoopCounters.DATAGRAMS_SENT);
                counters.add(LoopCounters.BYTES_SENT, written);
                return true;
            } finally {
                datagram.release();
            }
        }

        @Override
        public void receiver(DatagramReceiver receiver) {
            loop.checkOwner("receiver");
            this.receiver = receiver;
        }

        @Override
        public Clock clock() {
            return loop.clock();
        }

        @Override
        public TimerService timers() {
            return loop.timers();
        }

        @Override
        public ByteBufAllocator allocator() {
            return Buffers.ALLOCATOR;
        }

        /** Reads up to receiveBatchSize datagrams; returns true if the batch was full (more may wait). */
        private boolean receiveBatch() {
            final int capacity = maxDatagramSize + 1;
            for (int i = 0; i < receiveBatchSize; i++) {
                if (loop.isClosed() || socketClosed) {
                    return false; // a receiver closed the loop or this socket: deliver nothing more
                }
                final ByteBuf buffer = spareReadBuffer != null
                    ? spareReadBuffer : Buffers.ALLOCATOR.directBuffer(capacity, capacity);
                spareReadBuffer = null;
                final ByteBuffer target = buffer.internalNioBuffer(0, capacity);
                final int startPosition = target.position();
                final SocketAddress sender;
                try {
                    sender = channel.receive(target);
                } catch (IOException e) {
                    spareReadBuffer = buffer;
                    counters.increment(LoopCounters.RECEIVE_ERRORS);
                    failureLog.warn("UDP receive on " + localAddress + " failed", e, loop.clock().nanoTime());
                    return false;
                }
                if (sender == null) {
                    spareReadBuffer = buffer;
                    return false;
                }
                final int length = target.position() - startPosition;
                if (length > maxDatagramSize) {
                    spareReadBuffer = buffer; // truncated by the OS to our capacity: larger than allowed
                    counters.increment(LoopCounters.RECEIVE_DROPS_OVERSIZE);
                    continue;
                }
                buffer.setIndex(0, length);
                counters.increment(LoopCounters.DATAGRAMS_RECEIVED);
                counters.add(LoopCounters.BYTES_RECEIVED, length);
                deliver(buffer, (InetSocketAddress) sender);
            }
            return true;
        }

        private void deliver(ByteBuf datagram, InetSocketAddress sender) {
            final DatagramReceiver current = receiver;
            try {
                if (current == null) {
                    counters.increment(LoopCounters.RECEIVE_DROPS_NO_RECEIVER);
                } else {
                    current.onDatagram(datagram, sender);
                }
            } catch (RuntimeException e) {
                counters.increment(LoopCounters.RECEIVER_EXCEPTIONS);
                failureLog.warn("datagram receiver on " + localAddress + " threw", e, loop.clock().nanoTime());
            } finally {
                try {
                    datagram.release();
                } catch (IllegalReferenceCountException e) {
                    counters.increment(LoopCounters.RECEIVER_EXCEPTIONS);
                    failureLog.warn("datagram receiver on " + localAddress
                        + " released a buffer it was only lent", e, loop.clock().nanoTime());
                }
            }
        }
    }
}
