package dev.pinhole.cli.boundaries;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which packages each Pinhole module offers to whom: the module table of docs/architecture.md as data.
 *
 * <p>A package is either API (any module and any application may use it), or internal, optionally shared with
 * named Pinhole modules (as a JPMS qualified export would be). {@link #violations} lists every dependency of a
 * class in one module on a class in another module's package that is not offered to it.
 */
final class ModuleBoundaries {
    /** Offered to every module and to applications. */
    static final String EVERYONE = "*";

    /** Module name to its root package; a class belongs to the module whose root package is the longest prefix. */
    static final Map<String, String> MODULES = Map.of(
        "core", "dev.pinhole.core",
        "protocol", "dev.pinhole.protocol",
        "reliability", "dev.pinhole.reliability",
        "punch", "dev.pinhole.punch",
        "server", "dev.pinhole.server",
        "cli", "dev.pinhole.cli");

    /** Package to the modules it is offered to; a package not listed is internal to its own module. */
    static final Map<String, Set<String>> OFFERED = Map.ofEntries(
        // core: the plug-in points (a custom DatagramEndpoint, a shared UdpEventLoop), time and the platform check.
        Map.entry("dev.pinhole.core", Set.of(EVERYONE)),
        Map.entry("dev.pinhole.core.net", Set.of(EVERYONE)),
        Map.entry("dev.pinhole.core.time", Set.of(EVERYONE)),
        // protocol: wire formats shared by the peer library and the servers; the NAT vocabulary (RFC 4787, RFC 5780)
        // is API because a traversal failure reports both sides' NAT behaviour in it.
        Map.entry("dev.pinhole.protocol.stun", Set.of("punch", "server", "cli")),
        Map.entry("dev.pinhole.protocol.turn", Set.of("punch", "server")),
        Map.entry("dev.pinhole.protocol.rendezvous", Set.of("punch", "server")),
        Map.entry("dev.pinhole.protocol.ice", Set.of("punch", "server")),
        Map.entry("dev.pinhole.protocol.nat", Set.of(EVERYONE)),
        // reliability: the transport API; its sans-IO core only to the peer library, which drives it itself.
        Map.entry("dev.pinhole.reliability", Set.of(EVERYONE)),
        Map.entry("dev.pinhole.reliability.connection", Set.of("punch")),
        // punch: PinholeNode, PeerConnection, PathInfo and what they throw; NAT discovery and the rendezvous client
        // serve the command line's nat-type and chat.
        Map.entry("dev.pinhole.punch", Set.of(EVERYONE)),
        Map.entry("dev.pinhole.punch.nat", Set.of("cli")),
        Map.entry("dev.pinhole.punch.rendezvous", Set.of("cli")),
        // server: PinholeServer, its builder's errors and its stats.
        Map.entry("dev.pinhole.server", Set.of(EVERYONE)));

    private ModuleBoundaries() {
    }

    static Optional<String> moduleOf(String packageName) {
        String best = null;
        for (Map.Entry<String, String> module : MODULES.entrySet()) {
            String root = module.getValue();
            if ((packageName.equals(root) || packageName.startsWith(root + "."))
                    && (best == null || root.length() > MODULES.get(best).length())) {
                best = module.getKey();
            }
        }
        return Optional.ofNullable(best);
    }

    /** Every cross-module dependency on a package not offered to the depending module, described, sorted. */
    static List<String> violations(JavaClasses classes) {
        Set<String> found = new TreeSet<>();
        for (JavaClass origin : classes) {
            Optional<String> from = moduleOf(origin.getPackageName());
            if (from.isEmpty()) {
                continue;
            }
            for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
                JavaClass target = dependency.getTargetClass().getBaseComponentType();
                String targetPackage = target.getPackageName();
                Optional<String> to = moduleOf(targetPackage);
                if (to.isEmpty() || to.equals(from)) {
                    continue;
                }
                Set<String> offeredTo = OFFERED.getOrDefault(targetPackage, Set.of());
                if (!offeredTo.contains(EVERYONE) && !offeredTo.contains(from.get())) {
                    found.add(from.get() + " -> " + to.get() + " internal package " + targetPackage + ": "
                        + dependency.getDescription());
                }
            }
        }
        return new ArrayList<>(found);
    }
}
