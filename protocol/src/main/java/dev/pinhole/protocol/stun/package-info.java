/**
 * STUN (RFC 8489) for Pinhole: codec, client transactions and a Binding responder with the RFC 5780
 * behaviour-discovery extensions.
 *
 * <h2>Codec</h2>
 * {@link dev.pinhole.protocol.stun.StunReader} and {@link dev.pinhole.protocol.stun.StunWriter} are
 * reusable flyweights over netty {@code ByteBuf}s (layout in {@link dev.pinhole.protocol.stun.StunHeader}).
 * The reader validates a datagram once and answers with a {@link dev.pinhole.protocol.stun.StunParseResult}
 * instead of throwing, so the event loop counts and drops bad input cheaply; parsing and FINGERPRINT
 * checking allocate nothing. MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 use a
 * {@link dev.pinhole.protocol.stun.StunKey}: the password for short-term credentials, MD5 (or SHA-256) of
 * {@code username:realm:password} for long-term ones. Attribute types are in
 * {@link dev.pinhole.protocol.stun.StunAttributeType}; Pinhole's own attributes use the
 * comprehension-optional range 0x8000–0xFFFF through the generic byte and address methods.
 *
 * <h2>Client</h2>
 * {@link dev.pinhole.protocol.stun.StunClient} runs concurrent transactions on one
 * {@link dev.pinhole.core.net.DatagramEndpoint} with RFC 8489 §6.2.1 retransmissions
 * ({@link dev.pinhole.protocol.stun.StunTransactionConfig}); the node's demultiplexer hands it STUN
 * datagrams through {@link dev.pinhole.protocol.stun.StunClient#handle}. Responses are matched by
 * transaction id whatever their source. {@link dev.pinhole.protocol.stun.StunClient#binding} wraps a
 * Binding transaction in a future of {@link dev.pinhole.protocol.stun.BindingOutcome}.
 *
 * <h2>Server</h2>
 * {@link dev.pinhole.server.stun.StunBindingServer} answers Binding requests on one endpoint, or on
 * four (two IPs × two ports) with CHANGE-REQUEST, OTHER-ADDRESS, RESPONSE-ORIGIN and RESPONSE-PORT
 * (RFC 5780 §6, §7). Its responses stay within three times the request's size beyond the answer any
 * STUN server gives, so it is a poor amplifier.
 */
package dev.pinhole.protocol.stun;
