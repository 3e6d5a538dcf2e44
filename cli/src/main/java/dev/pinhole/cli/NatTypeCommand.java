package dev.pinhole.cli;

import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.protocol.nat.NatBehavior;
import dev.pinhole.punch.nat.NatBehaviorDiscovery;
import dev.pinhole.punch.nat.NatDiscoveryConfig;
import dev.pinhole.protocol.nat.NatFiltering;
import dev.pinhole.protocol.nat.NatMapping;
import dev.pinhole.protocol.stun.StunClient;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code pinhole nat-type}: RFC 5780 NAT behaviour discovery against any STUN server that supports it. */
@Command(name = "nat-type", mixinStandardHelpOptions = true,
        description = "Measures this host's NAT mapping and filtering behaviour (RFC 5780, named as in"
            + " RFC 4787) against a STUN server with an alternate address (pinhole rendezvous --alt, coturn"
            + " with two listening IPs).")
final class NatTypeCommand implements Callable<Integer>, Main.JsonOutput {
    /** Whole discovery: test I to III with their retransmissions (RFC 8489 Rc=7, Rm=16 is 39.5 s). */
    private static final long DISCOVERY_TIMEOUT_S = 60;

    @Option(names = "--stun", required = true, paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "The STUN server's primary address.")
    InetSocketAddress stun;

    @Option(names = "--bind", paramLabel = "IP:PORT", converter = Addresses.class, defaultValue = "0.0.0.0:0",
            description = "Local address to test from (default: ${DEFAULT-VALUE}).")
    InetSocketAddress bind;

    @Option(names = "--json", description = "Print one JSON object: mapping, filtering, mapped, ...")
    boolean json;

    @Mixin
    Main.Verbosity verbosity;

    @Override
    public boolean json() {
        return json;
    }

    @Override
    public Integer call() throws Exception {
        try (UdpEventLoop loop = Loops.bind(bind, "nat-type")) {
            loop.start();
            NatBehavior behavior;
            try {
                behavior = loop.submit(() -> {
                    StunClient client = new StunClient(loop);
                    loop.receiver(client);
                    return NatBehaviorDiscovery.discover(client, stun,
                            NatDiscoveryConfig.DEFAULT.withTiming(ChatCommand.INTERACTIVE_TIMING));
                }).get(10, TimeUnit.SECONDS).get(DISCOVERY_TIMEOUT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new CliException(ExitCodes.INTERNAL, "NAT discovery did not finish: " + e, e);
            }
            if (behavior.udpBlocked()) {
                throw new CliException(ExitCodes.RENDEZVOUS_UNREACHABLE, "no answer from the STUN server "
                        + Addresses.format(stun) + ": UDP is blocked on the way or the server is down");
            }
            if (json) {
                System.out.println(Json.object().put("ok", behavior.mappedAddress() != null)
                        .put("mapping", name(behavior.mapping())).put("filtering", name(behavior.filtering()))
                        .put("mapped", Addresses.format(behavior.mappedAddress()))
                        .put("local", Addresses.format(behavior.localAddress()))
                        .put("behind_nat", behavior.behindNat())
                        .put("hairpinning", behavior.hairpinning().name().toLowerCase(Locale.ROOT))
                        .put("nat_type", behavior.natType().name().toLowerCase(Locale.ROOT).replace('_', '-'))
                        .put("server", Addresses.format(stun))
                        .put("other_address", Addresses.format(behavior.serverOtherAddress()))
                        .put("seconds", behavior.elapsedNs() / 1e9));
            } else {
                System.out.println("mapping:   " + name(behavior.mapping()));
                System.out.println("filtering: " + name(behavior.filtering()));
                System.out.println("mapped:    " + Addresses.format(behavior.mappedAddress())
                        + (behavior.behindNat() ? "" : " (no NAT: same as the local address)"));
                System.out.println("summary:   " + behavior.describe());
                if (behavior.serverOtherAddress() == null) {
                    System.out.println("note:      " + Addresses.format(stun) + " has no OTHER-ADDRESS (no RFC 5780):"
                            + " mapping and filtering cannot be measured against it");
                }
            }
            return ExitCodes.OK;
        }
    }

    /** RFC 4787 wording: endpoint-independent, address-dependent, address-and-port-dependent, unknown. */
    static String name(NatMapping mapping) {
        return mapping.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String name(NatFiltering filtering) {
        return filtering.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
