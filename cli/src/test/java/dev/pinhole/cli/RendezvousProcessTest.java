package dev.pinhole.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The rendezvous server as a real process, with nat-type and chat processes talking to it. */
class RendezvousProcessTest {
    private static String listeningAddress(CliProcess server) throws InterruptedException {
        String line = server.awaitLine(l -> l.contains("listening on "), "the ready line");
        return line.substring(line.indexOf("listening on ") + "listening on ".length()).split("[ ,]")[0];
    }

    @Test
    void natTypeAgainstOurRfc5780ServerSeesNoNatOnLoopback() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0", "--alt", "127.0.0.2:0",
                "--no-relay")) {
            String address = listeningAddress(server);
            try (CliProcess nat = CliProcess.start("nat-type", "--stun", address, "--json")) {
                String json = nat.awaitLine(JsonLine::isJsonObject, "a JSON line");
                assertEquals(0, nat.exitCode(), nat.describe());
                assertEquals("true", JsonLine.field(json, "ok"), json);
                assertEquals("endpoint-independent", JsonLine.field(json, "mapping"), json);
                assertEquals("endpoint-independent", JsonLine.field(json, "filtering"), json);
                assertTrue(JsonLine.field(json, "mapped").startsWith("127.0.0.1:"), json);
            }
        }
    }

    @Test
    void chatMessageReachesTheOtherUserThroughTheServer() throws Exception {
        try (CliProcess server = CliProcess.start("rendezvous", "--listen", "127.0.0.1:0")) {
            String address = listeningAddress(server);
            try (CliProcess bob = CliProcess.start("chat", "--id", "bob", "--rendezvous", address);
                 CliProcess alice = CliProcess.start("chat", "--id", "alice", "--rendezvous", address)) {
                bob.awaitLine(l -> l.startsWith("registered as bob"), "bob's registration");
                alice.awaitLine(l -> l.startsWith("registered as alice"), "alice's registration");
                alice.type("getu");
                String users = alice.awaitLine(l -> l.startsWith("users: "), "the user list");
                assertTrue(users.contains("alice") && users.contains("bob"), "both users listed: " + users);
                alice.type("send bob hello over the rendezvous server");
                alice.awaitLine(l -> l.equals("sent to bob"), "the send confirmation");
                bob.awaitLine(l -> l.equals("alice: hello over the rendezvous server"), "alice's message at bob");
                alice.type("exit");
                bob.type("exit");
                assertEquals(0, alice.exitCode(), alice.describe());
                assertEquals(0, bob.exitCode(), bob.describe());
            }
        }
    }
}
