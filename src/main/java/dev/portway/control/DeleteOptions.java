package dev.portway.control;

import java.util.Optional;

/**
 * How a delete should proceed, as the API server's {@code DeleteOptions}.
 *
 * @param gracePeriodSeconds   for pods: how long the process gets before SIGKILL (null: the pod's own)
 * @param propagationPolicy    Background (default), Foreground or Orphan
 * @param preconditionUid      delete only if the object still has this uid (null: any)
 * @param preconditionVersion  delete only if the object still has this resourceVersion (null: any)
 * @param dryRun               check everything, change nothing
 */
public record DeleteOptions(Long gracePeriodSeconds, Propagation propagationPolicy, String preconditionUid,
                            String preconditionVersion, boolean dryRun) {
    public static final DeleteOptions DEFAULT = new DeleteOptions(null, Propagation.BACKGROUND, null, null, false);
    public static final DeleteOptions NOW = new DeleteOptions(0L, Propagation.BACKGROUND, null, null, false);

    public DeleteOptions {
        if (gracePeriodSeconds != null && gracePeriodSeconds < 0) {
            gracePeriodSeconds = 1L; // as the API server: a negative grace period means "as soon as possible"
        }
        java.util.Objects.requireNonNull(propagationPolicy, "propagationPolicy");
    }

    public static DeleteOptions gracePeriod(Long seconds) {
        return new DeleteOptions(seconds, Propagation.BACKGROUND, null, null, false);
    }

    /** What happens to an object's dependents when it is deleted. */
        public enum Propagation {
        /** The owner goes now; the garbage collector deletes its dependents. */
        BACKGROUND("Background"),
        /** The owner stays (with a deletionTimestamp) until its dependents are gone. */
        FOREGROUND("Foreground"),
        /** The dependents stay, with the owner removed from their ownerReferences. */
        ORPHAN("Orphan");

        private final String wire;

        Propagation(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        /** Parses the wire value; empty for anything else. */
        public static Optional<Propagation> parse(String value) {
            for (Propagation p : values()) {
                if (p.wire.equals(value)) {
                    return Optional.of(p);
                }
            }
            return Optional.empty();
        }
    }
}
