package dev.pinhole.punch.interop;

import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunParseResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.nat.Hairpinning;
import dev.pinhole.protocol.nat.NatBehavior;
import dev.pinhole.punch.nat.NatBehaviorDiscovery;
import dev.pinhole.punch.nat.NatDiscoveryConfig;
import dev.pinhole.protocol.nat.NatFiltering;
import dev.pinhole.protocol.nat.NatMapping;
import dev.pinhole.protocol.nat.NatType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interop with coturn (Debian {@code coturn}) on loopback, over the real {@link UdpEventLoop}:
 * our client against coturn's RFC 5780 server, and coturn's reference client
 * {@code turnutils_natdiscovery} against the same server, whose verdicts ours must match.
 * Skipped, saying how to enable it, when coturn is not installed.
 */
class CoturnInteropTest {
    private static final long TIMEOUT_S = 60;
    private static Coturn coturn;

    @BeforeAll
    static void startCoturn() throws Exception {
        coturn = Coturn.start();
    }

    @AfterAll
    static void stopCoturn() throws Exception {
        if (coturn != null) {
            coturn.close();
        }
    }

    /** Runs {@code action} with a client on a fresh event loop bound to 127.0.0.1 and waits for its future. */
    private static <T> T onLoop(Function<StunClient, CompletableFuture<T>> action) throws Exception {
        try (UdpEventLoop loop = UdpEventLoop.builder().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .threadName("stun-interop").daemon(true).build().start()) {
            CompletableFuture<T> result = loop.submit(() -> {
                StunClient client = new StunClient(loop);
                loop.receiver(client);
                return action.apply(client);
            }).thenCompose(f -> f);
            return result.get(TIMEOUT_S, TimeUnit.SECONDS);
        }
    }

