package dev.portway.api.validation;

import static dev.portway.api.validation.MetaValidation.nz;

import com.google.re2j.Pattern;
import dev.portway.api.FieldError;
import dev.portway.api.FieldPath;
import dev.portway.net.Ipv4;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassParametersReference;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressTLS;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Ingress and IngressClass validation as kube-apiserver 1.34 does it
 * ({@code pkg/apis/networking/validation/validation.go}): rules, paths by pathType, backends, TLS
 * hosts and secret names, the class annotation against {@code ingressClassName}, and the
 * IngressClass controller and parameters. The {@code RelaxedServiceNameValidation} gate is off in
 * 1.34, so backend Service names are DNS-1035 labels.
 */
public final class IngressValidation {

    /** The annotation that named the class before {@code spec.ingressClassName}. */
    public static final String ANNOTATION_INGRESS_CLASS = "kubernetes.io/ingress.class";
    private static final int MAX_CONTROLLER_LENGTH = 250;
    private static final List<String> INVALID_PATH_SEQUENCES = List.of("//", "/./", "/../", "%2f", "%2F");
    private static final List<String> INVALID_PATH_SUFFIXES = List.of("/..", "/.");
    private static final String WILDCARD_FMT = "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    private static final Pattern WILDCARD = Pattern.compile(WILDCARD_FMT);
    private static final String WILDCARD_ERR = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
            + "which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
    private static final String HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
    private static final Pattern HTTP_PATH = Pattern.compile(HTTP_PATH_FMT);

    private IngressValidation() {
    }

