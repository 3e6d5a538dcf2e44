package dev.pinhole.punch.traversal;

import dev.pinhole.punch.TraversalFailedException;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.protocol.ice.CandidateType;
import dev.pinhole.protocol.ice.Credentials;
import dev.pinhole.protocol.nat.NatProfile;

import dev.pinhole.core.net.UdpEventLoop;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One peer of a real-NAT traversal trial in the netns lab, a test main: a {@link TraversalSession} on the
 * real driver ({@link UdpEventLoop}), introduced through the lab's text rendezvous ({@code LabServer}:
 * {@code REG} until {@code PEER}, then {@code READY} until {@code GO}, from the session's own socket, so the
 * address the server reports is the peer's real mapping). On {@code PEER} each side starts its session with
 * {@link TraversalSession.Builder#holdChecks()}: with {@code P} it primes (TTL 2) at once; on {@code GO},
 * which the server sends once both are READY, it releases the checks. A connected pair then exchanges data
 * datagrams until each side has heard the other and knows the other heard it.
 *
 * <p>Arguments: {@code SERVER(ip:port) ROLE(a|b) SESSION P|N}. Prints one line:
 * {@code RESULT CONNECTED origin=.. remote=.. ms=..} or {@code RESULT FAILED <reason>}.
 */
public final class TraversalLabPeer {
    private static final long MS = 1_000_000L;
    private static final long RENDEZVOUS_RETRY_NS = 200 * MS;
    private static final long DATA_RETRY_NS = 100 * MS;
    private static final int DATA_ROUNDS = 50;
    private static final byte DATA = (byte) 0x80;
    private static final long OVERALL_LIMIT_S = 60;

    private final UdpEventLoop loop;
    private final InetSocketAddress server;
    private final String role;
    private final String session;
    private final boolean prime;
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private InetSocketAddress peer;
    private boolean go;
    private TraversalSession traversal;
    private TraversalPath path;
    private boolean heardPeer;
    private boolean peerHeardUs;
    private long exchangeStartNs;
    private long startedNs;
    private long peerAtNs;
    private long goAtNs;

    private TraversalLabPeer(UdpEventLoop loop, InetSocketAddress server, String role, String session,
            boolean prime) {
        this.loop = loop;
        this.server = server;
        this.role = role;
        this.session = session;
        this.prime = prime;
    }

    public static void main(String[] args) throws Exception {
        exitWhenParentDies();
        String[] hostPort = args[0].split(":");
        InetSocketAddress server = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        String result;
        try (UdpEventLoop loop = UdpEventLoop.builder().bind(new InetSocketAddress(0)).threadName("peer-" + args[1])
                .build().start()) {
            TraversalLabPeer peer = new TraversalLabPeer(loop, server, args[1], args[2], "P".equals(args[3]));
            loop.execute(peer::start);
            try {
                result = peer.result.get(OVERALL_LIMIT_S, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                result = "FAILED no outcome within " + OVERALL_LIMIT_S + " s";
            }
        }
        System.out.println("RESULT " + result);
        System.out.flush();
        System.exit(0);
    }

    private void start() {
        startedNs = loop.clock().nanoTime();
        loop.receiver(this::onDatagram);
        rendezvous(loop.clock().nanoTime(), 0);
    }

    /** REG until PEER, then READY until GO, every 200 ms. */
    private void rendezvous(long nowNs, long timerId) {
        if (go || result.isDone()) {
            return;
        }
        sendText((peer == null ? "REG " : "READY ") + session + " " + role, server);
        loop.timers().schedule(nowNs + RENDEZVOUS_RETRY_NS, this::rendezvous);
    }

    private void onDatagram(ByteBuf datagram, InetSocketAddress sender) {
        if (datagram.readableBytes() > 0 && datagram.getByte(datagram.readerIndex()) == DATA) {
            heardPeer = true;
            peerHeardUs |= datagram.readableBytes() > 1 && datagram.getByte(datagram.readerIndex() + 1) == 1;
            return;
        }
        if (traversal != null && traversal.onDatagram(datagram, sender)) {
            return;
        }
        if (!sender.equals(server)) {
            return;
        }
        String[] words = datagram.toString(StandardCharsets.US_ASCII).trim().split(" ");
        if (words.length >= 3 && words[0].equals("PEER") && words[1].equals(session) && peer == null) {
            peerAtNs = loop.clock().nanoTime();
            String[] hostPort = words[2].split(":");
            peer = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
            startTraversal(); // primes now; checks wait for GO, which comes once both sides are READY
        } else if (words.length >= 2 && words[0].equals("GO") && words[1].equals(session) && !go && peer != null) {
            go = true;
            goAtNs = loop.clock().nanoTime();
            traversal.releaseChecks();
        }
    }

    private void startTraversal() {
        String other = role.equals("a") ? "b" : "a";
        Credentials local = credentials(role);
        Credentials remote = credentials(other);
        List<Candidate> peerCandidates = List.of(Candidate.of(CandidateType.SERVER_REFLEXIVE, peer));
        List<Candidate> localCandidates;
        try {
            localCandidates = CandidateGatherer.hostCandidates(loop.localAddress(),
                    HostAddresses.system(HostAddresses.Filter.DEFAULT));
        } catch (IOException e) {
            result.complete("FAILED no host candidates: " + e.getMessage());
            return;
        }
        Introduction introduction = new Introduction(other, peerCandidates, local, remote,
                role.equals("a") ? IceRole.CONTROLLING : IceRole.CONTROLLED, NatProfile.UNKNOWN, NatProfile.UNKNOWN);
        traversal = TraversalSession.builder(loop, introduction, localCandidates)
                .socketTtl(prime ? SocketTtl.of(loop) : SocketTtl.NONE)
                .holdChecks()
                .listener(new TraversalListener() {
                    @Override
                    public void onConnected(TraversalPath connected) {
                        path = connected;
                        exchangeStartNs = loop.clock().nanoTime();
                        exchange(exchangeStartNs, 0);
                    }

                    @Override
                    public void onFailed(TraversalFailedException failure) {
                        result.complete("FAILED " + failure.getMessage().replace(System.lineSeparator(), " | ")
                                + " | " + traversal.stats() + " | peer at +" + (peerAtNs - startedNs) / MS
                                + " ms, go at +" + (goAtNs - startedNs) / MS + " ms");
                    }
                })
                .start();
    }

    /** Data both ways until each side heard the other and knows it was heard (at most DATA_ROUNDS rounds). */
    private void exchange(long nowNs, long timerId) {
        if (result.isDone()) {
            return;
        }
        ByteBuf out = loop.allocator().buffer(2);
        out.writeByte(DATA).writeByte(heardPeer ? 1 : 0);
        loop.send(out, path.remote());
        if (heardPeer && peerHeardUs) {
            // One more round so that the peer learns we heard it, then report.
            loop.timers().schedule(nowNs + 3 * DATA_RETRY_NS, (n, id) -> result.complete("CONNECTED origin="
                    + path.origin() + " remote=" + path.remote() + " ms=" + path.elapsedNs() / MS));
            ByteBuf last = loop.allocator().buffer(2);
            last.writeByte(DATA).writeByte(1);
            loop.send(last, path.remote());
            return;
        }
        if (nowNs - exchangeStartNs > DATA_ROUNDS * DATA_RETRY_NS) {
            result.complete("FAILED connected (" + path + ") but data did not cross both ways");
            return;
        }
        loop.timers().schedule(nowNs + DATA_RETRY_NS, this::exchange);
    }

    /** Test-only credentials both sides can derive from the role: the lab rendezvous carries no secrets. */
    private Credentials credentials(String who) {
        String clean = session.replaceAll("[^A-Za-z0-9]", "");
        return new Credentials("lab" + who + clean.substring(0, Math.min(8, clean.length())),
                "labPassword" + who + "0123456789abcdef");
    }

    private void sendText(String text, InetSocketAddress to) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuf out = loop.allocator().buffer(bytes.length);
        out.writeBytes(bytes);
        loop.send(out, to);
    }

    /** Ends this JVM when the lab closes our standard input (the test JVM stopped us or is gone). */
    private static void exitWhenParentDies() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    Thread.onSpinWait();
                }
            } catch (IOException e) {
                System.out.println("EXIT standard input broken: " + e.getMessage());
            }
            System.exit(3);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
