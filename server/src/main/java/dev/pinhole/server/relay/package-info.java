/**
 * Pinhole's built-in relay: {@link dev.pinhole.server.relay.TurnServer}, a minimal TURN server
 * (RFC 8656, UDP only) that speaks the subset Pinhole's own TURN client uses, so the same client
 * reaches the built-in relay and coturn. Credentials come from a
 * {@link dev.pinhole.server.relay.TurnAuthenticator}: short-lived
 * {@link dev.pinhole.server.relay.RestCredentials} issued by the rendezvous server, or static users; whom
 * each may relay to, from the {@link dev.pinhole.server.relay.RelayGrants} the rendezvous server writes.
 */
package dev.pinhole.server.relay;
