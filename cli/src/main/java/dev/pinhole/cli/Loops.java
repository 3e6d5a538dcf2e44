package dev.pinhole.cli;

import dev.pinhole.core.net.BindErrors;
import dev.pinhole.core.net.DatagramEndpoint;
import dev.pinhole.core.net.UdpEventLoop;
import dev.pinhole.punch.PinholeNode;
import dev.pinhole.punch.rendezvous.RendezvousClient;
import dev.pinhole.reliability.Identity;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * Shared helpers of the commands: binding sockets, starting nodes and reading secrets, with errors a user
 * can act on.
 */
final class Loops {
    private Loops() {
    }

    /** A bound (not yet started) event loop. */
    static UdpEventLoop bind(InetSocketAddress address, String threadName) throws CliException {
        try {
            return UdpEventLoop.builder().bind(address).threadName(threadName).daemon(true).build();
        } catch (IOException e) {
            throw bindFailure(address, e);
        }
    }

    /** One more socket on {@code loop}'s thread ({@link UdpEventLoop#openSocket}); before the loop starts. */
    static DatagramEndpoint openSocket(UdpEventLoop loop, InetSocketAddress address) throws CliException {
        try {
            return loop.openSocket(address);
        } catch (IOException e) {
            throw bindFailure(address, e);
        }
    }

    /**
     * A socket that could not be bound, as the user reads it: {@link ExitCodes#PORT_IN_USE}, saying whether
     * the address is not on this host or another process has the port, with the operating system's words.
     */
    static CliException bindFailure(InetSocketAddress address, IOException e) {
        String os = BindErrors.osReason(e);
        String where = "cannot listen on " + Addresses.format(address) + ": ";
        if (BindErrors.addressNotLocal(address.getAddress(), e)) {
            return new CliException(ExitCodes.PORT_IN_USE, where + address.getAddress().getHostAddress()
                    + " is not an address of this host (" + os + ")", e);
        }
        if (BindErrors.addressInUse(e)) {
            return new CliException(ExitCodes.PORT_IN_USE, where + "another process is using UDP port "
                    + address.getPort() + " (" + os + ")", e);
        }
        if (e instanceof BindException) {
            return new CliException(ExitCodes.PORT_IN_USE, where + os, e);
        }
        return new CliException(ExitCodes.PORT_IN_USE, "cannot open a UDP socket on " + Addresses.format(address)
                + ": " + os, e);
    }

    /**
     * A started {@link PinholeNode}, registered at the rendezvous server.
     *
     * @param identity the node's long-term keys, or null for an ephemeral identity
     * @param secret the shared secret, or null
     * @param connectTimeoutMs how long connect waits for the peer to register; 0 for the node's default
     * @param endpointFilter wraps the node's socket (the demo's loss injection), or the identity function
     */
    static PinholeNode openNode(String name, Identity identity, InetSocketAddress rendezvous, String secret,
                                InetSocketAddress bind, long connectTimeoutMs,
                                UnaryOperator<DatagramEndpoint> endpointFilter)
            throws CliException {
        return openNode(name, identity, rendezvous, secret, bind, connectTimeoutMs, endpointFilter, null, null);
    }

    /**
     * As above, with the known-peers file the node checks peers' keys against (null for none) and the
     * command's {@code --relay-after} (null for the default).
     */
    static PinholeNode openNode(String name, Identity identity, InetSocketAddress rendezvous, String secret,
                                InetSocketAddress bind, long connectTimeoutMs,
                                UnaryOperator<DatagramEndpoint> endpointFilter, Path knownPeers,
                                RelayTiming relayTiming)
            throws CliException {
        PinholeNode.Builder builder = PinholeNode.builder().name(name).rendezvous(rendezvous).bind(bind)
                .endpointFilter(endpointFilter);
        if (relayTiming != null) {
            relayTiming.applyTo(builder);
        }
        if (knownPeers != null) {
            builder.knownPeers(knownPeers);
        }
        if (identity != null) {
            builder.identity(identity);
        }
        if (secret != null) {
            builder.secret(secret);
        }
        if (connectTimeoutMs > 0) {
            builder.connectTimeout(Duration.ofMillis(connectTimeoutMs));
        }
        try {
            return builder.build();
        } catch (BindException e) {
            throw bindFailure(bind, e);
        } catch (IOException | RuntimeException e) {
            throw Failures.toCli("registering '" + name + "' at " + Addresses.format(rendezvous), e);
        }
    }

    /**
     * Runs {@code close} when the JVM shuts down (SIGTERM, or Ctrl-C's SIGINT), so that a node's or chat
     * client's DEREGISTER leaves before the process exits and its name is free at once instead of 45 s
     * later. The hook only closes: the JVM still exits with its own status for the signal (130 for
     * SIGINT, 143 for SIGTERM). Closing the returned handle removes the hook, for a command that ends by
     * itself and closes its resources in order.
     */
    static AutoCloseable closeOnShutdown(String threadName, Runnable close) {
        Thread hook = new Thread(close, threadName);
        Runtime.getRuntime().addShutdownHook(hook);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting and the hook runs (or ran) anyway.
            }
        };
    }

    /**
     * Closes a rendezvous client that {@link RendezvousClient#listen} put on {@code loop}, and waits for its
     * DEREGISTER to be answered or given up ({@link RendezvousClient#DEREGISTER_TIMING}), so the datagram
     * leaves before the loop and its socket close. Never throws: shutdown goes on whatever happens.
     */
    static void closeClient(UdpEventLoop loop, RendezvousClient client) {
        long boundNs = RendezvousClient.DEREGISTER_TIMING.timeoutNs() + TimeUnit.SECONDS.toNanos(1);
        try {
            CompletableFuture<Boolean> bye = loop.submit(() -> {
                client.close();
                return client.deregistration();
            }).get(boundNs, TimeUnit.NANOSECONDS);
            if (bye != null) {
                bye.get(boundNs, TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            // No answer, or the loop is gone: the name expires after its lifetime, as after a crash.
        }
    }

    /** The shared secret: the file's first line, or null without a file. */
    static String readSecret(Path file) throws CliException {
        if (file == null) {
            return null;
        }
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) {
                throw new CliException(ExitCodes.LOCAL_FILE, "the secret file " + file + " is empty");
            }
            return text.lines().findFirst().orElse(text).strip();
        } catch (NoSuchFileException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "the secret file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new CliException(ExitCodes.LOCAL_FILE, "cannot read the secret file " + file + ": " + e, e);
        }
    }
}
