package dev.portway.testing;

/** Closing what a fixture holds, all of it, whatever one of them throws. */
public final class Closing {

    private Closing() {
    }

    /**
     * Closes each of {@code resources} in order; the first failure is thrown once all were closed
     * (unchecked), and an interrupt is kept for the caller.
     */
    public static void all(Iterable<? extends AutoCloseable> resources) {
        Exception first = null;
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                first = first == null ? e : first;
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first != null) {
            throw new IllegalStateException("closing " + first, first);
        }
    }
}
