package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.TraversalFailedException;

import static dev.pinhole.punch.PunchSim.MS;
import static dev.pinhole.punch.PunchSim.SECOND;

import dev.pinhole.sim.LinkConfig;
import dev.pinhole.sim.Nat;
import dev.pinhole.sim.NatConfig;
import dev.pinhole.sim.Network;
import java.util.Objects;

/**
 * One traversal scenario in the simulator: where the two peers sit, how lossy their access links are, and
 * the seed. {@link #run()} builds the world, gathers, introduces (alice controls), runs to an outcome and
 * proves a connected path by exchanging data over it.
 *
 * @param topology where the peers sit
 * @param a        alice's NAT (null: a public address); for {@link Topology#SAME_LAN} and
 *                 {@link Topology#SAME_CARRIER} the shared NAT
 * @param b        bob's NAT (null: public); ignored for the shared topologies
 * @param lossRate independent loss on both peers' access links, both directions
 * @param seed     the simulator's seed
 * @param config   traversal settings
 */
record Scenario(Topology topology, NatConfig a, NatConfig b, double lossRate, long seed, TraversalConfig config) {
    /** One-way delay of each peer's access link: peer to peer RTT is 40 ms plus whatever the NATs add. */
    static final long ACCESS_DELAY_NS = 10 * MS;
    /** Virtual time a run may take after the introduction: the deadline plus room for the final exchange. */
    static final long RUN_LIMIT_NS = 30 * SECOND;
    /**
     * The home NATs of {@link Topology#SAME_CARRIER}: endpoint-independent mapping with port preservation,
     * address-and-port-dependent filtering, like Linux MASQUERADE but without its conntrack clash, which the
     * simulator can trigger but priming (real networks only: the simulator has no TTL) would prevent.
     */
    static final NatConfig HOME_NAT = NatConfig.PORT_RESTRICTED_CONE
            .withPortAllocation(NatConfig.PortAllocation.PRESERVING).withHairpinning(false);

    enum Topology {
        /** Each peer behind its own NAT (or on a public address), both NATs on the internet. */
        DIFFERENT_NATS,
        /** Both peers in one LAN behind one NAT: host candidates reach each other. */
        SAME_LAN,
        /**
         * Each peer behind its own home NAT ({@link #HOME_NAT}), both home NATs behind one carrier NAT:
         * host candidates are unreachable (and equal: both peers are 10.0.0.2), reflexive addresses share
         * the carrier's IP, so only hairpinning joins them.
         */
        SAME_CARRIER
    }

    Scenario {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(config, "config");
    }

    /** What happened. */
    record Outcome(boolean connected, boolean dataExchanged, long connectNs, PathOrigin originA, PathOrigin originB,
            TraversalFailedException failureA, TraversalFailedException failureB, TraversalStats statsA,
            TraversalStats statsB) {

        String describe() {
            if (connected) {
                return "direct in " + connectNs / MS + " ms via " + originA + "/" + originB
                        + (dataExchanged ? "" : " BUT DATA DID NOT CROSS");
            }
            TraversalFailedException f = failureA != null ? failureA : failureB;
            return "failed: " + (f == null ? "no outcome (a session hung)" : f.getMessage());
        }
    }

    Outcome run() {
        LinkConfig access = LinkConfig.builder().delay(ACCESS_DELAY_NS).loss(lossRate).build();
        try (PunchSim world = PunchSim.withStunServers(seed, access)) {
            PunchSim.TraversalPeer alice;
            PunchSim.TraversalPeer bob;
            switch (topology) {
                case DIFFERENT_NATS -> {
                    alice = world.peer("alice", realm(world, "203.0.113.1", a), a == null ? "192.0.2.1" : "10.0.0.2");
                    bob = world.peer("bob", realm(world, "203.0.113.2", b), b == null ? "192.0.2.2" : "10.0.1.2");
                }
                case SAME_LAN -> {
                    Network lan = realm(world, "203.0.113.1", a);
                    alice = world.peer("alice", lan, a == null ? "192.0.2.1" : "10.0.0.2");
                    bob = world.peer("bob", lan, a == null ? "192.0.2.2" : "10.0.0.3");
                }
                case SAME_CARRIER -> {
                    Nat carrier = world.nat("203.0.113.1", Objects.requireNonNull(a, "carrier NAT"));
                    NatConfig home = HOME_NAT;
                    Nat homeA = carrier.inside().addNat("100.64.0.1", home);
                    Nat homeB = carrier.inside().addNat("100.64.0.2", home);
                    alice = world.peer("alice", homeA.inside(), "10.0.0.2");
                    bob = world.peer("bob", homeB.inside(), "10.0.0.2");
                }
                default -> throw new IllegalStateException(topology.toString());
            }
            world.introduce(alice, bob, config);
            long startNs = world.sim.nowNs();
            boolean connected = world.runToOutcome(alice, bob, RUN_LIMIT_NS);
            long connectNs = connected ? Math.max(alice.connectedAtNs, bob.connectedAtNs) - startNs : -1;
            boolean data = connected && world.exchangeData(alice, bob);
            return new Outcome(connected, data, connectNs, alice.path == null ? null : alice.path.origin(),
                    bob.path == null ? null : bob.path.origin(), alice.failure, bob.failure,
                    alice.session.stats(), bob.session.stats());
        }
    }

    private static Network realm(PunchSim world, String natIp, NatConfig config) {
        return config == null ? world.internet : world.nat(natIp, config).inside();
    }
}
