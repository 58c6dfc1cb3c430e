package dev.portway.control.alloc;

/** An allocation that cannot be made, with the API server's message for why. */
public final class AllocationException extends Exception {

    /** Why. */
    public enum Reason {
        NOT_IN_RANGE, ALREADY_ALLOCATED, FULL
    }

    private final Reason reason;

    public AllocationException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
