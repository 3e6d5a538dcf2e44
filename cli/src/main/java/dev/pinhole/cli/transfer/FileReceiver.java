package dev.pinhole.cli.transfer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The receiving side of {@link TransferProtocol}: writes each file under its partial name, renames it
 * only once its SHA-256 matches the sender's, and offers a partial file's prefix for resumption.
 */
public final class FileReceiver {
    private final Path outDir;
    private final boolean overwrite;
    private final byte[] buffer = new byte[TransferProtocol.COPY_BUFFER_BYTES];

    /**
     * @param outDir an existing, writable directory; every path the sender names must resolve inside it
     * @param overwrite whether an existing file of the same name may be replaced
     */
    public FileReceiver(Path outDir, boolean overwrite) throws IOException {
        this.outDir = outDir.toAbsolutePath().normalize().toRealPath();
        this.overwrite = overwrite;
    }

    /** Receives one session: returns when the sender ended it, throws when it broke. */
    public TransferSummary receive(InputStream fromSender, OutputStream toSender, TransferListener listener)
            throws TransferException {
        return receive(fromSender, toSender, listener, Admission.ALL);
    }

    /**
     * Receives one session if {@code admission} admits what the sender's HELLO announces: it decides before the
     * receiver answers or writes anything, and a refusal ends the session with its exception.
     */
    public TransferSummary receive(InputStream fromSender, OutputStream toSender, TransferListener listener,
                                   Admission admission) throws TransferException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(fromSender, TransferProtocol.COPY_BUFFER_BYTES));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(toSender, 4096));
        String current = "the greeting";
        List<TransferSummary.FileResult> files = new ArrayList<>();
        // Entries the receiver refused or could not verify: the session goes on so that the sender hears every
        // answer, and the transfer then fails here too (a receiver that verified nothing never reports success).
        List<TransferException> failures = new ArrayList<>();
        long onWire = 0;
        try {
            int magic = in.readInt();
            int version = in.readUnsignedByte();
            if (magic != TransferProtocol.MAGIC || version != TransferProtocol.VERSION) {
                throw new TransferException(TransferException.Kind.PROTOCOL, String.format(
                        "the peer does not speak this transfer protocol (magic %08x, version %d)", magic, version));
            }
            long entryCount = Integer.toUnsignedLong(in.readInt());
            long total = Wire.readSize(in, "total size");
            if (entryCount > TransferProtocol.MAX_ENTRIES) {
                throw new TransferException(TransferException.Kind.PROTOCOL,
                        "the sender announced " + entryCount + " entries, more than " + TransferProtocol.MAX_ENTRIES);
            }
            admission.admit(entryCount, total);
            out.writeInt(TransferProtocol.MAGIC);
            out.writeByte(TransferProtocol.VERSION);
            out.flush();
            listener.started(entryCount, total);
            long seen = 0;
            while (true) {
                int kind = in.readUnsignedByte();
                if (kind == TransferProtocol.KIND_END) {
                    out.writeByte(0);
                    out.flush();
                    awaitSenderFinished(in);
                    if (!failures.isEmpty()) {
                        throw failed(failures);
                    }
                    return TransferSummary.of(files, onWire);
                }
                if (++seen > entryCount) {
                    throw new TransferException(TransferException.Kind.PROTOCOL,
                            "the sender sent more entries than the " + entryCount + " it announced");
                }
                if (kind != TransferProtocol.KIND_FILE && kind != TransferProtocol.KIND_DIRECTORY) {
                    throw new TransferException(TransferException.Kind.PROTOCOL, "unknown entry kind " + kind);
                }
                String path = Wire.readString(in, TransferProtocol.MAX_PATH_BYTES, "path");
                current = path;
                long size = kind == TransferProtocol.KIND_FILE ? Wire.readSize(in, "file size") : 0;
                Path target;
                try {
                    target = SafePaths.resolve(outDir, path);
                } catch (TransferException bad) {
                    reply(out, TransferProtocol.REPLY_REJECTED, bad.getMessage());
                    throw bad;
                }
                if (kind == TransferProtocol.KIND_DIRECTORY) {
                    receiveDirectory(out, path, target, failures);
                } else {
                    FileOutcome outcome = receiveFile(in, out, path, target, size, listener, failures);
                    onWire += outcome.bytesOnWire;
                    if (outcome.result != null) {
                        files.add(outcome.result);
                    }
                }
            }
        } catch (TransferException e) {
            throw e;
        } catch (IOException e) {
            throw Wire.interrupted("during " + current, e);
        }
    }

    private void receiveDirectory(DataOutputStream out, String path, Path target, List<TransferException> failures)
            throws IOException {
        try {
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                refuse(out, failures, "a file named " + path + " exists where a directory should go");
                return;
            }
            SafePaths.checkInside(outDir, target);
            Files.createDirectories(target);
        } catch (TransferException e) {
            reply(out, TransferProtocol.REPLY_REJECTED, e.getMessage());
            throw e;
        } catch (IOException e) {
            refuse(out, failures, "cannot create directory " + path + ": " + e);
            return;
        }
        out.writeByte(TransferProtocol.REPLY_ACCEPT);
        out.flush();
    }

    /** Answers the entry with REPLY_EXISTS and remembers the refusal for the end of the session. */
    private static void refuse(DataOutputStream out, List<TransferException> failures, String why) throws IOException {
        reply(out, TransferProtocol.REPLY_EXISTS, why);
        failures.add(new TransferException(TransferException.Kind.REFUSED, why));
    }

    /** The transfer's failure: the first entry's kind, every entry's reason. */
    private static TransferException failed(List<TransferException> failures) {
        TransferException first = failures.get(0);
        if (failures.size() == 1) {
            return first;
        }
        StringBuilder why = new StringBuilder(failures.size() + " entries failed: ");
        for (int i = 0; i < failures.size(); i++) {
            why.append(i == 0 ? "" : "; ").append(failures.get(i).getMessage());
        }
        return new TransferException(first.kind(), why.toString());
    }

    private record FileOutcome(TransferSummary.FileResult result, long bytesOnWire) {
    }

    private FileOutcome receiveFile(DataInputStream in, DataOutputStream out, String path, Path target, long size,
                                    TransferListener listener, List<TransferException> failures) throws IOException {
        Path parent = target.getParent();
        Path partial = parent.resolve(TransferProtocol.partialName(target.getFileName().toString()));
        try {
            SafePaths.checkInside(outDir, parent);
            Files.createDirectories(parent);
        } catch (TransferException e) {
            reply(out, TransferProtocol.REPLY_REJECTED, e.getMessage());
            throw e;
        } catch (IOException e) {
            refuse(out, failures, "cannot create directory for " + path + ": " + e);
            return new FileOutcome(null, 0);
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && (!overwrite || !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS))) {
            refuse(out, failures, path + " already exists on the receiver"
                    + (overwrite ? " and is not a regular file" : " (the receiver may pass --overwrite)"));
            return new FileOutcome(null, 0);
        }
        MessageDigest digest = Digests.sha256();
        long have = 0;
        if (Files.isRegularFile(partial, LinkOption.NOFOLLOW_LINKS)) {
            long partialSize = Files.size(partial);
            if (partialSize > 0 && partialSize <= size) {
                have = hashFile(partial, partialSize, digest);
            }
        }
        out.writeByte(TransferProtocol.REPLY_ACCEPT);
        out.writeLong(have);
        if (have > 0) {
            out.write(cloneOf(digest).digest());
        }
        out.flush();

        long start = Wire.readSize(in, "start offset");
        if (start != 0 && start != have) {
            throw new TransferException(TransferException.Kind.PROTOCOL,
                    "the sender resumed " + path + " at " + start + " but the receiver offered " + have);
        }
        if (start == 0) {
            digest.reset();
        }
        listener.fileStarted(path, size, start);
        String writeError = null;
        FileChannel channel = null;
        try {
            channel = start == 0
                    ? FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS)
                    : FileChannel.open(partial, StandardOpenOption.WRITE, StandardOpenOption.APPEND,
                            LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            writeError = "cannot write " + path + ": " + e;
        }
        long remaining = size - start;
        try {
            while (remaining > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    throw new EOFException();
                }
                digest.update(buffer, 0, n);
                if (channel != null) {
                    try {
                        ByteBuffer bb = ByteBuffer.wrap(buffer, 0, n);
                        while (bb.hasRemaining()) {
                            channel.write(bb);
                        }
                    } catch (IOException e) {
                        // Keep reading the data so the session stays in step; report the failure after it.
                        writeError = "cannot write " + path + ": " + e;
                        closeQuietly(channel);
                        channel = null;
                        Files.deleteIfExists(partial);
                    }
                }
                remaining -= n;
                listener.bytes(n);
            }
        } finally {
            // An interrupted transfer keeps its partial file (never under the final name) for resumption.
            closeQuietly(channel);
        }
        byte[] theirs = Wire.readHash(in);
        byte[] ours = digest.digest();
        if (writeError != null) {
            Files.deleteIfExists(partial);
            result(out, TransferProtocol.RESULT_WRITE_FAILED, ours, writeError);
            listener.fileFinished(path, false, writeError);
            failures.add(new TransferException(TransferException.Kind.LOCAL_IO, writeError));
            return new FileOutcome(null, size - start);
        }
        if (!Arrays.equals(theirs, ours)) {
            Files.deleteIfExists(partial);
            String why = "SHA-256 mismatch for " + path + ": the sender has " + Wire.hex(theirs)
                    + ", the receiver got " + Wire.hex(ours) + "; nothing was kept";
            result(out, TransferProtocol.RESULT_HASH_MISMATCH, ours, why);
            listener.fileFinished(path, false, why);
            failures.add(new TransferException(TransferException.Kind.HASH_MISMATCH, why));
            return new FileOutcome(null, size - start);
        }
        try {
            try (FileChannel sync = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                sync.force(true);
            }
            if (overwrite) {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                // Link-then-delete refuses to replace a file that appeared meanwhile; rename(2) would not.
                try {
                    Files.createLink(target, partial);
                    Files.delete(partial);
                } catch (FileAlreadyExistsException e) {
                    throw e;
                } catch (IOException | UnsupportedOperationException e) {
                    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } catch (IOException e) {
            String why = "cannot move " + path + " to its final name: " + e;
            result(out, TransferProtocol.RESULT_WRITE_FAILED, ours, why);
            listener.fileFinished(path, false, why);
            failures.add(new TransferException(TransferException.Kind.LOCAL_IO, why));
            return new FileOutcome(null, size - start);
        }
        result(out, TransferProtocol.RESULT_OK, ours, null);
        listener.fileFinished(path, true, Wire.hex(ours));
        return new FileOutcome(new TransferSummary.FileResult(path, size, start, Wire.hex(ours)), size - start);
    }

    private long hashFile(Path file, long length, MessageDigest digest) throws IOException {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            long remaining = length;
            while (remaining > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                if (n < 0) {
                    break;
                }
                digest.update(buffer, 0, n);
                remaining -= n;
            }
            return length - remaining;
        }
    }

    private static void reply(DataOutputStream out, int status, String reason) throws IOException {
        out.writeByte(status);
        Wire.writeString(out, reason, TransferProtocol.MAX_REASON_BYTES);
        out.flush();
    }

    private static void result(DataOutputStream out, int status, byte[] hash, String reason) throws IOException {
        out.writeByte(status);
        out.write(hash);
        if (status != TransferProtocol.RESULT_OK) {
            Wire.writeString(out, reason, TransferProtocol.MAX_REASON_BYTES);
        }
        out.flush();
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // The data is already accounted for by the hash check that follows.
            }
        }
    }

    private static MessageDigest cloneOf(MessageDigest digest) {
        try {
            return (MessageDigest) digest.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
        }
    }

    /**
     * Waits for the sender to end its stream after it read our end-of-session byte, so that both sides
     * close a connection whose two directions are finished and the sender's close sees a graceful end
     * rather than our node shutting down under its last FIN. Every file is verified by now: a failure
     * here (the sender vanished, the read timed out) does not undo the session.
     */
    private static void awaitSenderFinished(InputStream in) {
        try {
            while (in.read() >= 0) {
                // A sender of this protocol writes nothing after KIND_END; anything else is discarded.
            }
        } catch (IOException ignored) {
            // See above: the session is complete either way.
        }
    }
}
