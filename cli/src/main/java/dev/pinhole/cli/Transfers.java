package dev.pinhole.cli;

import dev.pinhole.cli.transfer.Admission;
import dev.pinhole.cli.transfer.FileReceiver;
import dev.pinhole.cli.transfer.FileSender;
import dev.pinhole.cli.transfer.SendEntry;
import dev.pinhole.cli.transfer.TransferListener;
import dev.pinhole.cli.transfer.TransferSummary;
import dev.pinhole.punch.PeerConnection;
import dev.pinhole.reliability.ConnectionStats;
import java.io.IOException;
import java.util.List;

/** One transfer session over a connected peer, timed, with the transport's counters at its end. */
final class Transfers {
    private Transfers() {
    }

    static TransferReport send(String role, PeerConnection connection, List<SendEntry> entries,
                               TransferListener listener) throws IOException {
        long startNs = System.nanoTime();
        TransferSummary summary = new FileSender(connection.inputStream(), connection.outputStream(), listener)
                .send(entries);
        long elapsedNs = System.nanoTime() - startNs;
        ConnectionStats stats = statsOf(connection);
        connection.shutdownOutput();
        return new TransferReport(role, connection.peerName(), connection.peerId(), summary, connection.path(),
                connection.connectMillis(), elapsedNs, stats);
    }

    static TransferReport receive(PeerConnection connection, FileReceiver receiver, TransferListener listener)
            throws IOException {
        return receive(connection, receiver, listener, Admission.ALL);
    }

    /** Receives one session if {@code admission} admits what the sender offers. */
    static TransferReport receive(PeerConnection connection, FileReceiver receiver, TransferListener listener,
                                  Admission admission) throws IOException {
        long startNs = System.nanoTime();
        TransferSummary summary = receiver.receive(connection.inputStream(), connection.outputStream(), listener,
                admission);
        long elapsedNs = System.nanoTime() - startNs;
        ConnectionStats stats = statsOf(connection);
        connection.shutdownOutput();
        return new TransferReport("receive", connection.peerName(), connection.peerId(), summary, connection.path(),
                connection.connectMillis(), elapsedNs, stats);
    }

    private static ConnectionStats statsOf(PeerConnection connection) {
        try {
            return connection.stats();
        } catch (IOException e) {
            // The transfer is verified; counters of a connection that closed meanwhile are not essential.
            return null;
        }
    }
}
