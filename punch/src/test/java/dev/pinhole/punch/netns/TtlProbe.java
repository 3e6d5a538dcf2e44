package dev.pinhole.punch.netns;

import dev.pinhole.core.net.UnicastTtl;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

/**
 * A test main for {@link UnicastTtl} outside any lab: on a channel of the family named by
 * its argument ({@code INET}, {@code INET6} or {@code DEFAULT}, the JDK's dual-stack choice), sets
 * TTL 2 and resets it, printing {@code SET t} and {@code RESET t} as the socket reports them.
 * Exits 1 with the error on standard output when the option cannot be set.
 */
public final class TtlProbe {
    private TtlProbe() {}

    public static void main(String[] args) throws IOException {
        try (DatagramChannel channel = switch (args[0]) {
            case "INET" -> DatagramChannel.open(StandardProtocolFamily.INET);
            case "INET6" -> DatagramChannel.open(StandardProtocolFamily.INET6);
            default -> DatagramChannel.open();
        }) {
            channel.bind(null);
            UnicastTtl.set(channel, PunchPeer.PRIME_TTL);
            System.out.println("SET " + UnicastTtl.get(channel));
            UnicastTtl.reset(channel);
            System.out.println("RESET " + UnicastTtl.get(channel));
        } catch (IllegalStateException e) {
            System.out.println("ERROR " + e.getMessage());
            System.exit(1);
        }
    }
}
