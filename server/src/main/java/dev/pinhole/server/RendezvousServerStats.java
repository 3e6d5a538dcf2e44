package dev.pinhole.server;

/**
 * A snapshot of a {@link RendezvousServer}'s counters and table sizes.
 *
 * @param registrations          registrations held now
 * @param registered             registrations created: first contact, restart repopulation, and re-creation
 *                               with changed name, candidates, NAT profile or address
 * @param refreshes              REGISTER requests that only refreshed an unchanged registration
 * @param expired                registrations removed after missing their refreshes
 * @param replaced               registrations that gave way to a newer one of the same key or address
 * @param deregistered           registrations ended early by their client (DEREGISTER, or REGISTER with
 *                               lifetime 0)
 * @param deregistrationsRefused 403 answers to DEREGISTER: the sender held no registration of that name
 *                               under the request's key (unknown, foreign, spoofed or repeated)
 * @param nameConflicts          409 answers: the name was held by another key
 * @param serverFull             508 answers: a table was full
 * @param addressQuotaRefused    508 answers to REGISTER: the source address (IPv4 address, IPv6 /64)
 *                               already held its quota of live registrations
 * @param prefixQuotaRefused     508 answers to REGISTER: the source network (IPv4 /24, IPv6 /56) already
 *                               held its quota of live registrations
 * @param lists                  LIST_PEERS pages sent
 * @param connects               CONNECTs that led to an introduction
 * @param peerNotFound           404 answers to CONNECT, MESSAGE or CANDIDATE
 * @param introductionsSent      INTRODUCTION requests started (two per introduction)
 * @param introductionsAcked     INTRODUCTIONs a peer acknowledged
 * @param introductionsUnacked   INTRODUCTIONs not acknowledged: given up after the retransmission schedule,
 *                               or refused by the peer with an error response
 * @param relayOffers            INTRODUCTIONs that carried a RELAY-OFFER (credentials issued)
 * @param messagesForwarded      MESSAGE requests relayed to their recipient
 * @param candidatesForwarded    CANDIDATE requests (trickled candidates) relayed to their recipient
 * @param unauthenticated        401 answers: the shared secret's or the session key's integrity failed
 * @param staleNonces            438 answers: no valid nonce for the source address
 * @param rateLimited            datagrams dropped by the per-source rate limit
 * @param malformed              datagrams dropped as malformed STUN
 * @param badRequests            400 and 420 answers
 * @param unknownMethods         requests of methods the server does not serve
 * @param amplificationDrops     answers not sent because they would have exceeded the request's size
 * @param responsesSent          responses sent by the rendezvous methods (not Binding)
 * @param sendFailures           answers the endpoint refused to send
 * @param ignored                indications, and datagrams that arrived after {@link RendezvousServer#close()}
 * @param bindingResponses       Binding responses and errors sent by the Binding responder
 * @param trackedSources         source addresses the rate limiter remembers now
 * @param sourceEvictions        sources forgotten to make room for new ones
 * @param outboundPending        INTRODUCTION, MESSAGE and CANDIDATE requests awaiting acknowledgement now
 * @param listsRefused           403 answers to LIST_PEERS: the server was started without allow-list
 * @param notRegisteredSenders   403 answers to CONNECT, MESSAGE or CANDIDATE: the sender was not a
 *                               registered node authenticated by its key
 * @param movesChallenged        438 answers to an owner's REGISTER from a new address, with a nonce for
 *                               that move (one extra round trip per move)
 * @param ownerOverLimit         requests over their source's rate limit let through because they were the
 *                               registered owner's, authenticated by its session key
 */
public record RendezvousServerStats(
    int registrations,
    long registered,
    long refreshes,
    long expired,
    long replaced,
    long deregistered,
    long deregistrationsRefused,
    long nameConflicts,
    long serverFull,
    long addressQuotaRefused,
    long prefixQuotaRefused,
    long lists,
    long connects,
    long peerNotFound,
    long introductionsSent,
    long introductionsAcked,
    long introductionsUnacked,
    long relayOffers,
    long messagesForwarded,
    long candidatesForwarded,
    long unauthenticated,
    long staleNonces,
    long rateLimited,
    long malformed,
    long badRequests,
    long unknownMethods,
    long amplificationDrops,
    long responsesSent,
    long sendFailures,
    long ignored,
    long bindingResponses,
    int trackedSources,
    long sourceEvictions,
    int outboundPending,
    long listsRefused,
    long notRegisteredSenders,
    long movesChallenged,
    long ownerOverLimit) {
}
