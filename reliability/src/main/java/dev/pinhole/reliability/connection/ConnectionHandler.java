package dev.pinhole.reliability.connection;

/**
 * The owner of a {@link Connection} on its event loop: told of events after the connection processed
 * input. It may call the connection's application methods ({@code read}, {@code write}, {@code finish},
 * {@code close}, {@code abort}) from inside the callback; the endpoint flushes afterwards.
 */
@FunctionalInterface
public interface ConnectionHandler {
    /** @param events a set of {@code Connection.EVENT_*} bits, never 0 */
    void onEvents(Connection connection, int events);
}
