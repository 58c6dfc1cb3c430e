package dev.portway.api;

import dev.portway.api.metallb.IPAddressPool;
import dev.portway.api.policy.AccessPolicy;
import dev.portway.api.validation.AccessPolicyValidation;
import io.fabric8.kubernetes.api.model.ClientIPConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EmptyDirVolumeSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceSpec;
import io.fabric8.kubernetes.api.model.NamespaceStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.SessionAffinityConfig;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategy;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.RollingUpdateDeployment;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Defaulting as the API server does it on decode ({@code pkg/apis/core/v1/defaults.go},
 * {@code pkg/apis/apps/v1/defaults.go}), so stored objects look as they would in a real cluster.
 * Mutates its argument.
 */
public final class Defaults {

    public static final int DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;

    private Defaults() {
    }

    public static void apply(HasMetadata object) {
        switch (object) {
            case Service s -> service(s);
            case Pod p -> {
                if (p.getSpec() == null) {
                    p.setSpec(new PodSpec());
                }
                podSpec(p.getSpec());
                requestsFromLimits(p.getSpec());
            }
            case Deployment d -> deployment(d);
            case ReplicaSet rs -> {
                if (rs.getSpec() != null) {
                    if (rs.getSpec().getReplicas() == null) {
                        rs.getSpec().setReplicas(1);
                    }
                    if (rs.getSpec().getTemplate() == null) {
                        // Go's template is a struct, never nil: a missing one is empty and defaulted.
                        rs.getSpec().setTemplate(new PodTemplateSpec());
                    }
                    podTemplate(rs.getSpec().getTemplate());
                }
            }
            case EndpointSlice es -> {
                if (es.getPorts() != null) {
                    for (EndpointPort port : es.getPorts()) {
                        if (port.getName() == null) {
                            port.setName("");
                        }
                        if (port.getProtocol() == null) {
                            port.setProtocol("TCP");
                        }
                    }
                }
            }
            case Namespace ns -> {
                // as the namespace registry's PrepareForCreate and PrepareForUpdate: the name as a label, always
                if (ns.getMetadata() != null && ns.getMetadata().getName() != null) {
                    Map<String, String> labels = ns.getMetadata().getLabels() == null ? new LinkedHashMap<>()
                            : new LinkedHashMap<>(ns.getMetadata().getLabels());
                    labels.put("kubernetes.io/metadata.name", ns.getMetadata().getName());
                    ns.getMetadata().setLabels(labels);
                }
                if (ns.getSpec() == null || ns.getSpec().getFinalizers() == null || ns.getSpec().getFinalizers().isEmpty()) {
                    ns.setSpec(new NamespaceSpec(new ArrayList<>(List.of("kubernetes"))));
                }
                if (ns.getStatus() == null || ns.getStatus().getPhase() == null || ns.getStatus().getPhase().isEmpty()) {
                    ns.setStatus(new NamespaceStatus(ns.getStatus() == null ? null : ns.getStatus().getConditions(), "Active"));
                }
            }
            case Secret secret -> secret(secret);
            case IPAddressPool pool -> {
                if (pool.getSpec() != null) {
                    if (pool.getSpec().getAutoAssign() == null) {
                        pool.getSpec().setAutoAssign(true);
                    }
                    if (pool.getSpec().getAvoidBuggyIPs() == null) {
                        pool.getSpec().setAvoidBuggyIPs(false);
                    }
                }
            }
            case IngressClass ic -> {
                // networking/v1 SetDefaults_IngressClass: parameters are cluster-scoped unless said otherwise
                if (ic.getSpec() != null && ic.getSpec().getParameters() != null && ic.getSpec().getParameters().getScope() == null) {
                    ic.getSpec().getParameters().setScope("Cluster");
                }
            }
            case AccessPolicy policy -> AccessPolicyValidation.applyDefaults(policy);
            default -> dev.portway.api.validation.GatewayValidation.applyDefaults(object);
        }
    }

