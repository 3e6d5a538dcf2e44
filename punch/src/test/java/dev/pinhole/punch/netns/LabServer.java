package dev.pinhole.punch.netns;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lab's public server, a test main (nothing from Pinhole): a reflector that reports the source
 * address it sees, plus a two-party rendezvous for punch tests. Text requests, one per datagram:
 *
 * <pre>
 * WHO t                -> SEEN t ip:port          (the source address as this server sees it)
 * ECHO t               -> ECHO t
 * PING t [~padding]    -> (no reply; counted per t)
 * COUNT t              -> COUNT t n               (PINGs with token t so far)
 * UNSOLICITED t        -> FROM-OTHER t from another port of this server, then FROM-SAME t
 * BLAST t n size       -> n datagrams "BLAST t i" of size bytes
 * REG s a|b            -> WAIT s, or PEER s ip:port pushed to both parties once both registered
 * READY s a|b          -> WAIT s, or GO s pushed to both parties once both are ready
 * </pre>
 *
 * Arguments: the ports to listen on (all answer every request). State is capped so that a
 * misbehaving client cannot grow it without bound.
 */
public final class LabServer {
    private static final int MAX_TRACKED_TOKENS = 10_000;
    private static final int MAX_BLAST_DATAGRAMS = 10_000;
    private static final int MAX_BLAST_BYTES = 1_400;

    /** A rendezvous session: the two parties' observed addresses, sockets and readiness. */
    private static final class Session {
        final InetSocketAddress[] address = new InetSocketAddress[2];
        final DatagramChannel[] via = new DatagramChannel[2];
        final boolean[] ready = new boolean[2];
    }

    private final Map<String, Integer> pings = new HashMap<>();
    private final Map<String, Session> sessions = new HashMap<>();
    private final DatagramChannel other;
    private final ByteBuffer buffer = ByteBuffer.allocate(Udp.MAX_DATAGRAM_BYTES);

    private LabServer(DatagramChannel other) {
        this.other = other;
    }

    public static void main(String[] args) throws IOException {
        Udp.exitWhenParentDies();
        if (args.length == 0) {
            System.err.println("usage: LabServer port...");
            System.exit(2);
        }
        Selector selector = Selector.open();
        List<Integer> ports = new ArrayList<>();
        for (String arg : args) {
            DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
            channel.bind(new InetSocketAddress(Integer.parseInt(arg)));
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            ports.add(Integer.parseInt(arg));
        }
        DatagramChannel other = DatagramChannel.open(StandardProtocolFamily.INET);
        other.bind(new InetSocketAddress(0));
        System.out.println("LISTENING " + ports + " other port "
                + ((InetSocketAddress) other.getLocalAddress()).getPort());
        new LabServer(other).serve(selector);
    }

    private void serve(Selector selector) throws IOException {
        while (true) {
            selector.select();
            for (SelectionKey key : selector.selectedKeys()) {
                DatagramChannel channel = (DatagramChannel) key.channel();
                InetSocketAddress from;
                while ((from = receive(channel)) != null) {
                    String request = StandardCharsets.US_ASCII.decode(buffer).toString();
                    int padding = request.indexOf('~');
                    try {
                        handle(channel, padding < 0 ? request : request.substring(0, padding), from);
                    } catch (RuntimeException e) {
                        // Bad input is normal input: report and go on serving.
                        System.out.println("BAD-REQUEST from " + Udp.format(from) + ": " + e);
                    }
                }
            }
            selector.selectedKeys().clear();
        }
    }

    private InetSocketAddress receive(DatagramChannel channel) throws IOException {
        buffer.clear();
        InetSocketAddress from = (InetSocketAddress) channel.receive(buffer);
        buffer.flip();
        return from;
    }

    private void handle(DatagramChannel channel, String request, InetSocketAddress from) throws IOException {
        String[] f = request.split(" ");
        switch (f[0]) {
            case "WHO" -> {
                reply(channel, "SEEN " + f[1] + " " + Udp.format(from), from);
                System.out.println("WHO from " + Udp.format(from));
            }
            case "ECHO" -> reply(channel, request, from);
            case "PING" -> {
                if (pings.size() >= MAX_TRACKED_TOKENS && !pings.containsKey(f[1])) {
                    pings.clear();
                }
                pings.merge(f[1], 1, Integer::sum);
            }
            case "COUNT" -> reply(channel, "COUNT " + f[1] + " " + pings.getOrDefault(f[1], 0), from);
            case "UNSOLICITED" -> {
                reply(other, "FROM-OTHER " + f[1], from);
                reply(channel, "FROM-SAME " + f[1], from);
                System.out.println("UNSOLICITED to " + Udp.format(from));
            }
            case "BLAST" -> blast(channel, f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), from);
            case "REG" -> register(channel, f[1], role(f[2]), from);
            case "READY" -> ready(channel, f[1], role(f[2]), from);
            default -> System.out.println("UNKNOWN from " + Udp.format(from) + ": " + f[0]);
        }
    }

    private void blast(DatagramChannel channel, String token, int count, int size, InetSocketAddress to)
            throws IOException {
        if (count < 0 || count > MAX_BLAST_DATAGRAMS || size < 0 || size > MAX_BLAST_BYTES) {
            throw new IllegalArgumentException("blast of " + count + " x " + size + " B is out of bounds");
        }
        int unsent = 0;
        for (int i = 0; i < count; i++) {
            if (!reply(channel, pad("BLAST " + token + " " + i, size), to)) {
                unsent++;
            }
        }
        System.out.println("BLAST " + count + " x " + size + " B to " + Udp.format(to) + ", unsent " + unsent);
    }

    private void register(DatagramChannel channel, String name, int role, InetSocketAddress from)
            throws IOException {
        Session s = session(name);
        s.address[role] = from;
        s.via[role] = channel;
        if (s.address[1 - role] == null) {
            reply(channel, "WAIT " + name, from);
            return;
        }
        for (int r = 0; r < 2; r++) {
            reply(s.via[r], "PEER " + name + " " + Udp.format(s.address[1 - r]), s.address[r]);
        }
        System.out.println("REG " + name + " a=" + Udp.format(s.address[0]) + " b=" + Udp.format(s.address[1]));
    }

    private void ready(DatagramChannel channel, String name, int role, InetSocketAddress from) throws IOException {
        Session s = session(name);
        s.ready[role] = true;
        if (!s.ready[1 - role] || s.address[0] == null || s.address[1] == null) {
            reply(channel, "WAIT " + name, from);
            return;
        }
        for (int r = 0; r < 2; r++) {
            reply(s.via[r], "GO " + name, s.address[r]);
        }
        System.out.println("GO " + name);
    }

    private Session session(String name) {
        if (sessions.size() >= MAX_TRACKED_TOKENS && !sessions.containsKey(name)) {
            sessions.clear();
        }
        return sessions.computeIfAbsent(name, n -> new Session());
    }

    private static int role(String role) {
        return switch (role) {
            case "a" -> 0;
            case "b" -> 1;
            default -> throw new IllegalArgumentException("role must be a or b, got " + role);
        };
    }

    private static String pad(String text, int size) {
        return text.length() >= size ? text : text + "~".repeat(size - text.length());
    }

    private static boolean reply(DatagramChannel channel, String text, InetSocketAddress to) throws IOException {
        return channel.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), to) > 0;
    }
}
