package dev.portway.admin;

import dev.portway.api.ApiException;
import dev.portway.api.GoValues;
import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where kube-apiserver's proxy subresources lead: {@code pods/[SCHEME:]NAME[:PORT]/proxy/PATH}
 * and {@code services/[SCHEME:]NAME[:PORT]/proxy/PATH} (what {@code kubectl proxy}, {@code kubectl
 * get --raw} and {@code kubectl cluster-info} address). The checks and their messages are
 * kube-apiserver's ({@code pod.ResourceLocation}, the Service registry's {@code
 * ResourceLocation}); the request itself is carried by {@link ProxyExchange}.
 */
final class ApiProxy {

    private static final Pattern PATH = Pattern.compile("^/api/v1/namespaces/([^/]+)/(pods|services)/([^/]+)/proxy(/.*)?$");
    private static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    private ApiProxy() {
    }

    /**
     * A proxy request's path.
     *
     * @param id   {@code NAME}, {@code NAME:PORT} or {@code SCHEME:NAME:PORT}
     * @param rest what follows {@code proxy}, from its slash ({@code ""} for none)
     */
    record ProxyPath(String namespace, ResourceKind kind, String id, String rest) {
    }

    /**
     * Where a proxied request goes: {@code http} or {@code https}, the address, the path (cleaned,
     * not escaped), and the address as the request's URL names it ({@code IP:PORT}, or the IP
     * alone for a pod asked with no port that declares none).
     */
    record Target(String scheme, InetSocketAddress address, String path, String authority) {
    }

    /** The proxy path in {@code path} (decoded), or empty when it is none. */
    static Optional<ProxyPath> parse(String path) {
        Matcher m = PATH.matcher(path);
        if (!m.matches()) {
            return Optional.empty();
        }
        ResourceKind kind = m.group(2).equals("pods") ? ResourceKind.POD : ResourceKind.SERVICE;
        return Optional.of(new ProxyPath(m.group(1), kind, m.group(3), m.group(4) == null ? "" : m.group(4)));
    }

    /** Where {@code p} leads now, or the API error kube-apiserver answers instead. */
    static Target locate(Store store, ProxyPath p) {
        String[] parts = splitSchemeNamePort(p.id());
        if (parts == null) {
            throw ApiException.badRequest("invalid " + (p.kind() == ResourceKind.POD ? "pod" : "service") + " request "
                    + GoValues.quote(p.id()));
        }
        String scheme = parts[0].isEmpty() ? "http" : parts[0];
        String path = joinPreservingTrailingSlash(p.rest());
        InetSocketAddress address = p.kind() == ResourceKind.POD
                ? podAddress(store, p.namespace(), parts[1], parts[2], scheme)
                : serviceAddress(store, p.namespace(), parts[1], parts[2], p.id());
        String ip = address.getAddress().getHostAddress();
        String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
        boolean portless = p.kind() == ResourceKind.POD && parts[2].isEmpty() && declaredPort(store, p.namespace(), parts[1]) == null;
        return new Target(scheme, address, path, portless ? host : host + ":" + address.getPort());
    }

    /**
     * apimachinery's {@code SplitSchemeNamePort}: {@code name}, {@code name:port} or
     * {@code scheme:name:port}, the scheme {@code http}, {@code https} or none; null when invalid.
     */
    static String[] splitSchemeNamePort(String id) {
        String[] parts = id.split(":", -1);
        String[] out = switch (parts.length) {
            case 1 -> new String[] {"", parts[0], ""};
            case 2 -> new String[] {"", parts[0], parts[1]};
            case 3 -> parts;
            default -> null;
        };
        if (out == null || out[1].isEmpty() || !(out[0].isEmpty() || out[0].equals("http") || out[0].equals("https"))) {
            return null;
        }
        return out;
    }

    /**
     * {@code pod.ResourceLocation}: the pod's first IP, at the port asked for or the first port
     * its containers declare. kube-apiserver allows only a global unicast address; a local
     * cluster's pods are on loopback addresses, so those pass too, and nothing else more.
     */
    private static InetSocketAddress podAddress(Store store, String namespace, String name, String port, String scheme) {
        Pod pod = store.get(Pod.class, namespace, name).orElseThrow(() -> ApiException.notFound(ResourceKind.POD, name));
        if (port.isEmpty()) {
            String declared = declaredPort(pod);
            port = declared == null ? "" : declared;
        }
        List<PodIP> ips = pod.getStatus() == null ? null : pod.getStatus().getPodIPs();
        InetAddress ip = ips == null || ips.isEmpty() ? null : allowedAddress(ips.getFirst().getIp());
        if (ip == null) {
            throw ApiException.badRequest("address not allowed");
        }
        int number = port.isEmpty() ? (scheme.equals("https") ? 443 : 80) : portNumber(ip, port);
        return new InetSocketAddress(ip, number);
    }