    static void service(Service service) {
        if (service.getSpec() == null) {
            service.setSpec(new ServiceSpec());
        }
        ServiceSpec spec = service.getSpec();
        if (spec.getSessionAffinity() == null || spec.getSessionAffinity().isEmpty()) {
            spec.setSessionAffinity("None");
        }
        if ("None".equals(spec.getSessionAffinity())) {
            spec.setSessionAffinityConfig(null);
        }
        if ("ClientIP".equals(spec.getSessionAffinity())) {
            SessionAffinityConfig config = spec.getSessionAffinityConfig();
            if (config == null || config.getClientIP() == null || config.getClientIP().getTimeoutSeconds() == null) {
                spec.setSessionAffinityConfig(new SessionAffinityConfig(new ClientIPConfig(DEFAULT_CLIENT_IP_AFFINITY_SECONDS)));
            }
        }
        if (spec.getType() == null || spec.getType().isEmpty()) {
            spec.setType("ClusterIP");
        }
        if (spec.getPorts() != null) {
            for (ServicePort port : spec.getPorts()) {
                if (port.getProtocol() == null || port.getProtocol().isEmpty()) {
                    port.setProtocol("TCP");
                }
                IntOrString target = port.getTargetPort();
                boolean unset = target == null || (target.getIntVal() == null && target.getStrVal() == null)
                        || (target.getIntVal() != null && target.getIntVal() == 0)
                        || (target.getStrVal() != null && target.getStrVal().isEmpty());
                if (unset && port.getPort() != null) {
                    port.setTargetPort(new IntOrString(port.getPort()));
                }
            }
        }
        String type = spec.getType();
        boolean externallyAccessible = type.equals("LoadBalancer") || type.equals("NodePort")
                || (type.equals("ClusterIP") && spec.getExternalIPs() != null && !spec.getExternalIPs().isEmpty());
        if (externallyAccessible && (spec.getExternalTrafficPolicy() == null || spec.getExternalTrafficPolicy().isEmpty())) {
            spec.setExternalTrafficPolicy("Cluster");
        }
        if (spec.getInternalTrafficPolicy() == null
                && (type.equals("NodePort") || type.equals("LoadBalancer") || type.equals("ClusterIP"))) {
            spec.setInternalTrafficPolicy("Cluster");
        }
        if (type.equals("LoadBalancer") && spec.getAllocateLoadBalancerNodePorts() == null) {
            spec.setAllocateLoadBalancerNodePorts(true);
        }
        if (type.equals("LoadBalancer") && service.getStatus() != null && service.getStatus().getLoadBalancer() != null
                && service.getStatus().getLoadBalancer().getIngress() != null) {
            service.getStatus().getLoadBalancer().getIngress().forEach(in -> {
                if (in.getIp() != null && !in.getIp().isEmpty() && in.getIpMode() == null) {
                    in.setIpMode("VIP");
                }
            });
        }
    }

    static void deployment(Deployment d) {
        if (d.getSpec() == null) {
            d.setSpec(new DeploymentSpec());
        }
        DeploymentSpec spec = d.getSpec();
        if (spec.getReplicas() == null) {
            spec.setReplicas(1);
        }
        if (spec.getStrategy() == null) {
            spec.setStrategy(new DeploymentStrategy());
        }
        DeploymentStrategy strategy = spec.getStrategy();
        if (strategy.getType() == null || strategy.getType().isEmpty()) {
            strategy.setType("RollingUpdate");
        }
        if ("RollingUpdate".equals(strategy.getType())) {
            if (strategy.getRollingUpdate() == null) {
                strategy.setRollingUpdate(new RollingUpdateDeployment());
            }
            if (strategy.getRollingUpdate().getMaxUnavailable() == null) {
                strategy.getRollingUpdate().setMaxUnavailable(new IntOrString("25%"));
            }
            if (strategy.getRollingUpdate().getMaxSurge() == null) {
                strategy.getRollingUpdate().setMaxSurge(new IntOrString("25%"));
            }
        }
        if (spec.getRevisionHistoryLimit() == null) {
            spec.setRevisionHistoryLimit(10);
        }
        if (spec.getProgressDeadlineSeconds() == null) {
            spec.setProgressDeadlineSeconds(600);
        }
        if (spec.getTemplate() == null) {
            // Go's template is a struct, never nil: a missing one is empty and defaulted.
            spec.setTemplate(new PodTemplateSpec());
        }
        podTemplate(spec.getTemplate());
    }

