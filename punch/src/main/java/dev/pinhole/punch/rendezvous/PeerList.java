package dev.pinhole.punch.rendezvous;

import java.util.List;

/**
 * One page of registered names, in order (Unicode code-unit order of the names).
 *
 * @param names            the names on this page
 * @param registeredCount  how many peers are registered in all
 * @param nextAfter        pass to {@link RendezvousClient#listPeers(String)} for the next page, or null if
 *                         this page is the last
 */
public record PeerList(List<String> names, int registeredCount, String nextAfter) {
    public PeerList {
        names = List.copyOf(names);
    }

    public boolean hasMore() {
        return nextAfter != null;
    }
}
