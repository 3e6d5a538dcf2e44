package dev.pinhole.cli.transfer;

/** Progress of a transfer, called on the transferring thread. */
public interface TransferListener {
    TransferListener NONE = new TransferListener() {
    };

    /** A session announced its size. */
    default void started(long entryCount, long totalBytes) {
    }

    /** A file starts at {@code startOffset} (more than 0 when resumed). */
    default void fileStarted(String path, long size, long startOffset) {
    }

    /** More bytes went over the stream. */
    default void bytes(long count) {
    }

    /** A file ended; {@code verified} when both sides agreed on its SHA-256. */
    default void fileFinished(String path, boolean verified, String detail) {
    }
}
