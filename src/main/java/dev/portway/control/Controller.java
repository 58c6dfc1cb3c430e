package dev.portway.control;

/**
 * A level-triggered controller: each pass reads the whole desired state from the store and
 * writes only what differs. Runs on the control thread after every committed change.
 */
public interface Controller {

    void reconcile();
}
