package dev.pinhole.core;

import dev.pinhole.core.net.UdpEventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Run by {@link PlatformTest} in a child JVM without the add-exports flag: builds a UdpEventLoop and
 * prints what happened. Exit 0 with "REJECTED: message" if the expected IllegalStateException came, 1 if
 * the loop was built, 2 for any other failure.
 */
public final class AgronaAccessProbe {
    private AgronaAccessProbe() {
    }

    public static void main(String[] args) {
        System.out.println("ACCESSIBLE: " + Platform.agronaAccessible());
        try (UdpEventLoop loop = UdpEventLoop.builder()
            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).build()) {
            System.out.println("BUILT: " + loop.localAddress());
            System.exit(1);
        } catch (IllegalStateException e) {
            System.out.println("REJECTED: " + e.getMessage());
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(2);
        }
    }
}
