package dev.pinhole.punch.netns;

import dev.pinhole.core.net.UnicastTtl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One side of a simultaneous UDP hole punch, a test main (nothing from Pinhole's punch code).
 * Arguments: {@code SERVER ROLE(a|b) SESSION-PREFIX MODES}, where MODES has one letter per trial:
 * {@code P} primes (a first packet with TTL {@value #PRIME_TTL}, see {@link UnicastTtl}),
 * {@code N} punches naively. Each trial uses a fresh socket:
 *
 * <ol>
 *   <li>REG with the {@link LabServer} until it returns the peer's address as the server saw it;
 *   <li>P only: send one datagram with TTL {@value #PRIME_TTL} to the peer (it opens our NAT's
 *       mapping and dies at the router);
 *   <li>READY until the server pushes GO, which it does once both sides are ready, so that no full
 *       packet is sent before both sides have primed;
 *   <li>send {@code PUNCH s role heard=0|1} to the peer every {@value #ROUND_MS} ms until we have heard
 *       the peer and the peer says it heard us: naive trials at most {@value #NAIVE_ROUNDS} times, primed
 *       ones for up to {@value #PRIMED_PUNCH_MS} ms.
 * </ol>
 *
 * Prints one line per trial: {@code TRIAL i mode=P|N result=CONNECTED|FAILED heard=.. acked=..}.
 * A trial is CONNECTED when this side received the peer's datagrams; the test requires both sides.
 */
public final class PunchPeer {
    /** Passes the NAT right in front of us (it decrements to 1) and dies at the router behind it. */
    static final int PRIME_TTL = 2;
    /** Naive trials are measured, not asserted, and mostly fail (the conntrack clash): 2 s each is enough. */
    private static final int NAIVE_ROUNDS = 50;
    /**
     * Primed trials are asserted to connect, so their window is wall-clock time and generous: on a loaded
     * machine the peer JVM may act on GO a second or more after us (descheduled, or in a GC pause with its
     * one GC thread), and a 2 s window then measured the scheduler, not the NATs. A trial that connects
     * ends as soon as both sides heard each other, so this costs nothing when it works.
     */
    private static final long PRIMED_PUNCH_MS = 15_000;
    private static final long ROUND_MS = 40;
    /** The peer JVM may start seconds after us: registration waits up to 300 x 200 ms. */
    private static final int RENDEZVOUS_ATTEMPTS = 300;
    private static final long RENDEZVOUS_TIMEOUT_MS = 200;

    private PunchPeer() {}

    public static void main(String[] args) throws IOException {
        Udp.exitWhenParentDies();
        InetSocketAddress server = Udp.parse(args[0]);
        String role = args[1];
        String other = role.equals("a") ? "b" : "a";
        String prefix = args[2];
        String modes = args[3];
        for (int i = 0; i < modes.length(); i++) {
            if (!trial(server, role, other, prefix + "-" + i, i, modes.charAt(i) == 'P')) {
                System.exit(1);
            }
        }
        System.exit(0);
    }

    /** Runs one trial; false if the rendezvous itself failed (the server never answered). */
    private static boolean trial(InetSocketAddress server, String role, String other, String session, int index,
                                 boolean prime) throws IOException {
        try (Udp udp = Udp.bind(0)) {
            Udp.Received peerReply = udp.request("REG " + session + " " + role, server, "PEER " + session + " ",
                    RENDEZVOUS_ATTEMPTS, RENDEZVOUS_TIMEOUT_MS, PunchPeer::ignore);
            if (peerReply == null) {
                System.out.println("TRIAL " + index + " rendezvous failed: no PEER from " + Udp.format(server));
                return false;
            }
            InetSocketAddress peer = Udp.parse(peerReply.text().split(" ")[2]);
            if (prime) {
                UnicastTtl.set(udp.channel(), PRIME_TTL);
                udp.send("PRIME " + session + " " + role, peer);
                UnicastTtl.reset(udp.channel());
            }
            if (udp.request("READY " + session + " " + role, server, "GO " + session, RENDEZVOUS_ATTEMPTS,
                    RENDEZVOUS_TIMEOUT_MS, PunchPeer::ignore) == null) {
                System.out.println("TRIAL " + index + " rendezvous failed: no GO from " + Udp.format(server));
                return false;
            }
            boolean heard = false;
            boolean acked = false;
            Set<String> strangers = new LinkedHashSet<>();
            String theirs = "PUNCH " + session + " " + other + " ";
            int round = 0;
            long punchUntil = System.nanoTime() + PRIMED_PUNCH_MS * 1_000_000;
            while ((prime ? System.nanoTime() < punchUntil : round < NAIVE_ROUNDS) && !(heard && acked)) {
                round++;
                udp.send("PUNCH " + session + " " + role + " heard=" + (heard ? 1 : 0), peer);
                long deadline = System.nanoTime() + ROUND_MS * 1_000_000;
                long remainingMs;
                while ((remainingMs = (deadline - System.nanoTime()) / 1_000_000) > 0) {
                    Udp.Received r = udp.receive(remainingMs);
                    if (r == null) {
                        break;
                    }
                    if (!r.text().startsWith(theirs)) {
                        continue;
                    }
                    if (r.from().equals(peer)) {
                        heard = true;
                        acked |= r.text().endsWith("heard=1");
                    } else {
                        // The peer's NAT gave this flow another port: the clash described in UnicastTtl.
                        strangers.add(Udp.format(r.from()));
                    }
                }
            }
            if (heard && acked) {
                // Tells the peer we heard it, in case it has not seen heard=1 from us yet.
                udp.send("PUNCH " + session + " " + role + " heard=1", peer);
            }
            System.out.println("TRIAL " + index + " mode=" + (prime ? "P" : "N")
                    + " result=" + (heard ? "CONNECTED" : "FAILED") + " heard=" + heard + " acked=" + acked
                    + " rounds=" + round + " local=" + udp.localPort() + " peer=" + Udp.format(peer)
                    + " strangers=" + strangers);
            return true;
        }
    }

    private static void ignore(Udp.Received r) {
        // Late rendezvous replies, and PUNCH datagrams of a peer that got GO before us.
    }
}
