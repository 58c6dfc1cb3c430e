package dev.portway.runtime;

import dev.portway.control.Controller;
import dev.portway.plan.Plan;
import dev.portway.plan.PlanBuilder;
import dev.portway.proxy.DataPlane;

/**
 * The last controller of every pass: derives the data plane's plan from the store and hands it
 * over, with what changed since the last one, when there is a new one.
 */
public final class PlanPublisher implements Controller {

    private final PlanBuilder builder;
    private final DataPlane dataPlane;
    private Plan last = Plan.empty();

    public PlanPublisher(PlanBuilder builder, DataPlane dataPlane) {
        this.builder = builder;
        this.dataPlane = dataPlane;
    }

    @Override
    public void reconcile() {
        Plan plan = builder.build();
        if (plan == last) {
            return; // the builder found nothing changed
        }
        last = plan;
        dataPlane.apply(plan, builder.changes());
    }
}
