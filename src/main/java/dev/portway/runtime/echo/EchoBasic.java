package dev.portway.runtime.echo;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Gateway API conformance suite's backend, {@code echo-basic}
 * ({@code registry.k8s.io/gateway-api/echo-basic}, {@code gcr.io/k8s-staging-gateway-api/echo-basic}),
 * as the built-in echo server plays it. A container of that image with no command gets an HTTP
 * server on {@code $HTTP_PORT} (3000 when unset) that answers as echo-basic does: a JSON document
 * of what it received (path as the request line had it, host, method, proto, headers) and who it
 * is ({@code $NAMESPACE}, {@code $INGRESS_NAME}, {@code $SERVICE_NAME}, {@code $POD_NAME}, which
 * the manifests fill in through the downward API); {@code X-Echo-Set-Header} sets response
 * headers; {@code ?delay=1s} answers late; {@code /status/NNN} answers with that status;
 * {@code /health} answers OK; {@code /retry/?uuid=..&succeedAfter=N[&responseCode=C]} fails N
 * times first. Each echoed request is logged as echo-basic logs it
 * ({@code Echoing back request made to PATH to client (ADDR)}), which is how the suite finds
 * mirrored requests.
 *
 * <p>Not played: the h2c server ({@code $H2C_PORT}), HTTPS ({@code $TLS_SERVER_CERT}), the
 * websocket path {@code /ws}, and the gRPC, TCP and UDP modes ({@code GRPC_ECHO_SERVER},
 * {@code TCP_ECHO_SERVER}, {@code UDP_ECHO_SERVER}): {@link #unsupported} names them, and the
 * kubelet reports such a container as not startable rather than serving something else.
 */
public final class EchoBasic {

    /**
     * The image repositories (any tag or digest) that select echo-basic: the registry the
     * conformance manifests name in recent releases (v1.6), and the staging registry of v1.3 and
     * earlier.
     */
    public static final List<String> IMAGES = List.of(
            "registry.k8s.io/gateway-api/echo-basic",
            "gcr.io/k8s-staging-gateway-api/echo-basic");

    /** The port echo-basic serves HTTP on when {@code HTTP_PORT} is not set. */
    public static final int DEFAULT_HTTP_PORT = 3000;

    /** Who the server is, as echo-basic reports it ({@code Context} in echo-basic's JSON). */
    public record Context(String namespace, String ingress, String service, String pod) {
        public Context {
            namespace = Objects.requireNonNullElse(namespace, "");
            ingress = Objects.requireNonNullElse(ingress, "");
            service = Objects.requireNonNullElse(service, "");
            pod = Objects.requireNonNullElse(pod, "");
        }

        /** From the container's environment, as echo-basic reads it. */
        public static Context fromEnv(Map<String, String> env) {
            return new Context(env.get("NAMESPACE"), env.get("INGRESS_NAME"), env.get("SERVICE_NAME"), env.get("POD_NAME"));
        }
    }

    private EchoBasic() {
    }

    /** Whether {@code image} (any tag or digest) is the Gateway API's echo-basic. */
    public static boolean isEchoBasicImage(String image) {
        if (image == null) {
            return false;
        }
        String name = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
        int slash = name.lastIndexOf('/');
        int colon = name.lastIndexOf(':');
        if (colon > slash) {
            name = name.substring(0, colon);
        }
        return IMAGES.contains(name);
    }

    /** The HTTP port from the environment ({@code HTTP_PORT}, else 3000). */
    public static int httpPort(Map<String, String> env) {
        String value = env.get("HTTP_PORT");
        if (value == null || value.isEmpty()) {
            return DEFAULT_HTTP_PORT;
        }
        try {
            int port = Integer.parseInt(value);
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("HTTP_PORT: " + value + " (expected: 1-65535)");
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("HTTP_PORT: " + value + " (expected: a port number)", e);
        }
    }

    /**
     * Why a container with this environment cannot be played by the built-in server (a mode
     * echo-basic has that Portway does not), or null when it can.
     */
    public static String unsupported(Map<String, String> env) {
        for (String mode : List.of("GRPC_ECHO_SERVER", "TCP_ECHO_SERVER", "UDP_ECHO_SERVER")) {
            String value = env.get(mode);
            if (value != null && !value.isEmpty()) {
                return "echo-basic with " + mode + " set is not built in: Portway plays echo-basic's HTTP server only";
            }
        }
        return null;
    }
}
