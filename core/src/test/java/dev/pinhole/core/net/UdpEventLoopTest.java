package dev.pinhole.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.core.buffer.Buffers;
import dev.pinhole.core.time.WheelTimerService;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The event loop over real UDP sockets on loopback. Waits use latches and futures; the time limits on
 * them only keep a broken build from hanging and are never what a test asserts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpEventLoopTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final long WAIT_SECONDS = 20;

    private final List<UdpEventLoop> loops = new ArrayList<>();

    @AfterEach
    void closeLoops() {
        loops.forEach(UdpEventLoop::close);
    }

    private UdpEventLoop.Builder builder() {
        return UdpEventLoop.builder().bind(new InetSocketAddress(LOOPBACK, 0)).daemon(true);
    }

    private UdpEventLoop started(UdpEventLoop.Builder builder) throws IOException {
        UdpEventLoop loop = builder.build();
        loops.add(loop);
        return loop.start();
    }

    private UdpEventLoop started() throws IOException {
        return started(builder());
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "still waiting for: " + what);
    }

    private static ByteBuf text(UdpEventLoop loop, String text) {
        ByteBuf buf = loop.allocator().directBuffer();
        buf.writeCharSequence(text, StandardCharsets.UTF_8);
        return buf;
    }

    /** Sends on the loop thread, as protocol code does, and returns what send() returned. */
    private static boolean sendFromLoop(UdpEventLoop loop, String text, InetSocketAddress to) throws Exception {
        return await(loop.submit(() -> loop.send(text(loop, text), to)));
    }

    @Test
    void twoLoopsExchangeDatagramsWithTheirContentsAndSenderIntact() throws Exception {
        UdpEventLoop alice = started(builder().threadName("alice"));
        UdpEventLoop bob = started(builder().threadName("bob"));
        int count = 200;
        Set<String> receivedByBob = Collections.synchronizedSet(new HashSet<>());
        CountDownLatch bobGotAll = new CountDownLatch(count);
        CountDownLatch aliceGotReplies = new CountDownLatch(count);
        List<String> threadsSeen = new CopyOnWriteArrayList<>();
        Set<InetSocketAddress> sendersSeen = Collections.synchronizedSet(new HashSet<>());
        await(bob.submit(() -> {
            bob.receiver((datagram, sender) -> {
                threadsSeen.add(Thread.currentThread().getName());
                sendersSeen.add(sender);
                String text = datagram.toString(StandardCharsets.UTF_8);
                receivedByBob.add(text);
                bob.send(text(bob, "re:" + text), sender);
                bobGotAll.countDown();
            });
            return null;
        }));
        Set<String> repliesToAlice = Collections.synchronizedSet(new HashSet<>());
        await(alice.submit(() -> {
            alice.receiver((datagram, sender) -> {
                repliesToAlice.add(datagram.toString(StandardCharsets.UTF_8));
                aliceGotReplies.countDown();
            });
            return null;
        }));

        await(alice.submit(() -> {
            for (int i = 0; i < count; i++) {
                assertTrue(alice.send(text(alice, "datagram-" + i), bob.localAddress()), "send " + i);
            }
            return null;
        }));
        await(bobGotAll, "bob receives " + count + " datagrams");
        await(aliceGotReplies, "alice receives " + count + " replies");

        Set<String> expected = new HashSet<>();
        Set<String> expectedReplies = new HashSet<>();
        for (int i = 0; i < count; i++) {
            expected.add("datagram-" + i);
            expectedReplies.add("re:datagram-" + i);
        }
        assertEquals(expected, receivedByBob);
        assertEquals(expectedReplies, repliesToAlice);
        assertEquals(Set.of("bob"), new HashSet<>(threadsSeen), "receiver runs on bob's loop thread only");
        assertEquals(Set.of(alice.localAddress()), sendersSeen, "bob sees alice's address as the sender");
        EventLoopStats aliceStats = alice.stats();
        EventLoopStats bobStats = bob.stats();
        assertEquals(count, aliceStats.datagramsSent());
        assertEquals(count, bobStats.datagramsReceived());
        assertEquals(count, bobStats.datagramsSent());
        assertEquals(count, aliceStats.datagramsReceived());
        long payloadBytes = expected.stream().mapToLong(String::length).sum();
        assertEquals(payloadBytes, aliceStats.bytesSent());
        assertEquals(payloadBytes, bobStats.bytesReceived());
        assertEquals(payloadBytes + 3L * count, bobStats.bytesSent());
    }

    @Test
    void anAddedSocketIsServedByTheSameThreadAndAnswersFromItsOwnAddress() throws Exception {
        UdpEventLoop server = builder().build();
        loops.add(server);
        DatagramEndpoint second = server.openSocket(new InetSocketAddress(LOOPBACK, 0));
        assertFalse(second.localAddress().equals(server.localAddress()), "the added socket has its own port");
        List<String> servedOn = new CopyOnWriteArrayList<>();
        second.receiver((datagram, sender) -> {
            servedOn.add(Thread.currentThread().getName());
            second.send(datagram.retainedDuplicate(), sender); // echo from the added socket
        });
        server.start();

        UdpEventLoop client = started();
        CompletableFuture<InetSocketAddress> echoFrom = new CompletableFuture<>();
        CompletableFuture<String> echoed = new CompletableFuture<>();
        await(client.submit(() -> {
            client.receiver((datagram, sender) -> {
                echoFrom.complete(sender);
                echoed.complete(datagram.toString(StandardCharsets.UTF_8));
            });
            return client.send(text(client, "to the second socket"), second.localAddress());
        }));
        assertEquals("to the second socket", await(echoed));
        assertEquals(second.localAddress(), await(echoFrom), "the answer comes from the added socket's address");
        assertEquals(List.of(server.threadName()), servedOn, "served once, on the loop's own thread");
    }

    @Test
    void closeSocketFreesAnAddedSocketsPortAndLeavesTheLoopServingTheRest() throws Exception {
        UdpEventLoop server = started();
        DatagramEndpoint extra = await(server.submit(() -> server.openSocket(new InetSocketAddress(LOOPBACK, 0))));
        InetSocketAddress extraAddress = extra.localAddress();
        await(server.submit(() -> {
            server.closeSocket(extra);
            server.closeSocket(extra); // idempotent
            return null;
        }));
        assertFalse(await(server.submit(() -> extra.send(text(server, "after close"), server.localAddress()))),
                "a closed socket sends nothing");
        try (java.net.DatagramSocket rebound = new java.net.DatagramSocket(extraAddress)) {
            assertEquals(extraAddress, rebound.getLocalSocketAddress(), "the closed socket's port is free again");
        }
        IllegalArgumentException primary = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> {
                    try {
                        await(server.submit(() -> {
                            server.closeSocket(server);
                            return null;
                        }));
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw e.getCause();
                    }
                }, "the primary socket cannot be closed alone");
        assertTrue(primary.getMessage().contains("primary"), primary.getMessage());

        UdpEventLoop client = started();
        CompletableFuture<String> echoed = new CompletableFuture<>();
        server.execute(() -> server.receiver((datagram, sender) -> server.send(datagram.retainedDuplicate(), sender)));
        await(client.submit(() -> {
            client.receiver((datagram, sender) -> echoed.complete(datagram.toString(StandardCharsets.UTF_8)));
            return client.send(text(client, "still served"), server.localAddress());
        }));
        assertEquals("still served", await(echoed), "the primary socket is still served");
    }

    @Test
    void socketOptionsReportWhatTheOsGranted() throws Exception {
        UdpEventLoop loop = started(builder().receiveBufferBytes(256 * 1024).sendBufferBytes(128 * 1024));
        assertTrue(loop.receiveBufferBytes() > 0, "granted receive buffer: " + loop.receiveBufferBytes());
        assertTrue(loop.sendBufferBytes() > 0, "granted send buffer: " + loop.sendBufferBytes());
        assertEquals(LOOPBACK, loop.localAddress().getAddress());
        assertTrue(loop.localAddress().getPort() > 0, "an ephemeral port was assigned");
        assertEquals("pinhole-udp-" + loop.localAddress().getPort(), loop.threadName());
    }

    @Test
    void timersFireInDeadlineOrderOnTheLoopThread() throws Exception {
        UdpEventLoop loop = started(builder().threadName("timer-loop"));
        long[] offsetsMs = {50, 10, 40, 20, 30, 5};
        List<Long> firedOffsets = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<Long> earlyByNs = new CopyOnWriteArrayList<>();
        CountDownLatch allFired = new CountDownLatch(offsetsMs.length);

        loop.execute(() -> {
            long nowNs = loop.clock().nanoTime();
            for (long offsetMs : offsetsMs) {
                long deadlineNs = nowNs + TimeUnit.MILLISECONDS.toNanos(offsetMs);
                loop.timers().schedule(deadlineNs, (firedNs, id) -> {
                    if (firedNs < deadlineNs) {
                        earlyByNs.add(deadlineNs - firedNs);
                    }
                    firedOffsets.add(offsetMs);
                    threads.add(Thread.currentThread().getName());
                    allFired.countDown();
                });
            }
        });
        await(allFired, "all timers fire");

        assertEquals(List.of(5L, 10L, 20L, 30L, 40L, 50L), firedOffsets);
        assertEquals(Set.of("timer-loop"), new HashSet<>(threads));
        assertEquals(List.of(), earlyByNs, "no timer fires before its deadline (ns early)");
        assertEquals(offsetsMs.length, await(loop.submit(loop::stats)).timersFired());
    }

    @Test
    void tasksFromEachThreadRunInSubmissionOrderOnTheLoopThread() throws Exception {
        UdpEventLoop loop = started(builder().threadName("task-loop").taskQueueCapacity(64));
        int producers = 4;
        int tasksEach = 2_000;
        List<List<Integer>> seenPerProducer = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            seenPerProducer.add(new ArrayList<>()); // only touched on the loop thread
        }
        Set<String> threads = Collections.synchronizedSet(new HashSet<>());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threadList = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < tasksEach; i++) {
                    int sequence = i;
                    loop.execute(() -> {
                        threads.add(Thread.currentThread().getName());
                        seenPerProducer.get(producer).add(sequence);
                    });
                }
            }, "producer-" + p);
            thread.start();
            threadList.add(thread);
        }
        start.countDown();
        for (Thread thread : threadList) {
            thread.join();
        }
        List<List<Integer>> snapshot = await(loop.submit(() -> {
            List<List<Integer>> copy = new ArrayList<>();
            seenPerProducer.forEach(list -> copy.add(new ArrayList<>(list)));
            return copy;
        }));

        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < tasksEach; i++) {
            expected.add(i);
        }
        for (int p = 0; p < producers; p++) {
            assertEquals(expected, snapshot.get(p), "tasks of producer " + p + " in submission order");
        }
        assertEquals(Set.of("task-loop"), threads);
        assertEquals(producers * tasksEach + 2L, await(loop.submit(loop::stats)).tasksRun(),
            "every task ran once, plus the two submits");
    }

    @Test
    void fullQueueMakesExecuteWaitAndThenRejectWithAClearMessage() throws Exception {
        UdpEventLoop loop = started(builder().threadName("blocked-loop").taskQueueCapacity(4)
            .taskQueueTimeout(Duration.ofMillis(200)));
        CountDownLatch insideBlocker = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        AtomicInteger queuedRan = new AtomicInteger();
        loop.execute(() -> {
            insideBlocker.countDown();
            awaitUninterruptibly(releaseBlocker);
        });
        await(insideBlocker, "the loop enters the blocking task");
        for (int i = 0; i < loop.taskQueueCapacity(); i++) {
            loop.execute(queuedRan::incrementAndGet);
        }

        RejectedExecutionException rejected = assertThrows(RejectedExecutionException.class,
            () -> loop.execute(() -> queuedRan.addAndGet(1_000)));

        assertEquals("task queue of event loop blocked-loop stayed full (4 tasks) for 200 ms: the loop is blocked "
            + "or cannot keep up; tasks must not block the loop, or raise taskQueueCapacity or taskQueueTimeout",
            rejected.getMessage());
        assertEquals(1, loop.stats().executeWaits(), "execute() waited once");
        assertEquals(1, loop.stats().executeRejections());
        releaseBlocker.countDown();
        assertEquals(4, await(loop.submit(queuedRan::get)), "the queued tasks ran, the rejected one did not");
    }

    @Test
    void executeWaitingForSpaceSucceedsOnceTheLoopDrainsTheQueue() throws Exception {
        UdpEventLoop loop = started(builder().taskQueueCapacity(4).taskQueueTimeout(Duration.ofMinutes(5)));
        CountDownLatch insideBlocker = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        List<String> order = new ArrayList<>(); // loop thread only
        loop.execute(() -> {
            insideBlocker.countDown();
            awaitUninterruptibly(releaseBlocker);
        });
        await(insideBlocker, "the loop enters the blocking task");
        for (int i = 0; i < 4; i++) {
            String name = "queued-" + i;
            loop.execute(() -> order.add(name));
        }
        CompletableFuture<Void> lateExecute = new CompletableFuture<>();
        Thread producer = new Thread(() -> {
            try {
                loop.execute(() -> order.add("late"));
                lateExecute.complete(null);
            } catch (RuntimeException e) {
                lateExecute.completeExceptionally(e);
            }
        });
        producer.start();
        awaitCondition(() -> loop.stats().executeWaits() == 1, "the producer finds the queue full");
        assertFalse(lateExecute.isDone(), "execute() must wait while the queue is full");

        releaseBlocker.countDown();
        await(lateExecute);

        assertEquals(List.of("queued-0", "queued-1", "queued-2", "queued-3", "late"),
            await(loop.submit(() -> new ArrayList<>(order))));
        assertEquals(0, loop.stats().executeRejections());
    }

    @Test
    void loopThreadSubmittingToItsOwnFullQueueIsRejectedAtOnceInsteadOfDeadlocking() throws Exception {
        UdpEventLoop loop = started(builder().threadName("self-loop").taskQueueCapacity(4));
        AtomicInteger ran = new AtomicInteger();

        String message = await(loop.submit(() -> {
            for (int i = 0; i < 4; i++) {
                loop.execute(ran::incrementAndGet);
            }
            try {
                loop.execute(ran::incrementAndGet);
                return "not rejected";
            } catch (RejectedExecutionException e) {
                return e.getMessage();
            }
        }));

        assertEquals("task queue of event loop self-loop is full (4 tasks) and the caller is the event loop "
            + "itself, which cannot wait for its own queue to drain", message);
        assertEquals(4, await(loop.submit(ran::get)), "the four queued tasks ran later on the loop");
        assertTrue(await(loop.submit(loop::inEventLoop)), "inEventLoop() is true on the loop thread");
        assertFalse(loop.inEventLoop(), "and false elsewhere");
    }

    @Test
    void failingReceiverTaskAndTimerAreCountedAndTheLoopCarriesOn() throws Exception {
        UdpEventLoop sender = started();
        UdpEventLoop receiver = started();
        CountDownLatch secondDatagram = new CountDownLatch(1);
        await(receiver.submit(() -> {
            receiver.receiver((datagram, from) -> {
                if (datagram.toString(StandardCharsets.UTF_8).equals("boom")) {
                    throw new IllegalStateException("receiver fails on purpose");
                }
                secondDatagram.countDown();
            });
            return null;
        }));
        receiver.execute(() -> {
            throw new IllegalStateException("task fails on purpose");
        });
        CountDownLatch timerAfterFailingTimer = new CountDownLatch(1);
        receiver.execute(() -> {
            long nowNs = receiver.clock().nanoTime();
            receiver.timers().schedule(nowNs, (t, id) -> {
                throw new IllegalStateException("timer fails on purpose");
            });
            receiver.timers().schedule(nowNs + TimeUnit.MILLISECONDS.toNanos(5),
                (t, id) -> timerAfterFailingTimer.countDown());
        });

        assertTrue(sendFromLoop(sender, "boom", receiver.localAddress()));
        assertTrue(sendFromLoop(sender, "fine", receiver.localAddress()));
        await(secondDatagram, "the datagram after the failing one is delivered");
        await(timerAfterFailingTimer, "the timer after the failing one fires");

        EventLoopStats stats = await(receiver.submit(receiver::stats));
        assertEquals(1, stats.receiverExceptions());
        assertEquals(1, stats.taskExceptions());
        assertEquals(1, stats.timerExceptions());
        assertEquals(2, stats.datagramsReceived());
        assertFalse(receiver.isClosed());
    }

    /**
     * Released pooled buffers are recycled as objects, so a stale reference says nothing; the pool's
     * pinned-memory gauge does. The sender is a plain channel, so only the loop uses the pool.
     */
    @Test
    void lentBufferIsReleasedBeforeTheNextDatagramAndARetainedOneStaysPinned() throws Exception {
        PooledByteBufAllocator pool = (PooledByteBufAllocator) Buffers.ALLOCATOR;
        UdpEventLoop receiver = started();
        List<Long> pinnedDuringCall = new CopyOnWriteArrayList<>();
        List<Boolean> direct = new CopyOnWriteArrayList<>();
        AtomicReference<ByteBuf> retained = new AtomicReference<>();
        CountDownLatch all = new CountDownLatch(3);
        await(receiver.submit(() -> {
            receiver.receiver((datagram, from) -> {
                pinnedDuringCall.add(pool.pinnedDirectMemory());
                direct.add(datagram.isDirect());
                if (datagram.toString(StandardCharsets.UTF_8).equals("two")) {
                    retained.set(datagram.retain());
                }
                all.countDown();
            });
            return null;
        }));

        try (DatagramChannel sender = DatagramChannel.open()) {
            sender.bind(new InetSocketAddress(LOOPBACK, 0));
            for (String text : List.of("one", "two", "three")) {
                sender.send(StandardCharsets.UTF_8.encode(text), receiver.localAddress());
            }
        }
        await(all, "three datagrams");

        assertEquals(List.of(true, true, true), direct, "datagrams are read into direct buffers");
        assertEquals(pinnedDuringCall.get(0), pinnedDuringCall.get(1),
            "the first datagram's buffer was released before the second was read; pinned bytes per call: "
                + pinnedDuringCall);
        assertTrue(pinnedDuringCall.get(2) > pinnedDuringCall.get(1),
            "the retained second buffer is still pinned during the third call: " + pinnedDuringCall);
        assertEquals("two", retained.get().toString(StandardCharsets.UTF_8));
        assertEquals(1, retained.get().refCnt(), "the loop released its reference, the receiver holds one");
        assertTrue(retained.get().release());
    }

    @Test
    void sendReleasesItsBufferOnEveryPathAndCountsEveryDrop() throws Exception {
        UdpEventLoop loop = started(builder().maxDatagramSize(100));
        UdpEventLoop peer = started();
        ByteBuf ok = text(loop, "fits");
        ByteBuf oversize = loop.allocator().directBuffer().writeZero(101);
        ByteBuf unresolved = text(loop, "nowhere");
        ByteBuf wrongFamily = text(loop, "ipv6");

        List<Boolean> results = await(loop.submit(() -> List.of(
            loop.send(ok, peer.localAddress()),
            loop.send(oversize, peer.localAddress()),
            loop.send(unresolved, InetSocketAddress.createUnresolved("peer.invalid", 3478)),
            loop.send(wrongFamily, new InetSocketAddress("::1", 3478)))));

        assertEquals(List.of(true, false, false, false), results);
        for (ByteBuf buf : List.of(ok, oversize, unresolved, wrongFamily)) {
            assertEquals(0, buf.refCnt(), "send() released its buffer");
        }
        EventLoopStats stats = loop.stats();
        assertEquals(1, stats.datagramsSent());
        assertEquals(1, stats.sendDropsOversize());
        assertEquals(2, stats.sendErrors(), "unresolved and unsupported destinations are counted, not thrown");
    }

    @Test
    void sendFromAnotherThreadAfterStartIsRefusedAndStillReleasesTheBuffer() throws Exception {
        UdpEventLoop loop = started();
        ByteBuf buf = text(loop, "wrong thread");
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> loop.send(buf, loop.localAddress()));
        assertEquals("send() must be called on the event loop thread " + loop.threadName()
            + " (or before start()); from other threads use execute()", e.getMessage());
        assertEquals(0, buf.refCnt());
    }

    @Test
    void sendToAClosedPortIsNotAnErrorOnAnUnconnectedSocket() throws Exception {
        InetSocketAddress closedPort;
        try (DatagramChannel gone = DatagramChannel.open()) {
            gone.bind(new InetSocketAddress(LOOPBACK, 0));
            closedPort = (InetSocketAddress) gone.getLocalAddress();
        }
        UdpEventLoop loop = started();
        CountDownLatch echoed = new CountDownLatch(1);
        await(loop.submit(() -> {
            loop.receiver((datagram, from) -> echoed.countDown());
            return null;
        }));

        assertTrue(sendFromLoop(loop, "to nobody", closedPort), "the OS accepts the datagram");
        assertTrue(sendFromLoop(loop, "to myself", loop.localAddress()));
        await(echoed, "the loop still receives after the ICMP port unreachable");

        EventLoopStats stats = await(loop.submit(loop::stats));
        assertEquals(0, stats.sendErrors());
        assertEquals(0, stats.receiveErrors(), "unconnected sockets do not surface ICMP errors on Linux");
    }

    @Test
    void oversizeIncomingDatagramIsDroppedAndCountedAndTheNextOneDelivered() throws Exception {
        UdpEventLoop sender = started();
        UdpEventLoop receiver = started(builder().maxDatagramSize(100));
        List<Integer> lengths = new CopyOnWriteArrayList<>();
        CountDownLatch delivered = new CountDownLatch(1);
        await(receiver.submit(() -> {
            receiver.receiver((datagram, from) -> {
                lengths.add(datagram.readableBytes());
                delivered.countDown();
            });
            return null;
        }));

        await(sender.submit(() -> {
            sender.send(sender.allocator().directBuffer().writeZero(101), receiver.localAddress());
            sender.send(sender.allocator().directBuffer().writeZero(100), receiver.localAddress());
            return null;
        }));
        await(delivered, "the 100-byte datagram");

        // Loopback keeps one sender's datagrams in order, so the oversize one was read first.
        assertEquals(List.of(100), lengths);
        assertEquals(1, receiver.stats().receiveDropsOversize());
        assertEquals(1, receiver.stats().datagramsReceived());
    }

    @Test
    void datagramsWithoutAReceiverAreCountedAndReleased() throws Exception {
        UdpEventLoop sender = started();
        UdpEventLoop receiver = started();
        CountDownLatch second = new CountDownLatch(1);

        sendFromLoop(sender, "nobody listens", receiver.localAddress());
        awaitCondition(() -> receiver.stats().receiveDropsNoReceiver() == 1, "the datagram is read and dropped");
        await(receiver.submit(() -> {
            receiver.receiver((datagram, from) -> second.countDown());
            return null;
        }));
        sendFromLoop(sender, "now someone does", receiver.localAddress());
        await(second, "second datagram");

        assertEquals(1, receiver.stats().receiveDropsNoReceiver());
        assertEquals(2, receiver.stats().datagramsReceived());
    }

    @Test
    void idleLoopSleepsUntilItsTimerInsteadOfSpinning() throws Exception {
        UdpEventLoop loop = started();
        await(loop.submit(() -> null)); // started and idle
        long wakeUpsBefore = loop.stats().wakeUps();
        CountDownLatch fired = new CountDownLatch(1);

        loop.execute(() -> loop.timers().schedule(
            loop.clock().nanoTime() + TimeUnit.MILLISECONDS.toNanos(200), (nowNs, id) -> fired.countDown()));
        await(fired, "the 200 ms timer");

        long wakeUps = loop.stats().wakeUps() - wakeUpsBefore;
        // One turn for the task, one (rarely two) for the timer; a spinning loop would count thousands.
        assertTrue(wakeUps <= 5, "an idle loop waiting 200 ms for a timer woke up " + wakeUps + " times");
    }

    @Test
    void closeReleasesTheSocketThreadQueuedTasksTimersAndEveryBuffer() throws Exception {
        PooledByteBufAllocator pool = (PooledByteBufAllocator) Buffers.ALLOCATOR;
        long pinnedBefore = pool.pinnedDirectMemory();
        UdpEventLoop sender = started();
        UdpEventLoop loop = started();
        InetSocketAddress address = loop.localAddress();
        Thread loopThread = await(loop.submit(Thread::currentThread));
        CountDownLatch received = new CountDownLatch(1);
        await(loop.submit(() -> {
            loop.receiver((datagram, from) -> received.countDown());
            return null;
        }));
        sendFromLoop(sender, "before close", address);
        await(received, "a datagram, so that a read buffer is in use");
        await(loop.submit(() -> loop.timers().schedule(
            loop.clock().nanoTime() + TimeUnit.HOURS.toNanos(1), (nowNs, id) -> { })));
        assertEquals(1, await(loop.submit(() -> ((WheelTimerService) loop.timers()).pendingTimers())));
        CountDownLatch insideBlocker = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        loop.execute(() -> {
            insideBlocker.countDown();
            awaitUninterruptibly(releaseBlocker);
        });
        await(insideBlocker, "the loop enters the blocking task");
        CompletableFuture<String> queued = loop.submit(() -> "ran");

        Thread closer = new Thread(loop::close, "closer");
        closer.start();
        awaitCondition(loop::isClosed, "close() marks the loop closed before it waits for the thread");
        releaseBlocker.countDown();
        closer.join();
        sender.close();

        assertFalse(loopThread.isAlive(), "close() returns after the loop thread ended");
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(queued));
        assertInstanceOf(RejectedExecutionException.class, e.getCause(), "a queued task is rejected, not run");
        assertEquals(0, ((WheelTimerService) loop.timers()).pendingTimers(), "pending timers were cancelled");
        assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
        assertThrows(IllegalStateException.class, loop::start);
        try (DatagramChannel rebind = DatagramChannel.open()) {
            rebind.bind(address); // the port is free again: the socket was closed
        }
        assertEquals(pinnedBefore, pool.pinnedDirectMemory(), "every pooled buffer was released");
    }

    @Test
    void closeFromTheLoopThreadReleasesOnceTheCallbackReturns() throws Exception {
        UdpEventLoop loop = started();
        Thread loopThread = await(loop.submit(Thread::currentThread));
        InetSocketAddress address = loop.localAddress();

        assertTrue(await(loop.submit(() -> {
            loop.close();
            return loop.isClosed();
        })), "close() on the loop thread returns without waiting for itself");
        loop.close(); // from this thread: waits for the loop thread to finish releasing

        assertFalse(loopThread.isAlive());
        try (DatagramChannel rebind = DatagramChannel.open()) {
            rebind.bind(address);
        }
    }

    @Test
    void receiverThatClosesTheLoopGetsNoFurtherDatagramsFromTheSameBatch() throws Exception {
        UdpEventLoop loop = started();
        AtomicInteger deliveries = new AtomicInteger();
        CountDownLatch insideBlocker = new CountDownLatch(1);
        CountDownLatch releaseBlocker = new CountDownLatch(1);
        loop.execute(() -> {
            loop.receiver((datagram, from) -> {
                deliveries.incrementAndGet();
                loop.close();
            });
            insideBlocker.countDown();
            awaitUninterruptibly(releaseBlocker);
        });
        await(insideBlocker, "the loop enters the blocking task");
        try (DatagramChannel sender = DatagramChannel.open()) {
            sender.bind(new InetSocketAddress(LOOPBACK, 0));
            for (int i = 0; i < 3; i++) {
                // All three wait in the socket until the loop is released.
                sender.send(StandardCharsets.UTF_8.encode("queued-" + i), loop.localAddress());
            }
        }

        releaseBlocker.countDown();
        awaitCondition(loop::isClosed, "the receiver closes the loop");
        loop.close();

        assertEquals(1, deliveries.get(), "datagrams read after close() must not be delivered");
    }

    @Test
    void closeIsIdempotentAndWorksBeforeStart() throws Exception {
        UdpEventLoop neverStarted = builder().build();
        InetSocketAddress address = neverStarted.localAddress();
        neverStarted.close();
        neverStarted.close();
        assertThrows(IllegalStateException.class, neverStarted::start);
        try (DatagramChannel rebind = DatagramChannel.open()) {
            rebind.bind(address);
        }

        UdpEventLoop started = started();
        List<Thread> closers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Thread closer = new Thread(started::close);
            closer.start();
            closers.add(closer);
        }
        for (Thread closer : closers) {
            closer.join();
        }
        started.close();
        assertTrue(started.isClosed());
    }

    @Test
    void bindingATakenPortFailsWithTheAddressInTheMessage() throws Exception {
        UdpEventLoop first = started();
        IOException e = assertThrows(IOException.class,
            () -> UdpEventLoop.builder().bind(first.localAddress()).build());
        assertTrue(e.getMessage().startsWith("cannot bind a UDP socket to " + first.localAddress()), e.getMessage());
    }

    @Test
    void submitCompletesWithTheCallablesResultOrException() throws Exception {
        UdpEventLoop loop = started(builder().threadName("submit-loop"));
        assertEquals("submit-loop", await(loop.submit(() -> Thread.currentThread().getName())));
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(loop.submit(() -> {
            throw new IOException("checked failure");
        })));
        assertInstanceOf(IOException.class, e.getCause());
        assertSame(loop.timers(), loop.timers());
    }

    @Test
    void builderRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> UdpEventLoop.builder().maxDatagramSize(65_508));
        assertThrows(IllegalArgumentException.class, () -> UdpEventLoop.builder().maxDatagramSize(0));
        assertThrows(IllegalArgumentException.class, () -> UdpEventLoop.builder().taskQueueCapacity(1));
        assertThrows(IllegalArgumentException.class, () -> UdpEventLoop.builder().receiveBatchSize(0));
        assertThrows(IllegalArgumentException.class,
            () -> UdpEventLoop.builder().taskQueueTimeout(Duration.ofMillis(-1)));
    }

    /** Yields until {@code condition} holds; the limit only keeps a broken build from hanging. */
    private static void awaitCondition(BooleanSupplier condition, String what) {
        long limitNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - limitNs < 0, "still waiting for: " + what);
            Thread.yield();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                if (latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                    break;
                }
                throw new IllegalStateException(new TimeoutException("blocking task was never released"));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
