package dev.portway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import org.junit.jupiter.api.Test;

/**
 * A probe's zeros are defaulted as kube-apiserver's {@code SetDefaults_Probe} does: the fields are
 * plain int32 there, so 0 is unset. Kept, a {@code periodSeconds: 0} made the kubelet run the
 * probe back to back.
 */
class ProbeDefaultsTest {

    @Test
    void zerosAreDefaultedAsUnsetFieldsAre() {
        Pod pod = (Pod) dev.portway.testing.TestApi.decode("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p}
                spec:
                  containers:
                  - name: app
                    image: busybox
                    livenessProbe: {exec: {command: ["false"]}, periodSeconds: 0, timeoutSeconds: 0, successThreshold: 0, failureThreshold: 0}
                    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 3, failureThreshold: 7}
                """).getFirst();
        Defaults.apply(pod);
        Probe liveness = pod.getSpec().getContainers().getFirst().getLivenessProbe();
        assertThat(liveness.getPeriodSeconds()).isEqualTo(10);
        assertThat(liveness.getTimeoutSeconds()).isEqualTo(1);
        assertThat(liveness.getSuccessThreshold()).isEqualTo(1);
        assertThat(liveness.getFailureThreshold()).isEqualTo(3);
        Probe readiness = pod.getSpec().getContainers().getFirst().getReadinessProbe();
        assertThat(readiness.getPeriodSeconds()).isEqualTo(3);
        assertThat(readiness.getFailureThreshold()).isEqualTo(7);
    }
}