    public static List<FieldError> validate(Ingress ingress) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.objectMeta(ingress.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN,
                FieldPath.of("metadata")));
        errs.addAll(spec(ingress));
        Map<String, String> annotations = ingress.getMetadata() == null ? null : ingress.getMetadata().getAnnotations();
        String className = ingress.getSpec() == null ? null : ingress.getSpec().getIngressClassName();
        if (annotations != null && annotations.containsKey(ANNOTATION_INGRESS_CLASS) && className != null
                && !nz(annotations.get(ANNOTATION_INGRESS_CLASS)).equals(className)) {
            errs.add(FieldError.invalid(FieldPath.of("annotations").child(ANNOTATION_INGRESS_CLASS), nz(annotations.get(ANNOTATION_INGRESS_CLASS)),
                    "must match `ingressClassName` when both are specified"));
        }
        return errs;
    }

    /** Update: metadata rules and the spec checks (the class annotation is checked on create only). */
    public static List<FieldError> validateUpdate(Ingress ingress, Ingress old) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.objectMetaUpdate(ingress.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        errs.addAll(MetaValidation.objectMeta(ingress.getMetadata(), true, MetaValidation.DNS_SUBDOMAIN, FieldPath.of("metadata")));
        errs.addAll(spec(ingress));
        return errs;
    }

    private static List<FieldError> spec(Ingress ingress) {
        List<FieldError> errs = new ArrayList<>();
        FieldPath spec = FieldPath.of("spec");
        var s = ingress.getSpec();
        List<IngressRule> rules = s == null || s.getRules() == null ? List.of() : s.getRules();
        IngressBackend defaultBackend = s == null ? null : s.getDefaultBackend();
        if (rules.isEmpty() && defaultBackend == null) {
            errs.add(FieldError.invalid(spec, rules.isEmpty() ? null : rules, "either `defaultBackend` or `rules` must be specified"));
        }
        if (defaultBackend != null) {
            errs.addAll(backend(defaultBackend, spec.child("defaultBackend")));
        }
        for (int i = 0; i < rules.size(); i++) {
            errs.addAll(rule(rules.get(i), spec.child("rules").index(i)));
        }
        List<IngressTLS> tls = s == null || s.getTls() == null ? List.of() : s.getTls();
        for (int t = 0; t < tls.size(); t++) {
            FieldPath tp = spec.child("tls").index(t);
            List<String> hosts = tls.get(t).getHosts() == null ? List.of() : tls.get(t).getHosts();
            for (int h = 0; h < hosts.size(); h++) {
                String host = nz(hosts.get(h));
                List<String> msgs = host.contains("*") ? wildcardSubdomain(host) : Names.dns1123Subdomain(host);
                for (String msg : msgs) {
                    errs.add(FieldError.invalid(tp.child("hosts").index(h), host, msg));
                }
            }
            String secret = nz(tls.get(t).getSecretName());
            if (!secret.isEmpty()) {
                for (String msg : Names.dns1123Subdomain(secret)) {
                    errs.add(FieldError.invalid(tp.child("secretName"), secret, msg));
                }
            }
        }
        if (s != null && s.getIngressClassName() != null) {
            for (String msg : Names.dns1123Subdomain(s.getIngressClassName())) {
                errs.add(FieldError.invalid(spec.child("ingressClassName"), s.getIngressClassName(), msg));
            }
        }
        return errs;
    }

    private static List<FieldError> rule(IngressRule rule, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        String host = nz(rule.getHost());
        if (!host.isEmpty()) {
            if (isIp(host)) {
                errs.add(FieldError.invalid(path.child("host"), host, "must be a DNS name, not an IP address"));
            }
            List<String> msgs = host.contains("*") ? wildcardSubdomain(host) : Names.dns1123Subdomain(host);
            for (String msg : msgs) {
                errs.add(FieldError.invalid(path.child("host"), host, msg));
            }
        }
        if (rule.getHttp() != null) {
            FieldPath http = path.child("http");
            List<HTTPIngressPath> paths = rule.getHttp().getPaths() == null ? List.of() : rule.getHttp().getPaths();
            if (paths.isEmpty()) {
                errs.add(FieldError.required(http.child("paths"), ""));
            }
            for (int i = 0; i < paths.size(); i++) {
                errs.addAll(httpPath(paths.get(i), http.child("paths").index(i)));
            }
        }
        return errs;
    }

    private static List<FieldError> httpPath(HTTPIngressPath p, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        if (p.getPathType() == null) {
            errs.add(FieldError.required(path.child("pathType"), "pathType must be specified"));
            return errs;
        }
        String value = nz(p.getPath());
        switch (p.getPathType()) {
            case "Exact", "Prefix" -> {
                if (!value.startsWith("/")) {
                    errs.add(FieldError.invalid(path.child("path"), value, "must be an absolute path"));
                }
                if (!value.isEmpty()) {
                    for (String seq : INVALID_PATH_SEQUENCES) {
                        if (value.contains(seq)) {
                            errs.add(FieldError.invalid(path.child("path"), value, "must not contain '" + seq + "'"));
                        }
                    }
                    for (String suffix : INVALID_PATH_SUFFIXES) {
                        if (value.endsWith(suffix)) {
                            errs.add(FieldError.invalid(path.child("path"), value, "cannot end with '" + suffix + "'"));
                        }
                    }
                }
            }
            case "ImplementationSpecific" -> {
                if (!value.isEmpty() && !value.startsWith("/")) {
                    errs.add(FieldError.invalid(path.child("path"), value, "must be an absolute path"));
                }
            }
            default -> errs.add(FieldError.notSupported(path.child("pathType"), p.getPathType(), "Exact", "ImplementationSpecific", "Prefix"));
        }
        errs.addAll(backend(p.getBackend() == null ? new IngressBackend() : p.getBackend(), path.child("backend")));
        return errs;
    }

    private static List<FieldError> backend(IngressBackend b, FieldPath path) {
        List<FieldError> errs = new ArrayList<>();
        boolean resource = b.getResource() != null;
        boolean service = b.getService() != null;
        if (resource && service) {
            errs.add(FieldError.invalid(path, "", "cannot set both resource and service backends"));
            return errs;
        }
        if (resource) {
            var r = b.getResource();
            FieldPath rp = path.child("resource");
            if (r.getApiGroup() != null) {
                for (String msg : Names.dns1123Subdomain(r.getApiGroup())) {
                    errs.add(FieldError.invalid(rp.child("apiGroup"), r.getApiGroup(), msg));
                }
            }
            errs.addAll(pathSegment(nz(r.getKind()), rp.child("kind")));
            errs.addAll(pathSegment(nz(r.getName()), rp.child("name")));
        } else if (service) {
            var svc = b.getService();
            String name = nz(svc.getName());
            if (name.isEmpty()) {
                errs.add(FieldError.required(path.child("service", "name"), ""));
            } else {
                for (String msg : Names.dns1035Label(name)) {
                    errs.add(FieldError.invalid(path.child("service", "name"), name, msg));
                }
            }
            String portName = svc.getPort() == null ? "" : nz(svc.getPort().getName());
            int portNumber = svc.getPort() == null || svc.getPort().getNumber() == null ? 0 : svc.getPort().getNumber();
            if (!portName.isEmpty() && portNumber != 0) {
                errs.add(FieldError.invalid(path, "", "cannot set both port name & port number"));
            } else if (!portName.isEmpty()) {
                for (String msg : Names.portName(portName)) {
                    errs.add(FieldError.invalid(path.child("service", "port", "name"), portName, msg));
                }
            } else if (portNumber != 0) {
                for (String msg : Names.portNum(portNumber)) {
                    errs.add(FieldError.invalid(path.child("service", "port", "number"), portNumber, msg));
                }
            } else {
                errs.add(FieldError.required(path, "port name or number is required"));
            }
        } else {
            errs.add(FieldError.invalid(path, "", "resource or service backend is required"));
        }
        return errs;
    }

    /** {@code IsPathSegmentName}, with a Required error for an empty value. */
    private static List<FieldError> pathSegment(String value, FieldPath path) {
        if (value.isEmpty()) {
            return List.of(FieldError.required(path, ""));
        }
        List<FieldError> errs = new ArrayList<>();
        if (value.equals(".") || value.equals("..")) {
            errs.add(FieldError.invalid(path, value, "may not be '" + value + "'"));
        }
        for (String bad : List.of("/", "%")) {
            if (value.contains(bad)) {
                errs.add(FieldError.invalid(path, value, "may not contain '" + bad + "'"));
            }
        }
        return errs;
    }

    static List<String> wildcardSubdomain(String value) {
        List<String> errs = new ArrayList<>();
        if (value.length() > Names.DNS1123_SUBDOMAIN_MAX) {
            errs.add("must be no more than " + Names.DNS1123_SUBDOMAIN_MAX + " characters");
        }
        if (!WILDCARD.matcher(value).matches()) {
            errs.add(Names.regexError(WILDCARD_ERR, WILDCARD_FMT, "*.example.com"));
        }
        return errs;
    }

    private static boolean isIp(String host) {
        if (Ipv4.parse(host).isPresent()) {
            return true;
        }
        if (host.contains(":") && host.matches("[0-9a-fA-F:.]+")) {
            try {
                return java.net.InetAddress.getByName(host) != null;
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    // ---- IngressClass -------------------------------------------------------------------------

    public static List<FieldError> validate(IngressClass ingressClass) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.objectMeta(ingressClass.getMetadata(), false, MetaValidation.DNS_SUBDOMAIN,
                FieldPath.of("metadata")));
        FieldPath spec = FieldPath.of("spec");
        String controller = ingressClass.getSpec() == null ? "" : nz(ingressClass.getSpec().getController());
        if (controller.isEmpty()) {
            errs.add(FieldError.required(spec.child("controller"), ""));
        } else {
            if (controller.length() > MAX_CONTROLLER_LENGTH) {
                errs.add(FieldError.tooLong(spec.child("controller"), MAX_CONTROLLER_LENGTH));
            }
            errs.addAll(domainPrefixedPath(spec.child("controller"), controller));
        }
        IngressClassParametersReference params = ingressClass.getSpec() == null ? null : ingressClass.getSpec().getParameters();
        if (params != null) {
            FieldPath pp = spec.child("parameters");
            if (params.getApiGroup() != null) {
                for (String msg : Names.dns1123Subdomain(params.getApiGroup())) {
                    errs.add(FieldError.invalid(pp.child("apiGroup"), params.getApiGroup(), msg));
                }
            }
            errs.addAll(pathSegment(nz(params.getKind()), pp.child("kind")));
            errs.addAll(pathSegment(nz(params.getName()), pp.child("name")));
            String scope = params.getScope();
            if (scope == null) {
                errs.add(FieldError.required(pp.child("scope"), ""));
            } else if (!scope.equals("Cluster") && !scope.equals("Namespace")) {
                errs.add(FieldError.notSupported(pp.child("scope"), scope, "Cluster", "Namespace"));
            } else if (scope.equals("Namespace")) {
                if (params.getNamespace() == null) {
                    errs.add(FieldError.required(pp.child("namespace"), "`parameters.scope` is set to 'Namespace'"));
                } else {
                    for (String msg : Names.dns1123Label(params.getNamespace())) {
                        errs.add(FieldError.invalid(pp.child("namespace"), params.getNamespace(), msg));
                    }
                }
            } else if (params.getNamespace() != null) {
                errs.add(FieldError.forbidden(pp.child("namespace"), "`parameters.scope` is set to 'Cluster'"));
            }
        }
        return errs;
    }

    public static List<FieldError> validateUpdate(IngressClass updated, IngressClass old) {
        List<FieldError> errs = new ArrayList<>(MetaValidation.objectMetaUpdate(updated.getMetadata(), old.getMetadata(), FieldPath.of("metadata")));
        String controller = updated.getSpec() == null ? null : updated.getSpec().getController();
        String oldController = old.getSpec() == null ? null : old.getSpec().getController();
        errs.addAll(MetaValidation.immutable(nz(controller), nz(oldController), FieldPath.of("spec", "controller")));
        errs.addAll(validate(updated));
        return errs;
    }

    /** {@code IsDomainPrefixedPath}: {@code acme.io/foo}. */
    private static List<FieldError> domainPrefixedPath(FieldPath path, String value) {
        String[] segments = value.split("/", 2);
        if (segments.length != 2 || segments[0].isEmpty() || segments[1].isEmpty()) {
            return List.of(FieldError.invalid(path, value, "must be a domain-prefixed path (such as \"acme.io/foo\")"));
        }
        List<FieldError> errs = new ArrayList<>();
        for (String msg : Names.dns1123Subdomain(segments[0])) {
            errs.add(FieldError.invalid(path, segments[0], msg));
        }
        if (!HTTP_PATH.matcher(segments[1]).matches()) {
            errs.add(FieldError.invalid(path, segments[1], "Invalid path (regex used for validation is '" + HTTP_PATH_FMT + "')"));
        }
        return errs;
    }
}
