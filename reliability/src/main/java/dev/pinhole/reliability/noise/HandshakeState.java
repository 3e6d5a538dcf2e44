package dev.pinhole.reliability.noise;

import dev.pinhole.reliability.noise.HandshakePattern.Token;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A Noise HandshakeState (Noise revision 34, §5.3) for {@code Noise_<pattern>_25519_AESGCM_SHA256}:
 * one side of one handshake, initiator or responder.
 *
 * <p>Create it with {@link #initiator} or {@link #responder}, then alternate
 * {@link #writeMessage(byte[])} and {@link #readMessage(byte[])} as {@link #isMyTurnToWrite()} says
 * until {@link #isFinished()}, then {@link #split()} once for the transport's CipherStates.
 * {@link #handshakeHash()} is the §11.2 channel-binding value; {@link #remoteStaticKey()} is the
 * peer's identity once it has been received (or was known in advance).
 *
 * <p>Where it goes beyond §5.3, for a transport over datagrams:
 * <ul>
 *   <li>A message that fails to read (too short, too long, a tag that does not verify, a bad DH
 *       result) throws {@link NoiseException} and leaves the state exactly as it was before the call
 *       (§5.3 would abandon the handshake). A forged or damaged datagram can then be dropped while
 *       the genuine message, or its retransmission, still completes the handshake; an attacker
 *       gains nothing over starting a new handshake, since each attempt is an AEAD forgery against
 *       keys it cannot know.</li>
 *   <li>A message arriving out of turn is also a {@link NoiseException}: duplicates are the
 *       network's doing, not the caller's. Writing out of turn is a caller bug
 *       ({@link IllegalStateException}).</li>
 *   <li>Messages are at most 65535 bytes (§3): longer ones are refused on reading, and a payload that
 *       would make a longer one is refused on writing ({@link IllegalArgumentException}).</li>
 *   <li>If writing fails (the peer's known static key makes an all-zero DH), the handshake is dead
 *       and every later call throws {@link NoiseException}.</li>
 * </ul>
 *
 * <p>Not thread-safe; a handshake lives on one event loop.
 */
public final class HandshakeState {
    /** §3: every Noise message, handshake or transport, is at most 65535 bytes. */
    public static final int MAX_MESSAGE_LENGTH = 65535;

    private static final int DH_LENGTH = Dh25519.KEY_LENGTH;
    private static final byte[] EMPTY = new byte[0];

    private final HandshakePattern pattern;
    private final boolean initiator;
    private final SymmetricState symmetric;
    private final Dh25519 dh = new Dh25519();
    private final SecureRandom random;
    private final NoiseKeyPair s;
    private NoiseKeyPair e;
    private byte[] rs;
    private byte[] re;
    private final byte[] dhOutput = new byte[DH_LENGTH];
    private int messageIndex;
    private boolean failed;
    private boolean split;

    /**
     * Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) of §5.3, with no pre-known
     * remote ephemeral (none of our patterns has one). {@code e} is null except in test vectors;
     * then an ephemeral is generated from {@code random} when the pattern first writes {@code e}.
     */
    HandshakeState(HandshakePattern pattern, boolean initiator, byte[] prologue, NoiseKeyPair s,
                   NoiseKeyPair e, byte[] rs, SecureRandom random) {
        this.pattern = Objects.requireNonNull(pattern, "pattern");
        this.initiator = initiator;
        String side = initiator ? "initiator" : "responder";
        if (pattern.usesStatic(initiator) != (s != null)) {
            throw new IllegalArgumentException("the " + side + " of " + pattern
                    + (s == null ? " needs a static key" : " takes no static key"));
        }
        if (pattern.needsRemoteStaticInAdvance(initiator) != (rs != null)) {
            throw new IllegalArgumentException("the " + side + " of " + pattern
                    + (rs == null ? " needs the peer's static key" : " takes no peer static key in advance"));
        }
        if (rs != null) {
            Dh25519.checkLength(rs, "remote static key");
        }
        if (e == null && pattern.writesEphemeral(initiator)) {
            Objects.requireNonNull(random, "random");
        }
        this.s = s;
        this.e = e;
        this.rs = rs == null ? null : rs.clone();
        this.random = random;
        this.symmetric = new SymmetricState(pattern.protocolName());
        byte[] p = prologue == null ? EMPTY : prologue;
        symmetric.mixHash(p, 0, p.length);
        // §5.3: the initiator's pre-message keys are hashed first, then the responder's.
        mixPreMessage(pattern.preMessage(true), initiator);
        mixPreMessage(pattern.preMessage(false), !initiator);
    }

    /**
     * The initiator of a handshake.
     *
     * @param prologue data both sides must agree on, authenticated by the handshake (§6); may be
     *     null for none
     * @param localStatic this side's static key pair; null for patterns that send none (N, NN)
     * @param remoteStatic the responder's 32-byte public key for IK and N; null for XX and NN
     * @param random the source of the ephemeral key
     * @throws IllegalArgumentException if a key the pattern needs is missing, or one it does not use
     *     is given
     */
    public static HandshakeState initiator(HandshakePattern pattern, byte[] prologue, NoiseKeyPair localStatic,
                                           byte[] remoteStatic, SecureRandom random) {
        return new HandshakeState(pattern, true, prologue, localStatic, null, remoteStatic, random);
    }

    /**
     * The responder of a handshake; it learns the initiator's static key (if the pattern sends one)
     * from the messages it reads.
     *
     * @param prologue as for {@link #initiator}
     * @param localStatic this side's static key pair; null for NN
     * @param random the source of the ephemeral key
     * @throws IllegalArgumentException if the pattern needs a static key and none is given, or the
     *     other way round
     */
    public static HandshakeState responder(HandshakePattern pattern, byte[] prologue, NoiseKeyPair localStatic,
                                           SecureRandom random) {
        return new HandshakeState(pattern, false, prologue, localStatic, null, null, random);
    }

    private void mixPreMessage(List<Token> tokens, boolean own) {
        for (Token token : tokens) {
            if (token != Token.S) {
                throw new IllegalStateException("pre-message token " + token + " is not supported");
            }
            byte[] key = own ? s.publicKeyBytes() : rs;
            symmetric.mixHash(key, 0, DH_LENGTH);
        }
    }

    /** The pattern of this handshake. */
    public HandshakePattern pattern() {
        return pattern;
    }

    /** True for the initiator, false for the responder. */
    public boolean isInitiator() {
        return initiator;
    }

    /** True once every message of the pattern has been written or read. */
    public boolean isFinished() {
        return messageIndex == pattern.messages().size();
    }

    /** True if the next step is {@link #writeMessage}, false if it is {@link #readMessage} (or none). */
    public boolean isMyTurnToWrite() {
        return !isFinished() && (messageIndex % 2 == 0) == initiator;
    }

    /**
     * WriteMessage(payload): the next handshake message, carrying {@code payload} (encrypted once
     * the pattern has produced a key; in IK's and XX's first message it is sent in clear).
     *
     * @param payload may be null or empty
     * @return the message to send
     * @throws NoiseException if a DH result is all zeros; the handshake is then dead
     * @throws IllegalStateException if it is not this side's turn to write, or the handshake failed
     * @throws IllegalArgumentException if the message would exceed 65535 bytes
     */
    public byte[] writeMessage(byte[] payload) throws NoiseException {
        checkWritable();
        if (!isMyTurnToWrite()) {
            throw new IllegalStateException(isFinished() ? "the handshake is finished"
                    : "it is the peer's turn to write");
        }
        byte[] body = payload == null ? EMPTY : payload;
        List<Token> tokens = pattern.messages().get(messageIndex);
        int length = messageLength(tokens, body.length);
        if (length > MAX_MESSAGE_LENGTH) {
            throw new IllegalArgumentException("handshake message of " + length + " bytes exceeds "
                    + MAX_MESSAGE_LENGTH);
        }
        byte[] out = new byte[length];
        int pos = 0;
        try {
            for (Token token : tokens) {
                switch (token) {
                    case E:
                        if (e == null) {
                            e = NoiseKeyPair.generate(random, dh);
                        }
                        System.arraycopy(e.publicKeyBytes(), 0, out, pos, DH_LENGTH);
                        symmetric.mixHash(out, pos, DH_LENGTH);
                        pos += DH_LENGTH;
                        break;
                    case S:
                        pos += symmetric.encryptAndHash(s.publicKeyBytes(), 0, DH_LENGTH, out, pos);
                        break;
                    default:
                        mixDh(token);
                        break;
                }
            }
            pos += symmetric.encryptAndHash(body, 0, body.length, out, pos);
        } catch (NoiseException ex) {
            failed = true;
            throw ex;
        }
        if (pos != length) {
            throw new IllegalStateException("wrote " + pos + " bytes of a " + length + "-byte message");
        }
        messageIndex++;
        return out;
    }

    /** ReadMessage(message) of a whole array; see {@link #readMessage(byte[], int, int)}. */
    public byte[] readMessage(byte[] message) throws NoiseException {
        return readMessage(message, 0, message.length);
    }

    /**
     * ReadMessage(message): processes the peer's next handshake message and returns its payload.
     * On any failure the state is left as it was before the call.
     *
     * @throws NoiseException if it is not the peer's turn, the message is longer than 65535 bytes or
     *     shorter than its tokens need, a tag does not verify, a DH result is all zeros, or the
     *     handshake failed earlier
     */
    public byte[] readMessage(byte[] message, int offset, int length) throws NoiseException {
        return readMessage(message, offset, length, null);
    }

    /**
     * {@link #readMessage(byte[])} that also rolls back, exactly as for a message that fails to read, when
     * {@code acceptPayload} refuses the authenticated payload: for a caller that must check the payload
     * against data outside the message (a datagram's clear fields) and keep waiting for the genuine one if it
     * does not match.
     */
    public byte[] readMessage(byte[] message, Predicate<byte[]> acceptPayload) throws NoiseException {
        return readMessage(message, 0, message.length, acceptPayload);
    }

    private byte[] readMessage(byte[] message, int offset, int length, Predicate<byte[]> acceptPayload)
            throws NoiseException {
        Objects.checkFromIndexSize(offset, length, message.length);
        if (failed) {
            throw new NoiseException("the handshake failed earlier");
        }
        if (isFinished() || isMyTurnToWrite()) {
            throw new NoiseException("unexpected handshake message: "
                    + (isFinished() ? "the handshake is finished" : "it is our turn to write"));
        }
        if (length > MAX_MESSAGE_LENGTH) {
            throw new NoiseException("handshake message of " + length + " bytes exceeds " + MAX_MESSAGE_LENGTH);
        }
        byte[] savedRe = re;
        byte[] savedRs = rs;
        symmetric.checkpoint();
        try {
            int pos = offset;
            int end = offset + length;
            for (Token token : pattern.messages().get(messageIndex)) {
                switch (token) {
                    case E:
                        need(end - pos, DH_LENGTH, "ephemeral key");
                        re = Arrays.copyOfRange(message, pos, pos + DH_LENGTH);
                        symmetric.mixHash(message, pos, DH_LENGTH);
                        pos += DH_LENGTH;
                        break;
                    case S:
                        int n = DH_LENGTH + (symmetric.hasKey() ? CipherState.TAG_LENGTH : 0);
                        need(end - pos, n, "static key");
                        byte[] key = new byte[DH_LENGTH];
                        symmetric.decryptAndHash(message, pos, n, key, 0);
                        rs = key;
                        pos += n;
                        break;
                    default:
                        mixDh(token);
                        break;
                }
            }
            int rest = end - pos;
            int tag = symmetric.hasKey() ? CipherState.TAG_LENGTH : 0;
            need(rest, tag, "payload tag");
            byte[] payload = new byte[rest - tag];
            symmetric.decryptAndHash(message, pos, rest, payload, 0);
            if (acceptPayload != null && !acceptPayload.test(payload)) {
                throw new NoiseException("the payload was refused");
            }
            messageIndex++;
            return payload;
        } catch (NoiseException ex) {
            symmetric.rollback();
            re = savedRe;
            rs = savedRs;
            throw ex;
        } finally {
            symmetric.discardCheckpoint();
        }
    }

    /**
     * Split(): the transport's CipherStates, already assigned to this side's sending and receiving
     * direction. Only once, after the last message; the handshake's chaining key is wiped.
     *
     * @throws IllegalStateException if the handshake is not finished or was split already
     */
    public CipherStatePair split() {
        if (!isFinished() || failed) {
            throw new IllegalStateException("split before the handshake finished");
        }
        if (split) {
            throw new IllegalStateException("the handshake was split already");
        }
        split = true;
        CipherState[] c = symmetric.split();
        return initiator ? new CipherStatePair(c[0], c[1]) : new CipherStatePair(c[1], c[0]);
    }

    /**
     * Split() as raw keys for a transport with its own packet protection: {@code [0]} is the key this
     * side sends with, {@code [1]} the one it receives with (initiator: k1, k2; responder: k2, k1). Only
     * once, after the last message; the chaining key is wiped. The caller wipes the arrays after use.
     *
     * @throws IllegalStateException if the handshake is not finished or was split already
     */
    public byte[][] splitKeys() {
        if (!isFinished() || failed) {
            throw new IllegalStateException("split before the handshake finished");
        }
        if (split) {
            throw new IllegalStateException("the handshake was split already");
        }
        split = true;
        byte[][] k = symmetric.splitKeys();
        return initiator ? k : new byte[][] {k[1], k[0]};
    }

    /**
     * Generates the ephemeral key the next {@code e} token writes, if none exists yet, so that an
     * {@link #exportResponder() export} before the message holds it: a stateless server exports the state
     * before writing its message and, restored, writes exactly the same message again.
     */
    public void prepareEphemeral() {
        if (e == null) {
            e = NoiseKeyPair.generate(random, dh);
        }
    }

    /**
     * The whole state of a responder between two messages, for a server that keeps no state between
     * its reply and the initiator's next packet: it seals this into its cookie (encrypted and
     * authenticated under a key only it knows) and {@link #restoreResponder restores} it from the cookie
     * the initiator returns. The snapshot holds secrets (the chaining key, the ephemeral private key):
     * never send it unencrypted.
     *
     * @throws IllegalStateException for an initiator, a failed or split handshake, or an ephemeral
     *     without its raw private key
     */
    public byte[] exportResponder() {
        if (initiator || failed || split) {
            throw new IllegalStateException("only a live responder can be exported: " + this);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(SNAPSHOT_MAX_LENGTH);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(pattern.ordinal());
            out.writeByte(messageIndex);
            symmetric.export(out);
            writeOptional(out, e == null ? null : e.privateKey());
            writeOptional(out, re);
            writeOptional(out, rs);
        } catch (IOException ex) {
            throw new IllegalStateException("writing to memory failed", ex);
        }
        return bytes.toByteArray();
    }

    /** The longest {@link #exportResponder()} result: 2 + 32 + 32 + 1 + 40 + 3 * 33 bytes. */
    public static final int SNAPSHOT_MAX_LENGTH = 2 + 64 + 1 + 40 + 3 * 33;

    /**
     * The responder {@link #exportResponder()} captured, with this side's static key (which the
     * snapshot does not hold). {@code random} is for an ephemeral not yet generated (may be null when
     * the responder already wrote its {@code e}).
     *
     * @throws NoiseException if the snapshot is malformed (it came from our own cookie, so only a bug or a
     *     changed key makes it so)
     */
    public static HandshakeState restoreResponder(byte[] snapshot, NoiseKeyPair localStatic, SecureRandom random)
            throws NoiseException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
            int ordinal = in.readUnsignedByte();
            HandshakePattern[] patterns = HandshakePattern.values();
            if (ordinal >= patterns.length) {
                throw new NoiseException("snapshot names no pattern");
            }
            HandshakePattern pattern = patterns[ordinal];
            HandshakeState state = new HandshakeState(pattern, pattern.usesStatic(false) ? localStatic : null, random);
            state.messageIndex = in.readUnsignedByte();
            if (state.messageIndex > pattern.messages().size()) {
                throw new NoiseException("snapshot past the pattern's last message");
            }
            state.symmetric.restore(in);
            byte[] ephemeral = readOptional(in);
            state.e = ephemeral == null ? null : NoiseKeyPair.fromPrivateKey(ephemeral);
            state.re = readOptional(in);
            state.rs = readOptional(in);
            if (in.available() != 0) {
                throw new NoiseException("snapshot has trailing bytes");
            }
            return state;
        } catch (IOException ex) {
            throw new NoiseException("snapshot truncated");
        }
    }

    /** A responder to be filled from a snapshot: no prologue or pre-message is mixed here. */
    private HandshakeState(HandshakePattern pattern, NoiseKeyPair s, SecureRandom random) {
        this.pattern = pattern;
        this.initiator = false;
        this.s = s;
        this.random = random;
        this.symmetric = new SymmetricState(pattern.protocolName());
    }

    private static void writeOptional(DataOutputStream out, byte[] key) throws IOException {
        out.writeBoolean(key != null);
        if (key != null) {
            out.write(key);
        }
    }

    private static byte[] readOptional(DataInputStream in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        byte[] key = new byte[DH_LENGTH];
        in.readFully(key);
        return key;
    }

    /**
     * GetHandshakeHash(): {@code h}, which both sides share once the handshake is finished; a
     * channel-binding value (§11.2) that signatures or higher-level checks can cover.
     */
    public byte[] handshakeHash() {
        return symmetric.handshakeHash();
    }

    /** The peer's 32-byte static public key, or null while it is not known (XX before its message). */
    public byte[] remoteStaticKey() {
        return rs == null ? null : rs.clone();
    }

    private void mixDh(Token token) throws NoiseException {
        switch (token) {
            case EE:
                dh.dh(e.jdkPrivateKey(), re, dhOutput);
                break;
            case ES:
                // "es": the initiator's ephemeral with the responder's static.
                if (initiator) {
                    dh.dh(e.jdkPrivateKey(), rs, dhOutput);
                } else {
                    dh.dh(s.jdkPrivateKey(), re, dhOutput);
                }
                break;
            case SE:
                // "se": the initiator's static with the responder's ephemeral.
                if (initiator) {
                    dh.dh(s.jdkPrivateKey(), re, dhOutput);
                } else {
                    dh.dh(e.jdkPrivateKey(), rs, dhOutput);
                }
                break;
            case SS:
                dh.dh(s.jdkPrivateKey(), rs, dhOutput);
                break;
            default:
                throw new IllegalStateException("not a DH token: " + token);
        }
        symmetric.mixKey(dhOutput);
        Arrays.fill(dhOutput, (byte) 0);
    }

    /** The length of the message the writer produces for {@code tokens}, tracking when a key appears. */
    private int messageLength(List<Token> tokens, int payloadLength) {
        boolean hasKey = symmetric.hasKey();
        int length = 0;
        for (Token token : tokens) {
            if (token == Token.E) {
                length += DH_LENGTH;
            } else if (token == Token.S) {
                length += DH_LENGTH + (hasKey ? CipherState.TAG_LENGTH : 0);
            } else {
                hasKey = true;
            }
        }
        return length + payloadLength + (hasKey ? CipherState.TAG_LENGTH : 0);
    }

    private void checkWritable() throws NoiseException {
        if (failed) {
            throw new NoiseException("the handshake failed earlier");
        }
        if (split) {
            throw new IllegalStateException("the handshake was split; use its CipherStates");
        }
    }

    private static void need(int available, int needed, String what) throws NoiseException {
        if (available < needed) {
            throw new NoiseException("handshake message too short for its " + what + ": " + available
                    + " bytes left, " + needed + " needed");
        }
    }

    @Override
    public String toString() {
        return "HandshakeState[" + pattern.protocolName() + ", " + (initiator ? "initiator" : "responder")
                + ", message " + messageIndex + "/" + pattern.messages().size() + (failed ? ", failed" : "") + "]";
    }
}
