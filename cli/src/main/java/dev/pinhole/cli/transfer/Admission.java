package dev.pinhole.cli.transfer;

/**
 * The receiver's decision on a session, taken after the sender's HELLO announced how many entries and bytes it
 * offers and before the receiver answers it or writes anything.
 */
@FunctionalInterface
public interface Admission {
    /** Admits every session. */
    Admission ALL = (entryCount, totalBytes) -> { };

    /**
     * Returns to admit the session; throws to refuse it (nothing is answered or written, and the caller ends the
     * connection).
     *
     * @throws TransferException of kind {@link TransferException.Kind#REFUSED}, saying why
     */
    void admit(long entryCount, long totalBytes) throws TransferException;
}
