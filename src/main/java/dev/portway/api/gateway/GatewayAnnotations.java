package dev.portway.api.gateway;

import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Cidr;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The annotations that tune one Gateway's (or, on the IngressClass, the Ingress controller's) L7
 * listeners: settings the Gateway API has no field for.
 *
 * <ul>
 *   <li>{@value #ACCESS_LOG}: {@code "true"} logs one JSON line per request (off by default)</li>
 *   <li>{@value #TRUSTED_PROXIES}: comma-separated IPv4 CIDRs of proxies in front of the gateway whose
 *       {@code X-Forwarded-*} and {@code Forwarded} headers are kept and appended to; from any other
 *       client they are replaced (default: none is trusted)</li>
 * </ul>
 */
public final class GatewayAnnotations {

    public static final String ACCESS_LOG = "portway.dev/access-log";
    public static final String TRUSTED_PROXIES = "portway.dev/trusted-proxies";

    private GatewayAnnotations() {
    }

    public static boolean accessLog(HasMetadata o) {
        return "true".equals(annotations(o).get(ACCESS_LOG));
    }

    /** The trusted proxies' CIDRs (the valid ones: validation refuses the rest). */
    public static List<String> trustedProxies(HasMetadata o) {
        String value = annotations(o).get(TRUSTED_PROXIES);
        List<String> out = new ArrayList<>();
        if (value != null) {
            for (String part : value.split(",")) {
                String p = part.trim();
                if (!p.isEmpty() && Cidr.parse(p).isPresent()) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    /** Field errors for malformed values of these annotations. */
    public static List<FieldError> validate(HasMetadata o) {
        List<FieldError> errs = new ArrayList<>();
        Map<String, String> a = annotations(o);
        FieldPath annotations = FieldPath.of("metadata", "annotations");
        String log = a.get(ACCESS_LOG);
        if (log != null && !log.equals("true") && !log.equals("false")) {
            errs.add(FieldError.invalid(annotations.key(ACCESS_LOG), log, "must be \"true\" or \"false\""));
        }
        String trusted = a.get(TRUSTED_PROXIES);
        if (trusted != null) {
            for (String part : trusted.split(",")) {
                if (Cidr.parse(part.trim()).isEmpty()) {
                    errs.add(FieldError.invalid(annotations.key(TRUSTED_PROXIES), trusted,
                            "must be a comma-separated list of IPv4 CIDRs, like 10.0.0.0/8,192.168.1.7/32"));
                    break;
                }
            }
        }
        return errs;
    }

    private static Map<String, String> annotations(HasMetadata o) {
        Map<String, String> a = o.getMetadata() == null ? null : o.getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }
}