    /** The first port the pod's containers declare, or null. */
    private static String declaredPort(Pod pod) {
        for (Container c : pod.getSpec().getContainers()) {
            List<ContainerPort> ports = c.getPorts();
            if (ports != null && !ports.isEmpty() && ports.getFirst().getContainerPort() != null) {
                return Integer.toString(ports.getFirst().getContainerPort());
            }
        }
        return null;
    }

    private static String declaredPort(Store store, String namespace, String name) {
        return store.get(Pod.class, namespace, name).map(ApiProxy::declaredPort).orElse(null);
    }

    private static InetAddress allowedAddress(String text) {
        byte[] bytes = text == null ? null : NetUtil.createByteArrayFromIpAddressString(text);
        if (bytes == null) {
            return null;
        }
        try {
            InetAddress ip = InetAddress.getByAddress(bytes);
            return ip.isAnyLocalAddress() || ip.isMulticastAddress() || ip.isLinkLocalAddress() ? null : ip;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** A port number, or Go's dial error for what is none. */
    private static int portNumber(InetAddress ip, String port) {
        try {
            int n = Integer.parseInt(port);
            if (n >= 0 && n <= 65535 && port.chars().allMatch(Character::isDigit)) {
                return n;
            }
            throw unreachable("dial tcp: address " + port + ": invalid port");
        } catch (NumberFormatException e) {
            throw unreachable("dial tcp: lookup tcp/" + port + ": unknown port");
        }
    }

    /**
     * The Service registry's {@code ResourceLocation}: a port number becomes the name of the
     * Service's port with that number; then a ready endpoint, at random, of a pod that still has
     * that address, serving the port of that name.
     */
    private static InetSocketAddress serviceAddress(Store store, String namespace, String name, String port, String id) {
        if (isNumber(port)) {
            Service svc = store.get(Service.class, namespace, name).orElseThrow(() -> ApiException.notFound(ResourceKind.SERVICE, name));
            String portName = null;
            for (ServicePort sp : svc.getSpec().getPorts()) {
                if (sp.getPort() != null && sp.getPort() == Long.parseLong(port)) {
                    portName = sp.getName() == null ? "" : sp.getName();
                    break;
                }
            }
            if (portName == null) {
                throw ApiException.serviceUnavailable("no service port " + Long.parseLong(port) + " found for service " + GoValues.quote(name));
            }
            port = portName;
        }
        Optional<Service> service = store.get(Service.class, namespace, name);
        if (service.isEmpty() || service.get().getSpec().getSelector() == null || service.get().getSpec().getSelector().isEmpty()) {
            // kube-apiserver reads the Service's Endpoints, which its controller keeps only for a Service that
            // exists and selects pods (Portway serves no Endpoints a user could write for one that does not)
            throw ApiException.notFoundResource("endpoints", name);
        }
        List<EndpointSlice> slices = new ArrayList<>();
        for (EndpointSlice s : store.list(EndpointSlice.class, namespace)) {
            if (s.getMetadata().getLabels() != null && name.equals(s.getMetadata().getLabels().get(SERVICE_NAME_LABEL))) {
                slices.add(s);
            }
        }
        boolean any = false;
        List<InetSocketAddress> ready = new ArrayList<>();
        for (EndpointSlice s : slices) {
            List<Endpoint> endpoints = s.getEndpoints() == null ? List.of() : s.getEndpoints();
            List<EndpointPort> ports = s.getPorts() == null ? List.of() : s.getPorts();
            if (endpoints.isEmpty() || ports.isEmpty()) {
                continue;
            }
            any = true;
            for (EndpointPort ep : ports) {
                String epName = ep.getName() == null ? "" : ep.getName();
                if (!epName.equals(port) || ep.getPort() == null) {
                    continue;
                }
                for (Endpoint e : endpoints) {
                    boolean isReady = e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady());
                    if (isReady && e.getAddresses() != null) {
                        for (String a : e.getAddresses()) {
                            InetAddress ip = ofPod(store, namespace, e, a);
                            if (ip != null) {
                                ready.add(new InetSocketAddress(ip, ep.getPort()));
                            }
                        }
                    }
                }
            }
        }
        if (!any) {
            throw ApiException.serviceUnavailable("no endpoints available for service " + GoValues.quote(name));
        }
        if (ready.isEmpty()) {
            throw ApiException.serviceUnavailable("no endpoints available for service " + GoValues.quote(id));
        }
        return ready.get(ThreadLocalRandom.current().nextInt(ready.size()));
    }

    /** {@code isValidAddress}: the address belongs to a pod of the namespace that has it now; else null. */
    private static InetAddress ofPod(Store store, String namespace, Endpoint e, String address) {
        if (e.getTargetRef() == null || !"Pod".equals(e.getTargetRef().getKind()) || !namespace.equals(e.getTargetRef().getNamespace())) {
            return null;
        }
        Optional<Pod> pod = store.get(Pod.class, namespace, e.getTargetRef().getName());
        if (pod.isEmpty() || pod.get().getStatus() == null || pod.get().getStatus().getPodIPs() == null) {
            return null;
        }
        for (PodIP ip : pod.get().getStatus().getPodIPs()) {
            if (address.equals(ip.getIp())) {
                return allowedAddress(address);
            }
        }
        return null;
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return false;
        }
        int start = s.charAt(0) == '-' || s.charAt(0) == '+' ? 1 : 0;
        return start < s.length() && s.substring(start).chars().allMatch(c -> c >= '0' && c <= '9');
    }

