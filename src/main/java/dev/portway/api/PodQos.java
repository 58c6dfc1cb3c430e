package dev.portway.api;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's quality-of-service class ({@code qos.ComputePodQOS}): Guaranteed when every container
 * (or the pod's own resources) limits CPU and memory and requests equal limits, BestEffort when
 * nothing requests or limits CPU or memory, Burstable otherwise. The API server sets it in
 * {@code status.qosClass} when a pod is created; kubectl computes it the same way when a status has none.
 */
public final class PodQos {

    private PodQos() {
    }

    public static String compute(Pod pod) {
        Map<String, BigDecimal> requests = new HashMap<>();
        Map<String, BigDecimal> limits = new HashMap<>();
        boolean guaranteed = true;
        var spec = pod.getSpec();
        if (spec == null) {
            return "BestEffort";
        }
        if (spec.getResources() != null) {
            add(requests, spec.getResources().getRequests());
            if (spec.getResources().getLimits() != null) {
                add(limits, spec.getResources().getLimits());
                if (!qosResources(spec.getResources().getLimits()).containsAll(List.of("memory", "cpu"))) {
                    guaranteed = false;
                }
            }
        } else {
            List<Container> all = new ArrayList<>(spec.getContainers() == null ? List.of() : spec.getContainers());
            all.addAll(spec.getInitContainers() == null ? List.of() : spec.getInitContainers());
            for (Container c : all) {
                ResourceRequirements r = c.getResources() == null ? new ResourceRequirements() : c.getResources();
                add(requests, r.getRequests());
                add(limits, r.getLimits());
                if (!qosResources(r.getLimits()).containsAll(List.of("memory", "cpu"))) {
                    guaranteed = false;
                }
            }
        }
        if (requests.isEmpty() && limits.isEmpty()) {
            return "BestEffort";
        }
        if (guaranteed) {
            for (Map.Entry<String, BigDecimal> e : requests.entrySet()) {
                BigDecimal limit = limits.get(e.getKey());
                if (limit == null || limit.compareTo(e.getValue()) != 0) {
                    guaranteed = false;
                    break;
                }
            }
        }
        return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
    }

    private static BigDecimal value(Quantity q) {
        return q == null ? BigDecimal.ZERO : Quantities.parse(q).map(Quantities.Parsed::value).orElse(BigDecimal.ZERO);
    }

    private static void add(Map<String, BigDecimal> into, Map<String, Quantity> list) {
        if (list == null) {
            return;
        }
        list.forEach((name, q) -> {
            if ((name.equals("cpu") || name.equals("memory")) && value(q).signum() > 0) {
                into.merge(name, value(q), BigDecimal::add);
            }
        });
    }

    private static List<String> qosResources(Map<String, Quantity> list) {
        List<String> names = new ArrayList<>();
        if (list != null) {
            list.forEach((name, q) -> {
                if ((name.equals("cpu") || name.equals("memory")) && value(q).signum() > 0) {
                    names.add(name);
                }
            });
        }
        return names;
    }
}
