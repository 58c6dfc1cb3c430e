package dev.portway.api.validation;

import static dev.portway.api.validation.CrdSchema.array;
import static dev.portway.api.validation.CrdSchema.bool;
import static dev.portway.api.validation.CrdSchema.has;
import static dev.portway.api.validation.CrdSchema.integer;
import static dev.portway.api.validation.CrdSchema.items;
import static dev.portway.api.validation.CrdSchema.map;
import static dev.portway.api.validation.CrdSchema.object;
import static dev.portway.api.validation.CrdSchema.size;
import static dev.portway.api.validation.CrdSchema.str;
import static dev.portway.api.validation.CrdSchema.string;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1beta1.ReferenceGrant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The Gateway API's CRDs as kube-apiserver judges them: the OpenAPI schemas, defaults and CEL rules
 * of the standard channel's {@code config/crd/standard/gateway.networking.k8s.io_*.yaml} (Gateway API
 * v1.6.1: GatewayClass and Gateway v1, HTTPRoute v1, ReferenceGrant v1beta1), rule for rule and
 * message for message, in the forms described in {@link CrdSchema}. Object metadata is checked as for
 * any custom resource (names are DNS subdomains).
 *
 * <p>Not ported: the {@code format: ipv4/ipv6} oneOf of {@code spec.addresses[].value} reports only
 * kube-openapi's inner format error (the composite "must validate one and only one schema" lines are
 * left out), and fields of the experimental channel that the fabric8 model knows
 * ({@code spec.rules[].retry}, {@code sessionPersistence}, ...) are not refused as unknown fields.
 */
public final class GatewayValidation {

    private GatewayValidation() {
    }

    static final String GROUP = "gateway.networking.k8s.io";

    // ---- shared types (apis/v1/shared_types.go, object_reference_types.go) -----------------------

    private static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    private static final String GROUP_PATTERN = "^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    private static final String KIND_PATTERN = "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$";
    private static final String NAMESPACE_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    private static final String HOSTNAME_PATTERN = "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    private static final Pattern HOSTNAME = Pattern.compile(HOSTNAME_PATTERN);
    private static final String HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$";
    private static final String CONTROLLER_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$";
    static final String DURATION_PATTERN = "^([0-9]{1,5}(h|m|s|ms)){1,4}$";
    private static final String LABEL_KEY_RULE = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$";
    private static final Pattern LABEL_KEY = Pattern.compile(LABEL_KEY_RULE);

    private static CrdSchema.Node group() {
        return string().maxLength(253).pattern(GROUP_PATTERN);
    }

    private static CrdSchema.Node kind() {
        return string().minLength(1).maxLength(63).pattern(KIND_PATTERN);
    }

    private static CrdSchema.Node objectName() {
        return string().minLength(1).maxLength(253);
    }

    private static CrdSchema.Node namespace() {
        return string().minLength(1).maxLength(63).pattern(NAMESPACE_PATTERN);
    }

    private static CrdSchema.Node sectionName() {
        return string().minLength(1).maxLength(253).pattern(DNS_SUBDOMAIN);
    }

    private static CrdSchema.Node hostname() {
        return string().minLength(1).maxLength(253).pattern(HOSTNAME_PATTERN);
    }

    private static CrdSchema.Node preciseHostname() {
        return string().minLength(1).maxLength(253).pattern(DNS_SUBDOMAIN);
    }

    private static CrdSchema.Node port() {
        return integer().min(1).max(65535);
    }

    private static CrdSchema.Node headerName() {
        return string().minLength(1).maxLength(256).pattern(HEADER_NAME_PATTERN);
    }

    private static CrdSchema.Node labelSelector() {
        return object()
                .prop("matchExpressions", array(object().required("key", "operator")
                        .prop("key", string()).prop("operator", string()).prop("values", array(string()))))
                .prop("matchLabels", map(string()));
    }

