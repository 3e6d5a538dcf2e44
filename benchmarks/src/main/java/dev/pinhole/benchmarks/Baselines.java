package dev.pinhole.benchmarks;

import dev.pinhole.core.net.UdpEventLoop;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The ceilings Pinhole's goodput is compared with, measured in the same run: a raw
 * {@link DatagramChannel} blast at the same datagram size (no protocol can beat it on this machine)
 * and Java TCP over {@link SocketChannel}; and, between the two, Pinhole's own {@link UdpEventLoop}
 * blasting datagrams without any protocol, the ceiling of a sender built on the event loop.
 *
 * <p>Each benchmark has a background thread that writes as fast as it can; the measured thread
 * receives. The {@code bytes} aux counter is the goodput in bytes per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class Baselines {

    /** Bytes received, reported by JMH as a rate next to the operation rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Received {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @State(Scope.Benchmark)
    public static class UdpBlast {
        @Param({"1200"})
        public int datagramSize;

        DatagramChannel receiver;
        DatagramChannel sender;
        ByteBuffer receiveBuffer;
        Thread blaster;
        volatile boolean running = true;

        @Setup(Level.Trial)
        public void start() throws IOException {
            receiver = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            receiver.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            sender = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            sender.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
            sender.connect(receiver.getLocalAddress());
            receiveBuffer = ByteBuffer.allocateDirect(65536);
            ByteBuffer datagram = ByteBuffer.allocateDirect(datagramSize);
            blaster = new Thread(() -> {
                try {
                    while (running) {
                        datagram.clear();
                        sender.write(datagram);
                    }
                } catch (IOException e) {
                    if (running) {
                        throw new IllegalStateException(e);
                    }
                }
            }, "udp-blaster");
            blaster.setDaemon(true);
            blaster.start();
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            running = false;
            sender.close();
            receiver.close();
            blaster.join();
        }
    }

    /**
     * A {@link UdpEventLoop} sends pooled buffers of {@code datagramSize} bytes as fast as its thread can,
     * {@value #BURST_DATAGRAMS} per task, the task queueing itself again so that the loop still gets to its
     * timers and socket between bursts, as a transport's loop does. The buffers are not filled: this is
     * the cost of the loop, the pool and the system call, without the protocol's copy.
     */
    @State(Scope.Benchmark)
    public static class LoopBlast {
        static final int BURST_DATAGRAMS = 64;

        @Param({"1200"})
        public int datagramSize;

        DatagramChannel receiver;
        ByteBuffer receiveBuffer;
        UdpEventLoop loop;
        volatile boolean running = true;

        @Setup(Level.Trial)
        public void start() throws IOException {
            receiver = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            receiver.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            receiveBuffer = ByteBuffer.allocateDirect(65536);
            InetSocketAddress destination = (InetSocketAddress) receiver.getLocalAddress();
            loop = UdpEventLoop.builder()
                    .bind(new InetSocketAddress("127.0.0.1", 0))
                    .threadName("loop-blaster")
                    .daemon(true)
                    .build()
                    .start();
            loop.execute(new Runnable() {
                @Override
                public void run() {
                    if (!running) {
                        return;
                    }
                    for (int i = 0; i < BURST_DATAGRAMS; i++) {
                        ByteBuf datagram = loop.allocator().directBuffer(datagramSize, datagramSize);
                        datagram.writerIndex(datagramSize);
                        loop.send(datagram, destination);
                    }
                    loop.execute(this);
                }
            });
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            running = false;
            loop.close();
            receiver.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Tcp {
        @Param({"65536"})
        public int writeSize;

        ServerSocketChannel server;
        SocketChannel client;
        SocketChannel accepted;
        ByteBuffer receiveBuffer;
        Thread writer;
        volatile boolean running = true;

        @Setup(Level.Trial)
        public void start() throws IOException {
            server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            client = SocketChannel.open(server.getLocalAddress());
            accepted = server.accept();
            receiveBuffer = ByteBuffer.allocateDirect(writeSize);
            ByteBuffer chunk = ByteBuffer.allocateDirect(writeSize);
            writer = new Thread(() -> {
                try {
                    while (running) {
                        chunk.clear();
                        while (chunk.hasRemaining()) {
                            client.write(chunk);
                        }
                    }
                } catch (IOException e) {
                    if (running) {
                        throw new IllegalStateException(e);
                    }
                }
            }, "tcp-writer");
            writer.setDaemon(true);
            writer.start();
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            running = false;
            accepted.close();
            client.close();
            server.close();
            writer.join();
        }
    }

    @Benchmark
    public void rawUdpBlast(UdpBlast udp, Received received) throws IOException {
        udp.receiveBuffer.clear();
        udp.receiver.receive(udp.receiveBuffer);
        received.bytes += udp.receiveBuffer.position();
    }

    @Benchmark
    public void eventLoopBlast(LoopBlast blast, Received received) throws IOException {
        blast.receiveBuffer.clear();
        blast.receiver.receive(blast.receiveBuffer);
        received.bytes += blast.receiveBuffer.position();
    }

    @Benchmark
    public void javaTcp(Tcp tcp, Received received) throws IOException {
        tcp.receiveBuffer.clear();
        received.bytes += tcp.accepted.read(tcp.receiveBuffer);
    }
}
