package dev.portway.control;

import java.util.ArrayList;
import java.util.List;

/**
 * Allocations made while applying a batch of objects: undone in reverse order if the batch
 * fails, and releases deferred until it succeeds, so that a failed apply leaves no allocation
 * behind and a successful one releases exactly once.
 */
final class Transaction {

    private final List<Runnable> undo = new ArrayList<>();
    private final List<Runnable> onCommit = new ArrayList<>();
    private boolean done;

    /** Runs {@code action} if the transaction is reverted. */
    void onRevert(Runnable action) {
        undo.add(action);
    }

    /** Runs {@code action} only if the transaction commits (deferred releases). */
    void onCommit(Runnable action) {
        onCommit.add(action);
    }

    /** Takes over what {@code other} would undo or do on commit; {@code other} is then finished. */
    void absorb(Transaction other) {
        other.check();
        undo.addAll(other.undo);
        onCommit.addAll(other.onCommit);
    }

    void commit() {
        check();
        onCommit.forEach(Runnable::run);
    }

    void revert() {
        check();
        for (int i = undo.size() - 1; i >= 0; i--) {
            undo.get(i).run();
        }
    }

    private void check() {
        if (done) {
            throw new IllegalStateException("transaction already finished");
        }
        done = true;
    }
}
