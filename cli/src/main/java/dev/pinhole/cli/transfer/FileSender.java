package dev.pinhole.cli.transfer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The sending side of {@link TransferProtocol}: offers entries, resumes where the receiver holds a
 * matching prefix, and returns only when the receiver confirmed every file's SHA-256.
 */
public final class FileSender {
    private final DataInputStream in;
    private final DataOutputStream out;
    private final TransferListener listener;
    private final byte[] buffer = new byte[TransferProtocol.COPY_BUFFER_BYTES];

    public FileSender(InputStream fromReceiver, OutputStream toReceiver, TransferListener listener) {
        this.in = new DataInputStream(new BufferedInputStream(fromReceiver, 4096));
        this.out = new DataOutputStream(new BufferedOutputStream(toReceiver, TransferProtocol.COPY_BUFFER_BYTES));
        this.listener = listener;
    }

    /**
     * Sends the entries as one session.
     *
     * @throws TransferException if any file was refused, not verified, or the stream broke; the message
     *     says which and why
     */
    public TransferSummary send(List<SendEntry> entries) throws TransferException {
        long total = 0;
        for (SendEntry e : entries) {
            total += e.size();
        }
        listener.started(entries.size(), total);
        try {
            out.writeInt(TransferProtocol.MAGIC);
            out.writeByte(TransferProtocol.VERSION);
            out.writeInt(entries.size());
            out.writeLong(total);
            out.flush();
            int magic = in.readInt();
            int version = in.readUnsignedByte();
            if (magic != TransferProtocol.MAGIC || version != TransferProtocol.VERSION) {
                throw new TransferException(TransferException.Kind.PROTOCOL, String.format(
                        "the peer does not speak this transfer protocol (magic %08x, version %d)", magic, version));
            }
        } catch (TransferException e) {
            throw e;
        } catch (IOException e) {
            throw Wire.interrupted("while greeting the receiver", e);
        }
        List<TransferSummary.FileResult> verified = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        TransferException.Kind failureKind = null;
        long onWire = 0;
        for (SendEntry entry : entries) {
            try {
                out.writeByte(entry.directory() ? TransferProtocol.KIND_DIRECTORY : TransferProtocol.KIND_FILE);
                Wire.writeString(out, entry.path(), TransferProtocol.MAX_PATH_BYTES);
                if (!entry.directory()) {
                    out.writeLong(entry.size());
                }
                out.flush();
                int status = in.readUnsignedByte();
                if (status == TransferProtocol.REPLY_ACCEPT) {
                    if (!entry.directory()) {
                        long have = Wire.readSize(in, "resume offset");
                        byte[] prefixHash = have > 0 ? Wire.readHash(in) : null;
                        FileOutcome outcome = sendFile(entry, have, prefixHash);
                        onWire += entry.size() - outcome.startOffset;
                        if (outcome.failure == null) {
                            verified.add(new TransferSummary.FileResult(entry.path(), entry.size(),
                                    outcome.startOffset, outcome.sha256));
                        } else {
                            failures.add(outcome.failure);
                            failureKind = failureKind == null ? outcome.kind : failureKind;
                        }
                    }
                } else if (status == TransferProtocol.REPLY_EXISTS || status == TransferProtocol.REPLY_REJECTED) {
                    String reason = Wire.readString(in, TransferProtocol.MAX_REASON_BYTES, "reason");
                    failures.add(entry.path() + ": " + reason);
                    failureKind = failureKind == null ? TransferException.Kind.REFUSED : failureKind;
                    listener.fileFinished(entry.path(), false, reason);
                    if (status == TransferProtocol.REPLY_REJECTED) {
                        throw new TransferException(TransferException.Kind.REFUSED,
                                "the receiver refused " + entry.path() + ": " + reason);
                    }
                } else {
                    throw new TransferException(TransferException.Kind.PROTOCOL,
                            "the receiver answered " + entry.path() + " with unknown status " + status);
                }
            } catch (TransferException e) {
                throw e;
            } catch (IOException e) {
                throw Wire.interrupted("during " + entry.path(), e);
            }
        }
        try {
            out.writeByte(TransferProtocol.KIND_END);
            out.flush();
            int endAck = in.readUnsignedByte();
            if (endAck != 0) {
                throw new TransferException(TransferException.Kind.PROTOCOL, "the receiver ended with status " + endAck);
            }
        } catch (TransferException e) {
            throw e;
        } catch (IOException e) {
            throw Wire.interrupted("at the end of the session", e);
        }
        if (!failures.isEmpty()) {
            throw new TransferException(failureKind, failures.size() == 1 ? failures.get(0)
                    : failures.size() + " files failed, first " + failures.get(0));
        }
        return TransferSummary.of(verified, onWire);
    }

