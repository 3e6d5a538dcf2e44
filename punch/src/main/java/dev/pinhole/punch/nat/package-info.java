/**
 * NAT behaviour discovery (RFC 5780) in the terms of RFC 4787.
 *
 * <p>{@link dev.pinhole.punch.nat.NatBehaviorDiscovery} measures mapping and filtering behaviour and
 * hairpinning from one endpoint against an RFC 5780 server and returns a
 * {@link dev.pinhole.protocol.nat.NatBehavior}, which also names the classic type
 * ({@link dev.pinhole.protocol.nat.NatType}: full cone, restricted cone, port-restricted cone, symmetric,
 * ...). {@link dev.pinhole.punch.nat.BindingLifetimeDiscovery} estimates how long an idle binding lives
 * (RFC 5780 §4.6); it is slow by nature and runs only when asked. Both run on the endpoint's event loop
 * through a {@link dev.pinhole.protocol.stun.StunClient}, on the real driver and the simulator alike.
 */
package dev.pinhole.punch.nat;
