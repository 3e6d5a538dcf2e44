package dev.pinhole.cli;

/** The exit codes of {@code pinhole}, listed in every command's --help footer. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The transfer ran but did not succeed: refused by the receiver, SHA-256 mismatch, protocol error. */
    public static final int TRANSFER_FAILED = 1;
    /** Bad command line: unknown option, bad address syntax, bad number. */
    public static final int USAGE = 2;
    /** No answer from the rendezvous (or STUN) server, or it refused the registration. */
    public static final int RENDEZVOUS_UNREACHABLE = 3;
    public static final int PEER_NOT_FOUND = 4;
    /** No path to the peer: traversal failed, or the peer, though registered, answered nothing ("bob did not answer"). */
    public static final int TRAVERSAL_FAILED = 5;
    /** The connection broke or timed out during the transfer. */
    public static final int INTERRUPTED = 6;
    /** A local file or directory is missing, unreadable or unwritable; or the identity file is refused. */
    public static final int LOCAL_FILE = 7;
    /** The local address to listen on is in use or cannot be bound. */
    public static final int PORT_IN_USE = 8;
    /**
     * The peer is not trusted: its key differs from the one known_peers recorded for its name, it is not the id
     * pinned by {@code --to NAME@ID} or {@code --from}, or the receiver did not accept this sender.
     */
    public static final int PEER_NOT_TRUSTED = 9;
    /** The peer's user stopped it (Ctrl-C, SIGTERM) during the transfer: it said so before it exited. */
    public static final int PEER_CANCELLED = 10;
    /** Something this program did not expect (a bug): the message says what. */
    public static final int INTERNAL = 70;
    /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
    public static final int SIGINT = 130;

    static final String FOOTER = """

            Exit codes:
              0  success
              1  transfer failed (refused by the receiver, SHA-256 mismatch, protocol error)
              2  bad command line (unknown option, bad HOST:PORT, bad number)
              3  rendezvous server unreachable, or it refused us (name taken, wrong secret)
              4  peer not found at the rendezvous server
              5  no path to the peer: NAT traversal failed, or the registered peer
                 did not answer at all (the reason is printed)
              6  transfer interrupted (connection lost or timed out)
              7  local file problem (missing file, unreadable or unwritable directory)
                 or a refused identity or known_peers file (malformed, unsafe mode)
              8  cannot listen: the port is in use, or the address is not on this host
              9  peer not trusted: its key changed since known_peers recorded it,
                 it is not the pinned id (--to NAME@ID, --from ID),
                 or the receiver refused the sender
             10  the peer cancelled (Ctrl-C or SIGTERM on the other side)
             70  internal error
            130  interrupted (Ctrl-C)
            """;

    private ExitCodes() {
    }
}