    /** SecretObjectReference / ObjectReference (certificateRefs, clientCertificateRef). */
    private static CrdSchema.Node secretRef() {
        return object().required("name")
                .prop("group", group().defaultTo(""))
                .prop("kind", kind().defaultTo("Secret"))
                .prop("name", objectName())
                .prop("namespace", namespace());
    }

    /** ObjectReference with every part required (caCertificateRefs). */
    private static CrdSchema.Node fullObjectRef() {
        return object().required("group", "kind", "name")
                .prop("group", group()).prop("kind", kind()).prop("name", objectName()).prop("namespace", namespace());
    }

    private static CrdSchema.Node parametersRef(boolean namespaced) {
        CrdSchema.Node n = object().required("group", "kind", "name")
                .prop("group", group()).prop("kind", kind()).prop("name", objectName());
        return namespaced ? n.prop("namespace", namespace()) : n;
    }

    // ---- GatewayClass -------------------------------------------------------------------------

    static final CrdSchema.Node GATEWAY_CLASS = object().required("spec")
            .prop("spec", object().required("controllerName")
                    .prop("controllerName", string().minLength(1).maxLength(253).pattern(CONTROLLER_PATTERN))
                    .prop("description", string().maxLength(64))
                    .prop("parametersRef", parametersRef(true)));

    // ---- Gateway ------------------------------------------------------------------------------

    private static final Set<String> NO_TLS_PROTOCOLS = Set.of("HTTP", "TCP", "UDP");

    private static CrdSchema.Node frontendTls() {
        return object().required("caCertificateRefs")
                .prop("caCertificateRefs", array(fullObjectRef()).minItems(1).maxItems(16))
                .prop("mode", string().enumOf("AllowValidOnly", "AllowInsecureFallback").defaultTo("AllowValidOnly"));
    }

