package dev.pinhole.punch.netns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * One IPv4 UDP socket for the lab's test mains: text datagrams, receive with a bound, and
 * request/retry, which is how the mains wait for readiness (never by sleeping). Test code only:
 * it allocates per datagram, which the production event loop must not.
 */
final class Udp implements AutoCloseable {
    /** Larger than any datagram the lab mains send. */
    static final int MAX_DATAGRAM_BYTES = 2048;
    /** Fills datagrams up to a requested size; never part of a message. */
    private static final char PADDING = '~';

    /** A datagram that arrived: its text and who sent it. */
    record Received(String text, InetSocketAddress from) {}

    private final DatagramChannel channel;
    private final Selector selector;
    private final ByteBuffer receiveBuffer = ByteBuffer.allocate(MAX_DATAGRAM_BYTES);

    private Udp(DatagramChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    /** Binds the wildcard address on {@code port} (0: an ephemeral port). */
    static Udp bind(int port) throws IOException {
        DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        try {
            channel.bind(new InetSocketAddress(port));
            channel.configureBlocking(false);
            Selector selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
            return new Udp(channel, selector);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    DatagramChannel channel() {
        return channel;
    }

    int localPort() throws IOException {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    /** Sends {@code text}, padded with '~' to {@code sizeBytes} if shorter; false if the socket buffer was full. */
    boolean send(String text, int sizeBytes, InetSocketAddress to) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer datagram = ByteBuffer.allocate(Math.max(bytes.length, sizeBytes));
        datagram.put(bytes);
        while (datagram.hasRemaining()) {
            datagram.put((byte) PADDING);
        }
        datagram.flip();
        return channel.send(datagram, to) > 0;
    }

    boolean send(String text, InetSocketAddress to) throws IOException {
        return send(text, 0, to);
    }

    /** The next datagram, or null if none arrives within {@code timeoutMs}. Padding is stripped. */
    Received receive(long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            receiveBuffer.clear();
            InetSocketAddress from = (InetSocketAddress) channel.receive(receiveBuffer);
            if (from != null) {
                receiveBuffer.flip();
                String text = StandardCharsets.US_ASCII.decode(receiveBuffer).toString();
                int padding = text.indexOf(PADDING);
                return new Received(padding < 0 ? text : text.substring(0, padding), from);
            }
            long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
            if (remainingMs <= 0) {
                return null;
            }
            selector.select(remainingMs);
            selector.selectedKeys().clear();
        }
    }

    /**
     * Sends {@code text} to {@code to} and waits {@code timeoutMs} for a reply from {@code to}
     * starting with {@code replyPrefix}, resending up to {@code attempts} times. Other datagrams go
     * to {@code others}.
     *
     * @return the reply, or null if none came
     */
    Received request(String text, InetSocketAddress to, String replyPrefix, int attempts, long timeoutMs,
                     Consumer<Received> others) throws IOException {
        for (int attempt = 0; attempt < attempts; attempt++) {
            send(text, to);
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            long remainingMs;
            while ((remainingMs = (deadline - System.nanoTime()) / 1_000_000) > 0) {
                Received r = receive(remainingMs);
                if (r == null) {
                    break;
                }
                if (r.from().equals(to) && r.text().startsWith(replyPrefix)) {
                    return r;
                }
                others.accept(r);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }

    static String format(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    static InetSocketAddress parse(String hostAndPort) {
        int colon = hostAndPort.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected address:port, got " + hostAndPort);
        }
        return new InetSocketAddress(hostAndPort.substring(0, colon),
                Integer.parseInt(hostAndPort.substring(colon + 1)));
    }

    /**
     * Ends this JVM when its standard input reaches end of file: the lab keeps the pipe open, so
     * this happens when the test JVM that started us dies without stopping us.
     */
    static void exitWhenParentDies() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Nothing is ever written; reading only detects the end of the pipe.
                }
            } catch (IOException e) {
                // A broken pipe means the same as end of file.
            }
            System.out.println("EXIT standard input closed: the lab stopped us, or the test JVM is gone");
            System.exit(3);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
