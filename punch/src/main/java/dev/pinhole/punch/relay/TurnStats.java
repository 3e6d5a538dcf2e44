package dev.pinhole.punch.relay;

import dev.pinhole.protocol.turn.ChannelData;

/**
 * Counters of one {@link TurnAllocation}, a snapshot. Every dropped datagram is counted under one reason.
 *
 * @param sentChannelData             datagrams sent to peers as ChannelData (RFC 8656 §12.4)
 * @param sentSendIndications         datagrams sent to peers as Send indications (RFC 8656 §11.1)
 * @param sendFailures                of those, the ones the local endpoint refused (full socket buffer)
 * @param queuedForPermission         datagrams held until their peer's permission was installed
 * @param droppedNotActive            datagrams to send dropped because the allocation was not active
 * @param droppedNoPermission         datagrams to send dropped because the peer's permission failed
 * @param droppedQueueFull            datagrams to send dropped because the per-peer queue was full
 * @param droppedLimit                datagrams to send dropped because a peer or permission bound was reached
 * @param droppedOversize             datagrams to send dropped because they cannot fit one TURN message
 * @param receivedChannelData         peer datagrams received as ChannelData
 * @param receivedDataIndications     peer datagrams received as Data indications (RFC 8656 §11.4)
 * @param malformedChannelData        ChannelData dropped as malformed (short, reserved channel, bad length)
 * @param unboundChannelData          ChannelData dropped because no peer is bound to its channel
 * @param malformedDataIndications    Data indications dropped for lacking XOR-PEER-ADDRESS or DATA
 * @param unpermittedDataIndications  Data indications dropped because their peer has no permission (RFC 8656 §11.6)
 * @param allocationRefreshes         Refresh requests sent to keep the allocation (RFC 8656 §8)
 * @param permissionRequests          CreatePermission requests sent, first and refreshes (RFC 8656 §10)
 * @param channelBindRequests         ChannelBind requests sent, first and refreshes (RFC 8656 §11)
 * @param staleNonceRetries           requests repeated after 438 Stale Nonce
 * @param permissions                 peer IP addresses with a permission now
 * @param channels                    channels bound now
 */
public record TurnStats(long sentChannelData, long sentSendIndications, long sendFailures, long queuedForPermission,
                        long droppedNotActive, long droppedNoPermission, long droppedQueueFull, long droppedLimit,
                        long droppedOversize, long receivedChannelData, long receivedDataIndications,
                        long malformedChannelData, long unboundChannelData, long malformedDataIndications,
                        long unpermittedDataIndications, long allocationRefreshes, long permissionRequests,
                        long channelBindRequests, long staleNonceRetries, int permissions, int channels) {

    /** Datagrams to send that were dropped locally, for any reason. */
    public long droppedOnSend() {
        return droppedNotActive + droppedNoPermission + droppedQueueFull + droppedLimit + droppedOversize;
    }

    /** Received datagrams that were dropped, for any reason. */
    public long droppedOnReceive() {
        return malformedChannelData + unboundChannelData + malformedDataIndications + unpermittedDataIndications;
    }
}