    static final CrdSchema.Node GATEWAY = object().required("spec")
            .prop("spec", object().required("gatewayClassName", "listeners")
                    .prop("addresses", array(object()
                            .prop("type", string().minLength(1).maxLength(253).defaultTo("IPAddress")
                                    .pattern("^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$"))
                            .prop("value", string().maxLength(253))
                            .check(GatewayValidation::addressFormat)
                            .rule("Hostname value must be empty or contain only valid characters (matching "
                                    + HOSTNAME_PATTERN.replace("\\\\", "\\") + ")",
                                    a -> !"Hostname".equals(str(a, "type")) || !has(a, "value")
                                            || HOSTNAME.matcher(str(a, "value")).find()))
                            .maxItems(16)
                            .rule("IPAddress values must be unique", addresses -> uniqueValues(addresses, "IPAddress"))
                            .rule("Hostname values must be unique", addresses -> uniqueValues(addresses, "Hostname")))
                    .prop("allowedListeners", object()
                            .prop("namespaces", object().defaultTo(Map.of("from", "None"))
                                    .prop("from", string().enumOf("All", "Selector", "Same", "None").defaultTo("None"))
                                    .prop("selector", labelSelector())))
                    .prop("gatewayClassName", objectName())
                    .prop("infrastructure", object()
                            .prop("annotations", map(string().minLength(0).maxLength(4096)).maxProperties(16)
                                    .rule("Annotation keys must be in the form of an optional DNS subdomain prefix followed by a "
                                            + "required name segment of up to 63 characters.", m -> keys(m).allMatch(k -> LABEL_KEY.matcher(k).matches()))
                                    .rule("If specified, the annotation key's prefix must be a DNS subdomain not longer than 253 "
                                            + "characters in total.", m -> keys(m).allMatch(k -> k.split("/", -1)[0].length() < 253)))
                            .prop("labels", map(string().minLength(0).maxLength(63).pattern("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"))
                                    .maxProperties(8)
                                    .rule("Label keys must be in the form of an optional DNS subdomain prefix followed by a "
                                            + "required name segment of up to 63 characters.", m -> keys(m).allMatch(k -> LABEL_KEY.matcher(k).matches()))
                                    .rule("If specified, the label key's prefix must be a DNS subdomain not longer than 253 "
                                            + "characters in total.", m -> keys(m).allMatch(k -> k.split("/", -1)[0].length() < 253)))
                            .prop("parametersRef", parametersRef(false)))
                    .prop("listeners", array(object().required("name", "port", "protocol")
                            .prop("allowedRoutes", object().defaultTo(Map.of("namespaces", Map.of("from", "Same")))
                                    .prop("kinds", array(object().required("kind")
                                            .prop("group", group().defaultTo(GROUP))
                                            .prop("kind", kind())).maxItems(8))
                                    .prop("namespaces", object().defaultTo(Map.of("from", "Same"))
                                            .prop("from", string().enumOf("All", "Selector", "Same").defaultTo("Same"))
                                            .prop("selector", labelSelector())))
                            .prop("hostname", hostname())
                            .prop("name", sectionName())
                            .prop("port", port())
                            .prop("protocol", string().minLength(1).maxLength(255)
                                    .pattern("^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9]+$"))
                            .prop("tls", object()
                                    .prop("certificateRefs", array(secretRef()).maxItems(64))
                                    .prop("mode", string().enumOf("Terminate", "Passthrough").defaultTo("Terminate"))
                                    .prop("options", map(string().minLength(0).maxLength(4096)).maxProperties(16))
                                    .rule("certificateRefs or options must be specified when mode is Terminate",
                                            tls -> !"Terminate".equals(str(tls, "mode")) || size(tls, "certificateRefs") > 0 || size(tls, "options") > 0)))
                            .minItems(1).maxItems(64).listMap("name")
                            .rule("tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
                                    ls -> items(ls).stream().allMatch(l -> !NO_TLS_PROTOCOLS.contains(str(l, "protocol")) || !has(l, "tls")))
                            .rule("tls mode must be Terminate for protocol HTTPS",
                                    ls -> items(ls).stream().allMatch(l -> !("HTTPS".equals(str(l, "protocol")) && has(l, "tls"))
                                            || str(l.get("tls"), "mode").isEmpty() || "Terminate".equals(str(l.get("tls"), "mode"))))
                            .rule("tls mode must be set for protocol TLS",
                                    ls -> items(ls).stream().allMatch(l -> !"TLS".equals(str(l, "protocol"))
                                            || (has(l, "tls") && has(l.get("tls"), "mode") && !str(l.get("tls"), "mode").isEmpty())))
                            .rule("hostname must not be specified for protocols ['TCP', 'UDP']",
                                    ls -> items(ls).stream().allMatch(l -> !Set.of("TCP", "UDP").contains(str(l, "protocol"))
                                            || !has(l, "hostname") || str(l, "hostname").isEmpty()))
                            .rule("Listener name must be unique within the Gateway",
                                    ls -> items(ls).stream().allMatch(l1 -> items(ls).stream()
                                            .filter(l2 -> str(l1, "name").equals(str(l2, "name"))).count() == 1))
                            .rule("Combination of port, protocol and hostname must be unique for each listener",
                                    ls -> items(ls).stream().allMatch(l1 -> items(ls).stream().filter(l2 ->
                                            Objects.equals(l1.get("port"), l2.get("port")) && str(l1, "protocol").equals(str(l2, "protocol"))
                                                    && (has(l1, "hostname") && has(l2, "hostname") ? str(l1, "hostname").equals(str(l2, "hostname"))
                                                    : !has(l1, "hostname") && !has(l2, "hostname"))).count() == 1)))
                    .prop("tls", object()
                            .prop("backend", object().prop("clientCertificateRef", secretRef()))
                            .prop("frontend", object().required("default")
                                    .prop("default", object().prop("validation", frontendTls()))
                                    .prop("perPort", array(object().required("port", "tls")
                                            .prop("port", port())
                                            .prop("tls", object().prop("validation", frontendTls())))
                                            .maxItems(64).listMap("port")
                                            .rule("Port for TLS configuration must be unique within the Gateway",
                                                    ps -> items(ps).stream().allMatch(p1 -> items(ps).stream()
                                                            .filter(p2 -> Objects.equals(p1.get("port"), p2.get("port"))).count() == 1))))));

