package dev.pinhole.protocol.stun;

import java.net.InetSocketAddress;

/**
 * Receives the end of a {@link StunTransaction}, on the endpoint's event loop. Exactly one of
 * {@link #onResponse} returning true, {@link #onOwnRequest} returning true or {@link #onFailure}
 * ends a transaction; after that the handler hears nothing more.
 */
public interface StunResponseHandler {
    /**
     * A success or error response whose transaction id and method match arrived, from any source
     * (RFC 5780 servers answer from their alternate address; see {@link StunClient}). The reader is
     * valid only during this call.
     *
     * @return true to accept it and end the transaction; false to reject it (say, it fails
     *     authentication: RFC 8489 §9.1.4 says such a response is discarded) and keep waiting
     */
    boolean onResponse(StunReader response, InetSocketAddress source, long nowNs);

    /**
     * Our own request came back to us: a request with this transaction's id arrived at our
     * endpoint. That is how RFC 5780 §4.5 detects hairpinning.
     *
     * @return true to end the transaction; false (the default) to keep waiting for a response
     */
    default boolean onOwnRequest(InetSocketAddress source, long nowNs) {
        return false;
    }

    /** The transaction ended without an accepted response. */
    void onFailure(StunTransactionFailure failure, long nowNs);
}
