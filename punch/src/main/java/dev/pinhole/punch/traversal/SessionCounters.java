package dev.pinhole.punch.traversal;

/**
 * What one traversal session counts and notes, shared by the parts that do the counting: the counters become
 * {@link TraversalStats}, the notes (side problems such as a TTL socket option that could not be set) a line
 * of the failure report, because they may explain why no pair worked. Mutable; owned by the session's event
 * loop.
 */
final class SessionCounters {
    long checksSent;
    long responsesSent;
    long requestsReceived;
    long responsesReceived;
    long badIntegrity;
    long malformed;
    long nonSymmetric;
    long roleConflicts;
    long peerReflexiveLearnt;
    long primingSent;
    long probesSent;
    long socketsOpened;
    long keepalivesSent;
    long keepalivesReceived;
    private String notes = "";

    /** Records a side problem, in words, for the failure report. */
    void note(String text) {
        notes += " " + text + ";";
    }

    /** Every note in the order they were made, on one line; empty if there was none. */
    String notes() {
        return notes.trim();
    }

    TraversalStats snapshot() {
        return new TraversalStats(checksSent, responsesSent, requestsReceived, responsesReceived, badIntegrity,
                malformed, nonSymmetric, roleConflicts, peerReflexiveLearnt, primingSent, probesSent, socketsOpened,
                keepalivesSent, keepalivesReceived);
    }
}
