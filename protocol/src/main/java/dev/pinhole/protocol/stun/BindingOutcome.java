package dev.pinhole.protocol.stun;

import java.net.InetSocketAddress;

/** How a Binding transaction ended ({@link StunClient#binding}). */
public sealed interface BindingOutcome {

    /**
     * A success response.
     *
     * @param mappedAddress  XOR-MAPPED-ADDRESS (or MAPPED-ADDRESS from an old server): where the
     *                       server saw the request come from
     * @param source         where the response came from
     * @param responseOrigin RESPONSE-ORIGIN if the server sent it (RFC 5780 §7.3), else null
     * @param otherAddress   OTHER-ADDRESS if the server sent it (RFC 5780 §7.4), else null
     * @param requestsSent   requests sent before the response came, the first included
     * @param elapsedNs      time from the first request to the response (an RTT only if requestsSent is 1)
     */
    record Success(InetSocketAddress mappedAddress, InetSocketAddress source, InetSocketAddress responseOrigin,
                   InetSocketAddress otherAddress, int requestsSent, long elapsedNs) implements BindingOutcome {
    }

    /** An error response: ERROR-CODE's number (e.g. 420) and reason phrase. */
    record ErrorResponse(int code, String reason, InetSocketAddress source) implements BindingOutcome {
    }

    /** Our own request arrived back at our endpoint (RFC 5780 §4.5), from {@code source}. */
    record OwnRequestReceived(InetSocketAddress source, int requestsSent, long elapsedNs) implements BindingOutcome {
    }

    /** No acceptable response: timed out, unknown attribute in the response, or client closed. */
    record Failed(StunTransactionFailure failure, int requestsSent, long elapsedNs) implements BindingOutcome {
        public boolean timedOut() {
            return failure == StunTransactionFailure.TIMED_OUT;
        }
    }
}
