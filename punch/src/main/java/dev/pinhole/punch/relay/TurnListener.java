package dev.pinhole.punch.relay;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Hears what happens to an allocation after it was made, on the endpoint's event loop. Every method
 * has an empty default; override what matters.
 */
public interface TurnListener {
    /** A listener that ignores everything. */
    TurnListener NONE = new TurnListener() {
    };

    /**
     * The allocation is gone: refreshing it failed until it expired, or the server said it no longer
     * exists (437). Nothing more is relayed; allocate again to continue.
     */
    default void onAllocationLost(TurnAllocation allocation, TurnException cause) {
    }

    /** A permission for {@code peer} could not be installed or kept; data for that IP is dropped. */
    default void onPermissionFailed(TurnAllocation allocation, InetAddress peer, TurnException cause) {
    }

    /** A channel to {@code peer} could not be bound or kept; data falls back to Send indications. */
    default void onChannelBindFailed(TurnAllocation allocation, InetSocketAddress peer, TurnException cause) {
    }
}
