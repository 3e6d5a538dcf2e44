package dev.pinhole.punch.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pinhole.punch.PunchSim;
import dev.pinhole.punch.PunchSim.Node;
import dev.pinhole.reliability.connection.Connection;
import dev.pinhole.reliability.connection.ConnectionHandler;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;

/** Helpers of the node tests on {@link PunchSim}'s nodes: payloads, connecting two nodes, pumps on both ends. */
final class NodeSim {
    private NodeSim() {
    }

    static final class Pump implements ConnectionHandler {
        private final byte[] source;
        private final byte[] chunk = new byte[16 * 1024];
        private final MessageDigest sha;
        private int written;
        private boolean finishSent;
        long received;
        boolean finished;
        private byte[] digest;

        Pump(byte[] source) {
            this.source = source;
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void start(ConnectedPeer link) {
            onEvents(link.connection(), Connection.EVENT_WRITABLE | Connection.EVENT_READABLE);
            link.wake();
        }

        @Override
        public void onEvents(Connection connection, int events) {
            if (connection.state() != Connection.State.ESTABLISHED && !finished) {
                if ((events & Connection.EVENT_CLOSED) == 0) {
                    return;
                }
            }
            while (written < source.length && connection.writableBytes() > 0) {
                written += connection.write(source, written, source.length - written);
            }
            if (written == source.length && !finishSent && connection.state() == Connection.State.ESTABLISHED) {
                connection.finish();
                finishSent = true;
            }
            while (!finished) {
                int n = connection.read(chunk, 0, chunk.length);
                if (n > 0) {
                    sha.update(chunk, 0, n);
                    received += n;
                } else {
                    if (n < 0) {
                        finished = true;
                        digest = sha.digest();
                    }
                    break;
                }
            }
        }

        byte[] digest() {
            return digest;
        }
    }

    static byte[] sha256(byte[] data) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    /** Both ends of the connection {@link #connect} opened. */
    record Linked(ConnectedPeer alice, ConnectedPeer bob) {
    }

    /**
     * {@code from} connects to {@code to}; fails the test, naming the seed and the failure, unless the connect
     * completes and {@code to} accepts within 60 s of virtual time.
     */
    static Linked connect(PunchSim world, Node from, Node to) {
        CompletableFuture<ConnectedPeer> connecting = from.core.connect(to.name);
        world.sim.runUntil(() -> connecting.isDone() && !to.incoming.isEmpty(), 60 * PunchSim.SECOND);
        assertTrue(connecting.isDone() && !connecting.isCompletedExceptionally() && !to.incoming.isEmpty(),
                "seed " + world.seed + ": " + from.name + " should connect to " + to.name + ", got "
                + PunchSim.failureOf(connecting) + " and " + to.incoming.size() + " accepted");
        return new Linked(connecting.join(), to.incoming.get(0));
    }

    /** Pumps on both ends of a connection, started: each sends its payload and reads the other's. */
    record Pumps(Pump alice, Pump bob) {
        boolean finished() {
            return alice.finished && bob.finished;
        }
    }

    static Pumps startPumps(Linked link, byte[] toBob, byte[] toAlice) {
        Pumps pumps = new Pumps(new Pump(toBob), new Pump(toAlice));
        link.alice().handler(pumps.alice());
        link.bob().handler(pumps.bob());
        pumps.alice().start(link.alice());
        pumps.bob().start(link.bob());
        return pumps;
    }
}
