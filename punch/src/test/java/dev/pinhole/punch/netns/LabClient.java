package dev.pinhole.punch.netns;

import dev.pinhole.core.net.UnicastTtl;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lab's probing client, a test main (nothing from Pinhole): one socket, one {@link LabServer}
 * conversation, results printed as lines the tests parse. Every wait is a bounded request/retry.
 *
 * <pre>
 * who LOCALPORT SERVER...        SEEN server mapped (per server), LOCAL port
 * unsolicited SERVER             FROM-OTHER true|false, FROM-SAME true|false
 * ttl SERVER TTL N               TTL-SET t, TTL-RESET t, ARRIVED k (of N PINGs sent with TTL)
 * count SERVER N SIZE [TRIES]    ARRIVED k (of N PINGs of SIZE bytes; COUNT is tried TRIES times)
 * blast SERVER N SIZE            RECEIVED k (of N datagrams the server blasted at us)
 * knock LOCALPORT TARGET         LOCAL port, REFUSED true|false (TARGET answered with ICMP port unreachable)
 * </pre>
 *
 * Exit code 0 when the conversation completed, 1 when the server never answered.
 */
public final class LabClient {
    /** Requests are retried this many times, {@link #REQUEST_TIMEOUT_MS} apart: 20 s at most. */
    private static final int REQUEST_ATTEMPTS = 100;
    private static final long REQUEST_TIMEOUT_MS = 200;

    private LabClient() {}

