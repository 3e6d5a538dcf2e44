package dev.pinhole.cli;

import dev.pinhole.cli.transfer.TransferException;
import dev.pinhole.punch.KnownPeersFileException;
import dev.pinhole.punch.PeerKeyChangedException;
import dev.pinhole.punch.PeerNotFoundException;
import dev.pinhole.punch.RendezvousAuthenticationException;
import dev.pinhole.punch.RendezvousException;
import dev.pinhole.punch.RendezvousUnreachableException;
import dev.pinhole.punch.TraversalFailedException;
import dev.pinhole.reliability.ConnectionException;
import dev.pinhole.reliability.ConnectionResetException;
import java.io.IOException;
import java.net.BindException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns what the library throws into one line and an exit code. */
final class Failures {
    private Failures() {
    }

    /**
     * {@code InetSocketAddress.toString()} inside a message ({@code /192.0.2.1:3478}, {@code localhost/127.0.0.1:9},
     * {@code /[::1]:3478}): an optional host name, a slash, then an IPv4 address or a bracketed IPv6 one and a port.
     * Not preceded by a word character, dot, dash or slash, so a file path is left alone.
     */
    private static final java.util.regex.Pattern JAVA_ADDRESS = java.util.regex.Pattern.compile(
            "(?<![\\w./-])[\\w.-]*/((?:\\d{1,3}\\.){3}\\d{1,3}|\\[[0-9A-Fa-f:.%\\w]+\\]):(\\d{1,5})\\b");

    /** The library's multi-line explanations (traversal reports) joined into the one line the CLI prints. */
    static String oneLine(String message) {
        return plainAddresses(message.strip().replaceAll("\\s*\\R\\s*", "; ").replace(".;", ";"));
    }

    /** Addresses as the CLI prints them (IP:PORT, as {@link Addresses#format}), not as Java's toString() does. */
    static String plainAddresses(String message) {
        return JAVA_ADDRESS.matcher(message).replaceAll("$1:$2");
    }

