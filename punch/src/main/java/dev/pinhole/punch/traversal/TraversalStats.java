package dev.pinhole.punch.traversal;

/**
 * Counters of one traversal session (a snapshot).
 *
 * @param checksSent          Binding requests sent on candidate pairs, retransmissions included
 * @param responsesSent       success and error responses sent to the peer's checks
 * @param requestsReceived    valid checks received
 * @param responsesReceived   valid responses received
 * @param badIntegrity        requests or responses whose MESSAGE-INTEGRITY failed (dropped)
 * @param malformed           checks missing a required attribute, or with a wrong USERNAME (dropped)
 * @param nonSymmetric        success responses from an address other than the one checked (RFC 8445 §7.2.5.2.1)
 * @param roleConflicts       role conflicts detected or reported (RFC 8445 §7.3.1.1, §7.2.5.1)
 * @param peerReflexive       remote peer-reflexive candidates learnt (RFC 8445 §7.3.1.3)
 * @param primingSent         low-TTL priming datagrams sent
 * @param birthdayProbesSent  probes to random ports sent by the easy side
 * @param birthdaySockets     extra sockets opened by the hard side
 * @param keepalivesSent      Binding indications sent on the selected pair (RFC 8445 §11)
 * @param keepalivesReceived  Binding indications received
 */
public record TraversalStats(
        long checksSent,
        long responsesSent,
        long requestsReceived,
        long responsesReceived,
        long badIntegrity,
        long malformed,
        long nonSymmetric,
        long roleConflicts,
        long peerReflexive,
        long primingSent,
        long birthdayProbesSent,
        long birthdaySockets,
        long keepalivesSent,
        long keepalivesReceived) {
}
