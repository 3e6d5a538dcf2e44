/**
 * Parts both servers of this module share: the stateless nonces of RFC 8489 §9.2, the token bucket of
 * their rate limits, and the STUN response plumbing. Public only because Java has no module-private
 * visibility across packages; they are not part of the server's API.
 */
package dev.pinhole.server.common;
