package dev.pinhole.punch.interop;

import dev.pinhole.punch.relay.TurnAllocation;
import dev.pinhole.punch.relay.TurnClient;
import dev.pinhole.punch.relay.TurnConfig;
import dev.pinhole.punch.relay.TurnException;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pinhole.core.net.DatagramDemultiplexer;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.stun.StunClient;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A node on a real {@link UdpEventLoop} bound to 127.0.0.1, wired as a Pinhole node is: one socket,
 * a demultiplexer, a STUN client, a TURN client. The test thread talks to it only through the loop
 * ({@link #call}, {@link #run}) and reads what the installed receivers queued ({@link #received}).
 */
final class RealNode implements AutoCloseable {
    static final long TIMEOUT_S = 60;

    /** A datagram as text, with its sender. */
    record Got(String text, InetSocketAddress from) {
    }

    final UdpEventLoop loop;
    final BlockingQueue<Got> received = new LinkedBlockingQueue<>();
    private StunClient stun;
    private TurnClient turn;

    private RealNode(UdpEventLoop loop) {
        this.loop = loop;
    }

    /** A node with its TURN client wired on the demultiplexer. */
    static RealNode start(String name) throws Exception {
        RealNode node = plain(name);
        node.loop.submit(() -> {
            DatagramDemultiplexer demux = new DatagramDemultiplexer();
            node.loop.receiver(demux);
            node.stun = new StunClient(node.loop);
            node.turn = new TurnClient(node.stun);
            node.turn.routeOn(demux, null);
            return null;
        }).get(TIMEOUT_S, TimeUnit.SECONDS);
        return node;
    }

    /** A plain UDP socket on its own loop whose receiver queues every datagram as text. */
    static RealNode plain(String name) throws Exception {
        UdpEventLoop loop = UdpEventLoop.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .threadName(name).daemon(true).build().start();
        RealNode node = new RealNode(loop);
        loop.submit(() -> {
            loop.receiver((datagram, sender) -> node.received.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
            return null;
        }).get(TIMEOUT_S, TimeUnit.SECONDS);
        return node;
    }

    InetSocketAddress address() {
        return loop.localAddress();
    }

    TurnClient turn() {
        return turn;
    }

    StunClient stun() {
        return stun;
    }

    /** Runs {@code action} on the loop and waits for the future it returns. */
    <T> T call(Supplier<CompletableFuture<T>> action) throws Exception {
        CompletableFuture<T> result = loop.submit(action::get).thenCompose(f -> f);
        return result.get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    /** Runs {@code action} on the loop and returns its result. */
    <T> T run(Callable<T> action) throws Exception {
        return loop.submit(action).get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    /** Runs {@code action} on the loop and returns the {@link TurnException} its future fails with. */
    TurnException failure(Supplier<CompletableFuture<?>> action) throws Exception {
        CompletableFuture<?> result = loop.submit(action::get).thenCompose(f -> f);
        try {
            Object value = result.get(TIMEOUT_S, TimeUnit.SECONDS);
            return fail("expected a TurnException, got " + value);
        } catch (ExecutionException e) {
            return assertInstanceOf(TurnException.class, e.getCause(), "cause");
        }
    }

    /** An allocation whose receiver queues into {@link #received}. */
    TurnAllocation allocate(TurnConfig config) throws Exception {
        return call(() -> {
            TurnAllocation allocation = turn.allocate(config);
            allocation.receiver((datagram, sender) -> received.add(new Got(datagram.toString(StandardCharsets.UTF_8), sender)));
            return allocation.allocated();
        });
    }

    /** Sends {@code text} from this node's socket (not through a relay) to {@code to}. */
    void sendDirect(String text, InetSocketAddress to) throws Exception {
        run(() -> loop.send(utf8(text), to));
    }

    ByteBuf utf8(String text) {
        return loop.allocator().buffer().writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The next datagram this node received, waiting at most {@link #TIMEOUT_S}. */
    Got next() throws InterruptedException {
        Got got = received.poll(TIMEOUT_S, TimeUnit.SECONDS);
        assertNotNull(got, "nothing arrived within " + TIMEOUT_S + " s");
        return got;
    }

    /** Deallocates (waiting for the server's answer), closes the STUN client, stops the loop. */
    @Override
    public void close() throws IOException {
        try {
            if (turn != null) {
                call(() -> turn.close());
                run(() -> {
                    stun.close();
                    return null;
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing " + loop.threadName(), e);
        } catch (Exception e) {
            throw new IOException("closing " + loop.threadName() + " failed", e);
        } finally {
            loop.close();
        }
    }
}
