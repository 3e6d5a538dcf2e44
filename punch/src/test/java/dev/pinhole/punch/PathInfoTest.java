package dev.pinhole.punch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** {@link PathInfo#toString()} reads as the README shows a path: {@code direct ...} or {@code relayed ...}. */
class PathInfoTest {
    @Test
    void printsTheKindInLowerCaseAndAddressesWithoutASlash() throws Exception {
        InetSocketAddress local = new InetSocketAddress(InetAddress.getByName("localhost"), 4000);
        InetSocketAddress remote = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 51000);
        assertEquals("direct 127.0.0.1:4000 -> 127.0.0.1:51000 via host candidate",
                new PathInfo(PathKind.DIRECT, local, remote, "host candidate").toString());
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 3479);
        assertEquals("relayed 127.0.0.1:4000 -> [0:0:0:0:0:0:0:1]:3479 via relay",
                new PathInfo(PathKind.RELAYED, local, v6, "relay").toString());
    }
}
