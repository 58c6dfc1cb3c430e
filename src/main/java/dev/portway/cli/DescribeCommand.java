package dev.portway.cli;

import dev.portway.api.ApiException;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.api.Selectors;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code portway describe svc NAME}: kubectl's describe layout, events included. */
@Command(name = "describe", mixinStandardHelpOptions = true, description = "Show an object in detail, with its events (kubectl's layout for Services).")
final class DescribeCommand implements Callable<Integer> {

    private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Mixin
    NamespaceOption ns;

    @Parameters(index = "0", paramLabel = "TYPE")
    String type;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ResourceKind kind = GetCommand.kind(type);
        try (AdminClient client = server.client()) {
            AdminClient.Response response = client.get(ApiPaths.object(kind, ns.namespace, name));
            if (!response.ok()) {
                throw new ApiException(Json.read(response.body(), Status.class));
            }
            HasMetadata object = Json.read(response.body(), kind.type());
            List<Event> events = events(client, kind, object);
            if (object instanceof Service svc) {
                String selector = URLEncoder.encode("kubernetes.io/service-name=" + name, StandardCharsets.UTF_8);
                List<EndpointSlice> slices = new ArrayList<>();
                for (var item : Json.readTree(client.get(ApiPaths.collection(ResourceKind.ENDPOINT_SLICE, ns.namespace)
                        + "?labelSelector=" + selector).body()).path("items")) {
                    slices.add(Json.convert(item, EndpointSlice.class));
                }
                out.print(describeService(svc, slices, events));
            } else if (object instanceof io.fabric8.kubernetes.api.model.Pod pod) {
                out.print(PodDescriber.describe(pod, events, main.clock.instant()));
            } else {
                out.print(describeGeneric(object, events));
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The object's events as kubectl's {@code searchEvents} asks for them: a field selector on the
     * involved object's name, namespace, kind (none for pods, whose describer clears it) and uid,
     * in the server's order (the describer sorts them as kubectl does).
     */
    private static List<Event> events(AdminClient client, ResourceKind kind, HasMetadata object) {
        var meta = object.getMetadata();
        String ns = meta.getNamespace() == null ? "default" : meta.getNamespace();
        List<String> fields = new ArrayList<>();
        fields.add("involvedObject.name=" + meta.getName());
        if (meta.getNamespace() != null) {
            fields.add("involvedObject.namespace=" + ns);
        }
        if (kind != ResourceKind.POD) {
            fields.add("involvedObject.kind=" + kind.kind());
        }
        fields.add("involvedObject.uid=" + meta.getUid());
        String selector = URLEncoder.encode(String.join(",", fields), StandardCharsets.UTF_8);
        List<Event> events = new ArrayList<>();
        for (var item : Json.readTree(client.get(ApiPaths.collection(ResourceKind.EVENT, ns) + "?fieldSelector=" + selector).body()).path("items")) {
            Event e = Json.convert(item, Event.class);
            // Belt and braces: a server that ignored the selector must not show other objects' events.
            if (e.getInvolvedObject() != null && Objects.equals(e.getInvolvedObject().getUid(), meta.getUid())) {
                events.add(e);
            }
        }
        return events;
    }

    String describeService(Service svc, List<EndpointSlice> slices, List<Event> events) {
        var s = svc.getSpec();
        StringBuilder w = new StringBuilder();
        w.append("Name:\t").append(svc.getMetadata().getName()).append('\n');
        w.append("Namespace:\t").append(svc.getMetadata().getNamespace()).append('\n');
        multiline(w, "Labels", svc.getMetadata().getLabels(), "=");
        multiline(w, "Annotations", svc.getMetadata().getAnnotations(), ": ");
        w.append("Selector:\t").append(s.getSelector() == null || s.getSelector().isEmpty() ? "<none>" : Selectors.format(s.getSelector())).append('\n');
        w.append("Type:\t").append(s.getType()).append('\n');
        if (s.getIpFamilyPolicy() != null) {
            w.append("IP Family Policy:\t").append(s.getIpFamilyPolicy()).append('\n');
        }
        w.append("IP Families:\t").append(s.getIpFamilies() == null || s.getIpFamilies().isEmpty() ? "<none>" : String.join(",", s.getIpFamilies())).append('\n');
        w.append("IP:\t").append(nz(s.getClusterIP())).append('\n');
        w.append("IPs:\t").append(s.getClusterIPs() == null || s.getClusterIPs().isEmpty() ? "<none>" : String.join(",", s.getClusterIPs())).append('\n');
        if (s.getExternalIPs() != null && !s.getExternalIPs().isEmpty()) {
            w.append("External IPs:\t").append(String.join(",", s.getExternalIPs())).append('\n');
        }
        if (!nz(s.getLoadBalancerIP()).isEmpty()) {
            w.append("Desired LoadBalancer IP:\t").append(s.getLoadBalancerIP()).append('\n');
        }
        if (!nz(s.getExternalName()).isEmpty()) {
            w.append("External Name:\t").append(s.getExternalName()).append('\n');
        }
        if (svc.getStatus() != null && svc.getStatus().getLoadBalancer() != null
                && svc.getStatus().getLoadBalancer().getIngress() != null && !svc.getStatus().getLoadBalancer().getIngress().isEmpty()) {
            List<String> ingress = new ArrayList<>();
            for (LoadBalancerIngress in : svc.getStatus().getLoadBalancer().getIngress()) {
                ingress.add(in.getIp() != null && !in.getIp().isEmpty()
                        ? in.getIp() + (in.getIpMode() != null ? " (" + in.getIpMode() + ")" : "") : nz(in.getHostname()));
            }
            w.append("LoadBalancer Ingress:\t").append(String.join(", ", ingress)).append('\n');
        }
        for (ServicePort p : s.getPorts() == null ? List.<ServicePort>of() : s.getPorts()) {
            String portName = nz(p.getName()).isEmpty() ? "<unset>" : p.getName();
            w.append("Port:\t").append(portName).append('\t').append(p.getPort()).append('/').append(p.getProtocol()).append('\n');
            IntOrString target = p.getTargetPort();
            w.append("TargetPort:\t").append(target == null ? "" : target.getIntVal() != null ? target.getIntVal().toString() : target.getStrVal())
                    .append('/').append(p.getProtocol()).append('\n');
            if (p.getNodePort() != null && p.getNodePort() != 0) {
                w.append("NodePort:\t").append(portName).append('\t').append(p.getNodePort()).append('/').append(p.getProtocol()).append('\n');
            }
            w.append("Endpoints:\t").append(endpoints(slices, nz(p.getName()))).append('\n');
        }
        w.append("Session Affinity:\t").append(nz(s.getSessionAffinity())).append('\n');
        if (!nz(s.getExternalTrafficPolicy()).isEmpty()) {
            w.append("External Traffic Policy:\t").append(s.getExternalTrafficPolicy()).append('\n');
        }
        if (s.getInternalTrafficPolicy() != null) {
            w.append("Internal Traffic Policy:\t").append(s.getInternalTrafficPolicy()).append('\n');
        }
        if (s.getHealthCheckNodePort() != null && s.getHealthCheckNodePort() != 0) {
            w.append("HealthCheck NodePort:\t").append(s.getHealthCheckNodePort()).append('\n');
        }
        if (s.getLoadBalancerSourceRanges() != null && !s.getLoadBalancerSourceRanges().isEmpty()) {
            w.append("LoadBalancer Source Ranges:\t").append(String.join(",", s.getLoadBalancerSourceRanges())).append('\n');
        }
        return withEvents(w, events);
    }

    /** The fields and the events through kubectl's describe writer: "Events: <none>" in the fields' block, a table after a flush. */
    private String withEvents(StringBuilder w, List<Event> events) {
        DescribeWriter out = new DescribeWriter();
        out.write(DescribeWriter.LEVEL_0, w.toString());
        DescribeEvents.write(events, out, main.clock.instant());
        return out.finish();
    }

    private String describeGeneric(HasMetadata object, List<Event> events) {
        StringBuilder w = new StringBuilder();
        w.append("Name:\t").append(object.getMetadata().getName()).append('\n');
        if (object.getMetadata().getNamespace() != null) {
            w.append("Namespace:\t").append(object.getMetadata().getNamespace()).append('\n');
        }
        multiline(w, "Labels", object.getMetadata().getLabels(), "=");
        multiline(w, "Annotations", object.getMetadata().getAnnotations(), ": ");
        String yaml = Json.writeYaml(object);
        DescribeWriter table = new DescribeWriter();
        DescribeEvents.write(events, table, main.clock.instant());
        return TabWriter.forDescribe().format(DescribeWriter.escape(w.toString())) + yaml + table.finish();
    }

    /** Labels/annotations one per line, the rest under the first's value column. */
    private static void multiline(StringBuilder w, String title, Map<String, String> values, String separator) {
        w.append(title).append(":\t");
        Map<String, String> sorted = new TreeMap<>(values == null ? Map.of() : values);
        sorted.remove(LAST_APPLIED);
        if (sorted.isEmpty()) {
            w.append("<none>\n");
            return;
        }
        boolean first = true;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            if (!first) {
                w.append('\t');
            }
            first = false;
            w.append(e.getKey()).append(separator).append(e.getValue()).append('\n');
        }
    }

    /** Ready endpoints of the port named {@code portName}: {@code 127.1.1.2:8080,...}, at most 3 shown. */
    private static String endpoints(List<EndpointSlice> slices, String portName) {
        if (slices.isEmpty()) {
            return "<none>";
        }
        List<String> list = new ArrayList<>();
        int count = 0;
        boolean more = false;
        for (EndpointSlice slice : slices) {
            for (EndpointPort port : slice.getPorts() == null ? List.<EndpointPort>of() : slice.getPorts()) {
                if (!portName.equals(nz(port.getName()))) {
                    continue;
                }
                for (Endpoint e : slice.getEndpoints()) {
                    if (list.size() == 3) {
                        more = true;
                    }
                    boolean ready = e.getConditions() == null || e.getConditions().getReady() == null || e.getConditions().getReady();
                    if (!ready) {
                        continue;
                    }
                    if (!more) {
                        list.add(e.getAddresses().getFirst() + ":" + port.getPort());
                    }
                    count++;
                }
            }
        }
        String joined = String.join(",", list);
        return more ? joined + " + " + (count - 3) + " more..." : joined;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
