package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.nat.NatProfile;

import dev.pinhole.protocol.stun.BindingOutcome;
import dev.pinhole.protocol.stun.BindingRequest;
import dev.pinhole.protocol.stun.StunClient;
import dev.pinhole.protocol.stun.StunTransactionConfig;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Gathers the candidates of the node's one socket (RFC 8445 §5.1.1): host candidates from its bound address
 * or the machine's interfaces, and the server-reflexive candidate from STUN Binding requests sent from that
 * same socket (one socket per node, docs/architecture.md: the mapping the STUN server sees is the one peers
 * must reach).
 *
 * <p>With several STUN server addresses the requests go out one after the other, and the mapped addresses
 * they report tell the NAT's mapping behaviour and port allocation ({@link #analyse}): the same mapping for
 * every server means endpoint-independent mapping; two server ports on one IP sharing a mapping means
 * address-dependent; consecutive new mappings a constant step apart mean sequential allocation, which port
 * prediction needs. Query order matters: put two ports of one server first, then other IPs. The
 * server-reflexive candidate is the last mapping created, the base prediction counts from.
 *
 * <p>Runs on the client's event loop; the returned future completes there.
 */
public final class CandidateGatherer {
    /**
     * STUN timing for gathering: 250 ms RTO, 4 requests, a final wait of 4 RTO — 2.75 s per silent server
     * instead of RFC 8489's 39.5 s, because a peer is waiting.
     */
    public static final StunTransactionConfig DEFAULT_TIMING = new StunTransactionConfig(250_000_000L, 4, 4);
    /**
     * With only two new mappings measured, a difference this small is taken for sequential allocation; a
     * random allocator produces one with probability 33/64512.
     */
    static final int MAX_GUESSED_STEP = 16;

    private CandidateGatherer() {
    }

    /**
     * Gathers candidates for {@code client}'s endpoint.
     *
     * @param hosts       where host addresses come from when the socket is bound to the wildcard address
     * @param stunServers servers to query, in order; empty gathers host candidates only
     * @param timing      retransmission timing of each query
     */
    public static CompletableFuture<GatheredCandidates> gather(StunClient client, HostAddresses hosts,
            List<InetSocketAddress> stunServers, StunTransactionConfig timing) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(hosts, "hosts");
        Objects.requireNonNull(timing, "timing");
        List<InetSocketAddress> servers = List.copyOf(stunServers);
        InetSocketAddress bound = client.endpoint().localAddress();
        List<Candidate> candidates;
        try {
            candidates = hostCandidates(bound, hosts);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<InetSocketAddress> mapped = new ArrayList<>();
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        BindingRequest request = BindingRequest.DEFAULT.withTiming(timing);
        for (int i = 0; i < servers.size(); i++) {
            InetSocketAddress server = servers.get(i);
            boolean last = i == servers.size() - 1;
            chain = chain.thenCompose(ignored -> client.binding(server, request))
                    .thenCompose(outcome -> last && !(outcome instanceof BindingOutcome.Success) && servers.size() > 1
                            // The last query's mapping is the base port prediction counts from. Unanswered, it
                            // may still have created a mapping the peer would then miscount by one: ask again
                            // (the same destination reuses that mapping, so the answer tells its port).
                            ? client.binding(server, request) : CompletableFuture.completedFuture(outcome))
                    .thenAccept(outcome -> mapped.add(
                            outcome instanceof BindingOutcome.Success success ? success.mappedAddress() : null));
        }
        return chain.thenApply(ignored -> {
            List<Candidate> all = new ArrayList<>(candidates);
            Set<InetAddress> hostIps = new HashSet<>();
            for (Candidate c : candidates) {
                hostIps.add(c.address().getAddress());
            }
            NatProfile nat = analyse(servers, mapped, hostIps, bound.getPort());
            InetSocketAddress reflexive = lastAnswer(mapped);
            if (reflexive != null && nat.mapping() != NatProfile.Mapping.NO_NAT) {
                InetSocketAddress base = baseFor(reflexive, candidates, bound);
                all.add(Candidate.of(CandidateType.SERVER_REFLEXIVE, reflexive, base));
            }
            return new GatheredCandidates(all, nat, mapped);
        });
    }

    /** Host candidates for a socket bound to {@code bound}: that address, or every usable interface address. */
    static List<Candidate> hostCandidates(InetSocketAddress bound, HostAddresses hosts) throws IOException {
        List<InetAddress> addresses = bound.getAddress().isAnyLocalAddress() ? hosts.addresses()
                : List.of(bound.getAddress());
        List<Candidate> candidates = new ArrayList<>();
        int localPreference = Candidate.MAX_LOCAL_PREFERENCE;
        for (InetAddress address : addresses) {
            InetSocketAddress host = new InetSocketAddress(address, bound.getPort());
            long priority = Candidate.priority(CandidateType.HOST, localPreference, Candidate.COMPONENT_ID);
            candidates.add(new Candidate(CandidateType.HOST, host, priority, host));
            // RFC 8445 §5.1.2.1: distinct local preferences per interface, the first (IPv4) preferred.
            localPreference = Math.max(0, localPreference - 1);
        }
        return candidates;
    }

