package dev.pinhole.punch.rendezvous;

/**
 * A snapshot of a {@link RendezvousClient}'s counters.
 *
 * @param registrations          REGISTER exchanges the server accepted (the first and every refresh)
 * @param reRegistrations        refreshes the server did not recognise (438: it restarted, or our NAT
 *                               mapping changed) and that registered again with a fresh nonce
 * @param staleNonceRetries      requests repeated with a fresh nonce after a 438
 * @param refreshFailures        refreshes that ended without the server's acceptance
 * @param introductionsReceived  distinct INTRODUCTIONs received (acknowledged and delivered)
 * @param duplicateIntroductions retransmitted INTRODUCTIONs acknowledged again but not delivered again
 * @param unexpectedIntroductions introductions for a connect() nobody waits for any more
 * @param invalidIntroductions   INTRODUCTION, MESSAGE or CANDIDATE requests that did not decode (answered 400),
 *                               among them INTRODUCTIONs with a malformed RELAY-OFFER
 * @param unauthenticatedRequests requests from the server address that failed the shared secret (dropped)
 * @param rejectedResponses      responses discarded because they failed the shared secret
 * @param messagesReceived       distinct MESSAGEs delivered to the listener
 * @param candidatesReceived     distinct trickled CANDIDATEs delivered to the listener
 */
public record RendezvousClientStats(
    long registrations,
    long reRegistrations,
    long staleNonceRetries,
    long refreshFailures,
    long introductionsReceived,
    long duplicateIntroductions,
    long unexpectedIntroductions,
    long invalidIntroductions,
    long unauthenticatedRequests,
    long rejectedResponses,
    long messagesReceived,
    long candidatesReceived) {
}
