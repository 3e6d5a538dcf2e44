package dev.pinhole.server.boundaryfixture;

import dev.pinhole.punch.rendezvous.RendezvousClient;

/** A deliberate boundary violation for ModuleBoundariesTest: "server" code that uses a peer-library internal. */
public final class ServerCodeReachingIntoThePeerLibrary {
    private ServerCodeReachingIntoThePeerLibrary() {
    }

    /** The forbidden dependency. */
    public static Class<?> reach() {
        return RendezvousClient.class;
    }
}