    @Test
    void bindingRequestGetsOurAddressAndCoturnsRfc5780Attributes() throws Exception {
        BindingOutcome outcome = onLoop(client -> client.binding(coturn.primary(),
            BindingRequest.DEFAULT.withSoftware("pinhole interop")).thenApply(o -> {
                assertEquals(0, client.malformedCount(StunParseResult.BAD_FINGERPRINT), "coturn's FINGERPRINT checks out");
                return o;
            }));
        BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome, coturn.logTail());
        assertEquals(InetAddress.getLoopbackAddress(), success.mappedAddress().getAddress(), "no NAT on loopback");
        assertEquals(coturn.primary(), success.source(), "answer from the primary address");
        assertEquals(coturn.primary(), success.responseOrigin(), "RESPONSE-ORIGIN");
        assertEquals(coturn.other(), success.otherAddress(), "OTHER-ADDRESS is 127.0.0.2 on the alternate port");
    }

    @Test
    void coturnAnswersChangeRequestFromTheAddressWeAskedFor() throws Exception {
        boolean[][] flags = {{false, true}, {true, false}, {true, true}};
        InetSocketAddress[] expected = {
            new InetSocketAddress(InetAddress.getLoopbackAddress(), coturn.port() + 1),
            new InetSocketAddress(Coturn.loopback2(), coturn.port()),
            coturn.other()};
        for (int i = 0; i < flags.length; i++) {
            boolean changeIp = flags[i][0];
            boolean changePort = flags[i][1];
            BindingOutcome outcome = onLoop(client -> client.binding(coturn.primary(),
                BindingRequest.DEFAULT.withChangeRequest(changeIp, changePort)));
            BindingOutcome.Success success = assertInstanceOf(BindingOutcome.Success.class, outcome, coturn.logTail());
            assertEquals(expected[i], success.source(), "change IP " + changeIp + ", port " + changePort);
        }
    }

    @Test
    void discoveryAgreesWithTurnutilsNatdiscovery() throws Exception {
        NatBehavior ours = onLoop(client -> NatBehaviorDiscovery.discover(client, coturn.primary(),
            NatDiscoveryConfig.DEFAULT));
        assertFalse(ours.udpBlocked(), ours.describe());
        assertFalse(ours.behindNat(), "loopback has no NAT: " + ours.describe());
        assertEquals(NatMapping.ENDPOINT_INDEPENDENT, ours.mapping(), ours.describe());
        assertEquals(NatFiltering.ENDPOINT_INDEPENDENT, ours.filtering(), ours.describe());
        assertEquals(Hairpinning.SUPPORTED, ours.hairpinning(), ours.describe());
        assertEquals(NatType.OPEN_INTERNET, ours.natType(), ours.describe());
        assertEquals(coturn.other(), ours.serverOtherAddress(), "OTHER-ADDRESS");

        Verdict theirs = natdiscovery(coturn.primary());
        assertEquals(theirs.mapping(), ours.mapping(), "mapping, natdiscovery said:\n" + theirs.output());
        assertEquals(theirs.filtering(), ours.filtering(), "filtering, natdiscovery said:\n" + theirs.output());
        assertEquals(theirs.hairpinning(), ours.hairpinning(), "hairpinning, natdiscovery said:\n" + theirs.output());
        assertEquals(theirs.noNat(), !ours.behindNat(), "NAT presence, natdiscovery said:\n" + theirs.output());
    }

    /** What {@code turnutils_natdiscovery -m -f -H} printed, parsed. */
    record Verdict(NatMapping mapping, NatFiltering filtering, Hairpinning hairpinning, boolean noNat, String output) {
    }

    private static final Pattern MAPPING = Pattern.compile("NAT with (Endpoint Independent|Address Dependent|"
        + "Address and Port Dependent) Mapping!");
    private static final Pattern FILTERING = Pattern.compile("NAT with (Endpoint Independent|Address Dependent|"
        + "Address and Port Dependent) Filtering!");

    /** Runs coturn's reference client against {@code server} from 127.0.0.1 and parses its verdicts. */
    static Verdict natdiscovery(InetSocketAddress server) throws IOException, InterruptedException {
        Path tool = Coturn.onPath("turnutils_natdiscovery");
        assumeTrue(tool != null, Coturn.HOW_TO_ENABLE);
        Process process = new ProcessBuilder(List.of(tool.toString(), "-m", "-f", "-H", "-L", "127.0.0.1",
            "-p", Integer.toString(server.getPort()), server.getAddress().getHostAddress()))
            .redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            in.transferTo(bytes);
            output = bytes.toString(StandardCharsets.UTF_8);
        }
        assertTrue(process.waitFor(TIMEOUT_S, TimeUnit.SECONDS), "turnutils_natdiscovery finished");
        Matcher mapping = MAPPING.matcher(output);
        NatMapping m = NatMapping.UNKNOWN;
        while (mapping.find()) {
            // coturn prints a verdict after each mapping test; the last one stands.
            m = mappingOf(mapping.group(1));
        }
        Matcher filtering = FILTERING.matcher(output);
        NatFiltering f = NatFiltering.UNKNOWN;
        while (filtering.find()) {
            f = filteringOf(filtering.group(1));
        }
        Hairpinning h = output.contains("Received a request (maybe a successful hairpinning)")
            ? Hairpinning.SUPPORTED : Hairpinning.NOT_SUPPORTED;
        assertNotNull(m, output);
        return new Verdict(m, f, h, output.contains("No NAT!"), output);
    }

    private static NatMapping mappingOf(String words) {
        return switch (words) {
            case "Endpoint Independent" -> NatMapping.ENDPOINT_INDEPENDENT;
            case "Address Dependent" -> NatMapping.ADDRESS_DEPENDENT;
            default -> NatMapping.ADDRESS_AND_PORT_DEPENDENT;
        };
    }

    private static NatFiltering filteringOf(String words) {
        return switch (words) {
            case "Endpoint Independent" -> NatFiltering.ENDPOINT_INDEPENDENT;
            case "Address Dependent" -> NatFiltering.ADDRESS_DEPENDENT;
            default -> NatFiltering.ADDRESS_AND_PORT_DEPENDENT;
        };
    }
}
