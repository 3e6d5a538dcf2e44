package dev.pinhole.punch.interop;

import dev.pinhole.server.stun.StunBindingServer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.nat.Hairpinning;
import dev.pinhole.protocol.nat.NatFiltering;
import dev.pinhole.protocol.nat.NatMapping;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The other direction of interop: coturn's reference client {@code turnutils_natdiscovery} against
 * our {@link StunBindingServer} on four real UDP sockets (127.0.0.1 and 127.0.0.2, two ports each).
 * Skipped, saying how to enable it, when coturn is not installed.
 *
 * <p>The four sockets share one loop thread ({@link UdpEventLoop#openSocket}), as the server requires.
 */
class BindingServerInteropTest {

    @Test
    void turnutilsNatdiscoveryFindsNoNatBehindOurRfc5780Server() throws Exception {
        assumeTrue(Coturn.onPath("turnutils_natdiscovery") != null, Coturn.HOW_TO_ENABLE);
        InetAddress ip1 = InetAddress.getLoopbackAddress();
        InetAddress ip2 = Coturn.loopback2();
        try (UdpEventLoop primary = UdpEventLoop.builder().bind(new InetSocketAddress(ip1, 0))
                .threadName("stun-server").daemon(true).build()) {
            int port1 = primary.localAddress().getPort();
            DatagramEndpoint alternateIp = primary.openSocket(new InetSocketAddress(ip2, port1));
            DatagramEndpoint alternatePort = primary.openSocket(new InetSocketAddress(ip1, 0));
            int port2 = alternatePort.localAddress().getPort();
            DatagramEndpoint alternateBoth = primary.openSocket(new InetSocketAddress(ip2, port2));
            primary.start();
            StunBindingServer server = primary.submit(() -> StunBindingServer.rfc5780(primary, alternatePort,
                    alternateIp, alternateBoth, "pinhole").listen()).get(10, TimeUnit.SECONDS);

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
        }
    }
}
