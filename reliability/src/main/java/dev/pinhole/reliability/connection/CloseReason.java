package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.ConnectionClosedException;
import dev.pinhole.reliability.ConnectionException;
import dev.pinhole.reliability.ConnectionResetException;
import dev.pinhole.reliability.ConnectionTimeoutException;
import dev.pinhole.reliability.HandshakeFailedException;
import dev.pinhole.reliability.IdleTimeoutException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;

/** Why a connection ended; every case but a graceful close becomes a {@link ConnectionException}. */
public sealed interface CloseReason {

    /** The exception application calls see, or null if the connection ended gracefully. */
    ConnectionException toException(InetSocketAddress peer);

    /** True for a graceful end: both directions finished, or the peer closed without error. */
    default boolean graceful() {
        return false;
    }

    /** Both streams finished and acknowledged, or the peer closed without error (CONNECTION_CLOSE code 0). */
    record Graceful() implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return null;
        }

        @Override
        public boolean graceful() {
            return true;
        }
    }

    /** The local application closed before the connection could finish gracefully. */
    record ClosedLocally(String detail) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionClosedException("connection to " + peer + " was closed locally" + detail, peer);
        }
    }

    /** The peer closed without error while this side still had unacknowledged data. */
    record ClosedByPeerEarly() implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionClosedException(peer + " closed the connection before acknowledging all data"
                    + " written to it", peer);
        }
    }

    /** This side aborted with an application code (RESET). */
    record LocalAbort(long code) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionResetException(peer, code, false, null);
        }
    }

    /** The peer aborted (RESET) or closed with a transport error code. */
    record PeerReset(long code, String reason) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionResetException(peer, code, true, reason);
        }
    }

    /** This side detected a protocol violation by the peer and closed with a transport error. */
    record ProtocolError(long code, String reason) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionResetException(peer, code, false, reason);
        }
    }

    /** Nothing arrived for the idle timeout (RFC 9000 §10.1). */
    record IdleTimeout(Duration idleTimeout) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new IdleTimeoutException(peer, idleTimeout);
        }
    }

    /** Outstanding packets went unacknowledged for the connection timeout despite probes. */
    record AckTimeout(Duration withoutAcknowledgement, int retransmissions) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new ConnectionTimeoutException(peer, withoutAcknowledgement, retransmissions);
        }
    }

    /** The client's handshake got no usable answer within the handshake timeout. */
    record HandshakeTimeout(Duration timeout, int attempts, boolean replied) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            String what = replied
                    ? String.format(Locale.ROOT, "%s answered the handshake but did not accept its confirmation within"
                    + " %.1f s; the server may be overloaded, or the client's address changed during the handshake",
                    peer, timeout.toNanos() / 1e9)
                    : String.format(Locale.ROOT, "no handshake reply from %s within %.1f s after %d attempts; is a"
                    + " Pinhole endpoint listening there, and does the path let UDP through?", peer,
                    timeout.toNanos() / 1e9, attempts);
            return new HandshakeFailedException(what, peer);
        }
    }

    /** The server refused the connection (its accept backlog was full, or it is shutting down). */
    record Refused(String reason) implements CloseReason {
        @Override
        public ConnectionException toException(InetSocketAddress peer) {
            return new HandshakeFailedException(peer + " refused the connection" + (reason.isEmpty() ? "" : ": " + reason),
                    peer);
        }
    }
}
