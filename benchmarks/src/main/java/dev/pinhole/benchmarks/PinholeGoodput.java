package dev.pinhole.benchmarks;

import dev.pinhole.core.net.LossyEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.reliability.ConnectionStats;
import dev.pinhole.reliability.ReliableConnection;
import dev.pinhole.reliability.ReliableTransport;
import dev.pinhole.reliability.TransportConfig;
import dev.pinhole.reliability.CongestionControl;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * Goodput of one Pinhole stream on loopback, measured the same way as the {@link Baselines}: a
 * background thread writes 64 KiB chunks to a {@link ReliableConnection}'s output stream as fast as
 * it can, the measured thread reads the peer's input stream, and the {@code bytes} aux counter is the
 * goodput in bytes per second. Run it in the same JMH invocation as the baselines so that the ratios
 * compare like with like.
 *
 * <p>Each side has its own {@link UdpEventLoop} thread. The data sender's loop is wrapped in a
 * {@link LossyEndpoint}, which drops the fraction {@code loss} of the datagrams the sender sends
 * (its data packets and whatever else it sends); the receiver's acknowledgements are not
 * dropped. The datagram size is the transport's default, 1200 bytes.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED"})
public class PinholeGoodput {
    /** Size of each write of the writer thread and of each read of the measured thread, in bytes. */
    static final int CHUNK_BYTES = 64 * 1024;
    /** Seed of the loss pattern, fixed so that runs are comparable. */
    static final long LOSS_SEED = 0x5EED_1055L;

    @State(Scope.Benchmark)
    public static class Stream {
        /** Fraction of the sender's datagrams dropped. */
        @Param({"0", "0.01", "0.05"})
        public double loss;

        @Param({"CUBIC", "NEW_RENO", "BBR"})
        public CongestionControl congestionControl;

        UdpEventLoop senderLoop;
        LossyEndpoint lossySender;
        ReliableTransport sender;
        ReliableTransport receiver;
        ReliableConnection client;
        ReliableConnection server;
        InputStream input;
        final byte[] readBuffer = new byte[CHUNK_BYTES];
        Thread writer;
        volatile boolean running = true;

        @Setup(Level.Trial)
        public void start() throws IOException {
            TransportConfig config = TransportConfig.builder().congestionControl(congestionControl).build();
            InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
            receiver = ReliableTransport.bind(loopback, config);
            receiver.listen();

            senderLoop = UdpEventLoop.builder()
                    .bind(loopback)
                    .threadName("pinhole-bench-sender")
                    .daemon(true)
                    .build();
            lossySender = new LossyEndpoint(senderLoop, loss, LOSS_SEED, false);
            sender = ReliableTransport.on(lossySender, senderLoop::execute, config);
            // Before start() the building thread may install the receiver; Pinhole owns the whole socket here,
            // so no demultiplexer is needed in front of it.
            senderLoop.receiver(sender.datagramReceiver());
            senderLoop.start();

            client = sender.connect(receiver.localAddress());
            server = receiver.accept(Duration.ofSeconds(10));
            input = server.inputStream();
            OutputStream output = client.outputStream();
            byte[] chunk = new byte[CHUNK_BYTES];
            writer = new Thread(() -> {
                try {
                    while (running) {
                        output.write(chunk, 0, chunk.length);
                    }
                } catch (IOException e) {
                    if (running) {
                        throw new IllegalStateException("the writer failed while the benchmark ran", e);
                    }
                }
            }, "pinhole-writer");
            writer.setDaemon(true);
            writer.start();
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            running = false;
            ConnectionStats senderStats = client.stats();
            long dropped = senderLoop.submit(lossySender::dropped).get(5, TimeUnit.SECONDS);
            System.out.printf("%nsender: %s%nloss injected: %d datagrams dropped of %d packets sent (%.2f %%)%n",
                    senderStats, dropped, senderStats.packetsSent(),
                    100.0 * dropped / Math.max(1, senderStats.packetsSent()));
            client.abort(0);
            server.abort(0);
            writer.join(10_000);
            sender.close();
            receiver.close();
            senderLoop.close();
        }
    }

    @Benchmark
    public void pinhole(Stream stream, Baselines.Received received) throws IOException {
        int n = stream.input.read(stream.readBuffer, 0, CHUNK_BYTES);
        if (n < 0) {
            throw new IOException("the stream ended while the benchmark ran");
        }
        received.bytes += n;
    }
}
