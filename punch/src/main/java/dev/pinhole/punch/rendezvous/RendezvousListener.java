package dev.pinhole.punch.rendezvous;

import dev.pinhole.punch.RendezvousException;

import dev.pinhole.protocol.ice.Candidate;
import dev.pinhole.punch.traversal.Introduction;

/**
 * What a {@link RendezvousClient} tells the application without being asked, on the endpoint's event
 * loop. Every method has an empty default.
 */
public interface RendezvousListener {
    /**
     * Another peer asked to be introduced to us (we have role {@link dev.pinhole.punch.traversal.IceRole#CONTROLLED}):
     * start connectivity checks now, the peer starts at the same moment. Introductions we asked for
     * complete {@link RendezvousClient#connect} instead.
     */
    default void onIntroduction(Introduction introduction) {
    }

    /** A registered peer sent us a short text through the server (MESSAGE). */
    default void onMessage(String fromPeer, String text) {
    }

    /**
     * {@link #onMessage(String, String)} with the sender's X25519 public key (its node id), which the
     * sender proved to the server by registering and the server signed to us; by default it calls the
     * two-argument form.
     *
     * @param fromKey the sender's 32-byte key (a fresh array)
     */
    default void onMessage(String fromPeer, byte[] fromKey, String text) {
        onMessage(fromPeer, text);
    }

    /**
     * A registered peer trickled one more candidate to us through the server (CANDIDATE), typically the
     * relayed address it allocated on the relay its introduction offered: add it to the checks of the
     * traversal with that peer.
     *
     * @param fromPeer  the sender's registered name
     * @param candidate the candidate as sent (type, priority, address); its base is its address
     */
    default void onCandidate(String fromPeer, Candidate candidate) {
    }

    /**
     * {@link #onCandidate(String, Candidate)} with the sender's X25519 public key, as
     * {@link #onMessage(String, byte[], String)} has it; by default it calls the two-argument form.
     */
    default void onCandidate(String fromPeer, byte[] fromKey, Candidate candidate) {
        onCandidate(fromPeer, candidate);
    }

    /**
     * A refresh failed (the server did not answer, or answered with an error); refreshing continues at
     * the interval unless {@link #onRegistrationLost} follows.
     */
    default void onRefreshFailed(RendezvousException cause) {
    }

    /**
     * The registration ended and the client stopped refreshing it: another key took the name while ours
     * had expired, or the server rejects our credentials.
     */
    default void onRegistrationLost(RendezvousException cause) {
    }
}
