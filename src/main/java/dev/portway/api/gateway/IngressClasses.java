package dev.portway.api.gateway;

import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which Ingresses are Portway's: those of an IngressClass whose controller is
 * {@value #CONTROLLER}, named by {@code spec.ingressClassName}, by the older
 * {@code kubernetes.io/ingress.class} annotation, or (naming none) by the cluster's default class.
 * One answer for the controller that writes their status and the plan that serves them: an
 * Ingress of another controller is neither, whatever address its status holds.
 */
public final class IngressClasses {

    /** The {@code spec.controller} of Portway's IngressClasses. */
    public static final String CONTROLLER = "portway.dev/ingress-controller";
    /** Marks the class an Ingress naming none gets (the DefaultIngressClass admission plugin's annotation). */
    public static final String DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";

    private IngressClasses() {
    }

    /** Portway's IngressClasses, by name. */
    public static Map<String, IngressClass> ours(List<IngressClass> classes) {
        Map<String, IngressClass> out = new LinkedHashMap<>();
        for (IngressClass ic : classes) {
            if (ic.getSpec() != null && CONTROLLER.equals(ic.getSpec().getController())) {
                out.put(ic.getMetadata().getName(), ic);
            }
        }
        return out;
    }

    /** The Ingresses of each of Portway's IngressClasses, by class name (the default class's too). */
    public static Map<String, List<Ingress>> byClass(List<IngressClass> classes, List<Ingress> ingresses) {
        Map<String, IngressClass> ours = ours(classes);
        IngressClass defaultClass = null;
        // as the DefaultIngressClass admission plugin: the newest class marked default
        for (IngressClass ic : classes) {
            if ("true".equals(ic.getMetadata().getAnnotations() == null ? null : ic.getMetadata().getAnnotations().get(DEFAULT_CLASS_ANNOTATION))
                    && (defaultClass == null || Objects.toString(ic.getMetadata().getCreationTimestamp(), "")
                    .compareTo(Objects.toString(defaultClass.getMetadata().getCreationTimestamp(), "")) > 0)) {
                defaultClass = ic;
            }
        }
        Map<String, List<Ingress>> byClass = new LinkedHashMap<>();
        for (Ingress ing : ingresses) {
            String cls = ing.getSpec() == null ? null : ing.getSpec().getIngressClassName();
            Map<String, String> annotations = ing.getMetadata().getAnnotations() == null ? Map.of() : ing.getMetadata().getAnnotations();
            if (cls == null) {
                cls = annotations.get("kubernetes.io/ingress.class");
            }
            if (cls == null && defaultClass != null) {
                cls = defaultClass.getMetadata().getName();
            }
            if (cls != null && ours.containsKey(cls)) {
                byClass.computeIfAbsent(cls, c -> new ArrayList<>()).add(ing);
            }
        }
        return byClass;
    }
}
