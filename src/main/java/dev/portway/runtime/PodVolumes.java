package dev.portway.runtime;

import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pod's volumes as directories on this machine: {@code configMap} and {@code secret} volumes
 * become files (with their {@code items}, modes and keys), {@code emptyDir} an empty directory,
 * {@code hostPath} the path itself.
 *
 * <p>There is no mount namespace in local mode, so a container sees a volume at the directory
 * Portway made, not at its {@code mountPath}. To keep one manifest working in a cluster and
 * here, every mountPath found in a container's command, args, env values and workingDir is
 * rewritten to that directory ({@code --config.file=/etc/prometheus/prometheus.yml} becomes
 * {@code --config.file=<pod dir>/volumes/config/prometheus.yml}), and each volume's directory is
 * also in {@code PORTWAY_VOLUME_<NAME>}.
 */
final class PodVolumes {

    private final Map<String, Path> volumes = new LinkedHashMap<>();

    private PodVolumes() {
    }

    /** Materializes every volume of {@code pod} under {@code podDir/volumes}. */
    static PodVolumes create(Pod pod, Path podDir, Store store) throws PodEnvironment.ConfigError, IOException {
        PodVolumes result = new PodVolumes();
        String ns = pod.getMetadata().getNamespace();
        for (Volume v : list(pod.getSpec().getVolumes())) {
            Path dir = podDir.resolve("volumes").resolve(v.getName());
            if (v.getHostPath() != null) {
                result.volumes.put(v.getName(), Path.of(v.getHostPath().getPath()));
                continue;
            }
            Files.createDirectories(dir);
            if (v.getConfigMap() != null) {
                var src = v.getConfigMap();
                ConfigMap cm = store.get(ConfigMap.class, ns, src.getName()).orElse(null);
                if (cm == null && !Boolean.TRUE.equals(src.getOptional())) {
                    throw new PodEnvironment.ConfigError("configmap \"" + src.getName() + "\" not found");
                }
                Map<String, byte[]> data = new LinkedHashMap<>();
                if (cm != null && cm.getData() != null) {
                    cm.getData().forEach((k, val) -> data.put(k, val.getBytes(StandardCharsets.UTF_8)));
                }
                if (cm != null && cm.getBinaryData() != null) {
                    cm.getBinaryData().forEach((k, val) -> data.put(k, Base64.getDecoder().decode(val)));
                }
                write(dir, data, src.getItems(), src.getDefaultMode(), "ConfigMap " + ns + "/" + src.getName());
            } else if (v.getSecret() != null) {
                var src = v.getSecret();
                Secret secret = store.get(Secret.class, ns, src.getSecretName()).orElse(null);
                if (secret == null && !Boolean.TRUE.equals(src.getOptional())) {
                    throw new PodEnvironment.ConfigError("secret \"" + src.getSecretName() + "\" not found");
                }
                Map<String, byte[]> data = new LinkedHashMap<>();
                if (secret != null && secret.getData() != null) {
                    secret.getData().forEach((k, val) -> data.put(k, Base64.getDecoder().decode(val)));
                }
                write(dir, data, src.getItems(), src.getDefaultMode(), "Secret " + ns + "/" + src.getSecretName());
            } else if (v.getDownwardAPI() != null) {
                for (var item : list(v.getDownwardAPI().getItems())) {
                    if (item.getFieldRef() != null) {
                        Path file = dir.resolve(item.getPath());
                        Files.createDirectories(file.getParent());
                        Files.write(file, PodEnvironment.field(pod, item.getFieldRef().getFieldPath()).getBytes(StandardCharsets.UTF_8),
                                WRITE_OWN);
                    }
                }
            } else if (v.getEmptyDir() == null) {
                throw new PodEnvironment.ConfigError("volume \"" + v.getName() + "\": only configMap, secret, emptyDir, "
                        + "downwardAPI and hostPath volumes can be used in local mode");
            }
            result.volumes.put(v.getName(), dir);
        }
        return result;
    }