    public static void podTemplate(PodTemplateSpec template) {
        if (template == null) {
            return;
        }
        if (template.getSpec() == null) {
            template.setSpec(new PodSpec());
        }
        podSpec(template.getSpec());
    }

    /**
     * {@code SetDefaults_Pod}: a container that limits a resource and does not request it requests
     * its limit. Pods only, not templates (as in Kubernetes).
     */
    private static void requestsFromLimits(PodSpec spec) {
        List<Container> all = new ArrayList<>(spec.getContainers() == null ? List.of() : spec.getContainers());
        all.addAll(spec.getInitContainers() == null ? List.of() : spec.getInitContainers());
        for (Container c : all) {
            ResourceRequirements r = c.getResources();
            if (r == null || r.getLimits() == null || r.getLimits().isEmpty()) {
                continue;
            }
            java.util.Map<String, io.fabric8.kubernetes.api.model.Quantity> requests =
                    new java.util.LinkedHashMap<>(r.getRequests() == null ? java.util.Map.of() : r.getRequests());
            r.getLimits().forEach((name, q) -> requests.putIfAbsent(name, new io.fabric8.kubernetes.api.model.Quantity(q.toString())));
            r.setRequests(requests);
        }
    }

    public static void podSpec(PodSpec spec) {
        if (spec.getRestartPolicy() == null || spec.getRestartPolicy().isEmpty()) {
            spec.setRestartPolicy("Always");
        }
        if (spec.getDnsPolicy() == null || spec.getDnsPolicy().isEmpty()) {
            spec.setDnsPolicy("ClusterFirst");
        }
        if (spec.getTerminationGracePeriodSeconds() == null) {
            spec.setTerminationGracePeriodSeconds(30L);
        }
        if (spec.getSchedulerName() == null || spec.getSchedulerName().isEmpty()) {
            spec.setSchedulerName("default-scheduler");
        }
        if (spec.getSecurityContext() == null) {
            spec.setSecurityContext(new PodSecurityContext());
        }
        if (spec.getEnableServiceLinks() == null) {
            spec.setEnableServiceLinks(true);
        }
        if (spec.getVolumes() != null) {
            for (Volume v : spec.getVolumes()) {
                // SetDefaults_Volume: a volume that names no source at all is an emptyDir
                var tree = Json.tree(v);
                if (tree.size() == (tree.has("name") ? 1 : 0)) {
                    v.setEmptyDir(new EmptyDirVolumeSource());
                }
                if (v.getHostPath() != null && v.getHostPath().getType() == null) {
                    v.getHostPath().setType(""); // HostPathUnset
                }
                if (v.getConfigMap() != null && v.getConfigMap().getDefaultMode() == null) {
                    v.getConfigMap().setDefaultMode(420);
                }
                if (v.getSecret() != null && v.getSecret().getDefaultMode() == null) {
                    v.getSecret().setDefaultMode(420);
                }
            }
        }
        for (List<Container> list : List.of(nn(spec.getContainers()), nn(spec.getInitContainers()))) {
            for (Container c : list) {
                container(c);
            }
        }
    }

