package dev.pinhole.punch.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.DatagramReceiver;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.core.time.Clock;
import dev.pinhole.core.time.TimerService;
import dev.pinhole.punch.nat.Hairpinning;
import dev.pinhole.punch.nat.NatFiltering;
import dev.pinhole.punch.nat.NatMapping;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The other direction of interop: coturn's reference client {@code turnutils_natdiscovery} against
 * our {@link StunBindingServer} on four real UDP sockets (127.0.0.1 and 127.0.0.2, two ports each).
 * Skipped, saying how to enable it, when coturn is not installed.
 *
 * <p>A {@link UdpEventLoop} owns one socket, while the server wants its four endpoints on one loop;
 * here one loop owns the server and the other three hand their datagrams to it and take its sends
 * back to their own thread ({@link Hop}).
 */
class BindingServerInteropTest {

    @Test
    void turnutilsNatdiscoveryFindsNoNatBehindOurRfc5780Server() throws Exception {
        assumeTrue(Coturn.onPath("turnutils_natdiscovery") != null, Coturn.HOW_TO_ENABLE);
        InetAddress ip1 = InetAddress.getLoopbackAddress();
        InetAddress ip2 = Coturn.loopback2();
        List<UdpEventLoop> loops = new ArrayList<>();
        try {
            UdpEventLoop primary = bind(loops, new InetSocketAddress(ip1, 0));
            int port1 = primary.localAddress().getPort();
            UdpEventLoop alternateIp = bind(loops, new InetSocketAddress(ip2, port1));
            UdpEventLoop alternatePort = bind(loops, new InetSocketAddress(ip1, 0));
            int port2 = alternatePort.localAddress().getPort();
            UdpEventLoop alternateBoth = bind(loops, new InetSocketAddress(ip2, port2));
            Hop p = new Hop(primary, primary);
            Hop ap = new Hop(primary, alternatePort);
            Hop ai = new Hop(primary, alternateIp);
            Hop ab = new Hop(primary, alternateBoth);
            for (Hop hop : List.of(p, ap, ai, ab)) {
                hop.installBeforeStart();
            }
            for (UdpEventLoop loop : loops) {
                loop.start();
            }
            StunBindingServer server = primary.submit(() -> StunBindingServer.rfc5780(p, ap, ai, ab, "pinhole").listen())
                .get(10, TimeUnit.SECONDS);

            CoturnInteropTest.Verdict verdict = CoturnInteropTest.natdiscovery(primary.localAddress());

            assertEquals(NatMapping.ENDPOINT_INDEPENDENT, verdict.mapping(), verdict.output());
            assertEquals(NatFiltering.ENDPOINT_INDEPENDENT, verdict.filtering(), verdict.output());
            assertEquals(Hairpinning.SUPPORTED, verdict.hairpinning(), verdict.output());
            assertTrue(verdict.noNat(), verdict.output());
            assertTrue(verdict.output().contains("Other addr: : 127.0.0.2:" + port2),
                "natdiscovery saw our OTHER-ADDRESS:\n" + verdict.output());
            long changed = primary.submit(server::changedOriginResponseCount).get(10, TimeUnit.SECONDS);
            // Filtering test II (change IP and port) is answered from 127.0.0.2:port2, so test III is not needed.
            assertEquals(1, changed, "one answer from the alternate IP and port");
        } finally {
            for (UdpEventLoop loop : loops) {
                loop.close();
            }
        }
    }

    private static UdpEventLoop bind(List<UdpEventLoop> loops, InetSocketAddress address) throws Exception {
        UdpEventLoop loop = UdpEventLoop.builder().bind(address).threadName("stun-server-" + address).daemon(true).build();
        loops.add(loop);
        return loop;
    }

    /**
     * One socket's loop seen as an endpoint of the {@code owner} loop: datagrams it receives are copied
     * to the owner's thread; sends made on the owner's thread are carried back to the socket's thread.
     */
    private static final class Hop implements DatagramEndpoint {
        private final UdpEventLoop owner;
        private final UdpEventLoop socket;
        private volatile DatagramReceiver receiver;

        Hop(UdpEventLoop owner, UdpEventLoop socket) {
            this.owner = owner;
            this.socket = socket;
        }

        void installBeforeStart() {
            socket.receiver((datagram, sender) -> {
                ByteBuf copy = datagram.copy();
                owner.execute(() -> {
                    try {
                        DatagramReceiver r = receiver;
                        if (r != null) {
                            r.onDatagram(copy, sender);
                        }
                    } finally {
                        copy.release();
                    }
                });
            });
        }

        @Override
        public InetSocketAddress localAddress() {
            return socket.localAddress();
        }

        @Override
        public boolean send(ByteBuf datagram, InetSocketAddress destination) {
            if (socket.inEventLoop()) {
                return socket.send(datagram, destination);
            }
            socket.execute(() -> socket.send(datagram, destination));
            return true;
        }

        @Override
        public void receiver(DatagramReceiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public Clock clock() {
            return owner.clock();
        }

        @Override
        public TimerService timers() {
            return owner.timers();
        }

        @Override
        public ByteBufAllocator allocator() {
            return owner.allocator();
        }
    }
}
