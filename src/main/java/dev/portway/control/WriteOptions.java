package dev.portway.control;

/**
 * The options of one REST write, as the API server takes them from the query.
 *
 * @param dryRun          {@code dryRun=All}: everything but storing (and allocating for good)
 * @param fieldValidation Strict, Warn or Ignore: what an unknown field in the body gets
 * @param fieldManager    who is writing (server-side apply keeps their fields), or null
 * @param force           server-side apply's {@code force=true}
 * @param user            the authenticated user
 */
public record WriteOptions(boolean dryRun, String fieldValidation, String fieldManager, boolean force, String user) {

    /** A write by Portway itself, or a test: stored, strict. */
    public static final WriteOptions DEFAULT = new WriteOptions(false, "Strict", null, false, "portway");
}
