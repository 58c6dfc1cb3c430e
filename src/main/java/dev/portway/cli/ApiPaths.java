package dev.portway.cli;

import dev.portway.api.ResourceKind;

/**
 * The REST paths the CLI asks for, as client-go's {@code Request} builds them: a name is never
 * empty, and a name or namespace is one path segment (one holding '/' or '%' is refused, the rest
 * is escaped as Go escapes a URL's path).
 *
 * <p>The API server, as kube-apiserver, reads {@code .../pods/} as the collection: an empty name
 * made {@code portway delete pod "$POD"} with {@code $POD} unset delete every pod of the
 * namespace, and a name with a {@code ?} or {@code /} in it named another path.
 */
final class ApiPaths {

    private ApiPaths() {
    }

    /** The collection of {@code kind} in {@code namespace} (null: every namespace, or a kind that has none; empty: default, as kubectl). */
    static String collection(ResourceKind kind, String namespace) {
        if (namespace == null || !kind.namespaced()) {
            return kind.collectionPath(null); // -n means nothing to a kind that has no namespace (kubectl's NamespaceIfScoped)
        }
        String ns = namespace.isEmpty() ? "default" : namespace;
        checkSegment("namespace", ns);
        return kind.collectionPath(GoUrl.path(ns)); // escaped as client-go escapes paths
    }

    /** One object's path; a name that is no path segment is refused with client-go's messages. */
    static String object(ResourceKind kind, String namespace, String name) {
        if (name == null || name.isEmpty()) {
            throw new Main.CliException("resource name may not be empty");
        }
        checkSegment("resource name", name);
        return collection(kind, namespace) + "/" + GoUrl.path(name);
    }

    /** apimachinery's IsValidPathSegmentName, as client-go's {@code Request.Name} and {@code Namespace} check it. */
    private static void checkSegment(String what, String s) {
        java.util.List<String> msgs = new java.util.ArrayList<>();
        if (s.equals(".") || s.equals("..")) {
            msgs.add("may not be '" + s + "'");
        }
        for (String illegal : new String[] {"/", "%"}) {
            if (s.contains(illegal)) {
                msgs.add("may not contain '" + illegal + "'");
            }
        }
        if (!msgs.isEmpty()) {
            throw new Main.CliException("invalid " + what + " " + dev.portway.api.GoValues.quote(s) + ": [" + String.join(" ", msgs) + "]");
        }
    }

    /**
     * {@code TYPE/NAME} split in two, with kubectl's messages for what is not one (cli-runtime's
     * {@code splitResourceTypeName}).
     */
    static String[] typeAndName(String ref) {
        String[] parts = ref.split("/", -1);
        if (parts.length != 2) {
            throw new Main.CliException("arguments in resource/name form may not have more than one slash");
        }
        if (parts[0].isEmpty() || parts[1].isEmpty() || parts[0].contains(",")) {
            throw new Main.CliException("arguments in resource/name form must have a single resource and name");
        }
        return parts;
    }
}