    private static InetSocketAddress baseFor(InetSocketAddress reflexive, List<Candidate> hosts,
            InetSocketAddress bound) {
        boolean v4 = reflexive.getAddress() instanceof Inet4Address;
        for (Candidate c : hosts) {
            if ((c.address().getAddress() instanceof Inet4Address) == v4) {
                return c.address();
            }
        }
        return bound;
    }

    private static InetSocketAddress lastAnswer(List<InetSocketAddress> mapped) {
        for (int i = mapped.size() - 1; i >= 0; i--) {
            if (mapped.get(i) != null) {
                return mapped.get(i);
            }
        }
        return null;
    }

    /**
     * What the mapped addresses reported by {@code servers} (same order; null = no answer) say about the NAT.
     * Filtering is left unknown: it takes RFC 5780's CHANGE-REQUEST tests.
     */
    static NatProfile analyse(List<InetSocketAddress> servers, List<InetSocketAddress> mapped,
            Collection<InetAddress> hostAddresses, int localPort) {
        List<InetSocketAddress> answeredServers = new ArrayList<>();
        List<InetSocketAddress> answers = new ArrayList<>();
        for (int i = 0; i < mapped.size(); i++) {
            if (mapped.get(i) != null) {
                answeredServers.add(servers.get(i));
                answers.add(mapped.get(i));
            }
        }
        if (answers.isEmpty()) {
            return NatProfile.UNKNOWN;
        }
        for (InetSocketAddress a : answers) {
            if (hostAddresses.contains(a.getAddress()) && a.getPort() == localPort) {
                return NatProfile.NO_NAT;
            }
        }
        boolean allSame = answers.stream().distinct().count() == 1;
        if (allSame) {
            if (answers.size() < 2) {
                return new NatProfile(NatProfile.Mapping.UNKNOWN, NatProfile.Filtering.UNKNOWN,
                        NatProfile.PortAllocation.UNKNOWN, 0);
            }
            NatProfile.PortAllocation allocation = answers.get(0).getPort() == localPort
                    ? NatProfile.PortAllocation.PRESERVING : NatProfile.PortAllocation.UNKNOWN;
            return new NatProfile(NatProfile.Mapping.ENDPOINT_INDEPENDENT, NatProfile.Filtering.UNKNOWN, allocation, 0);
        }
        NatProfile.Mapping mapping = NatProfile.Mapping.ADDRESS_AND_PORT_DEPENDENT;
        for (int i = 0; i < answers.size(); i++) {
            for (int j = i + 1; j < answers.size(); j++) {
                InetSocketAddress si = answeredServers.get(i);
                InetSocketAddress sj = answeredServers.get(j);
                if (si.getAddress().equals(sj.getAddress()) && si.getPort() != sj.getPort()
                        && answers.get(i).equals(answers.get(j))) {
                    mapping = NatProfile.Mapping.ADDRESS_DEPENDENT;
                }
            }
        }
        List<Integer> newPorts = new ArrayList<>();
        Set<InetSocketAddress> seen = new HashSet<>();
        for (InetSocketAddress a : answers) {
            if (seen.add(a)) {
                newPorts.add(a.getPort());
            }
        }
        return new NatProfile(mapping, NatProfile.Filtering.UNKNOWN, NatProfile.PortAllocation.RANDOM, 0)
                .withPortAllocation(allocation(newPorts), step(newPorts));
    }

    private static NatProfile.PortAllocation allocation(List<Integer> ports) {
        return step(ports) != 0 ? NatProfile.PortAllocation.SEQUENTIAL : NatProfile.PortAllocation.RANDOM;
    }

    /**
     * The allocation step of consecutive new mappings, or 0 if they do not look sequential: all differences
     * of one sign and at most {@link #MAX_GUESSED_STEP} apart (with three or more mappings an equal
     * difference suffices, whatever its size). The smallest difference is returned: other users of the NAT
     * can only add to it, which the prediction window covers.
     */
    static int step(List<Integer> ports) {
        if (ports.size() < 2) {
            return 0;
        }
        List<Integer> diffs = new ArrayList<>();
        for (int i = 1; i < ports.size(); i++) {
            diffs.add(ports.get(i) - ports.get(i - 1));
        }
        boolean allEqual = diffs.stream().distinct().count() == 1;
        if (allEqual && diffs.size() >= 2 && diffs.get(0) != 0) {
            return diffs.get(0);
        }
        int sign = Integer.signum(diffs.get(0));
        int smallest = Integer.MAX_VALUE;
        for (int d : diffs) {
            if (d == 0 || Integer.signum(d) != sign || Math.abs(d) > MAX_GUESSED_STEP) {
                return 0;
            }
            smallest = Math.min(smallest, Math.abs(d));
        }
        return sign * smallest;
    }
}
