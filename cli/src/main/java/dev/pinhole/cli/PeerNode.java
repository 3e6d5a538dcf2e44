package dev.pinhole.cli;

import dev.pinhole.punch.PeerConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;

/** What the transfer commands need from a Pinhole node: a name at a rendezvous server, connect, accept. */
interface PeerNode extends AutoCloseable {
    /**
     * Settings of a node.
     *
     * @param name the name to register
     * @param rendezvous the rendezvous server
     * @param secret the shared secret, or null
     * @param bind the local UDP address
     * @param connectTimeoutMs how long connect waits for the peer to register
     * @param lossFraction fraction of datagrams dropped on the way in and out (0: none; the demo's --loss)
     * @param lossSeed seed of the loss pattern
     */
    record Options(String name, InetSocketAddress rendezvous, String secret, InetSocketAddress bind,
                   long connectTimeoutMs, double lossFraction, long lossSeed) {
    }

    PeerConnection connect(String peerName) throws IOException, InterruptedException;

    PeerConnection accept() throws IOException, InterruptedException;

    List<String> peers() throws IOException, InterruptedException;

    @Override
    void close();
}
