package dev.pinhole.reliability.wire;

import io.netty.buffer.ByteBuf;

/**
 * Flyweight over the clear prefix of a CONFIRM packet ({@link PacketHeader#TYPE_CONFIRM}): what a stateless
 * server needs to create its connection before it can open the packet.
 *
 * <pre>
 * CONFIRM packet {
 *   Header (13 bytes, type CONFIRM),
 *   Cookie Length (i), Cookie (..),                 -- the server's, from HELLO_REPLY, returned as is
 *   Noise Message Length (i), Noise Message (..),   -- the initiator's last handshake message (XX), or empty (IK)
 *   Protected Payload (..), Tag (128)               -- frames, sealed with the header and this prefix as AAD
 * }
 * </pre>
 *
 * The prefix is authenticated (it is part of the associated data), not encrypted: the cookie is already
 * sealed by the server, and the Noise message encrypts what it carries.
 *
 * <p>Create one, then {@link #parse} it over each packet; no allocation per packet.
 */
public final class ConfirmPrefix {
    private int cookieOffset;
    private int cookieLength;
    private int messageOffset;
    private int messageLength;
    private int end;

    /** Appends the prefix after a header. */
    public static void write(ByteBuf out, byte[] cookie, byte[] noiseMessage) {
        Frames.checkLength(cookie.length, Frames.MAX_COOKIE_LENGTH, "cookie");
        Frames.checkLength(noiseMessage.length, Frames.MAX_NOISE_MESSAGE_LENGTH, "Noise message");
        VarInt.write(out, cookie.length);
        out.writeBytes(cookie);
        VarInt.write(out, noiseMessage.length);
        out.writeBytes(noiseMessage);
    }

    /** The length {@link #write} appends. */
    public static int length(byte[] cookie, byte[] noiseMessage) {
        return VarInt.length(cookie.length) + cookie.length + VarInt.length(noiseMessage.length) + noiseMessage.length;
    }

    /**
     * Parses the prefix after the header of the packet at {@code packet}'s reader index, without moving its
     * indices. Returns false (and the fields are unspecified) if it is truncated or over-long.
     */
    public boolean parse(ByteBuf packet) {
        final int readerIndex = packet.readerIndex();
        packet.readerIndex(readerIndex + PacketHeader.HEADER_LENGTH);
        try {
            final int writerIndex = packet.writerIndex();
            cookieOffset = FrameReader.lengthPrefixed(packet, writerIndex, Frames.MAX_COOKIE_LENGTH);
            if (cookieOffset < 0) {
                return false;
            }
            cookieLength = packet.readerIndex() - cookieOffset;
            messageOffset = FrameReader.lengthPrefixed(packet, writerIndex, Frames.MAX_NOISE_MESSAGE_LENGTH);
            if (messageOffset < 0) {
                return false;
            }
            messageLength = packet.readerIndex() - messageOffset;
            end = packet.readerIndex();
            return true;
        } finally {
            packet.readerIndex(readerIndex);
        }
    }

    /** The header and the prefix together: the "header length" the packet is sealed and opened with. */
    public int protectedHeaderLength(ByteBuf packet) {
        return end - packet.readerIndex();
    }

    /** The cookie, copied out. */
    public byte[] cookie(ByteBuf packet) {
        byte[] cookie = new byte[cookieLength];
        packet.getBytes(cookieOffset, cookie);
        return cookie;
    }

    /** The Noise message, copied out (empty for IK). */
    public byte[] noiseMessage(ByteBuf packet) {
        byte[] message = new byte[messageLength];
        packet.getBytes(messageOffset, message);
        return message;
    }
}
