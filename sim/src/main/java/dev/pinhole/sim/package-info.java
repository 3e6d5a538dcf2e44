/**
 * A deterministic network simulator on which Pinhole's protocol code runs unchanged.
 *
 * <p>{@link dev.pinhole.sim.Simulator} owns virtual time and one event queue. Address realms
 * ({@link dev.pinhole.sim.Network}) hold hosts ({@link dev.pinhole.sim.SimHost}) and NATs
 * ({@link dev.pinhole.sim.Nat}); a NAT's inside is a realm of its own, so NATs chain. A host's
 * UDP sockets are {@link dev.pinhole.sim.SimEndpoint}s, the simulator's implementation of
 * {@link dev.pinhole.core.net.DatagramEndpoint}. Every host and NAT has an uplink and a downlink
 * with the impairments of a {@link dev.pinhole.sim.LinkConfig}; NATs translate, filter and
 * hairpin as their {@link dev.pinhole.sim.NatConfig} says, in RFC 4787 terms. Every datagram's
 * fate is counted ({@link dev.pinhole.sim.SimCounters}, {@link dev.pinhole.sim.DropCause})
 * and can be traced ({@link dev.pinhole.sim.SimTracer}).
 *
 * <p>A datagram's path: sender's uplink, routing in the sender's realm, then for each NAT on the
 * way out its translation and its outside uplink; routing in the destination realm; for each NAT on
 * the way in its outside downlink and its translation; the receiver's downlink; the endpoint.
 *
 * <p>For tests: {@link dev.pinhole.sim.SimFixture} is the simulated world every module's simulation
 * tests build on (seeded simulator, hosts and NATs, running to a condition or a virtual deadline,
 * failures that name the seed, leak and datagram accounting on close); modules above this one extend
 * it with their servers and peers. {@link dev.pinhole.sim.CountingAllocator} counts buffers exactly
 * and {@link dev.pinhole.sim.RecordingEndpoint} records what is sent.
 */
package dev.pinhole.sim;