    private static java.util.stream.Stream<String> keys(JsonNode map) {
        List<String> keys = new ArrayList<>();
        map.fieldNames().forEachRemaining(keys::add);
        return keys.stream();
    }

    private static boolean uniqueValues(JsonNode addresses, String type) {
        return items(addresses).stream().allMatch(a1 -> !(type.equals(str(a1, "type")) && has(a1, "value"))
                || items(addresses).stream().filter(a2 -> str(a2, "type").equals(str(a1, "type")) && has(a2, "value")
                && str(a2, "value").equals(str(a1, "value"))).count() == 1);
    }

    /** The oneOf of an address: an IPAddress value must be an IPv4 or IPv6 address (kube-openapi's format error). */
    private static List<FieldError> addressFormat(JsonNode address, FieldPath path, String name) {
        if (!"IPAddress".equals(str(address, "type")) || !has(address, "value")) {
            return List.of();
        }
        String value = str(address, "value");
        if (Ipv4.parse(value).isPresent() || isIpv6(value)) {
            return List.of();
        }
        return List.of(new FieldError(FieldError.Type.TYPE_INVALID, path.child("value"), value,
                name + ".value in body must be of type ipv4: " + dev.portway.api.GoValues.quote(value)));
    }

    private static boolean isIpv6(String value) {
        if (!value.contains(":") || !value.matches("[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            return java.net.InetAddress.getByName(value) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    // ---- HTTPRoute ----------------------------------------------------------------------------

    private static CrdSchema.Node headerFilter() {
        CrdSchema.Node header = object().required("name", "value")
                .prop("name", headerName()).prop("value", string().minLength(1).maxLength(4096));
        return object()
                .prop("add", array(header).maxItems(16).listMap("name"))
                .prop("remove", array(string()).maxItems(16).listSet())
                .prop("set", array(header).maxItems(16).listMap("name"));
    }

    private static CrdSchema.Node pathModifier() {
        return object().required("type")
                .prop("replaceFullPath", string().maxLength(1024))
                .prop("replacePrefixMatch", string().maxLength(1024))
                .prop("type", string().enumOf("ReplaceFullPath", "ReplacePrefixMatch"))
                .rule("replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
                        p -> !"ReplaceFullPath".equals(str(p, "type")) || has(p, "replaceFullPath"))
                .rule("type must be 'ReplaceFullPath' when replaceFullPath is set",
                        p -> !has(p, "replaceFullPath") || "ReplaceFullPath".equals(str(p, "type")))
                .rule("replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'",
                        p -> !"ReplacePrefixMatch".equals(str(p, "type")) || has(p, "replacePrefixMatch"))
                .rule("type must be 'ReplacePrefixMatch' when replacePrefixMatch is set",
                        p -> !has(p, "replacePrefixMatch") || "ReplacePrefixMatch".equals(str(p, "type")));
    }

    /** BackendObjectReference with the rule that a Service reference names a port. */
    private static CrdSchema.Node backendObjectRef() {
        return object().required("name")
                .prop("group", group().defaultTo(""))
                .prop("kind", kind().defaultTo("Service"))
                .prop("name", objectName())
                .prop("namespace", namespace())
                .prop("port", port())
                .rule("Must have port for Service reference",
                        b -> !(str(b, "group").isEmpty() && "Service".equals(str(b, "kind"))) || has(b, "port"));
    }

    private static final String ORIGIN_PATTERN = "(^\\*$)|(^(http(s)?):\\/\\/(((\\*\\.)?([a-zA-Z0-9\\-]+\\.)*[a-zA-Z0-9-]+|\\*)(:([0-9]{1,5}))?)$)";

    private static CrdSchema.Node cors() {
        return object()
                .prop("allowCredentials", bool())
                .prop("allowHeaders", array(headerName()).maxItems(64).listSet()
                        .rule("AllowHeaders cannot contain '*' alongside other methods", starAlone()))
                .prop("allowMethods", array(string().enumOf("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"))
                        .maxItems(9).listSet()
                        .rule("AllowMethods cannot contain '*' alongside other methods", starAlone()))
                .prop("allowOrigins", array(string().minLength(1).maxLength(253).pattern(ORIGIN_PATTERN)).maxItems(64).listSet()
                        .rule("AllowOrigins cannot contain '*' alongside other origins", starAlone()))
                .prop("exposeHeaders", array(headerName()).maxItems(64).listSet())
                .prop("maxAge", integer().min(1).defaultTo(5));
    }

    private static Predicate<JsonNode> starAlone() {
        return list -> !(items(list).stream().anyMatch(i -> "*".equals(i.asText())) && list.size() > 1);
    }

    private static final List<String[]> FILTER_FIELDS = List.of(
            new String[] {"cors", "CORS"},
            new String[] {"requestHeaderModifier", "RequestHeaderModifier"},
            new String[] {"responseHeaderModifier", "ResponseHeaderModifier"},
            new String[] {"requestMirror", "RequestMirror"},
            new String[] {"requestRedirect", "RequestRedirect"},
            new String[] {"urlRewrite", "URLRewrite"},
            new String[] {"extensionRef", "ExtensionRef"});

    private static CrdSchema.Node filter() {
        CrdSchema.Node f = object().required("type")
                .prop("cors", cors())
                .prop("extensionRef", object().required("group", "kind", "name")
                        .prop("group", group()).prop("kind", kind()).prop("name", objectName()))
                .prop("requestHeaderModifier", headerFilter())
                .prop("requestMirror", object().required("backendRef")
                        .prop("backendRef", backendObjectRef())
                        .prop("fraction", object().required("numerator")
                                .prop("denominator", integer().min(1).defaultTo(100))
                                .prop("numerator", integer().min(0))
                                .rule("numerator must be less than or equal to denominator",
                                        fr -> fr.path("numerator").asLong() <= fr.path("denominator").asLong()))
                        .prop("percent", integer().min(0).max(100))
                        .rule("Only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
                                m -> !(has(m, "percent") && has(m, "fraction"))))
                .prop("requestRedirect", object()
                        .prop("hostname", preciseHostname())
                        .prop("path", pathModifier())
                        .prop("port", port())
                        .prop("scheme", string().enumOf("http", "https"))
                        .prop("statusCode", integer().enumOf(301, 302, 303, 307, 308).defaultTo(302)))
                .prop("responseHeaderModifier", headerFilter())
                .prop("type", string().enumOf("RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect",
                        "URLRewrite", "ExtensionRef", "CORS"))
                .prop("urlRewrite", object().prop("hostname", preciseHostname()).prop("path", pathModifier()));
        for (String[] ff : FILTER_FIELDS) {
            String field = ff[0];
            String type = ff[1];
            f.rule("filter." + field + " must be nil if the filter.type is not " + type,
                    x -> !(has(x, field) && !type.equals(str(x, "type"))));
            f.rule("filter." + field + " must be specified for " + type + " filter.type",
                    x -> !(!has(x, field) && type.equals(str(x, "type"))));
        }
        return f;
    }

    private static CrdSchema.Node filters() {
        return array(filter()).maxItems(16)
                .rule("May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
                        fs -> !(countType(fs, "RequestRedirect") > 0 && countType(fs, "URLRewrite") > 0))
                .rule("CORS filter cannot be repeated", fs -> countType(fs, "CORS") <= 1)
                .rule("RequestHeaderModifier filter cannot be repeated", fs -> countType(fs, "RequestHeaderModifier") <= 1)
                .rule("ResponseHeaderModifier filter cannot be repeated", fs -> countType(fs, "ResponseHeaderModifier") <= 1)
                .rule("RequestRedirect filter cannot be repeated", fs -> countType(fs, "RequestRedirect") <= 1)
                .rule("URLRewrite filter cannot be repeated", fs -> countType(fs, "URLRewrite") <= 1);
    }

    private static long countType(JsonNode filters, String type) {
        return items(filters).stream().filter(f -> type.equals(str(f, "type"))).count();
    }

    private static final Pattern PATH_CHARS = Pattern.compile("^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$");

    /** HTTPPathMatch: its defaults, and the rules that keep Exact and PathPrefix values normalized paths. */
    static CrdSchema.Node pathMatch() {
        CrdSchema.Node p = object().defaultTo(Map.of("type", "PathPrefix", "value", "/"))
                .prop("type", string().enumOf("Exact", "PathPrefix", "RegularExpression").defaultTo("PathPrefix"))
                .prop("value", string().maxLength(1024).defaultTo("/"));
        Predicate<JsonNode> plain = m -> Set.of("Exact", "PathPrefix").contains(str(m, "type"));
        p.rule("value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
                m -> !plain.test(m) || str(m, "value").startsWith("/"));
        for (String seq : List.of("//", "/./", "/../", "%2f", "%2F", "#")) {
            p.rule("must not contain '" + seq + "' when type one of ['Exact', 'PathPrefix']", m -> !plain.test(m) || !str(m, "value").contains(seq));
        }
        for (String suffix : List.of("/..", "/.")) {
            p.rule("must not end with '" + suffix + "' when type one of ['Exact', 'PathPrefix']", m -> !plain.test(m) || !str(m, "value").endsWith(suffix));
        }
        p.rule("type must be one of ['Exact', 'PathPrefix', 'RegularExpression']",
                m -> plain.test(m) || "RegularExpression".equals(str(m, "type")));
        p.rule("must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
                m -> !plain.test(m) || PATH_CHARS.matcher(str(m, "value")).find());
        return p;
    }

    private static boolean onePrefixMatch(JsonNode rule) {
        JsonNode matches = rule.get("matches");
        return matches != null && matches.size() == 1 && has(matches.get(0), "path")
                && "PathPrefix".equals(str(matches.get(0).get("path"), "type"));
    }

    private static boolean replacesPrefix(JsonNode filter, String kind) {
        return has(filter, kind) && has(filter.get(kind), "path") && "ReplacePrefixMatch".equals(str(filter.get(kind).get("path"), "type"))
                && has(filter.get(kind).get("path"), "replacePrefixMatch");
    }

    private static long countReplacePrefix(JsonNode filters, String kind) {
        return items(filters).stream().filter(f -> replacesPrefix(f, kind)).count();
    }

    private static CrdSchema.Node rule() {
        CrdSchema.Node header = object().required("name", "value")
                .prop("name", headerName())
                .prop("type", string().enumOf("Exact", "RegularExpression").defaultTo("Exact"))
                .prop("value", string().minLength(1).maxLength(4096));
        CrdSchema.Node query = object().required("name", "value")
                .prop("name", headerName())
                .prop("type", string().enumOf("Exact", "RegularExpression").defaultTo("Exact"))
                .prop("value", string().minLength(1).maxLength(1024));
        return object()
                .prop("backendRefs", array(backendObjectRef()
                        .prop("filters", filters())
                        .prop("weight", integer().min(0).max(1000000).defaultTo(1))).maxItems(16))
                .prop("filters", filters())
                .prop("matches", array(object()
                        .prop("headers", array(header).maxItems(16).listMap("name"))
                        .prop("method", string().enumOf("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"))
                        .prop("path", pathMatch())
                        .prop("queryParams", array(query).maxItems(16).listMap("name")))
                        .maxItems(64).defaultTo(List.of(Map.of("path", Map.of("type", "PathPrefix", "value", "/")))))
                .prop("name", sectionName())
                .prop("timeouts", object()
                        .prop("backendRequest", string().pattern(DURATION_PATTERN))
                        .prop("request", string().pattern(DURATION_PATTERN))
                        .rule("backendRequest timeout cannot be longer than request timeout",
                                t -> !(has(t, "request") && has(t, "backendRequest") && duration(str(t, "request")) != 0
                                        && duration(str(t, "backendRequest")) > duration(str(t, "request")))))
                .rule("RequestRedirect filter must not be used together with backendRefs",
                        r -> !(size(r, "backendRefs") > 0) || !has(r, "filters")
                                || items(r.get("filters")).stream().noneMatch(f -> has(f, "requestRedirect")))
                .rule("When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
                        r -> !(has(r, "filters") && countReplacePrefix(r.get("filters"), "requestRedirect") == 1) || onePrefixMatch(r))
                .rule("When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
                        r -> !(has(r, "filters") && countReplacePrefix(r.get("filters"), "urlRewrite") == 1) || onePrefixMatch(r))
                .rule("Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
                        r -> !(has(r, "backendRefs") && items(r.get("backendRefs")).stream()
                                .filter(b -> has(b, "filters") && countReplacePrefix(b.get("filters"), "requestRedirect") == 1).count() == 1)
                                || onePrefixMatch(r))
                .rule("Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
                        r -> !(has(r, "backendRefs") && items(r.get("backendRefs")).stream()
                                .filter(b -> has(b, "filters") && countReplacePrefix(b.get("filters"), "urlRewrite") == 1).count() == 1)
                                || onePrefixMatch(r));
    }

    private static boolean sameParent(JsonNode p1, JsonNode p2) {
        boolean ns1 = !has(p1, "namespace") || str(p1, "namespace").isEmpty();
        boolean ns2 = !has(p2, "namespace") || str(p2, "namespace").isEmpty();
        return str(p1, "group").equals(str(p2, "group")) && str(p1, "kind").equals(str(p2, "kind")) && str(p1, "name").equals(str(p2, "name"))
                && ((ns1 && ns2) || (has(p1, "namespace") && has(p2, "namespace") && str(p1, "namespace").equals(str(p2, "namespace"))));
    }

    private static boolean noSection(JsonNode p) {
        return !has(p, "sectionName") || str(p, "sectionName").isEmpty();
    }

    static final CrdSchema.Node HTTP_ROUTE = object().required("spec")
            .prop("spec", object()
                    .prop("hostnames", array(hostname()).maxItems(16))
                    .prop("parentRefs", array(object().required("name")
                            .prop("group", group().defaultTo(GROUP))
                            .prop("kind", kind().defaultTo("Gateway"))
                            .prop("name", objectName())
                            .prop("namespace", namespace())
                            .prop("port", port())
                            .prop("sectionName", sectionName())).maxItems(32)
                            .rule("sectionName must be specified when parentRefs includes 2 or more references to the same parent",
                                    ps -> items(ps).stream().allMatch(p1 -> items(ps).stream()
                                            .allMatch(p2 -> !sameParent(p1, p2) || noSection(p1) == noSection(p2))))
                            .rule("sectionName must be unique when parentRefs includes 2 or more references to the same parent",
                                    ps -> items(ps).stream().allMatch(p1 -> items(ps).stream().filter(p2 -> sameParent(p1, p2)
                                            && ((noSection(p1) && noSection(p2)) || (has(p1, "sectionName") && has(p2, "sectionName")
                                            && str(p1, "sectionName").equals(str(p2, "sectionName"))))).count() == 1)))
                    .prop("rules", array(rule()).minItems(1).maxItems(16)
                            .defaultTo(List.of(Map.of("matches", List.of(Map.of("path", Map.of("type", "PathPrefix", "value", "/"))))))
                            .rule("While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a "
                                    + "route must be less than 128", rs -> items(rs).stream().limit(16).mapToInt(r -> size(r, "matches")).sum() <= 128)));

    // ---- ReferenceGrant -----------------------------------------------------------------------

    static final CrdSchema.Node REFERENCE_GRANT = object().required("spec")
            .prop("spec", object().required("from", "to")
                    .prop("from", array(object().required("group", "kind", "namespace")
                            .prop("group", group()).prop("kind", kind()).prop("namespace", namespace())).minItems(1).maxItems(16))
                    .prop("to", array(object().required("group", "kind")
                            .prop("group", group()).prop("kind", kind()).prop("name", objectName())).minItems(1).maxItems(16)));

    // ---- entry points -------------------------------------------------------------------------

    private static CrdSchema.Node schemaOf(HasMetadata object) {
        return switch (object) {
            case GatewayClass gc -> GATEWAY_CLASS;
            case Gateway gw -> GATEWAY;
            case HTTPRoute r -> HTTP_ROUTE;
            case ReferenceGrant g -> REFERENCE_GRANT;
            default -> null;
        };
    }

    /** Whether {@code object} is one of the Gateway API kinds validated here. */
    public static boolean handles(HasMetadata object) {
        return schemaOf(object) != null;
    }

    /**
     * The CRDs' structural defaults ({@code allowedRoutes}, {@code tls.mode}, {@code parentRefs[].group/kind},
     * {@code backendRefs[].weight}, the default rule and path match, ...), as the API server applies them
     * on decode. Mutates {@code object}'s spec.
     */
    public static <T extends HasMetadata> void applyDefaults(T object) {
        CrdSchema.Node schema = schemaOf(object);
        HasMetadata defaulted = schema == null ? null : CrdSchema.defaulted(schema, object);
        switch (defaulted) {
            case null -> {
            }
            case GatewayClass gc -> ((GatewayClass) object).setSpec(gc.getSpec());
            case Gateway gw -> ((Gateway) object).setSpec(gw.getSpec());
            case HTTPRoute r -> ((HTTPRoute) object).setSpec(r.getSpec());
            case ReferenceGrant g -> ((ReferenceGrant) object).setSpec(g.getSpec());
            default -> {
            }
        }
    }

    /** Create: object metadata as for any custom resource, then the schema, list types and CEL rules. */
    public static List<FieldError> validate(HasMetadata object) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.customResourceMeta(object.getMetadata(),
                !(object instanceof GatewayClass), MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        errs.addAll(CrdSchema.validateBody(schemaOf(object), object));
        if (object instanceof Gateway) {
            errs.addAll(dev.portway.api.gateway.GatewayAnnotations.validate(object));
        }
        return errs;
    }

    /** Update: metadata rules, the create checks, and transition rules ({@code self == oldSelf}). */
    public static List<FieldError> validateUpdate(HasMetadata updated, HasMetadata old) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.customResourceMetaUpdate(updated.getMetadata(), old.getMetadata(),
                FieldPath.of("metadata")));
        List<FieldError> schemaErrs = CrdSchema.validateBody(schemaOf(updated), updated);
        errs.addAll(schemaErrs);
        if (updated instanceof Gateway) {
            errs.addAll(dev.portway.api.gateway.GatewayAnnotations.validate(updated));
        }
        boolean celRan = schemaErrs.stream().noneMatch(e -> e.field().equals(CrdSchema.NIL_PATH));
        if (celRan && updated instanceof GatewayClass gc && old instanceof GatewayClass oldGc
                && gc.getSpec() != null && oldGc.getSpec() != null
                && !Objects.equals(gc.getSpec().getControllerName(), oldGc.getSpec().getControllerName())) {
            errs.add(FieldError.invalid(FieldPath.of("spec", "controllerName"), "string", "Value is immutable"));
        }
        return errs;
    }

    private static final Pattern DURATION_PART = Pattern.compile("([0-9]{1,5})(h|ms|m|s)");

    /** A Gateway API Duration ({@code 1h30m}, {@code 500ms}) in milliseconds, as CEL's {@code duration()} reads it. */
    public static long duration(String text) {
        Matcher m = DURATION_PART.matcher(text);
        long ms = 0;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                throw new IllegalArgumentException("not a duration: " + text);
            }
            end = m.end();
            long n = Long.parseLong(m.group(1));
            ms += switch (m.group(2)) {
                case "h" -> n * 3_600_000L;
                case "m" -> n * 60_000L;
                case "s" -> n * 1000L;
                default -> n;
            };
        }
        if (end != text.length() || text.isEmpty()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return ms;
    }
}