    private static void write(Path dir, Map<String, byte[]> data, List<KeyToPath> items, Integer defaultMode, String what)
            throws IOException, PodEnvironment.ConfigError {
        if (items == null || items.isEmpty()) {
            for (Map.Entry<String, byte[]> e : data.entrySet()) {
                writeFile(dir.resolve(e.getKey()), e.getValue(), defaultMode);
            }
            return;
        }
        for (KeyToPath item : items) {
            byte[] bytes = data.get(item.getKey());
            if (bytes == null) {
                throw new PodEnvironment.ConfigError("couldn't find key " + item.getKey() + " in " + what);
            }
            writeFile(dir.resolve(item.getPath()), bytes, item.getMode() != null ? item.getMode() : defaultMode);
        }
    }

    /** Writes that never follow a link at the file's name (a pod writes in its own directory). */
    private static final java.nio.file.OpenOption[] WRITE_OWN = {java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS};

    private static void writeFile(Path file, byte[] bytes, Integer mode) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, bytes, WRITE_OWN);
        var posix = Files.getFileAttributeView(file, java.nio.file.attribute.PosixFileAttributeView.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (mode != null && posix != null) { // (not a POSIX file system: the default stays)
            posix.setPermissions(permissions(mode));
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < 9; bit++) {
            if ((mode & (1 << bit)) != 0) {
                p.add(all[bit]);
            }
        }
        return p;
    }

    /** {@code PORTWAY_VOLUME_<NAME>}: the variable that holds a volume's directory. */
    static String variable(String volume) {
        return "PORTWAY_VOLUME_" + volume.toUpperCase(java.util.Locale.ROOT).replace('-', '_').replace('.', '_');
    }

    Map<String, Path> directories() {
        return volumes;
    }

    /** mountPath to local directory for one container, longest mountPath first. */
    List<Map.Entry<String, Path>> mounts(Container container) {
        List<Map.Entry<String, Path>> mounts = new ArrayList<>();
        for (VolumeMount m : list(container.getVolumeMounts())) {
            Path dir = volumes.get(m.getName());
            if (dir == null) {
                continue;
            }
            if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                dir = dir.resolve(m.getSubPath());
            }
            String mountPath = m.getMountPath().endsWith("/") && m.getMountPath().length() > 1
                    ? m.getMountPath().substring(0, m.getMountPath().length() - 1) : m.getMountPath();
            if (mountPath.equals("/") || mountPath.isEmpty()) {
                continue;
            }
            mounts.add(Map.entry(mountPath, dir));
        }
        mounts.sort(Comparator.comparingInt((Map.Entry<String, Path> e) -> e.getKey().length()).reversed());
        return mounts;
    }

    /**
     * Rewrites mountPaths in {@code text} to the local directories, where they stand as paths
     * (at the start or after {@code = : , "} or a space, and followed by the end, a slash or one
     * of those). One pass, longest mountPath first at each position, so a directory put in is
     * never rewritten again.
     */
    static String rewrite(String text, List<Map.Entry<String, Path>> mounts) {
        if (text == null || mounts.isEmpty()) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length());
        int i = 0;
        outer:
        while (i < text.length()) {
            boolean startsPath = i == 0 || SEPARATORS.indexOf(text.charAt(i - 1)) >= 0;
            if (startsPath) {
                for (Map.Entry<String, Path> m : mounts) {
                    String mountPath = m.getKey();
                    int end = i + mountPath.length();
                    if (text.startsWith(mountPath, i) && (end == text.length() || text.charAt(end) == '/'
                            || SEPARATORS.indexOf(text.charAt(end)) >= 0)) {
                        sb.append(m.getValue());
                        i = end;
                        continue outer;
                    }
                }
            }
            sb.append(text.charAt(i++));
        }
        return sb.toString();
    }

    private static final String SEPARATORS = "=:, \"'";

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
