package dev.pinhole.punch.traversal;

import dev.pinhole.punch.TraversalFailedException;

/** Receives the outcome of a {@link TraversalSession}, on the endpoint's event loop, exactly once. */
public interface TraversalListener {
    /** A pair was nominated; keepalives on it continue until the session is closed. */
    void onConnected(TraversalPath path);

    /** The deadline passed without a nominated pair; the exception says why and that a relay is needed. */
    void onFailed(TraversalFailedException failure);
}
