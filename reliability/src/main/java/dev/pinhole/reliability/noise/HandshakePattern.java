package dev.pinhole.reliability.noise;

import java.util.List;

/**
 * The Noise handshake patterns this package runs (Noise revision 34, §7): their pre-messages and
 * message token sequences, exactly as §7.4 and §7.5 write them.
 *
 * <ul>
 *   <li>{@link #IK}: the initiator knows the responder's static key in advance and sends its own,
 *       encrypted, in the first message; one round trip. Pinhole's choice when the peer's key is
 *       known (from an invitation, a pinned key or a previous session).</li>
 *   <li>{@link #XX}: both statics are transmitted, encrypted; a round trip and a half. For a first
 *       contact, when the responder's key is not known yet.</li>
 *   <li>{@link #NN} and {@link #N}: no authentication at all, and one-way; present because the
 *       published test vectors exercise the core rules through them cheaply.</li>
 * </ul>
 */
public enum HandshakePattern {
    /** {@code <- s / ... / -> e, es}: one-way, to a known responder key (§7.4). */
    N(List.of(), List.of(Token.S), List.of(
            List.of(Token.E, Token.ES))),
    /** {@code -> e / <- e, ee} (§7.5). */
    NN(List.of(), List.of(), List.of(
            List.of(Token.E),
            List.of(Token.E, Token.EE))),
    /** {@code -> e / <- e, ee, s, es / -> s, se} (§7.5). */
    XX(List.of(), List.of(), List.of(
            List.of(Token.E),
            List.of(Token.E, Token.EE, Token.S, Token.ES),
            List.of(Token.S, Token.SE))),
    /** {@code <- s / ... / -> e, es, s, ss / <- e, ee, se} (§7.5). */
    IK(List.of(), List.of(Token.S), List.of(
            List.of(Token.E, Token.ES, Token.S, Token.SS),
            List.of(Token.E, Token.EE, Token.SE)));

    /** The tokens of §7.1. */
    enum Token { E, S, EE, ES, SE, SS }

    private final List<Token> initiatorPreMessage;
    private final List<Token> responderPreMessage;
    private final List<List<Token>> messages;

    HandshakePattern(List<Token> initiatorPreMessage, List<Token> responderPreMessage,
                     List<List<Token>> messages) {
        this.initiatorPreMessage = initiatorPreMessage;
        this.responderPreMessage = responderPreMessage;
        this.messages = messages;
    }

    /** The name in protocol names, e.g. {@code Noise_IK_25519_AESGCM_SHA256} (§8). */
    String protocolName() {
        return "Noise_" + name() + "_25519_AESGCM_SHA256";
    }

    List<Token> preMessage(boolean ofInitiator) {
        return ofInitiator ? initiatorPreMessage : responderPreMessage;
    }

    List<List<Token>> messages() {
        return messages;
    }

    /** One-way patterns have a single message and carry transport data in one direction (§7.4). */
    boolean isOneWay() {
        return messages.size() == 1;
    }

    /** Whether the initiator's (or else the responder's) side uses its own static key. */
    boolean usesStatic(boolean initiator) {
        if (preMessage(initiator).contains(Token.S)) {
            return true;
        }
        for (int i = initiator ? 0 : 1; i < messages.size(); i += 2) {
            if (messages.get(i).contains(Token.S)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the initiator's (or else the responder's) side sends an ephemeral key. */
    boolean writesEphemeral(boolean initiator) {
        for (int i = initiator ? 0 : 1; i < messages.size(); i += 2) {
            if (messages.get(i).contains(Token.E)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the initiator (or else the responder) must know the peer's static key beforehand. */
    boolean needsRemoteStaticInAdvance(boolean initiator) {
        return preMessage(!initiator).contains(Token.S);
    }
}
