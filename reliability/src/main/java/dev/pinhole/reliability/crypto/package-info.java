/**
 * Packet protection of the transport after the handshake, after QUIC's (RFC 9001 §5, §6) with
 * AEAD_AES_256_GCM (RFC 5116): {@link dev.pinhole.reliability.crypto.PacketSealer} seals what one side
 * sends, {@link dev.pinhole.reliability.crypto.PacketOpener} opens what it receives, both in place on the
 * packet's Netty buffer, with header protection and key updates;
 * {@link dev.pinhole.reliability.crypto.PacketProtection} holds the shared constants, result codes and
 * factories. Design, limits and measured cost: docs/decisions/0011-packet-protection.md.
 */
package dev.pinhole.reliability.crypto;