    private record FileOutcome(long startOffset, String sha256, String failure, TransferException.Kind kind) {
    }

    private FileOutcome sendFile(SendEntry entry, long receiverHas, byte[] receiverPrefixHash) throws IOException {
        MessageDigest digest = Digests.sha256();
        long start = 0;
        if (receiverHas > 0 && receiverHas <= entry.size()) {
            // Hash our own prefix; resume only if it is the same bytes the receiver holds.
            try (InputStream content = entry.content().open()) {
                hashPrefix(content, receiverHas, digest, entry.path());
            }
            if (Arrays.equals(cloneOf(digest).digest(), receiverPrefixHash)) {
                start = receiverHas;
            } else {
                digest.reset();
            }
        }
        InputStream content = entry.content().open();
        if (start > 0) {
            content.skipNBytes(start);
        }
        return sendFrom(entry, start, content, digest);
    }

    private FileOutcome sendFrom(SendEntry entry, long start, InputStream content, MessageDigest digest)
            throws IOException {
        try (content) {
            listener.fileStarted(entry.path(), entry.size(), start);
            out.writeLong(start);
            long remaining = entry.size() - start;
            while (remaining > 0) {
                int n;
                try {
                    n = content.read(buffer, 0, (int) Math.min(buffer.length, remaining));
                } catch (IOException e) {
                    throw new TransferException(TransferException.Kind.LOCAL_IO,
                            "cannot read " + entry.path() + ": " + e.getMessage(), e);
                }
                if (n < 0) {
                    throw new TransferException(TransferException.Kind.LOCAL_IO,
                            entry.path() + " shrank while it was being sent (" + remaining + " bytes missing)");
                }
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
                remaining -= n;
                listener.bytes(n);
            }
            byte[] hash = digest.digest();
            out.write(hash);
            out.flush();
            int status = in.readUnsignedByte();
            byte[] theirs = Wire.readHash(in);
            String failure = null;
            TransferException.Kind kind = null;
            if (status == TransferProtocol.RESULT_OK) {
                if (!Arrays.equals(hash, theirs)) {
                    failure = entry.path() + ": the receiver confirmed SHA-256 " + Wire.hex(theirs)
                            + " but the file has " + Wire.hex(hash);
                    kind = TransferException.Kind.HASH_MISMATCH;
                }
            } else {
                String reason = Wire.readString(in, TransferProtocol.MAX_REASON_BYTES, "reason");
                failure = entry.path() + ": " + reason;
                kind = status == TransferProtocol.RESULT_HASH_MISMATCH
                        ? TransferException.Kind.HASH_MISMATCH : TransferException.Kind.REFUSED;
            }
            listener.fileFinished(entry.path(), failure == null, failure == null ? Wire.hex(hash) : failure);
            return new FileOutcome(start, Wire.hex(hash), failure, kind);
        }
    }

    private void hashPrefix(InputStream content, long length, MessageDigest digest, String path) throws IOException {
        long remaining = length;
        while (remaining > 0) {
            int n = content.read(buffer, 0, (int) Math.min(buffer.length, remaining));
            if (n < 0) {
                throw new TransferException(TransferException.Kind.LOCAL_IO, path + " shrank while it was being read");
            }
            digest.update(buffer, 0, n);
            remaining -= n;
        }
    }

    private static MessageDigest cloneOf(MessageDigest digest) {
        try {
            return (MessageDigest) digest.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digest cannot be cloned", e);
        }
    }
}
