package dev.portway.runtime;

import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container's environment, built as the kubelet builds it: the Service variables of the pod's
 * namespace ({@code WEB_SERVICE_HOST}, {@code WEB_PORT_80_TCP}, ...), then {@code envFrom}, then
 * {@code env} in order (each value may use {@code $(NAME)} of those before it); and Kubernetes'
 * {@code $(NAME)} expansion for command and args, where {@code $$} is a literal {@code $} and an
 * undefined name stays as written.
 */
final class PodEnvironment {

    private static final Pattern ENV_NAME = Pattern.compile("[-._a-zA-Z][-._a-zA-Z0-9]*");

    /**
     * The longest one variable's value or one argument may be once expanded: Linux's
     * {@code MAX_ARG_STRLEN}, past which exec refuses it. Each {@code $(NAME)} may double what the
     * one before it made, so a few lines of a pod's spec would otherwise expand to gigabytes, in
     * the heap of the process that serves the API.
     */
    static final int MAX_EXPANDED_LENGTH = 128 * 1024;
    /** The most a container's environment, or its command and args, may hold once expanded: exec's {@code ARG_MAX} with the usual 8 MiB stack. */
    static final int MAX_EXPANDED_TOTAL = 2 * 1024 * 1024;

    /** The configuration a container cannot start without (a missing ConfigMap or key). */
    static final class ConfigError extends Exception {
        ConfigError(String message) {
            super(message);
        }
    }

    private PodEnvironment() {
    }

