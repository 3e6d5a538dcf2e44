package dev.pinhole.punch;

import dev.pinhole.punch.traversal.PathOrigin;

import java.net.InetSocketAddress;

/**
 * What happened on one candidate pair, for diagnostics.
 *
 * @param local            the local socket's base address
 * @param remote           the remote address checked
 * @param origin           how the remote address was learnt
 * @param checksSent       Binding requests sent on the pair
 * @param responses        valid success responses received (from {@code remote}, on the right socket)
 * @param requestsReceived valid checks the peer sent on the pair
 * @param nonSymmetric     success responses that came from another address than {@code remote}
 *                         (RFC 8445 §7.2.5.2.1 makes them failures)
 * @param verdict          the pair's outcome in words
 */
public record PairReport(
        InetSocketAddress local,
        InetSocketAddress remote,
        PathOrigin origin,
        int checksSent,
        int responses,
        int requestsReceived,
        int nonSymmetric,
        String verdict) {

    @Override
    public String toString() {
        return local + " -> " + remote + " (" + origin + "): " + verdict;
    }
}
