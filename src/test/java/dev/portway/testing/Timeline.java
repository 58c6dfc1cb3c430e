package dev.portway.testing;

import dev.portway.api.ResourceKind;
import dev.portway.store.Store;
import dev.portway.store.WatchEvent;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Records, as the store commits them, what tests need to see in order: a pod's first container
 * status, and whether the endpoints of an IP are ready. Transient states (a restart's short
 * not-ready window) show up here even when polling would miss them.
 */
public final class Timeline implements AutoCloseable {

    /** One recorded container status, with when it was seen (System.nanoTime). */
    public record Status(long nanos, ContainerStatus status) {
        public String waitingReason() {
            return status.getState() != null && status.getState().getWaiting() != null ? status.getState().getWaiting().getReason() : null;
        }

        public String waitingMessage() {
            return status.getState() != null && status.getState().getWaiting() != null ? status.getState().getWaiting().getMessage() : null;
        }

        public boolean running() {
            return status.getState() != null && status.getState().getRunning() != null;
        }
    }

    private final Store store;
    private final String pod;
    private final Consumer<List<WatchEvent>> watcher = this::record;
    private final List<Status> statuses = new ArrayList<>();
    private final List<String> endpointStates = new ArrayList<>();
    private volatile String ip;

    /** Records pod {@code pod} in namespace default (its IP's endpoints, once it has one). */
    public Timeline(Store store, String pod) {
        this.store = store;
        this.pod = pod;
        store.watch(watcher);
    }

    private synchronized void record(List<WatchEvent> events) {
        for (WatchEvent e : events) {
            if (e.kind() == ResourceKind.POD && e.object().getMetadata().getName().equals(pod) && e.type() != WatchEvent.Type.DELETED) {
                Pod p = (Pod) e.object();
                if (p.getStatus() != null && p.getStatus().getPodIP() != null) {
                    ip = p.getStatus().getPodIP();
                }
                if (p.getStatus() != null && p.getStatus().getContainerStatuses() != null && !p.getStatus().getContainerStatuses().isEmpty()) {
                    ContainerStatus s = p.getStatus().getContainerStatuses().getFirst();
                    if (statuses.isEmpty() || !statuses.getLast().status().equals(s)) {
                        statuses.add(new Status(System.nanoTime(), s));
                    }
                }
            }
            if (e.kind() == ResourceKind.ENDPOINT_SLICE && ip != null) {
                String state = "absent";
                if (e.type() != WatchEvent.Type.DELETED) {
                    for (Endpoint ep : ((EndpointSlice) e.object()).getEndpoints()) {
                        if (ep.getAddresses().contains(ip)) {
                            state = Boolean.TRUE.equals(ep.getConditions().getReady()) ? "ready" : "not-ready";
                        }
                    }
                }
                if (endpointStates.isEmpty() || !endpointStates.getLast().equals(state)) {
                    endpointStates.add(state);
                }
            }
        }
    }

    public synchronized List<Status> statuses() {
        return List.copyOf(statuses);
    }

    /** The successive states of the pod IP's endpoint: ready, not-ready, absent. */
    public synchronized List<String> endpointStates() {
        return List.copyOf(endpointStates);
    }

    @Override
    public void close() {
        store.unwatch(watcher);
    }
}
