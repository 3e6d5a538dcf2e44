package dev.pinhole.punch.traversal;

import dev.pinhole.punch.PairReport;

import java.net.InetSocketAddress;

/**
 * A local socket and a remote address, with its check state (RFC 8445 §6.1.2.6, simplified: one
 * component, no foundations, so no Frozen state). Mutable; owned by the session's event loop.
 */
final class CandidatePair {
    enum State { WAITING, IN_PROGRESS, SUCCEEDED }

    final LocalSocket socket;
    final InetSocketAddress remote;
    final PathOrigin origin;
    /** k of a predicted port (mapped port + k·step), 0 for other pairs; predicted pairs are checked first, by k. */
    final int predictionIndex;
    /** Birthday pairs of the hard side are paced by the probing schedule, not by Ta. */
    final boolean birthday;
    final long remotePriority;
    long priority;

    State state = State.WAITING;
    long txHigh;
    int txLow;
    boolean hasTx;
    long previousTxHigh;
    int previousTxLow;
    boolean hasPreviousTx;

    int checksSent;
    int responses;
    int requestsReceived;
    int nonSymmetric;
    int roleConflicts;
    long nextRetryNs;
    long rtoNs;
    long succeededNs = -1;
    long firstCheckNs = -1;
    InetSocketAddress mapped;

    boolean triggeredQueued;
    /** A birthday pair the peer's probe reached: checked at Ta pace from then on. */
    boolean heard;
    /** Controlled side: the peer nominated this pair before our own check succeeded (RFC 8445 §7.3.1.5). */
    boolean nominateOnSuccess;

    CandidatePair(LocalSocket socket, InetSocketAddress remote, PathOrigin origin, int predictionIndex,
            boolean birthday, long remotePriority) {
        this.socket = socket;
        this.remote = remote;
        this.origin = origin;
        this.predictionIndex = predictionIndex;
        this.birthday = birthday;
        this.remotePriority = remotePriority;
    }

    /**
     * RFC 8445 §6.1.2.3: {@code pair priority = 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0)}, G the controlling
     * agent's candidate priority, D the controlled agent's.
     */
    static long pairPriority(long controlling, long controlled) {
        long min = Math.min(controlling, controlled);
        long max = Math.max(controlling, controlled);
        return (min << 32) + 2 * max + (controlling > controlled ? 1 : 0);
    }

    void updatePriority(IceRole localRole) {
        long local = socket.priorityToward(remote);
        priority = localRole == IceRole.CONTROLLING ? pairPriority(local, remotePriority)
                : pairPriority(remotePriority, local);
    }

    /**
     * A success response from {@code remote} to one of our checks on this pair (RFC 8445 §7.2.5.3): the pair
     * is valid from now on; {@code mappedAddress} is its XOR-MAPPED-ADDRESS, null if it had none.
     */
    void recordSuccess(InetSocketAddress mappedAddress, long nowNs) {
        responses++;
        if (mappedAddress != null) {
            mapped = mappedAddress;
        }
        if (state != State.SUCCEEDED) {
            state = State.SUCCEEDED;
            succeededNs = nowNs;
        }
    }

    boolean valid() {
        return state == State.SUCCEEDED;
    }

    /** Still being checked: could yet succeed. */
    boolean pending() {
        return state == State.WAITING || state == State.IN_PROGRESS;
    }

    String verdict() {
        if (state == State.SUCCEEDED) {
            return requestsReceived > 0 ? "succeeded in both directions"
                    : "our checks succeeded but no check from the peer arrived (only one direction)";
        }
        if (checksSent == 0) {
            return requestsReceived > 0 ? "peer's checks arrived, ours was never sent" : "never checked";
        }
        StringBuilder s = new StringBuilder();
        if (nonSymmetric > 0) {
            s.append(nonSymmetric).append(" responses came from another address (NAT changed our mapping), ");
        }
        if (roleConflicts > 0) {
            s.append(roleConflicts).append(" role conflicts, ");
        }
        if (requestsReceived > 0) {
            s.append("peer's checks arrived (").append(requestsReceived)
                    .append(") but none of our ").append(checksSent).append(" checks was answered (only one direction)");
        } else {
            s.append("no response to ").append(checksSent).append(" checks and no check from the peer (timed out)");
        }
        return s.toString();
    }

    PairReport report() {
        return new PairReport(socket.base, remote, origin, checksSent, responses, requestsReceived, nonSymmetric,
                verdict());
    }

    @Override
    public String toString() {
        return socket.base + " -> " + remote + " " + origin + (predictionIndex > 0 ? " k=" + predictionIndex : "")
                + " " + state;
    }
}
