package dev.pinhole.server.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Both servers' stateless nonces: bound to an address and an epoch, in each server's format. */
class NonceIssuerTest {
    /** The rendezvous server's epoch. */
    private static final long EPOCH_NS = 30L * 60 * 1_000_000_000L;

    /** An issuer as the rendezvous server makes one: a 32-byte key drawn from {@code seed}. */
    private static NonceIssuer rendezvousIssuer(long seed) {
        byte[] key = new byte[32];
        new SplittableRandom(seed).nextBytes(key);
        return new NonceIssuer(NonceIssuer.Format.BASE64URL_HMAC_SHA256, key, EPOCH_NS);
    }

    @Test
    void rendezvousNoncesVerifyForTheirAddressAndEpochOnly() throws Exception {
        NonceIssuer issuer = rendezvousIssuer(1);
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 40000);
        InetSocketAddress other = new InetSocketAddress(InetAddress.getByName("203.0.113.9"), 40001);
        long now = 5 * EPOCH_NS + 17;
        byte[] nonce = issuer.issue(client, now).clone();
        ByteBuf buf = Unpooled.wrappedBuffer(nonce);

        assertEquals(NonceIssuer.BASE64URL_LENGTH, nonce.length, "24 characters");
        assertEquals(NonceIssuer.Check.VALID, issuer.verify(buf, 0, nonce.length, client, now), "its own address");
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(buf, 0, nonce.length, other, now), "another port");
        assertEquals(NonceIssuer.Check.VALID_PREVIOUS_EPOCH,
            issuer.verify(buf, 0, nonce.length, client, now + EPOCH_NS), "next epoch: still valid, rotate");
        assertEquals(NonceIssuer.Check.INVALID,
            issuer.verify(buf, 0, nonce.length, client, now + 2 * EPOCH_NS), "two epochs later: expired");
        NonceIssuer restarted = rendezvousIssuer(2);
        assertEquals(NonceIssuer.Check.INVALID, restarted.verify(buf, 0, nonce.length, client, now),
            "another server instance has another key");
        byte[] tampered = nonce.clone();
        tampered[10] = (byte) (tampered[10] == 'A' ? 'B' : 'A');
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(Unpooled.wrappedBuffer(tampered), 0, 24, client, now),
            "one changed character");
        byte[] notBase64 = nonce.clone();
        notBase64[3] = '*';
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(Unpooled.wrappedBuffer(notBase64), 0, 24, client, now),
            "outside the alphabet");
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(buf, 0, 20, client, now), "wrong length");
        // The clock's origin is arbitrary: negative readings, and the 16-bit epoch wrapping at 0 -> -1.
        long negative = -1;
        byte[] early = issuer.issue(client, negative).clone();
        assertEquals(0xFFFF, issuer.epoch(negative), "epoch -1 as 16 bits");
        assertEquals(NonceIssuer.Check.VALID, issuer.verify(Unpooled.wrappedBuffer(early), 0, 24, client, negative),
            "valid before the origin");
        assertEquals(NonceIssuer.Check.VALID_PREVIOUS_EPOCH,
            issuer.verify(Unpooled.wrappedBuffer(early), 0, 24, client, 0), "and in the next epoch, across the wrap");
    }

    @Test
    void turnNoncesAre32LowerCaseHexCharactersValidForOneToTwoLifetimes() throws Exception {
        long lifetime = 600_000_000_000L;
        byte[] secret = new byte[20];
        new SplittableRandom(3).nextBytes(secret);
        NonceIssuer issuer = new NonceIssuer(NonceIssuer.Format.HEX_HMAC_SHA1, secret, lifetime);
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("198.51.100.7"), 5000);
        InetSocketAddress other = new InetSocketAddress(InetAddress.getByName("198.51.100.8"), 5000);
        long now = 7 * lifetime + 1;
        byte[] nonce = issuer.issue(client, now).clone();
        ByteBuf buf = Unpooled.wrappedBuffer(nonce);

        assertEquals(NonceIssuer.HEX_LENGTH, nonce.length, "32 characters");
        String text = new String(nonce, StandardCharsets.US_ASCII);
        assertTrue(text.matches("[0-9a-f]{32}"), "lower-case hex: " + text);
        assertEquals("00000007", text.substring(0, 8), "the epoch in the clear, 8 hex digits");
        assertEquals(NonceIssuer.Check.VALID, issuer.verify(buf, 0, 32, client, now), "its own address");
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(buf, 0, 32, other, now), "another IP");
        assertEquals(NonceIssuer.Check.VALID_PREVIOUS_EPOCH, issuer.verify(buf, 0, 32, client, now + lifetime),
            "the next lifetime: still valid");
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(buf, 0, 32, client, now + 2 * lifetime), "then stale");
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(buf, 0, 24, client, now), "wrong length");
        byte[] tampered = nonce.clone();
        tampered[20] = (byte) (tampered[20] == '0' ? '1' : '0');
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(Unpooled.wrappedBuffer(tampered), 0, 32, client, now),
            "one changed digit of the MAC");
        byte[] notHex = nonce.clone();
        notHex[2] = 'g';
        assertEquals(NonceIssuer.Check.INVALID, issuer.verify(Unpooled.wrappedBuffer(notHex), 0, 32, client, now),
            "an epoch that is not hex");
    }
}