    /** Go's error for a proxied request that could not reach its pod, as kube-apiserver's proxy transport answers it (503). */
    static ApiException unreachable(String why) {
        return ApiException.serviceUnavailable("error trying to reach service: " + why);
    }

    /**
     * apimachinery's {@code JoinPreservingTrailingSlash("", rest)}: Go's {@code path.Join}, which
     * cleans the path ({@code .} and {@code ..} resolved, never above the root; slashes
     * collapsed), keeping a trailing slash; {@code ""} for nothing.
     */
    static String joinPreservingTrailingSlash(String rest) {
        if (rest.isEmpty()) {
            return "";
        }
        List<String> kept = new ArrayList<>();
        for (String segment : rest.split("/")) {
            if (segment.isEmpty() || segment.equals(".")) {
                continue;
            }
            if (segment.equals("..")) {
                if (!kept.isEmpty()) {
                    kept.removeLast();
                }
                continue;
            }
            kept.add(segment);
        }
        String joined = "/" + String.join("/", kept);
        return rest.endsWith("/") && !joined.endsWith("/") ? joined + "/" : joined;
    }

    /** {@code path} as a request target's path, escaped as Go's {@code URL.EscapedPath} escapes one it builds. */
    static String escapePath(String path) {
        StringBuilder sb = new StringBuilder(path.length() + 8);
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-_.~/$&+,;=:@".indexOf(c) >= 0;
            if (plain) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    /**
     * apimachinery's {@code rewriteURL}, with no scheme or host of the proxy's own (a server
     * request's URL has none): a URL of the host the client asked ({@code requestHost}), of the
     * pod ({@code podAuthority}), or of none, whose path is absolute, is led back through the
     * proxy ({@code prefix}, decoded) unless it is there already; anything else is left as it is.
     * A URL of the client's host keeps its scheme and host; the others become a path.
     */
    static String rewriteLocation(String location, String podAuthority, String requestHost, String prefix) {
        java.net.URI uri;
        try {
            uri = new java.net.URI(location);
        } catch (java.net.URISyntaxException e) {
            return location;
        }
        String authority = uri.getRawAuthority();
        boolean differentHost = authority != null && !authority.isEmpty() && !authority.equals(podAuthority)
                && !authority.equals(requestHost);
        String path = uri.getRawPath();
        if (differentHost || path == null || !path.startsWith("/")) {
            return location;
        }
        StringBuilder sb = new StringBuilder();
        if (authority != null && authority.equals(requestHost)) {
            sb.append(uri.getScheme() == null ? "" : uri.getScheme() + ":").append("//").append(authority);
        }
        String escapedPrefix = escapePath(prefix);
        if (path.startsWith(escapedPrefix)) {
            sb.append(path);
        } else {
            String decoded;
            try {
                decoded = io.netty.handler.codec.http.QueryStringDecoder.decodeComponent(path.replace("+", "%2B"));
            } catch (IllegalArgumentException e) {
                decoded = path;
            }
            sb.append(escapePath(joinPreservingTrailingSlash(prefix + decoded)));
        }
        if (uri.getRawQuery() != null) {
            sb.append('?').append(uri.getRawQuery());
        }
        if (uri.getRawFragment() != null) {
            sb.append('#').append(uri.getRawFragment());
        }
        return sb.toString();
    }
}
