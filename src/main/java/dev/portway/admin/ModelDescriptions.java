package dev.portway.admin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The field descriptions of the Kubernetes API (what {@code kubectl explain} prints), as fabric8
 * generated them into its model's sources from the API's OpenAPI documents: the javadoc of each
 * class and of each property's getter. The sources jars of the model are on the classpath for
 * this; Portway's AccessPolicy ships its own sources for the same reason, and a class without them
 * (Portway's MetalLB kinds) has no descriptions.
 */
final class ModelDescriptions {

    /** A javadoc block and what it documents: {@code @JsonProperty("x")} on a getter, or the class. */
    private static final Pattern BLOCK = Pattern.compile("/\\*\\*(.*?)\\*/\\s*((?:@[^\\n]*\\n\\s*)*)(public [^\\n{]*)", Pattern.DOTALL);
    private static final Pattern JSON_PROPERTY = Pattern.compile("@JsonProperty\\(\"([^\"]+)\"\\)");

    /** What one class says: its own description and its properties'. */
    record Described(String type, Map<String, String> properties) {
        static final Described NONE = new Described(null, Map.of());
    }

    private final Map<Class<?>, Described> cache = new ConcurrentHashMap<>();

    Described of(Class<?> type) {
        return cache.computeIfAbsent(type, ModelDescriptions::read);
    }

    private static Described read(Class<?> type) {
        String resource = type.getName().replace('.', '/') + ".java";
        ClassLoader loader = type.getClassLoader() == null ? ModelDescriptions.class.getClassLoader() : type.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                return Described.NONE;
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Described.NONE;
        }
    }

    static Described parse(String source) {
        String typeDoc = null;
        Map<String, String> properties = new HashMap<>();
        Matcher m = BLOCK.matcher(source);
        while (m.find()) {
            String text = clean(m.group(1));
            String annotations = m.group(2);
            String declaration = m.group(3);
            if (declaration.contains(" class ") && typeDoc == null) {
                typeDoc = text;
                continue;
            }
            Matcher property = JSON_PROPERTY.matcher(annotations);
            if (property.find() && (declaration.contains(" get") || declaration.contains(" is"))) {
                properties.putIfAbsent(property.group(1), text);
            }
        }
        // fabric8 gives spec and status getters their owner's description; the field's type says more
        String own = typeDoc;
        properties.values().removeIf(d -> d.equals(own));
        return new Described(typeDoc, Map.copyOf(properties));
    }

    /** The text of a javadoc block: its lines without the leading {@code *}, as one paragraph per blank line. */
    private static String clean(String block) {
        StringBuilder out = new StringBuilder();
        for (String line : block.split("\n")) {
            String l = line.strip();
            if (l.startsWith("*")) {
                l = l.substring(1).strip();
            }
            if (l.isEmpty()) {
                if (!out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
                    out.append("\n\n");
                }
                continue;
            }
            if (!out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
                out.append(' ');
            }
            out.append(l);
        }
        return out.toString().strip();
    }
}
