package dev.pinhole.punch.traversal;

import dev.pinhole.core.net.DatagramEndpoint;
import java.io.IOException;

/**
 * Opens the extra sockets the endpoint-dependent side of birthday probing needs (each one a new NAT
 * mapping toward the peer). This is the one deliberate exception to "one UDP socket per node"
 * (docs/architecture.md): the sockets live only while traversal runs, and all but the one that carries
 * the selected path are closed when it ends.
 *
 * <p>Sockets must share the main endpoint's event loop, clock and timers. The simulator binds more
 * endpoints on the same host; the real driver opens more channels on its loop.
 */
public interface ProbeSockets {
    /** No extra sockets: this side cannot be the hard side of birthday probing. */
    ProbeSockets NONE = new ProbeSockets() {
        @Override
        public DatagramEndpoint open() throws IOException {
            throw new IOException("this node opens no extra sockets for birthday probing");
        }

        @Override
        public void close(DatagramEndpoint endpoint) {
            throw new IllegalArgumentException("ProbeSockets.NONE opened no socket");
        }

        @Override
        public String toString() {
            return "ProbeSockets.NONE";
        }
    };

    /** Opens one more socket on an ephemeral port. */
    DatagramEndpoint open() throws IOException;

    /** Closes a socket {@link #open} returned. */
    void close(DatagramEndpoint endpoint);

    /**
     * The TTL hook of a socket {@link #open} returned, for priming its mapping (see {@link SocketTtl});
     * {@link SocketTtl#NONE} where the driver cannot set it.
     */
    default SocketTtl ttl(DatagramEndpoint endpoint) {
        return SocketTtl.NONE;
    }
}
