package dev.pinhole.reliability.connection;

import dev.pinhole.reliability.ReliableConnection;
import dev.pinhole.reliability.TransportConfig;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Gives blocking streams to a transport {@link Connection} that another component (the peer library's node)
 * opened and drives on its own socket and event loop.
 *
 * <p>{@link ReliableConnection} is application API and its constructor is not; this package is exported only to
 * the peer library. So {@code ReliableConnection} registers its factory here when its class initialises, the
 * pattern the JDK uses between its own modules, and no public method of the API package mentions the transport
 * core.
 */
public final class AttachedConnections {
    private static volatile Factory factory;

    private AttachedConnections() {
    }

    /**
     * The component that opened a sans-IO {@link Connection} and runs its event loop. Every method is called on
     * that event loop.
     */
    public interface Owner {
        /** Installs the handler that hears the connection's events from now on, with those that happened so far. */
        void handler(ConnectionHandler handler);

        /** Runs the connection after it was used outside a handler callback: flushes it and re-arms its timer. */
        void wake();

        /** The current time of the event loop's clock. */
        long nowNs();
    }

    /** What {@link ReliableConnection} registers: {@link #attach}'s implementation. */
    @FunctionalInterface
    public interface Factory {
        /** See {@link AttachedConnections#attach}. */
        ReliableConnection attach(Connection connection, Owner owner, InetSocketAddress localAddress, Executor loop,
                TransportConfig config);
    }

    /** Called once, by {@link ReliableConnection}'s static initialiser. */
    public static void register(Factory implementation) {
        factory = Objects.requireNonNull(implementation, "implementation");
    }

    /**
     * Wraps {@code connection} in blocking streams and installs them as its handler through {@code owner}. Call on
     * the connection's event loop.
     *
     * @param localAddress the address of the socket the connection runs on
     * @param loop runs tasks on the connection's event loop; when it rejects them the connection fails
     */
    public static ReliableConnection attach(Connection connection, Owner owner, InetSocketAddress localAddress,
            Executor loop, TransportConfig config) {
        Factory registered = factory;
        if (registered == null) {
            initialise(ReliableConnection.class);
            registered = factory;
        }
        return registered.attach(connection, owner, localAddress, loop, config);
    }

    private static void initialise(Class<?> type) {
        try {
            Class.forName(type.getName(), true, type.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(type + " is in this module", e);
        }
    }
}