    /**
     * The environment of {@code container}.
     *
     * @param base     what every process gets first (PATH, HOME...), and Portway's own variables
     */
    static Map<String, String> build(Pod pod, Container container, Store store, Map<String, String> base) throws ConfigError {
        String ns = pod.getMetadata().getNamespace();
        Map<String, String> env = new LinkedHashMap<>(base);
        if (!Boolean.FALSE.equals(pod.getSpec().getEnableServiceLinks())) {
            for (Service svc : store.list(Service.class, ns)) {
                env.putAll(serviceVariables(svc));
            }
        }
        for (EnvFromSource from : list(container.getEnvFrom())) {
            String prefix = from.getPrefix() == null ? "" : from.getPrefix();
            Map<String, String> data;
            if (from.getConfigMapRef() != null) {
                String name = from.getConfigMapRef().getName();
                ConfigMap cm = store.get(ConfigMap.class, ns, name).orElse(null);
                if (cm == null) {
                    if (Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
                        continue;
                    }
                    throw new ConfigError("configmap \"" + name + "\" not found");
                }
                data = cm.getData() == null ? Map.of() : cm.getData();
            } else if (from.getSecretRef() != null) {
                String name = from.getSecretRef().getName();
                Secret secret = store.get(Secret.class, ns, name).orElse(null);
                if (secret == null) {
                    if (Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
                        continue;
                    }
                    throw new ConfigError("secret \"" + name + "\" not found");
                }
                data = decode(secret.getData());
            } else {
                continue;
            }
            for (Map.Entry<String, String> e : data.entrySet()) {
                String key = prefix + e.getKey();
                if (ENV_NAME.matcher(key).matches()) {
                    env.put(key, e.getValue());
                }
            }
        }
        long total = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            total = checkTotal(total, e.getKey(), e.getValue(), 1);
        }
        for (EnvVar var : list(container.getEnv())) {
            String value;
            if (var.getValueFrom() != null) {
                value = valueFrom(pod, var.getValueFrom(), store);
                if (value == null) {
                    continue;
                }
            } else {
                try {
                    value = expand(var.getValue() == null ? "" : var.getValue(), env);
                } catch (ConfigError e) {
                    throw new ConfigError("env " + var.getName() + ": " + e.getMessage());
                }
            }
            String before = env.put(var.getName(), value);
            if (before != null) {
                total = checkTotal(total, var.getName(), before, -1);
            }
            total = checkTotal(total, var.getName(), value, 1);
        }
        return env;
    }

    /** {@code total} with {@code NAME=value} and its NUL added ({@code sign} 1) or taken away (-1), checked against {@link #MAX_EXPANDED_TOTAL}. */
    private static long checkTotal(long total, String name, String value, int sign) throws ConfigError {
        total += sign * (name.length() + value.length() + 2L);
        if (total > MAX_EXPANDED_TOTAL) {
            throw new ConfigError("the container's environment comes to more than " + MAX_EXPANDED_TOTAL
                    + " characters, more than exec takes");
        }
        return total;
    }

    private static String valueFrom(Pod pod, EnvVarSource from, Store store) throws ConfigError {
        String ns = pod.getMetadata().getNamespace();
        if (from.getFieldRef() != null) {
            return field(pod, from.getFieldRef().getFieldPath());
        }
        if (from.getConfigMapKeyRef() != null) {
            var ref = from.getConfigMapKeyRef();
            ConfigMap cm = store.get(ConfigMap.class, ns, ref.getName()).orElse(null);
            String value = cm == null || cm.getData() == null ? null : cm.getData().get(ref.getKey());
            if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
                throw new ConfigError(cm == null ? "configmap \"" + ref.getName() + "\" not found"
                        : "couldn't find key " + ref.getKey() + " in ConfigMap " + ns + "/" + ref.getName());
            }
            return value;
        }
        if (from.getSecretKeyRef() != null) {
            var ref = from.getSecretKeyRef();
            Secret secret = store.get(Secret.class, ns, ref.getName()).orElse(null);
            String value = secret == null ? null : decode(secret.getData()).get(ref.getKey());
            if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
                throw new ConfigError(secret == null ? "secret \"" + ref.getName() + "\" not found"
                        : "couldn't find key " + ref.getKey() + " in Secret " + ns + "/" + ref.getName());
            }
            return value;
        }
        if (from.getResourceFieldRef() != null) {
            String resource = from.getResourceFieldRef().getResource();
            if (resource != null && resource.endsWith("cpu")) {
                return Integer.toString(Runtime.getRuntime().availableProcessors());
            }
            return Long.toString(Runtime.getRuntime().maxMemory());
        }
        return null;
    }

    /** The downward API fields a pod can read. */
    static String field(Pod pod, String path) {
        var meta = pod.getMetadata();
        var status = pod.getStatus();
        switch (path) {
            case "metadata.name" -> {
                return meta.getName();
            }
            case "metadata.namespace" -> {
                return meta.getNamespace();
            }
            case "metadata.uid" -> {
                return meta.getUid();
            }
            case "spec.nodeName" -> {
                return pod.getSpec().getNodeName();
            }
            case "spec.serviceAccountName" -> {
                return pod.getSpec().getServiceAccountName() == null ? "default" : pod.getSpec().getServiceAccountName();
            }
            case "status.podIP", "status.podIPs" -> {
                return status == null ? "" : status.getPodIP();
            }
            case "status.hostIP", "status.hostIPs" -> {
                return status == null ? "" : status.getHostIP();
            }
            default -> {
            }
        }
        Matcher m = Pattern.compile("metadata\\.(labels|annotations)\\['?([^']*)'?\\]").matcher(path);
        if (m.matches()) {
            Map<String, String> map = m.group(1).equals("labels") ? meta.getLabels() : meta.getAnnotations();
            return map == null ? "" : map.getOrDefault(m.group(2), "");
        }
        return "";
    }

    /** {@code WEB_SERVICE_HOST}, {@code WEB_SERVICE_PORT}, and the Docker link variables, for one Service. */
    static Map<String, String> serviceVariables(Service svc) {
        Map<String, String> vars = new LinkedHashMap<>();
        String ip = svc.getSpec().getClusterIP();
        List<ServicePort> ports = list(svc.getSpec().getPorts());
        if (ip == null || ip.isEmpty() || "None".equals(ip) || ports.isEmpty()) {
            return vars;
        }
        String name = svc.getMetadata().getName().toUpperCase(Locale.ROOT).replace('-', '_');
        ServicePort first = ports.getFirst();
        vars.put(name + "_SERVICE_HOST", ip);
        vars.put(name + "_SERVICE_PORT", Integer.toString(first.getPort()));
        for (ServicePort p : ports) {
            if (p.getName() != null && !p.getName().isEmpty()) {
                vars.put(name + "_SERVICE_PORT_" + p.getName().toUpperCase(Locale.ROOT).replace('-', '_'), Integer.toString(p.getPort()));
            }
        }
        vars.put(name + "_PORT", first.getProtocol().toLowerCase(Locale.ROOT) + "://" + ip + ":" + first.getPort());
        for (ServicePort p : ports) {
            String prefix = name + "_PORT_" + p.getPort() + "_" + p.getProtocol().toUpperCase(Locale.ROOT);
            vars.put(prefix, p.getProtocol().toLowerCase(Locale.ROOT) + "://" + ip + ":" + p.getPort());
            vars.put(prefix + "_PROTO", p.getProtocol().toLowerCase(Locale.ROOT));
            vars.put(prefix + "_PORT", Integer.toString(p.getPort()));
            vars.put(prefix + "_ADDR", ip);
        }
        return vars;
    }

    /**
     * Kubernetes' expansion: {@code $(NAME)} → its value when defined, {@code $$} → {@code $}.
     *
     * @throws ConfigError when the result would be longer than {@link #MAX_EXPANDED_LENGTH}
     */
    static String expand(String input, Map<String, String> env) throws ConfigError {
        StringBuilder out = new StringBuilder(Math.min(input.length(), MAX_EXPANDED_LENGTH));
        int i = 0;
        while (i < input.length()) {
            char c = input.charAt(i);
            if (c != '$' || i + 1 >= input.length()) {
                out.append(c);
                i++;
                continue;
            }
            char next = input.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '(') {
                int close = input.indexOf(')', i + 2);
                if (close < 0) {
                    out.append(input, i, input.length());
                    break;
                }
                String name = input.substring(i + 2, close);
                String value = env.get(name);
                if (value != null && out.length() + value.length() > MAX_EXPANDED_LENGTH) {
                    throw new ConfigError("expands to more than " + MAX_EXPANDED_LENGTH + " characters, more than exec takes");
                }
                out.append(value != null ? value : input.substring(i, close + 1));
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /**
     * {@link #expand} for each of a command's words.
     *
     * @param what what the command is, for the error ({@code command and args})
     * @throws ConfigError when a word would be longer than {@link #MAX_EXPANDED_LENGTH}, or all of them
     *                     together than {@link #MAX_EXPANDED_TOTAL}
     */
    static List<String> expandAll(String what, List<String> inputs, Map<String, String> env) throws ConfigError {
        List<String> out = new ArrayList<>();
        long total = 0;
        for (String s : list(inputs)) {
            String word;
            try {
                word = expand(s, env);
            } catch (ConfigError e) {
                throw new ConfigError(what + "[" + out.size() + "]: " + e.getMessage());
            }
            total += word.length() + 1;
            if (total > MAX_EXPANDED_TOTAL) {
                throw new ConfigError(what + ": comes to more than " + MAX_EXPANDED_TOTAL + " characters, more than exec takes");
            }
            out.add(word);
        }
        return out;
    }

    /** The names {@code $(NAME)} refers to in {@code inputs} that {@code env} does not define, in order of appearance. */
    static List<String> undefinedReferences(List<String> inputs, Map<String, String> env) {
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
        for (String s : inputs) {
            for (int i = 0; i + 1 < s.length(); i++) {
                if (s.charAt(i) != '$') {
                    continue;
                }
                if (s.charAt(i + 1) == '$') {
                    i++;
                } else if (s.charAt(i + 1) == '(') {
                    int close = s.indexOf(')', i + 2);
                    if (close < 0) {
                        break;
                    }
                    String name = s.substring(i + 2, close);
                    if (ENV_NAME.matcher(name).matches() && !env.containsKey(name)) {
                        names.add(name);
                    }
                    i = close;
                }
            }
        }
        return new ArrayList<>(names);
    }

    private static Map<String, String> decode(Map<String, String> base64) {
        Map<String, String> out = new LinkedHashMap<>();
        if (base64 != null) {
            base64.forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        return out;
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