    public static void main(String[] args) throws IOException {
        Udp.exitWhenParentDies();
        String mode = args[0];
        boolean completed = switch (mode) {
            case "who" -> who(Integer.parseInt(args[1]), Arrays.copyOfRange(args, 2, args.length));
            case "unsolicited" -> unsolicited(Udp.parse(args[1]));
            case "ttl" -> ttl(Udp.parse(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "count" -> count(Udp.parse(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    args.length > 4 ? Integer.parseInt(args[4]) : REQUEST_ATTEMPTS);
            case "blast" -> blast(Udp.parse(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "knock" -> knock(Integer.parseInt(args[1]), Udp.parse(args[2]));
            default -> throw new IllegalArgumentException("unknown mode " + mode);
        };
        System.exit(completed ? 0 : 1);
    }

    private static boolean who(int localPort, String[] servers) throws IOException {
        try (Udp udp = Udp.bind(localPort)) {
            System.out.println("LOCAL " + udp.localPort());
            boolean all = true;
            for (int i = 0; i < servers.length; i++) {
                InetSocketAddress server = Udp.parse(servers[i]);
                Udp.Received r = udp.request("WHO " + i, server, "SEEN " + i + " ", REQUEST_ATTEMPTS,
                        REQUEST_TIMEOUT_MS, LabClient::ignore);
                if (r == null) {
                    System.out.println("NO-REPLY " + servers[i]);
                    all = false;
                } else {
                    System.out.println("SEEN " + servers[i] + " " + r.text().split(" ")[2]);
                }
            }
            return all;
        }
    }

    /**
     * Asks the server for FROM-OTHER (sent from a port we never wrote to) followed by FROM-SAME (from
     * the port we wrote to). After FROM-SAME, one more round trip on the same path makes sure a
     * FROM-OTHER that was let through has been delivered before we report.
     */
    private static boolean unsolicited(InetSocketAddress server) throws IOException {
        try (Udp udp = Udp.bind(0)) {
            List<Udp.Received> others = new ArrayList<>();
            Udp.Received same = udp.request("UNSOLICITED u", server, "FROM-SAME u", REQUEST_ATTEMPTS,
                    REQUEST_TIMEOUT_MS, others::add);
            Udp.Received sync = same == null ? null
                    : udp.request("ECHO sync", server, "ECHO sync", REQUEST_ATTEMPTS, REQUEST_TIMEOUT_MS, others::add);
            boolean fromOther = others.stream().anyMatch(r -> r.text().startsWith("FROM-OTHER u"));
            System.out.println("FROM-OTHER " + fromOther);
            System.out.println("FROM-SAME " + (same != null));
            for (Udp.Received r : others) {
                System.out.println("OTHER-DATAGRAM " + Udp.format(r.from()) + " " + r.text());
            }
            return sync != null;
        }
    }

    private static boolean ttl(InetSocketAddress server, int ttl, int count) throws IOException {
        try (Udp udp = Udp.bind(0)) {
            if (udp.request("ECHO ready", server, "ECHO ready", REQUEST_ATTEMPTS, REQUEST_TIMEOUT_MS,
                    LabClient::ignore) == null) {
                System.out.println("NO-REPLY " + Udp.format(server));
                return false;
            }
            UnicastTtl.set(udp.channel(), ttl);
            System.out.println("TTL-SET " + UnicastTtl.get(udp.channel()));
            String token = "ttl-" + udp.localPort();
            for (int i = 0; i < count; i++) {
                udp.send("PING " + token + " " + i, server);
            }
            UnicastTtl.reset(udp.channel());
            System.out.println("TTL-RESET " + UnicastTtl.get(udp.channel()));
            return printCount(udp, server, token, REQUEST_ATTEMPTS);
        }
    }

    private static boolean count(InetSocketAddress server, int count, int size, int attempts) throws IOException {
        try (Udp udp = Udp.bind(0)) {
            // The port makes the token unique among the clients of one server.
            String token = "count-" + udp.localPort();
            int unsent = 0;
            for (int i = 0; i < count; i++) {
                if (!udp.send("PING " + token + " " + i, size, server)) {
                    unsent++;
                }
            }
            System.out.println("UNSENT " + unsent);
            return printCount(udp, server, token, attempts);
        }
    }

    private static boolean printCount(Udp udp, InetSocketAddress server, String token, int attempts)
            throws IOException {
        Udp.Received r = udp.request("COUNT " + token, server, "COUNT " + token + " ", attempts,
                REQUEST_TIMEOUT_MS, LabClient::ignore);
        if (r == null) {
            System.out.println("NO-REPLY " + Udp.format(server));
            return false;
        }
        System.out.println("ARRIVED " + r.text().split(" ")[2]);
        return true;
    }

    /** The datagrams of the blast that arrive before the reply to a later request on the same path. */
    private static boolean blast(InetSocketAddress server, int count, int size) throws IOException {
        try (Udp udp = Udp.bind(0)) {
            if (udp.request("ECHO ready", server, "ECHO ready", REQUEST_ATTEMPTS, REQUEST_TIMEOUT_MS,
                    LabClient::ignore) == null) {
                System.out.println("NO-REPLY " + Udp.format(server));
                return false;
            }
            int[] received = new int[1];
            // Sent once: a resent BLAST would double the datagrams in flight.
            udp.send("BLAST b " + count + " " + size, server);
            Udp.Received sync = udp.request("ECHO sync", server, "ECHO sync", REQUEST_ATTEMPTS, REQUEST_TIMEOUT_MS,
                    r -> {
                        if (r.text().startsWith("BLAST b ")) {
                            received[0]++;
                        }
                    });
            System.out.println("RECEIVED " + received[0]);
            return sync != null;
        }
    }

    /**
     * Sends to an address where nobody listens until its ICMP port unreachable comes back (a
     * connected socket reports it). The error proves the datagram crossed every NAT on the way and
     * that each recorded it in conntrack: the host that answers confirms an entry before it looks
     * for a socket.
     */
    private static boolean knock(int localPort, InetSocketAddress target) throws IOException {
        try (Udp udp = Udp.bind(localPort)) {
            System.out.println("LOCAL " + udp.localPort());
            udp.channel().connect(target);
            boolean refused = false;
            for (int attempt = 0; attempt < REQUEST_ATTEMPTS && !refused; attempt++) {
                try {
                    udp.send("KNOCK", target);
                    Udp.Received r = udp.receive(REQUEST_TIMEOUT_MS);
                    if (r != null) {
                        System.out.println("UNEXPECTED " + Udp.format(r.from()) + " " + r.text());
                    }
                } catch (PortUnreachableException e) {
                    refused = true;
                }
            }
            System.out.println("REFUSED " + refused);
            return refused;
        }
    }

    private static void ignore(Udp.Received r) {
        // Late replies to earlier attempts of a request.
    }
}
