package dev.portway.net;

import io.netty.channel.Channel;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Open connections under a cap where, at the cap, the oldest open connection makes room for the
 * new one instead of the new one being refused: for servers whose honest clients come, ask and go
 * (health checkers, DNS over TCP), so that whoever holds every slot with idle connections does not
 * lock them out. A client flooding new connections evicts its own first; an honest one is evicted
 * only if the cap's worth of newer connections arrives during its short life.
 */
public final class OldestGoes {

    private final Slots slots = new Slots();
    /** Open connections, the oldest first (removal by value is linear; the caps are small). */
    private final ConcurrentLinkedDeque<Channel> open = new ConcurrentLinkedDeque<>();

    /**
     * Admits {@code channel}, closing the oldest open connection when {@code max} are open; the slot
     * comes back when the channel closes.
     *
     * @return whether the cap was reached (one was closed to make room)
     */
    public boolean admit(Channel channel, int max) {
        boolean full = !slots.tryTakeFor(channel, max);
        if (full) {
            for (Channel oldest; (oldest = open.poll()) != null;) {
                if (oldest.isOpen()) {
                    oldest.close();
                    break;
                }
            }
            slots.takeFor(channel); // past the cap until the oldest's close gives its slot back
        }
        open.add(channel);
        channel.closeFuture().addListener(f -> open.remove(channel));
        return full;
    }

    /** How many are open now. */
    public int inUse() {
        return slots.inUse();
    }
}
