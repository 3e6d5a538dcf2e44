package dev.pinhole.sim;

import static dev.pinhole.sim.SimFixture.SECOND;
import static dev.pinhole.sim.SimFixture.address;
import static dev.pinhole.sim.SimFixture.sendText;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pinhole.sim.SimFixture.Inbox;
import org.junit.jupiter.api.Test;

/** A NAT's firewall rule drops datagrams to a blocked destination, and only those, until it is lifted. */
class NatBlockTest {
    @Test
    void blockedDestinationGetsNothingOthersStillDoAndUnblockingRestoresIt() {
        try (SimFixture f = new SimFixture(7)) {
            SimHost blockedHost = f.sim.internet().addHost("198.51.100.1");
            Inbox blocked = Inbox.on(blockedHost.bind(7000));
            Inbox open = Inbox.on(f.sim.internet().addHost("198.51.100.2").bind(7000));
            Nat nat = f.sim.internet().addNat("203.0.113.5", NatConfig.FULL_CONE);
            SimEndpoint inside = nat.inside().addHost("10.0.0.2").bind(4000);
            nat.block(blockedHost.address(), true);

            sendText(inside, address("198.51.100.1", 7000), "to the blocked one");
            sendText(inside, address("198.51.100.2", 7000), "to the open one");
            f.sim.runFor(SECOND);
            assertEquals(0, blocked.size(), "nothing reaches a blocked destination");
            assertEquals(1, open.size(), "other destinations are unaffected");
            assertEquals(1, f.sim.counters().dropped(DropCause.BLOCKED), "the drop is counted as BLOCKED");

            nat.block(blockedHost.address(), false);
            sendText(inside, address("198.51.100.1", 7000), "after the rule was lifted");
            f.sim.runFor(SECOND);
            assertEquals(1, blocked.size(), "unblocked, the destination is reached again");
        }
    }
}
