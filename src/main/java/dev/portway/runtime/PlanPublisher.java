package dev.portway.runtime;

import dev.portway.control.Controller;
import dev.portway.plan.Plan;
import dev.portway.plan.PlanBuilder;
import dev.portway.proxy.DataPlane;
import java.util.Objects;

/**
 * The last controller of every pass: derives the data plane's plan from the store and hands it
 * over when it differs from the last one (the data plane applies it as a diff).
 */
final class PlanPublisher implements Controller {

    private final PlanBuilder builder;
    private final DataPlane dataPlane;
    private Plan last = Plan.empty();

    PlanPublisher(PlanBuilder builder, DataPlane dataPlane) {
        this.builder = builder;
        this.dataPlane = dataPlane;
    }

    @Override
    public void reconcile() {
        Plan plan = builder.build();
        if (Objects.equals(plan.listeners(), last.listeners()) && Objects.equals(plan.clusters(), last.clusters())
                && Objects.equals(plan.healthServers(), last.healthServers()) && Objects.equals(plan.httpListeners(), last.httpListeners())) {
            return;
        }
        last = plan;
        dataPlane.apply(plan);
    }
}