    static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof ExecutionException || e instanceof CompletionException
                || e.getClass() == RuntimeException.class) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** The peer's abort with a trust code ({@link Trust#REFUSED_CODE}, the library's key code) among the causes. */
    private static ConnectionResetException refusal(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof ConnectionResetException reset && reset.byPeer()
                    && (reset.code() == Trust.REFUSED_CODE || reset.code() == PeerKeyChangedException.ABORT_CODE)) {
                return reset;
            }
        }
        return null;
    }

    /**
     * A traversal that failed because the peer is gone, not because of the NATs: its name was registered (there
     * was an introduction, or there would be no traversal), we sent checks, none was answered, none of the peer's
     * arrived on any pair, and the relay waited for a peer that never came. Without the relay's word (relay off,
     * or it failed itself) two NATs that drop everything look the same, so that stays a traversal failure.
     */
    static boolean silentPeer(TraversalFailedException traversal) {
        if (traversal.pairs().isEmpty()) {
            return false;
        }
        int sent = 0;
        for (dev.pinhole.punch.PairReport pair : traversal.pairs()) {
            if (pair.responses() > 0 || pair.requestsReceived() > 0 || pair.nonSymmetric() > 0) {
                return false;
            }
            sent += pair.checksSent();
        }
        String message = String.valueOf(traversal.getMessage());
        return sent > 0 && (message.contains("Relay: waiting for the peer's relayed address")
                || message.contains("Relay: waiting for the peer's connection through it"));
    }

    /** A failed {@code connect} to {@code peer}: as {@link #toCli}, but a silent peer is named as such. */
    static CliException connecting(String peer, Throwable thrown) {
        if (unwrap(thrown) instanceof TraversalFailedException traversal && silentPeer(traversal)) {
            int sent = traversal.pairs().stream().mapToInt(dev.pinhole.punch.PairReport::checksSent).sum();
            return new CliException(ExitCodes.TRAVERSAL_FAILED, peer + " did not answer: it is registered at the"
                    + " rendezvous server, but none of our " + sent + " checks was answered, no check from it arrived,"
                    + " and it never came to the relay (it may have stopped without deregistering: a killed process"
                    + " holds its name for up to 45 s)", traversal);
        }
        return toCli("connecting to '" + peer + "'", thrown);
    }

    /** The peer's abort with {@link Trust#CANCELLED_CODE} among the causes, or null. */
    static ConnectionResetException cancellation(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof ConnectionResetException reset && reset.byPeer() && reset.code() == Trust.CANCELLED_CODE) {
                return reset;
            }
        }
        return null;
    }

    /** {@code peer cancelled} ({@link ExitCodes#PEER_CANCELLED}) if the peer's user stopped it, else {@link #toCli}. */
    static CliException toCli(String doing, String peer, Throwable thrown) {
        ConnectionResetException cancelled = cancellation(thrown);
        if (cancelled != null) {
            return new CliException(ExitCodes.PEER_CANCELLED, peer + " cancelled the transfer (Ctrl-C or SIGTERM on its"
                    + " side)", cancelled);
        }
        return toCli(doing, thrown);
    }

    static CliException toCli(String doing, Throwable thrown) {
        Throwable t = unwrap(thrown);
        if (t instanceof CliException cli) {
            return cli;
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (t instanceof PeerNotFoundException notFound) {
            // The server names no one else (docs/security.md), so neither do we.
            return new CliException(ExitCodes.PEER_NOT_FOUND, "peer '" + notFound.peerName()
                    + "' is not registered at the rendezvous server (check the name, or whether it is running)", t);
        }
        if (t instanceof RendezvousUnreachableException) {
            return new CliException(ExitCodes.RENDEZVOUS_UNREACHABLE, message, t);
        }
        if (t instanceof RendezvousAuthenticationException) {
            return new CliException(ExitCodes.RENDEZVOUS_UNREACHABLE, message
                    + " (do both sides and the server use the same --secret-file?)", t);
        }
        if (t instanceof RendezvousException) {
            return new CliException(ExitCodes.RENDEZVOUS_UNREACHABLE, "rendezvous failed while " + doing + ": "
                    + message, t);
        }
        if (t instanceof TraversalFailedException traversal) {
            return new CliException(ExitCodes.TRAVERSAL_FAILED, "NAT traversal failed: " + message
                    + (message.contains("pairs tried") ? "" : " (" + traversal.pairs().size() + " candidate pairs tried)"), t);
        }
        if (t instanceof KnownPeersFileException) {
            return new CliException(ExitCodes.LOCAL_FILE, message, t);
        }
        if (t instanceof PeerKeyChangedException) {
            return new CliException(ExitCodes.PEER_NOT_TRUSTED, message, t);
        }
        if (cancellation(t) != null) {
            return new CliException(ExitCodes.PEER_CANCELLED, "the peer cancelled the transfer (Ctrl-C or SIGTERM on"
                    + " its side) while " + doing, t);
        }
        ConnectionResetException refused = refusal(t);
        if (refused != null) {
            return new CliException(ExitCodes.PEER_NOT_TRUSTED, refused.code() == PeerKeyChangedException.ABORT_CODE
                    ? "the peer refused this node's key while " + doing + ": it has another key recorded for this"
                        + " node's name (it may pass --accept-new-key, or remove the name from its known_peers)"
                    : "the receiver refused this sender while " + doing + ": it accepts unknown senders only with"
                        + " --yes, --from NAME or --from ID, or when its user answers yes", t);
        }
        if (t instanceof TransferException transfer) {
            int code = switch (transfer.kind()) {
                case INTERRUPTED -> ExitCodes.INTERRUPTED;
                case LOCAL_IO -> ExitCodes.LOCAL_FILE;
                case PROTOCOL, REFUSED, HASH_MISMATCH -> ExitCodes.TRANSFER_FAILED;
                case NOT_TRUSTED -> ExitCodes.PEER_NOT_TRUSTED;
            };
            return new CliException(code, message, t);
        }
        if (t instanceof ConnectionException || t instanceof SocketTimeoutException) {
            return new CliException(ExitCodes.INTERRUPTED, "connection lost while " + doing + ": " + message, t);
        }
        if (t instanceof BindException) {
            return new CliException(ExitCodes.PORT_IN_USE, "cannot bind: " + message, t);
        }
        if (t instanceof IOException) {
            return new CliException(ExitCodes.INTERRUPTED, doing + " failed: " + message, t);
        }
        if (t instanceof InterruptedException) {
            return new CliException(ExitCodes.SIGINT, "interrupted while " + doing, t);
        }
        return new CliException(ExitCodes.INTERNAL, "internal error while " + doing + ": " + t, t);
    }
}
