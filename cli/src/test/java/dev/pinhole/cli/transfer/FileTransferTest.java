package dev.pinhole.cli.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transfer protocol between a real sender and receiver over a loopback TCP stream. */
class FileTransferTest {
    private static final long SEED = 0x5EED_F11EL;

    @TempDir
    Path src;
    @TempDir
    Path dst;

    private ExecutorService executor;

    @BeforeEach
    void start() {
        executor = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    /** Two ends of one loopback stream. */
    private record Pipe(Socket a, Socket b) implements AutoCloseable {
        static Pipe open() throws IOException {
            try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                Socket a = new Socket();
                a.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()));
                return new Pipe(a, server.accept());
            }
        }

        @Override
        public void close() throws IOException {
            a.close();
            b.close();
        }
    }

    private Future<TransferSummary> receiveAsync(Pipe pipe, boolean overwrite) throws IOException {
        FileReceiver receiver = new FileReceiver(dst, overwrite);
        return executor.submit(() -> {
            try {
                return receiver.receive(pipe.b().getInputStream(), pipe.b().getOutputStream(), TransferListener.NONE);
            } finally {
                pipe.b().close();
            }
        });
    }

    private TransferSummary send(Pipe pipe, List<SendEntry> entries) throws IOException {
        return send(pipe, entries, pipe.a().getOutputStream());
    }

    private TransferSummary send(Pipe pipe, List<SendEntry> entries, OutputStream out) throws IOException {
        try {
            return new FileSender(pipe.a().getInputStream(), out, TransferListener.NONE).send(entries);
        } finally {
            pipe.a().close();
        }
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    private static TransferException receiverFailure(Future<TransferSummary> future) throws InterruptedException {
        ExecutionException e = assertThrows(ExecutionException.class, future::get, "the receiver should have failed");
        assertTrue(e.getCause() instanceof TransferException, "expected a TransferException, got " + e.getCause());
        return (TransferException) e.getCause();
    }

    @Test
    void singleFileArrivesUnderItsNameWithTheSendersHash() throws Exception {
        byte[] content = randomBytes(1_000_003, SEED);
        Path file = Files.write(src.resolve("data.bin"), content);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(file));
            TransferSummary got = received.get();
            assertArrayEquals(content, Files.readAllBytes(dst.resolve("data.bin")), "received bytes differ");
            assertEquals(sent.sha256(), got.sha256(), "both sides report the same SHA-256");
            assertEquals(content.length, sent.bytes(), "bytes sent");
            assertEquals(content.length, sent.bytesOnWire(), "bytes on the wire without resume");
            assertFalse(Files.exists(dst.resolve(TransferProtocol.partialName("data.bin"))), "partial file left behind");
        }
    }

    @Test
    void directoryTreeArrivesWithEmptyFilesAndEmptyDirectories() throws Exception {
        Path root = Files.createDirectories(src.resolve("photos"));
        Files.createDirectories(root.resolve("empty-dir"));
        Files.createDirectories(root.resolve("2026/11"));
        Files.write(root.resolve("2026/11/a.jpg"), randomBytes(70_000, SEED + 1));
        Files.write(root.resolve("b.txt"), "hello".getBytes(StandardCharsets.UTF_8));
        Files.write(root.resolve("empty.txt"), new byte[0]);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(root));
            TransferSummary got = received.get();
            assertEquals(3, got.files().size(), "files received: " + got.files());
            assertEquals(sent.sha256(), got.sha256(), "manifest hash agrees");
            assertArrayEquals(Files.readAllBytes(root.resolve("2026/11/a.jpg")),
                    Files.readAllBytes(dst.resolve("photos/2026/11/a.jpg")), "nested file content");
            assertEquals("hello", Files.readString(dst.resolve("photos/b.txt")), "small file content");
            assertEquals(0, Files.size(dst.resolve("photos/empty.txt")), "empty file size");
            assertTrue(Files.isDirectory(dst.resolve("photos/empty-dir")), "empty directory created");
        }
    }

    @Test
    void emptyFileIsTransferredAndVerified() throws Exception {
        Path file = Files.write(src.resolve("nothing"), new byte[0]);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(file));
            received.get();
            assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sent.sha256(),
                    "SHA-256 of no bytes");
            assertTrue(Files.isRegularFile(dst.resolve("nothing")), "empty file exists");
        }
    }

    @Test
    void pathsThatLeaveTheOutputDirectoryAreRefused() throws Exception {
        for (String bad : List.of("../evil", "/etc/evil", "a/../../evil", "a//b", "./x", "a\\..\\b", "",
                "x/.y" + TransferProtocol.PARTIAL_SUFFIX, "C:evil")) {
            try (Pipe pipe = Pipe.open()) {
                Future<TransferSummary> received = receiveAsync(pipe, false);
                SendEntry entry = SendEntry.file(bad, 4, () -> new ByteArrayInputStream(new byte[4]));
                TransferException sent = assertThrows(TransferException.class, () -> send(pipe, List.of(entry)),
                        "sender should learn that \"" + bad + "\" was refused");
                assertEquals(TransferException.Kind.REFUSED, sent.kind(), "sender's failure kind for " + bad);
                TransferException got = receiverFailure(received);
                assertEquals(TransferException.Kind.PROTOCOL, got.kind(), "receiver's failure kind for " + bad);
            }
        }
        try (Stream<Path> left = Files.walk(dst.getParent())) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains("evil")), "no evil file written");
        }
    }

    @Test
    void symbolicLinkInTheOutputDirectoryCannotLeadOutOfIt() throws Exception {
        Path outside = Files.createDirectories(src.resolve("outside"));
        Files.createSymbolicLink(dst.resolve("link"), outside);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            SendEntry entry = SendEntry.file("link/new-dir/evil", 3, () -> new ByteArrayInputStream(new byte[3]));
            TransferException e = assertThrows(TransferException.class, () -> send(pipe, List.of(entry)),
                    "a path through a link out of the output directory must be refused");
            assertEquals(TransferException.Kind.REFUSED, e.kind(), "sender's failure kind: " + e.getMessage());
            assertEquals(TransferException.Kind.PROTOCOL, receiverFailure(received).kind(), "receiver's kind");
        }
        try (Stream<Path> left = Files.list(outside)) {
            assertEquals(0, left.count(), "nothing created outside the output directory");
        }
    }

    @Test
    void corruptedDataLeavesNeitherTheFinalFileNorAPartialOne() throws Exception {
        byte[] content = randomBytes(300_000, SEED + 2);
        Path file = Files.write(src.resolve("c.bin"), content);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            OutputStream flipping = new ByteFlipper(pipe.a().getOutputStream(), 200_000);
            TransferException e = assertThrows(TransferException.class,
                    () -> send(pipe, SendEntry.fromPath(file), flipping), "a corrupted file must not verify");
            assertEquals(TransferException.Kind.HASH_MISMATCH, e.kind(), "failure kind: " + e.getMessage());
            assertEquals(TransferException.Kind.HASH_MISMATCH, receiverFailure(received).kind(),
                    "the receiver verified nothing, so it fails too");
            assertFalse(Files.exists(dst.resolve("c.bin")), "final file must not exist after a mismatch");
            assertFalse(Files.exists(dst.resolve(TransferProtocol.partialName("c.bin"))), "corrupt partial kept");
        }
    }

    @Test
    void resumeSendsOnlyWhatThePartialFileLacks() throws Exception {
        byte[] content = randomBytes(500_000, SEED + 3);
        Path file = Files.write(src.resolve("big.bin"), content);
        Files.write(dst.resolve(TransferProtocol.partialName("big.bin")), java.util.Arrays.copyOf(content, 123_457));
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(file));
            received.get();
            assertEquals(content.length - 123_457, sent.bytesOnWire(), "bytes on the wire after resuming");
            assertEquals(123_457, sent.files().get(0).resumedFrom(), "resume offset");
            assertArrayEquals(content, Files.readAllBytes(dst.resolve("big.bin")), "resumed file content");
        }
    }

    @Test
    void partialFileWithDifferentBytesIsRestartedFromZero() throws Exception {
        byte[] content = randomBytes(200_000, SEED + 4);
        Path file = Files.write(src.resolve("f.bin"), content);
        Files.write(dst.resolve(TransferProtocol.partialName("f.bin")), randomBytes(50_000, SEED + 5));
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(file));
            received.get();
            assertEquals(content.length, sent.bytesOnWire(), "a foreign prefix must be resent in full");
            assertArrayEquals(content, Files.readAllBytes(dst.resolve("f.bin")), "restarted file content");
        }
    }

    @Test
    void interruptedTransferKeepsOnlyAPartialFileThatTheNextSendResumes() throws Exception {
        byte[] content = randomBytes(400_000, SEED + 6);
        Path file = Files.write(src.resolve("i.bin"), content);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            OutputStream cut = new Cutter(pipe.a().getOutputStream(), 250_000);
            TransferException e = assertThrows(TransferException.class,
                    () -> send(pipe, SendEntry.fromPath(file), cut), "a cut stream fails the sender");
            assertEquals(TransferException.Kind.INTERRUPTED, e.kind(), "sender failure kind: " + e.getMessage());
            assertEquals(TransferException.Kind.INTERRUPTED, receiverFailure(received).kind(), "receiver kind");
        }
        assertFalse(Files.exists(dst.resolve("i.bin")), "no final file after an interruption");
        long partial = Files.size(dst.resolve(TransferProtocol.partialName("i.bin")));
        assertTrue(partial > 0 && partial < content.length, "partial size " + partial);
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferSummary sent = send(pipe, SendEntry.fromPath(file));
            received.get();
            assertEquals(content.length - partial, sent.bytesOnWire(), "resumed bytes on the wire");
            assertArrayEquals(content, Files.readAllBytes(dst.resolve("i.bin")), "resumed content");
        }
    }

    @Test
    void existingFileIsNotOverwrittenUnlessAllowed() throws Exception {
        Path file = Files.write(src.resolve("keep.txt"), "new".getBytes(StandardCharsets.UTF_8));
        Files.writeString(dst.resolve("keep.txt"), "old");
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            TransferException e = assertThrows(TransferException.class, () -> send(pipe, SendEntry.fromPath(file)),
                    "sending onto an existing file must fail");
            assertEquals(TransferException.Kind.REFUSED, e.kind(), "failure kind: " + e.getMessage());
            assertTrue(e.getMessage().contains("--overwrite"), "message names the option: " + e.getMessage());
            assertEquals(TransferException.Kind.REFUSED, receiverFailure(received).kind(),
                    "the receiver refused the only file, so it fails too");
        }
        assertEquals("old", Files.readString(dst.resolve("keep.txt")), "existing file untouched");
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, true);
            send(pipe, SendEntry.fromPath(file));
            received.get();
        }
        assertEquals("new", Files.readString(dst.resolve("keep.txt")), "overwritten with --overwrite");
    }

    @Test
    void garbageInsteadOfAGreetingIsAProtocolError() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            // Buffered: one write at flush, before the receiver can fail and close its end.
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(pipe.a().getOutputStream()));
            out.writeBytes("GET / HTTP/1.1\r\n\r\n");
            out.flush();
            assertEquals(TransferException.Kind.PROTOCOL, receiverFailure(received).kind(), "kind for garbage");
        }
    }

    @Test
    void oversizedPathLengthIsRejectedBeforeReadingIt() throws Exception {
        try (Pipe pipe = Pipe.open()) {
            Future<TransferSummary> received = receiveAsync(pipe, false);
            // Buffered: one write at flush, before the receiver can fail and close its end.
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(pipe.a().getOutputStream()));
            out.writeInt(TransferProtocol.MAGIC);
            out.writeByte(TransferProtocol.VERSION);
            out.writeInt(1);
            out.writeLong(1);
            out.writeByte(TransferProtocol.KIND_FILE);
            out.writeShort(65_000);
            out.flush();
            TransferException e = receiverFailure(received);
            assertEquals(TransferException.Kind.PROTOCOL, e.kind(), "kind: " + e.getMessage());
        }
    }

    /** Flips one byte at a position of the stream. */
    private static final class ByteFlipper extends FilterOutputStream {
        private final long position;
        private long written;

        ByteFlipper(OutputStream out, long position) {
            super(out);
            this.position = position;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(written++ == position ? b ^ 0x5A : b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }
    }

    /** Breaks the connection once a number of bytes went through. */
    private static final class Cutter extends FilterOutputStream {
        private long left;

        Cutter(OutputStream out, long limit) {
            super(out);
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int n = (int) Math.min(len, left);
            out.write(b, off, n);
            left -= n;
            if (n < len) {
                out.close();
                throw new IOException("connection cut by the test");
            }
        }
    }

}
