package dev.pinhole.punch.traversal;

import java.io.IOException;
import java.util.random.RandomGenerator;

/**
 * Low-TTL sends against the Linux conntrack trap (docs/nat-traversal.md, "Priming against the Linux
 * conntrack trap"): a datagram that reaches a Linux NAT from outside before this side's own flow has left
 * is refused and leaves an unreplied conntrack entry, and the flow this side then opens toward its sender
 * is moved to another, random port that no check aims at. A datagram sent with a TTL that passes our own NAT
 * but dies before the peer's opens our mapping without leaving such an entry over there.
 *
 * <p>Two uses: before the first check, one Binding indication from the main socket to every remote address
 * (needs the session's {@link SocketTtl}); and the hard side's birthday checks until a probe has reached
 * their socket (needs the probe socket's {@link ProbeSockets#ttl}). A failing TTL hook only skips priming,
 * with a note for the failure report.
 */
final class Priming {
    private final SocketTtl mainTtl;
    private final ProbeSockets probeSockets;
    private final TraversalConfig config;
    private final SessionCounters counters;

    Priming(SocketTtl mainTtl, ProbeSockets probeSockets, TraversalConfig config, SessionCounters counters) {
        this.mainTtl = mainTtl;
        this.probeSockets = probeSockets;
        this.config = config;
        this.counters = counters;
    }

    /** The main socket can be primed; without it the failure report mentions the clash. */
    boolean primesMainSocket() {
        return mainTtl != SocketTtl.NONE;
    }

    /**
     * Sends the priming indications from the main socket, in check order, then holds the first check for
     * {@link TraversalConfig#primingWaitNs} so that the peer can prime too.
     */
    void primeMainSocket(CheckList checks, IceMessages messages, RandomGenerator random) {
        if (mainTtl == SocketTtl.NONE) {
            return;
        }
        LocalSocket main = checks.main();
        try {
            mainTtl.setTtl(config.primingTtl());
            try {
                for (CandidatePair p : checks.ordered()) {
                    main.endpoint.send(messages.indication(random.nextLong(), random.nextInt()), p.remote);
                    counters.primingSent++;
                }
            } finally {
                mainTtl.restore();
            }
            checks.holdSlotUntil(main.endpoint.clock().nanoTime() + config.primingWaitNs());
        } catch (IOException e) {
            // Priming is an optimisation against one NAT implementation's behaviour; without it the checks
            // still run, and the failure report names the pairs.
            counters.note("priming failed (" + e.getMessage() + ")");
        }
    }

    /** Runs {@code send}, which sends the pair's check, with the priming TTL if the pair needs it. */
    void sendCheck(CandidatePair pair, Runnable send) {
        SocketTtl ttl = pair.birthday && !pair.heard ? probeSockets.ttl(pair.socket.endpoint) : SocketTtl.NONE;
        boolean primed = false;
        if (ttl != SocketTtl.NONE) {
            // An unheard hard-side check cannot pass the easy side's address-and-port filter anyway (that takes a
            // probe from there first); reaching it would only leave an unreplied conntrack entry there, which
            // makes the matching probe leave from another port and miss our mapping. So it only has to open
            // and refresh our own mapping: it dies at the first router.
            try {
                ttl.setTtl(config.primingTtl());
                primed = true;
            } catch (IOException e) {
                counters.note("birthday priming failed (" + e.getMessage() + ")");
            }
        }
        try {
            send.run();
        } finally {
            if (primed) {
                try {
                    ttl.restore();
                } catch (IOException e) {
                    counters.note("birthday TTL restore failed (" + e.getMessage() + ")");
                }
            }
        }
    }
}
