package dev.portway.api;

/**
 * A path to a field of an API object, printed as the API server prints it:
 * {@code spec.ports[0].nodePort}, {@code metadata.labels[app]}.
 *
 * <p>Immutable: {@link #child}, {@link #index} and {@link #key} return new paths.
 */
public final class FieldPath {

    private final FieldPath parent;
    private final String name;   // a field name, or null for a subscript
    private final String subscript;

    private FieldPath(FieldPath parent, String name, String subscript) {
        this.parent = parent;
        this.name = name;
        this.subscript = subscript;
    }

    /** A root path of one or more field names: {@code FieldPath.of("spec", "ports")}. */
    public static FieldPath of(String name, String... more) {
        FieldPath p = new FieldPath(null, name, null);
        for (String m : more) {
            p = p.child(m);
        }
        return p;
    }

    public FieldPath child(String name, String... more) {
        FieldPath p = new FieldPath(this, name, null);
        for (String m : more) {
            p = p.child(m);
        }
        return p;
    }

    public FieldPath index(int i) {
        return new FieldPath(this, null, Integer.toString(i));
    }

    public FieldPath key(String key) {
        return new FieldPath(this, null, key);
    }

    /** The last field name of this path (for {@code spec.ports[0]}, {@code ports}). */
    public String lastName() {
        FieldPath p = this;
        while (p != null && p.name == null) {
            p = p.parent;
        }
        return p == null ? "" : p.name;
    }

    public FieldPath parent() {
        return parent;
    }

    public boolean isSubscript() {
        return name == null;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        append(sb);
        return sb.toString();
    }

    private void append(StringBuilder sb) {
        if (parent != null) {
            parent.append(sb);
        }
        if (name != null) {
            if (parent != null) {
                sb.append('.');
            }
            sb.append(name);
        } else {
            sb.append('[').append(subscript).append(']');
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FieldPath p && toString().equals(p.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