    private static void container(Container c) {
        if (c.getTerminationMessagePath() == null || c.getTerminationMessagePath().isEmpty()) {
            c.setTerminationMessagePath("/dev/termination-log");
        }
        if (c.getTerminationMessagePolicy() == null || c.getTerminationMessagePolicy().isEmpty()) {
            c.setTerminationMessagePolicy("File");
        }
        if (c.getImagePullPolicy() == null || c.getImagePullPolicy().isEmpty()) {
            c.setImagePullPolicy(defaultPullPolicy(c.getImage()));
        }
        if (c.getResources() == null) {
            c.setResources(new ResourceRequirements());
        }
        if (c.getPorts() != null) {
            for (ContainerPort port : c.getPorts()) {
                if (port.getProtocol() == null || port.getProtocol().isEmpty()) {
                    port.setProtocol("TCP");
                }
            }
        }
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null
                        && e.getValueFrom().getFieldRef().getApiVersion() == null) {
                    e.getValueFrom().getFieldRef().setApiVersion("v1");
                }
            }
        }
        for (Probe probe : new Probe[] {c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe()}) {
            if (probe == null) {
                continue;
            }
            // SetDefaults_Probe: an explicit 0 is unset too (the fields are plain int32 in Go); a period of 0
            // left as it was made the kubelet run the probe back to back, a process chain at a time
            if (probe.getTimeoutSeconds() == null || probe.getTimeoutSeconds() == 0) {
                probe.setTimeoutSeconds(1);
            }
            if (probe.getPeriodSeconds() == null || probe.getPeriodSeconds() == 0) {
                probe.setPeriodSeconds(10);
            }
            if (probe.getSuccessThreshold() == null || probe.getSuccessThreshold() == 0) {
                probe.setSuccessThreshold(1);
            }
            if (probe.getFailureThreshold() == null || probe.getFailureThreshold() == 0) {
                probe.setFailureThreshold(3);
            }
            if (probe.getGrpc() != null && probe.getGrpc().getService() == null) {
                probe.getGrpc().setService("");
            }
            httpGet(probe.getHttpGet());
        }
        if (c.getLifecycle() != null) {
            // SetDefaults_HTTPGetAction holds for a lifecycle hook's httpGet as for a probe's
            for (var hook : new io.fabric8.kubernetes.api.model.LifecycleHandler[] {c.getLifecycle().getPostStart(), c.getLifecycle().getPreStop()}) {
                if (hook != null) {
                    httpGet(hook.getHttpGet());
                }
            }
        }
    }

    /** {@code SetDefaults_HTTPGetAction}: path "/", scheme HTTP. */
    private static void httpGet(io.fabric8.kubernetes.api.model.HTTPGetAction action) {
        if (action == null) {
            return;
        }
        if (action.getPath() == null || action.getPath().isEmpty()) {
            action.setPath("/");
        }
        if (action.getScheme() == null || action.getScheme().isEmpty()) {
            action.setScheme("HTTP");
        }
    }

    /** {@code Always} for {@code :latest} or untagged images, {@code IfNotPresent} otherwise. */
    static String defaultPullPolicy(String image) {
        if (image == null || image.isEmpty()) {
            return "IfNotPresent";
        }
        if (image.contains("@")) {
            return "IfNotPresent";
        }
        String last = image.substring(image.lastIndexOf('/') + 1);
        int colon = last.lastIndexOf(':');
        if (colon < 0 || last.substring(colon + 1).equals("latest")) {
            return "Always";
        }
        return "IfNotPresent";
    }

    /** The API server folds write-only {@code stringData} into base64 {@code data}. */
    static void secret(Secret secret) {
        if (secret.getType() == null || secret.getType().isEmpty()) {
            secret.setType("Opaque");
        }
        if (secret.getStringData() != null && !secret.getStringData().isEmpty()) {
            Map<String, String> data = secret.getData() == null ? new LinkedHashMap<>() : new LinkedHashMap<>(secret.getData());
            secret.getStringData().forEach((k, v) ->
                    data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
            secret.setData(data);
            secret.setStringData(null);
        }
    }

    private static <T> List<T> nn(List<T> list) {
        return list == null ? List.of() : list;
    }
}
