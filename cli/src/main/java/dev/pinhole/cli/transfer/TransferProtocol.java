package dev.pinhole.cli.transfer;

/**
 * The file transfer protocol of {@code pinhole send} and {@code pinhole receive}, spoken over one
 * reliable, ordered, bidirectional byte stream (a Pinhole connection; in tests any stream pair).
 * All integers are unsigned and big-endian (network byte order); strings are UTF-8 with a u16 length.
 *
 * <pre>
 * sender -> receiver                          receiver -> sender
 * HELLO    magic u32 "PHFT", version u8,
 *          entryCount u32, totalBytes u64
 *                                             HELLO_ACK magic u32, version u8
 * ENTRY    kind u8 (1 file, 2 directory),
 *          path str, size u64 (files only)
 *                                             REPLY     status u8, [file, status ACCEPT:]
 *                                                       haveBytes u64, prefixSha256 [32] (haveBytes &gt; 0)
 *                                                       [status != ACCEPT:] reason str
 * (file, ACCEPT:)
 * DATA     startOffset u64, (size - startOffset) bytes, sha256 [32] of the whole file
 *                                             RESULT    status u8, sha256 [32] of what it wrote,
 *                                                       [status != OK:] reason str
 * ... further ENTRY ...
 * END      kind u8 = 0
 *                                             END_ACK   status u8 = 0
 * </pre>
 *
 * <p>Paths are relative, '/'-separated, without empty, "." or ".." segments; the receiver rejects
 * anything else (and then ends the session: a sender that sends such a path is not trusted further).
 * The receiver writes a file to {@code .NAME.pinhole-partial} next to its final name and renames it
 * only after the SHA-256 it computed equals the sender's; a mismatch deletes the partial file.
 *
 * <p><b>Resume.</b> If a partial file exists, REPLY carries its length and the SHA-256 of its bytes;
 * the sender hashes its own first {@code haveBytes} bytes and, if they match, sends DATA from there
 * ({@code startOffset = haveBytes}), else from 0 (and the receiver truncates). The receiver keeps a
 * partial file when the stream ends mid-file, so the next {@code send} continues it.
 */
public final class TransferProtocol {
    /** "PHFT": Pinhole file transfer. */
    public static final int MAGIC = 0x50484654;
    public static final int VERSION = 1;

    public static final int KIND_END = 0;
    public static final int KIND_FILE = 1;
    public static final int KIND_DIRECTORY = 2;

    public static final int REPLY_ACCEPT = 0;
    public static final int REPLY_EXISTS = 1;
    public static final int REPLY_REJECTED = 2;

    public static final int RESULT_OK = 0;
    public static final int RESULT_HASH_MISMATCH = 1;
    public static final int RESULT_WRITE_FAILED = 2;

    public static final int SHA256_LENGTH_BYTES = 32;
    /** Longest path accepted, in UTF-8 bytes (Linux PATH_MAX). */
    public static final int MAX_PATH_BYTES = 4096;
    /** Longest reason string accepted. */
    public static final int MAX_REASON_BYTES = 1024;
    /** Most entries in one session: bounds what a sender can make the receiver do. */
    public static final long MAX_ENTRIES = 1_000_000;
    /** Suffix of the temporary name a file is written under until its hash is verified. */
    public static final String PARTIAL_SUFFIX = ".pinhole-partial";

    static final int COPY_BUFFER_BYTES = 64 * 1024;

    private TransferProtocol() {
    }

    /** The temporary name for a final file name. */
    public static String partialName(String fileName) {
        return "." + fileName + PARTIAL_SUFFIX;
    }
}
