/**
 * The Noise Protocol Framework, revision 34 (noiseprotocol.org), for the suite
 * {@code 25519_AESGCM_SHA256} and the patterns IK, XX, NN and N, on JDK 17 primitives only.
 *
 * <p>Internal to the transport: {@code dev.pinhole.reliability.connection} drives a
 * {@link dev.pinhole.reliability.noise.HandshakeState} (§5.3) through its messages and protects packets
 * with the {@link dev.pinhole.reliability.noise.CipherState}s (§5.1) it splits into. Every failure that
 * received bytes can cause is a checked {@link dev.pinhole.reliability.noise.NoiseException}. See
 * docs/decisions/0009-noise-on-jdk-crypto.md for the choices.
 */
package dev.pinhole.reliability.noise;
