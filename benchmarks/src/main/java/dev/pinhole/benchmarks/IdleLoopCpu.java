package dev.pinhole.benchmarks;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.reliability.ReliableConnection;
import dev.pinhole.reliability.ReliableTransport;
import dev.pinhole.reliability.TransportConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Measures the CPU time an idle event-loop thread burns: first a bare {@link UdpEventLoop}, then one
 * carrying an open, idle Pinhole connection (keep-alive and idle timers armed). The loop should
 * sleep in its selector until a deadline, not spin, so both numbers should be close to zero.
 *
 * <p>Run: {@code java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks.jar
 * dev.pinhole.benchmarks.IdleLoopCpu [seconds]}. Not a JMH benchmark: there is no operation to
 * repeat, only a thread's CPU clock to read.
 */
public final class IdleLoopCpu {
    private IdleLoopCpu() {
    }

    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 10;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);

        try (UdpEventLoop bare = UdpEventLoop.builder().bind(loopback).daemon(true).build().start()) {
            report("bare event loop", bare, seconds, threads);
        }

        TransportConfig config = TransportConfig.DEFAULT;
        try (UdpEventLoop clientLoop = UdpEventLoop.builder().bind(loopback).daemon(true).build().start();
             ReliableTransport server = ReliableTransport.bind(loopback, config);
             ReliableTransport client = ReliableTransport.on(clientLoop, config)) {
            server.listen();
            try (ReliableConnection connection = client.connect(server.localAddress())) {
                server.accept(Duration.ofSeconds(10));
                report("event loop with one idle connection", clientLoop, seconds, threads);
            }
        }
    }

    private static void report(String what, UdpEventLoop loop, long seconds, ThreadMXBean threads) throws Exception {
        long threadId = loop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
        long cpuBeforeNs = threads.getThreadCpuTime(threadId);
        long wallBeforeNs = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        long cpuNs = threads.getThreadCpuTime(threadId) - cpuBeforeNs;
        long wallNs = System.nanoTime() - wallBeforeNs;
        System.out.printf("%s: %.3f ms CPU in %.1f s wall = %.4f %% of one core%n", what, cpuNs / 1e6,
                wallNs / 1e9, 100.0 * cpuNs / wallNs);
    }
}
