package dev.portway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.portway.admin.auth.AdminCredentials;
import dev.portway.admin.auth.Pki;
import io.fabric8.kubernetes.api.model.AuthInfo;
import io.fabric8.kubernetes.api.model.Cluster;
import io.fabric8.kubernetes.api.model.Config;
import io.fabric8.kubernetes.api.model.Context;
import io.fabric8.kubernetes.api.model.NamedAuthInfo;
import io.fabric8.kubernetes.api.model.NamedCluster;
import io.fabric8.kubernetes.api.model.NamedContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Kubeconfig files, as kubectl reads and writes them: Portway writes a {@code portway} cluster,
 * user and context (into a file of its own, or merged into another without touching its other
 * entries), and its CLI reads any kubeconfig the way kubectl does ({@code --kubeconfig},
 * {@code $KUBECONFIG} with several files merged, first one winning, {@code --context}).
 */
final class Kubeconfig {

    /** The name of the cluster, user and context Portway writes. */
    static final String NAME = "portway";

    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private Kubeconfig() {
    }

    /** The default home of Portway's state: {@code $XDG_STATE_HOME/portway}, else {@code ~/.local/state/portway}. */
    static Path defaultStateDir() {
        String xdg = System.getenv("XDG_STATE_HOME");
        String home = System.getenv("HOME"); // the JVM's user.home comes from the password file, not from $HOME
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".local", "state");
        return base.resolve("portway");
    }

    /** The kubeconfig {@code portway up} writes by default: {@code STATE_DIR/kubeconfig}. */
    static Path defaultPath() {
        return defaultStateDir().resolve("kubeconfig");
    }

    /**
     * Writes (or merges into {@code file}) the {@code portway} entries for a server. Other clusters,
     * users and contexts in the file are kept as they are; so is its current context, unless the
     * file had none or {@code makeCurrent}. The file is mode 0600.
     */
    static void write(Path file, String server, AdminCredentials credentials, boolean makeCurrent) throws IOException {
        write(file, server, credentials, makeCurrent, false);
    }

    /**
     * {@link #write(Path, String, AdminCredentials, boolean)}; {@code byReference}: the user entry
     * names the token's file ({@code tokenFile}, which kubectl reads) instead of holding the token,
     * for a kubeconfig outside the state directory, where pods (processes of the same user) could
     * read it: the state directory is hidden from them.
     */
    static void write(Path file, String server, AdminCredentials credentials, boolean makeCurrent, boolean byReference)
            throws IOException {
        ObjectNode root;
        if (Files.exists(file) && Files.size(file) > 0) {
            JsonNode existing = YAML.readTree(file.toFile());
            if (existing != null && !existing.isObject()) {
                throw new IOException(file + " is not a kubeconfig (expected a YAML mapping)");
            }
            root = existing == null ? JsonNodeFactory.instance.objectNode() : (ObjectNode) existing;
        } else {
            root = JsonNodeFactory.instance.objectNode();
        }
        root.put("apiVersion", "v1");
        root.put("kind", "Config");
        ObjectNode cluster = JsonNodeFactory.instance.objectNode();
        cluster.put("server", server);
        cluster.put("certificate-authority-data", Base64.getEncoder().encodeToString(
                Pki.certPem(credentials.ca().cert()).getBytes(StandardCharsets.US_ASCII)));
        replace(root, "clusters", "cluster", cluster);
        ObjectNode user = JsonNodeFactory.instance.objectNode();
        if (byReference) {
            user.put("tokenFile", credentials.tokenFile().toAbsolutePath().toString());
        } else {
            user.put("token", credentials.token());
        }
        replace(root, "users", "user", user);
        ObjectNode context = JsonNodeFactory.instance.objectNode();
        context.put("cluster", NAME);
        context.put("user", NAME);
        replace(root, "contexts", "context", context);
        if (makeCurrent || root.path("current-context").asText("").isEmpty()) {
            root.put("current-context", NAME);
        }
        if (!root.has("preferences")) {
            root.putObject("preferences");
        }
        if (file.getParent() != null) {
            Files.createDirectories(file.getParent());
        }
        AdminCredentials.writePrivate(file, dev.portway.api.Json.writeYaml(root));
    }

    private static void replace(ObjectNode root, String list, String field, ObjectNode value) {
        ArrayNode entries = root.get(list) instanceof ArrayNode a ? a : root.putArray(list);
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (NAME.equals(entries.get(i).path("name").asText())) {
                entries.remove(i);
            }
        }
        ObjectNode entry = entries.addObject();
        entry.put("name", NAME);
        entry.set(field, value);
    }

    /** Where to connect and with what, resolved from a kubeconfig. */
    record Target(String context, String server, String caPem, String token, String clientCertPem, String clientKeyPem,
                  boolean insecure) {
    }

    /**
     * Loads the kubeconfig(s) a command uses: {@code explicit} if given, else {@code $KUBECONFIG}
     * (a list, merged as kubectl merges them), else Portway's default file.
     */
    static Target resolve(String explicit, String contextName, String serverOverride) {
        List<Path> files = new ArrayList<>();
        if (explicit != null && !explicit.isBlank()) {
            files.add(Path.of(explicit));
        } else {
            String env = System.getenv("KUBECONFIG");
            if (env != null && !env.isBlank()) {
                for (String p : env.split(":")) {
                    if (!p.isBlank()) {
                        files.add(Path.of(p));
                    }
                }
            } else {
                files.add(defaultPath());
            }
        }
        Config merged = new Config();
        merged.setClusters(new ArrayList<>());
        merged.setUsers(new ArrayList<>());
        merged.setContexts(new ArrayList<>());
        boolean any = false;
        for (Path f : files) {
            if (!Files.exists(f)) {
                if (explicit != null) {
                    throw new Main.CliException("stat " + f + ": no such file or directory");
                }
                continue;
            }
            any = true;
            Config c = read(f);
            if (merged.getCurrentContext() == null || merged.getCurrentContext().isEmpty()) {
                merged.setCurrentContext(c.getCurrentContext());
            }
            addNew(merged.getClusters(), c.getClusters(), NamedCluster::getName);
            addNew(merged.getUsers(), c.getUsers(), NamedAuthInfo::getName);
            addNew(merged.getContexts(), c.getContexts(), NamedContext::getName);
        }
        if (!any) {
            throw new Main.CliException("no kubeconfig at " + String.join(", ", files.stream().map(Path::toString).toList())
                    + ": start a cluster with \"portway up\" (it writes one), or pass --kubeconfig");
        }
        String ctxName = contextName != null && !contextName.isBlank() ? contextName : merged.getCurrentContext();
        if (ctxName == null || ctxName.isEmpty()) {
            throw new Main.CliException("the kubeconfig names no current context; pass --context");
        }
        Context ctx = merged.getContexts().stream().filter(c -> ctxName.equals(c.getName())).map(NamedContext::getContext)
                .findFirst().orElseThrow(() -> new Main.CliException("context was not found for specified context: " + ctxName));
        Cluster cluster = merged.getClusters().stream().filter(c -> c.getName().equals(ctx.getCluster())).map(NamedCluster::getCluster)
                .findFirst().orElseThrow(() -> new Main.CliException("cluster \"" + ctx.getCluster() + "\" of context \"" + ctxName
                        + "\" is not in the kubeconfig"));
        AuthInfo user = ctx.getUser() == null ? null : merged.getUsers().stream().filter(u -> u.getName().equals(ctx.getUser()))
                .map(NamedAuthInfo::getUser).findFirst().orElse(null);
        String server = serverOverride != null && !serverOverride.isBlank() ? serverOverride : cluster.getServer();
        String ca = pem(cluster.getCertificateAuthorityData(), cluster.getCertificateAuthority());
        String token = null;
        String cert = null;
        String key = null;
        if (user != null) {
            token = user.getToken();
            if ((token == null || token.isEmpty()) && user.getTokenFile() != null) {
                token = readString(Path.of(user.getTokenFile())).strip();
            }
            cert = pem(user.getClientCertificateData(), user.getClientCertificate());
            key = pem(user.getClientKeyData(), user.getClientKey());
        }
        return new Target(ctxName, server, ca, token, cert, key, Boolean.TRUE.equals(cluster.getInsecureSkipTlsVerify()));
    }

    private static <T> void addNew(List<T> into, List<T> from, java.util.function.Function<T, String> name) {
        if (from == null) {
            return;
        }
        for (T t : from) {
            if (into.stream().noneMatch(e -> name.apply(e).equals(name.apply(t)))) {
                into.add(t);
            }
        }
    }

    /** Reads a kubeconfig, with its relative file paths made relative to its own directory (as kubectl does). */
    private static Config read(Path f) {
        try {
            Config c = YAML.readValue(f.toFile(), Config.class);
            if (c == null) {
                return new Config();
            }
            Path dir = f.toAbsolutePath().getParent();
            for (NamedCluster nc : c.getClusters() == null ? List.<NamedCluster>of() : c.getClusters()) {
                if (nc.getCluster() != null) {
                    nc.getCluster().setCertificateAuthority(relativeTo(dir, nc.getCluster().getCertificateAuthority()));
                }
            }
            for (NamedAuthInfo nu : c.getUsers() == null ? List.<NamedAuthInfo>of() : c.getUsers()) {
                AuthInfo u = nu.getUser();
                if (u != null) {
                    u.setTokenFile(relativeTo(dir, u.getTokenFile()));
                    u.setClientCertificate(relativeTo(dir, u.getClientCertificate()));
                    u.setClientKey(relativeTo(dir, u.getClientKey()));
                }
            }
            return c;
        } catch (IOException e) {
            throw new Main.CliException("cannot read the kubeconfig " + f + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private static String relativeTo(Path dir, String file) {
        return file == null || file.isEmpty() || Path.of(file).isAbsolute() || dir == null ? file : dir.resolve(file).toString();
    }

    private static String pem(String data, String file) {
        if (data != null && !data.isEmpty()) {
            return new String(Base64.getDecoder().decode(data), StandardCharsets.US_ASCII);
        }
        if (file != null && !file.isEmpty()) {
            return readString(Path.of(file));
        }
        return null;
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p + ": " + e.getMessage(), e);
        }
    }
}
