package dev.pinhole.punch.traversal;

import dev.pinhole.protocol.nat.NatProfile;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The message of a {@link TraversalFailedException}: both NATs in RFC 4787 terms with their mapped
 * addresses, why that combination defeats hole punching, every pair tried and its fate, what birthday
 * probing did, and the counts of checks that crossed; so that whoever reads it knows a relay is needed and
 * why.
 */
final class FailureReport {
    /** Pairs listed one by one in a failure message; the rest are counted by verdict. */
    static final int MAX_REPORTED_PAIRS = 24;

    private FailureReport() {
    }

    /**
     * The message for a session that gave up {@code elapsedNs} after it started checking. {@code somePairValid}
     * says a pair succeeded but nomination did not complete; {@code birthday} is what
     * {@link BirthdayProbing#summary} reported; {@code primes} that the session had a {@link SocketTtl}.
     */
    static String message(Introduction introduction, ReflexiveAddresses reflexive, CheckList checks,
            SessionCounters counters, long elapsedNs, boolean somePairValid, String birthday, boolean primes) {
        String nl = System.lineSeparator();
        StringBuilder s = new StringBuilder();
        s.append("no direct path to '").append(introduction.peerName()).append("' after ")
                .append(elapsedNs / 1_000_000).append(" ms; a relay (TURN) is needed.").append(nl)
                .append("  this side (").append(checks.role()).append("): ").append(introduction.localNat().describe())
                .append(mappedAs(reflexive.local())).append(nl)
                .append("  peer: ").append(introduction.peerNat().describe())
                .append(mappedAs(reflexive.peer())).append(nl)
                .append("  ").append(explain(introduction, counters, somePairValid, primes)).append(nl);
        List<CandidatePair> tried = checks.ordered();
        s.append("  pairs tried (").append(tried.size()).append("):").append(nl);
        // The pairs the candidates named first, then the ones learnt from the peer's checks.
        List<CandidatePair> listed = new ArrayList<>();
        for (CandidatePair p : tried) {
            if (p.origin != PathOrigin.PEER_REFLEXIVE) {
                listed.add(p);
            }
        }
        for (CandidatePair p : tried) {
            if (p.origin == PathOrigin.PEER_REFLEXIVE) {
                listed.add(p);
            }
        }
        Map<String, Integer> rest = new TreeMap<>();
        for (int i = 0; i < listed.size(); i++) {
            CandidatePair p = listed.get(i);
            if (i < MAX_REPORTED_PAIRS) {
                s.append("    ").append(p.report()).append(nl);
            } else {
                rest.merge(p.origin + ": " + p.verdict().replaceAll("[0-9]+", "n"), 1, Integer::sum);
            }
        }
        if (!rest.isEmpty()) {
            s.append("    and ").append(listed.size() - MAX_REPORTED_PAIRS).append(" more:").append(nl);
            rest.forEach((verdict, count) -> s.append("      ").append(count).append(" x ").append(verdict).append(nl));
        }
        s.append(birthday);
        String notes = counters.notes();
        if (!notes.isEmpty()) {
            s.append(" ").append(notes).append(nl);
        }
        s.append("  checks sent ").append(counters.checksSent).append(", peer checks received ")
                .append(counters.requestsReceived).append(", responses received ").append(counters.responsesReceived);
        if (counters.badIntegrity > 0) {
            s.append(", ").append(counters.badIntegrity).append(" failed MESSAGE-INTEGRITY (credentials mismatch?)");
        }
        return s.toString();
    }

    private static String mappedAs(InetSocketAddress reflexive) {
        return reflexive == null ? ", no server-reflexive address" : ", mapped as " + reflexive;
    }

    /** Why these two NATs defeat hole punching, in RFC 4787 terms. */
    private static String explain(Introduction introduction, SessionCounters counters, boolean somePairValid,
            boolean primes) {
        NatProfile local = introduction.localNat();
        NatProfile peer = introduction.peerNat();
        if (somePairValid) {
            return "some pairs worked but nomination did not complete before the deadline (USE-CANDIDATE checks lost?)";
        }
        if (local.endpointDependentMapping() && peer.endpointDependentMapping()) {
            return "both NATs map each destination to a new port (endpoint-dependent mapping): neither side can "
                    + "tell the other where to send, and prediction needs sequential ports on both";
        }
        if (local.endpointDependentMapping() || peer.endpointDependentMapping()) {
            return "one NAT maps each destination to a new port and the other filters by address and port; "
                    + "port prediction and birthday probing did not find the new port in time";
        }
        if (counters.requestsReceived == 0 && counters.responsesReceived == 0) {
            return "no check crossed in either direction: a firewall may block UDP, or the peer is not running"
                    + (primes ? "" : "; between Linux NATs an unprimed simultaneous punch hits the "
                            + "conntrack clash (give the session a SocketTtl to prime)");
        }
        return "checks crossed only in one direction";
    }
}
