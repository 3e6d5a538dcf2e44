package dev.pinhole.punch.nat;

import dev.pinhole.protocol.nat.Hairpinning;
import dev.pinhole.protocol.nat.NatBehavior;
import dev.pinhole.protocol.nat.NatFiltering;
import dev.pinhole.protocol.nat.NatMapping;

import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import dev.pinhole.protocol.stun.StunTransactionFailure;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * NAT behaviour discovery (RFC 5780 §4) from one endpoint against one RFC 5780 server, as a
 * state machine driven by the {@link StunClient}'s transactions on the endpoint's event loop.
 *
 * <ol>
 *   <li><b>Test I</b> (§4.3): a Binding request to the server's primary address gives the mapped
 *       address and the server's OTHER-ADDRESS. No answer: UDP blocked.</li>
 *   <li><b>Filtering</b> (§4.4), run first, before anything is sent to the server's alternate
 *       address, because sending there would open an address-dependent filter for it and make
 *       the NAT look more permissive than it is. Test II (CHANGE-REQUEST change IP and port) and
 *       test III (change port) go out together: an answer to II from OTHER-ADDRESS means
 *       endpoint-independent filtering; otherwise an answer to III from the primary IP's
 *       alternate port means address-dependent; neither means address-and-port-dependent.
 *       Answers from any other source mean the server did not honour CHANGE-REQUEST: unknown.</li>
 *   <li><b>Mapping</b> (§4.3): test II to the alternate IP and primary port; the same mapped
 *       address as test I means endpoint-independent mapping. Otherwise test III to the alternate
 *       IP and port: the same as test II means address-dependent, else address-and-port-dependent.</li>
 *   <li><b>Hairpinning</b> (§4.5, optional): a Binding request to our own mapped address; if it
 *       arrives back at our endpoint, the NAT hairpins.</li>
 * </ol>
 *
 * All of it runs on the endpoint's event loop through the client, so it works on the real UDP
 * driver and on the simulator alike; {@link #discover} returns a future completed on that loop.
 * With the default timing a full run takes a few round trips when every answer comes, and up to
 * two probe timeouts (2 × 5.5 s) when the NAT filters and does not hairpin.
 */
public final class NatBehaviorDiscovery {
    private final StunClient client;
    private final InetSocketAddress server;
    private final NatDiscoveryConfig options;
    private final BindingRequest answered;
    private final BindingRequest probe;
    private final CompletableFuture<NatBehavior> result = new CompletableFuture<>();
    private final long startNs;

    private boolean udpBlocked;
    private InetSocketAddress mapped;
    private InetSocketAddress other;
    private boolean behindNat;
    private NatMapping mapping = NatMapping.UNKNOWN;
    private NatFiltering filtering = NatFiltering.UNKNOWN;
    private Hairpinning hairpinning = Hairpinning.UNKNOWN;
    private BindingOutcome filterII;
    private BindingOutcome filterIII;
    private CompletableFuture<BindingOutcome> filterIIIFuture;
    private boolean filteringDecided;
    private InetSocketAddress mappedII;

    private NatBehaviorDiscovery(StunClient client, InetSocketAddress server, NatDiscoveryConfig options) {
        this.client = client;
        this.server = server;
        this.options = options;
        StunTransactionConfig timing = options.timing() != null ? options.timing() : client.defaults();
        StunTransactionConfig probeTiming = options.probeTiming() != null
            ? options.probeTiming() : NatDiscoveryConfig.DEFAULT_PROBE_TIMING;
        BindingRequest base = BindingRequest.DEFAULT.withSoftware(options.software());
        this.answered = base.withTiming(timing);
        this.probe = base.withTiming(probeTiming);
        this.startNs = client.endpoint().clock().nanoTime();
    }

    /**
     * Starts discovery against {@code server}'s primary address. Must be called on the client's
     * event loop; the future completes there. It fails exceptionally only on a programming error
     * (such as a closed client); network trouble is expressed in the result.
     */
    public static CompletableFuture<NatBehavior> discover(StunClient client, InetSocketAddress server,
                                                          NatDiscoveryConfig options) {
        NatBehaviorDiscovery discovery = new NatBehaviorDiscovery(Objects.requireNonNull(client, "client"),
            Objects.requireNonNull(server, "server"), Objects.requireNonNull(options, "options"));
        discovery.step(() -> discovery.send(server, discovery.answered, discovery::onTestI));
        return discovery.result;
    }

    private void onTestI(BindingOutcome outcome) {
        if (!(outcome instanceof BindingOutcome.Success success)) {
            // A timeout means UDP blocked; an error response means a server that is there but useless here.
            udpBlocked = outcome instanceof BindingOutcome.Failed failed && failed.timedOut();
            finish();
            return;
        }
        mapped = success.mappedAddress();
        behindNat = !isLocal(mapped);
        other = success.otherAddress();
        if (other == null || other.getAddress().equals(server.getAddress()) || other.getPort() == server.getPort()) {
            // RFC 5780 §6: without an OTHER-ADDRESS on another IP and port, mapping and filtering cannot be measured.
            other = null;
            testHairpinning();
            return;
        }
        send(server, probe.withChangeRequest(true, true), o -> {
            filterII = o;
            decideFiltering();
        });
        if (!result.isDone()) {
            filterIIIFuture = send(server, probe.withChangeRequest(false, true), o -> {
                filterIII = o;
                decideFiltering();
            });
        }
    }

    private void decideFiltering() {
        if (filteringDecided || filterII == null) {
            return;
        }
        if (filterII instanceof BindingOutcome.Success success) {
            filtering = success.source().equals(other) ? NatFiltering.ENDPOINT_INDEPENDENT : NatFiltering.UNKNOWN;
        } else if (filterII instanceof BindingOutcome.Failed failed && failed.timedOut()) {
            if (filterIII == null) {
                return;
            }
            if (filterIII instanceof BindingOutcome.Success success) {
                InetSocketAddress source = success.source();
                boolean changedPortOnly = source.getAddress().equals(server.getAddress())
                    && source.getPort() == other.getPort();
                filtering = changedPortOnly ? NatFiltering.ADDRESS_DEPENDENT : NatFiltering.UNKNOWN;
            } else if (filterIII instanceof BindingOutcome.Failed failedIII && failedIII.timedOut()) {
                filtering = NatFiltering.ADDRESS_AND_PORT_DEPENDENT;
            }
        }
        filteringDecided = true;
        if (filterIIIFuture != null && !filterIIIFuture.isDone()) {
            filterIIIFuture.cancel(false);
        }
        testMapping();
    }

    private void testMapping() {
        InetSocketAddress alternateIpPrimaryPort = new InetSocketAddress(other.getAddress(), server.getPort());
        send(alternateIpPrimaryPort, answered, outcome -> {
            if (!(outcome instanceof BindingOutcome.Success success)) {
                testHairpinning();
                return;
            }
            if (success.mappedAddress().equals(mapped)) {
                mapping = NatMapping.ENDPOINT_INDEPENDENT;
                testHairpinning();
                return;
            }
            mappedII = success.mappedAddress();
            send(other, answered, outcomeIII -> {
                if (outcomeIII instanceof BindingOutcome.Success successIII) {
                    mapping = successIII.mappedAddress().equals(mappedII)
                        ? NatMapping.ADDRESS_DEPENDENT : NatMapping.ADDRESS_AND_PORT_DEPENDENT;
                }
                testHairpinning();
            });
        });
    }

    private void testHairpinning() {
        if (!options.hairpinning()) {
            finish();
            return;
        }
        send(mapped, probe.withAcceptOwnRequest(true), outcome -> {
            if (outcome instanceof BindingOutcome.OwnRequestReceived) {
                hairpinning = Hairpinning.SUPPORTED;
            } else if (outcome instanceof BindingOutcome.Failed failed && failed.timedOut()) {
                hairpinning = Hairpinning.NOT_SUPPORTED;
            }
            finish();
        });
    }

    private void finish() {
        result.complete(new NatBehavior(server, client.endpoint().localAddress(), udpBlocked, mapped,
            mapped != null && behindNat,
            mapping, filtering, hairpinning, other, client.endpoint().clock().nanoTime() - startNs));
    }

    /**
     * Sends a Binding request and continues with {@code next} when it ends. A closed client ends
     * discovery with what is known so far.
     */
    private CompletableFuture<BindingOutcome> send(InetSocketAddress destination, BindingRequest request,
                                                   Consumer<BindingOutcome> next) {
        CompletableFuture<BindingOutcome> future = client.binding(destination, request);
        future.whenComplete((outcome, failure) -> {
            if (result.isDone() || future.isCancelled()) {
                return;
            }
            if (failure != null) {
                result.completeExceptionally(failure);
                return;
            }
            if (outcome instanceof BindingOutcome.Failed failed && failed.failure() == StunTransactionFailure.CLOSED) {
                finish();
                return;
            }
            step(() -> next.accept(outcome));
        });
        return future;
    }

    /** Runs a step; a programming error in it fails the discovery instead of vanishing in a future. */
    private void step(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    /**
     * Whether the mapped address is our own: the same port, and our bound IP or, for a wildcard
     * bind, an IP of one of this machine's interfaces.
     */
    private boolean isLocal(InetSocketAddress address) {
        InetSocketAddress local = client.endpoint().localAddress();
        if (address.getPort() != local.getPort()) {
            return false;
        }
        InetAddress ip = address.getAddress();
        if (ip.equals(local.getAddress())) {
            return true;
        }
        if (!local.getAddress().isAnyLocalAddress()) {
            return false;
        }
        try {
            return ip.isLoopbackAddress() || NetworkInterface.getByInetAddress(ip) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
