package dev.portway.api.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.api.decode.Manifests;
import dev.portway.testing.TestApi;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pod specs judged as Kubernetes 1.34's {@code ValidatePodSpec} judges them: host ports,
 * resources, env names, volume mounts and probes (after {@code TestValidateContainers} and
 * {@code TestValidatePodSpec} upstream).
 */
class PodSpecValidationTest {

    private static final String INVALID = "The Pod \"p\" is invalid: ";
    /** IsDNS1123Subdomain's message, and IsDNS1123SubdomainWithUnderscore's (search domains). */
    private static final String SUBDOMAIN = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            + "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
            + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    private static final String SUBDOMAIN_WITH_UNDERSCORE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            + "characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
            + "validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')";

    private static final String NODE_TERM = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].";
    private static final String ANTI = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].";

    /** The internal core.SecurityContext of the contradicting container, as json.Marshal prints it. */
    private static final String PRIVILEGED_NO_ESCALATION = "{\"Capabilities\":{\"Add\":[\"CAP_SYS_ADMIN\"],\"Drop\":null},"
            + "\"Privileged\":true,\"SELinuxOptions\":null,\"WindowsOptions\":null,\"RunAsUser\":null,\"RunAsGroup\":null,"
            + "\"RunAsNonRoot\":null,\"ReadOnlyRootFilesystem\":null,\"AllowPrivilegeEscalation\":false,\"ProcMount\":null,"
            + "\"SeccompProfile\":null,\"AppArmorProfile\":null}";

    /** IsValidUserID's and IsValidGroupID's message. */
    private static final String ID_RANGE = "must be between 0 and 2147483647, inclusive";

    static String pod(String spec) {
        return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + spec.stripIndent().indent(2);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // validatePodSpecSecurityContext and ValidateSecurityContext: IDs out of range were taken, and a pod ran
                Arguments.of("a pod security context with IDs out of range, an unknown policy, a Localhost profile without its file", pod("""
                        securityContext:
                          runAsUser: -1
                          runAsGroup: 2147483648
                          fsGroup: -5
                          supplementalGroups: [1000, -2]
                          fsGroupChangePolicy: Sometimes
                          seccompProfile: {type: Localhost}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.securityContext.fsGroup: Invalid value: -5: " + ID_RANGE + ", "
                        + "spec.securityContext.runAsUser: Invalid value: -1: " + ID_RANGE + ", "
                        + "spec.securityContext.runAsGroup: Invalid value: 2147483648: " + ID_RANGE + ", "
                        + "spec.securityContext.supplementalGroups[1]: Invalid value: -2: " + ID_RANGE + ", "
                        + "spec.securityContext.fsGroupChangePolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnRootMismatch\", "
                        + "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost]"),
                Arguments.of("a container security context with an ID out of range, Unmasked /proc on the host's users, an unknown profile",
                        pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {runAsUser: -1, procMount: Unmasked, seccompProfile: {type: Strict}}
                        - name: b
                          image: portway/echo
                          securityContext: {runAsGroup: 7, procMount: Masked, seccompProfile: {localhostProfile: x.json}}
                        """), INVALID + "[spec.containers[0].securityContext.runAsUser: Invalid value: -1: " + ID_RANGE + ", "
                        + "spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`, "
                        + "spec.containers[0].securityContext.seccompProfile.type: Unsupported value: \"Strict\": supported values: "
                        + "\"Localhost\", \"RuntimeDefault\", \"Unconfined\", "
                        + "spec.containers[1].securityContext.procMount: Unsupported value: \"Masked\": supported values: \"Default\", \"Unmasked\", "
                        + "spec.containers[1].securityContext.seccompProfile.type: Required value: type is required when seccompProfile is set, "
                        + "spec.containers[1].securityContext.seccompProfile.localhostProfile: Invalid value: {\"Type\":\"\",\"LocalhostProfile\":"
                        + "\"x.json\"}: can only be set when seccomp type is Localhost]"),
                Arguments.of("a Localhost seccomp profile outside the kubelet's directory", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {seccompProfile: {type: Localhost, localhostProfile: ../escape.json}}
                        """), INVALID + "spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: \"../escape.json\": "
                        + "must not contain '..'"),
                Arguments.of("a process namespace shared with the host's", pod("""
                        hostPID: true
                        shareProcessNamespace: true
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot "
                        + "both be enabled"),
                // the pod's resolv.conf and hosts file are written from these: they were taken as they came
                Arguments.of("dnsPolicy None without dnsConfig", pod("""
                        dnsPolicy: None
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"),
                Arguments.of("dnsPolicy None without nameservers", pod("""
                        dnsPolicy: None
                        dnsConfig: {searches: [svc.local]}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None"),
                Arguments.of("a dnsConfig that is not one", pod("""
                        dnsConfig:
                          nameservers: [10.0.0.1, "ns.example.com"]
                          searches: ["bad domain", ok.example., ".", under_score.example, a_]
                          options: [{value: "2"}]
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.dnsConfig.nameservers[1]: Invalid value: \"ns.example.com\": must be a valid IP address, "
                        + "(e.g. 10.9.8.7 or 2001:db8::ffff), spec.dnsConfig.searches[0]: Invalid value: \"bad domain\": " + SUBDOMAIN_WITH_UNDERSCORE + ", "
                        + "spec.dnsConfig.searches[4]: Invalid value: \"a_\": " + SUBDOMAIN_WITH_UNDERSCORE + ", "
                        + "spec.dnsConfig.options[0]: Required value: must not be empty]"),
                Arguments.of("a host alias that is not one", pod("""
                        hostAliases: [{ip: "not-an-ip", hostnames: ["a b", good.example]}]
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.hostAliases[0].ip: Invalid value: \"not-an-ip\": must be a valid IP address, "
                        + "(e.g. 10.9.8.7 or 2001:db8::ffff), spec.hostAliases[0].hostnames[0]: Invalid value: \"a b\": " + SUBDOMAIN + "]"),
                Arguments.of("environment sources without names, or with keys that are none", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          env:
                          - {name: A, valueFrom: {configMapKeyRef: {key: "a key"}}}
                          - {name: B, valueFrom: {secretKeyRef: {name: Creds, key: ..x}}}
                          envFrom:
                          - configMapRef: {}
                          - secretRef: {name: "creds-"}
                        """), INVALID + "[spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Invalid value: \"\": " + SUBDOMAIN + ", "
                        + "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Invalid value: \"a key\": a valid config key must consist "
                        + "of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                        + "validation is '[-._a-zA-Z0-9]+'), "
                        + "spec.containers[0].env[1].valueFrom.secretKeyRef.name: Invalid value: \"Creds\": " + SUBDOMAIN + ", "
                        + "spec.containers[0].env[1].valueFrom.secretKeyRef.key: Invalid value: \"..x\": must not start with '..', "
                        + "spec.containers[0].envFrom[0].configMapRef.name: Required value]"),
                // (a volume without a source is an emptyDir, as the defaults make it)
                Arguments.of("a volume with two sources: the later one in kube's order is refused", pod("""
                        volumes:
                        - {name: two, configMap: {name: c}, secret: {secretName: s}}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type"),
                Arguments.of("tolerations with a typo, no key, an operator there is not, seconds without NoExecute", pod("""
                        tolerations:
                        - {key: dedicated, operator: Exists, effect: NoExecut}
                        - {operator: Equal, value: x}
                        - {key: k, operator: Gt, value: "3"}
                        - {key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.tolerations[0].effect: Unsupported value: \"NoExecut\": supported values: "
                        + "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\", spec.tolerations[1].operator: Invalid value: \"Equal\": "
                        + "operator must be Exists when `key` is empty, which means \"match all values and all keys\", "
                        + "spec.tolerations[2].operator: Unsupported value: \"Gt\": supported values: \"Equal\", \"Exists\", "
                        + "spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set]"),
                Arguments.of("two containers on one hostPort", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          ports: [{containerPort: 8080, hostPort: 8080}]
                        - name: b
                          image: portway/echo
                          ports: [{containerPort: 8081, hostPort: 8080}]
                        """), INVALID + "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""),
                Arguments.of("one container, one hostPort twice", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          ports:
                          - {containerPort: 80, hostPort: 8080, protocol: UDP, hostIP: 127.0.0.1}
                          - {containerPort: 81, hostPort: 8080, protocol: UDP, hostIP: 127.0.0.1}
                        """), INVALID + "spec.containers[0].ports[1].hostPort: Duplicate value: \"UDP/127.0.0.1/8080\""),
                Arguments.of("hostPort out of range", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          ports: [{containerPort: 80, hostPort: 65536}]
                        """), INVALID + "spec.containers[0].ports[0].hostPort: Invalid value: 65536: must be between 1 and 65535, inclusive"),
                Arguments.of("cpu request above its limit", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {cpu: "2"}
                            limits: {cpu: 1500m}
                        """), INVALID + "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu "
                        + "limit of 1500m"),
                Arguments.of("memory request above its limit, canonical quantities", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {memory: 2048Mi}
                            limits: {memory: 1024Mi}
                        """), INVALID + "spec.containers[0].resources.requests: Invalid value: \"2Gi\": must be less than or equal to "
                        + "memory limit of 1Gi"),
                Arguments.of("negative quantity", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            limits: {cpu: "-0.5"}
                        """), INVALID + "[spec.containers[0].resources.limits[cpu]: Invalid value: \"-500m\": must be greater than or equal to 0, "
                        // requests default to limits before validation (SetDefaults_Pod), so the request is invalid too
                        + "spec.containers[0].resources.requests[cpu]: Invalid value: \"-500m\": must be greater than or equal to 0]"),
                Arguments.of("unknown resource name", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            limits: {gpu: "1"}
                        """), INVALID + "[spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type "
                        + "or fully qualified, spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource "
                        + "for containers, spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource type "
                        + "or fully qualified, spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource "
                        + "for containers]"),
                Arguments.of("extended resource: a fraction", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {example.com/gpu: 500m}
                            limits: {example.com/gpu: 500m}
                        """), INVALID + "[spec.containers[0].resources.limits[example.com/gpu]: Invalid value: \"500m\": must be an integer, "
                        + "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an integer]"),
                Arguments.of("extended resource: request without limit", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {example.com/gpu: "1"}
                        """), INVALID + "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"),
                Arguments.of("extended resource: request below limit", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {example.com/gpu: "1"}
                            limits: {example.com/gpu: "2"}
                        """), INVALID + "spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2"),
                Arguments.of("env name with '='", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          env: [{name: "A=B", value: x}]
                        """), INVALID + "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist "
                        + "only of printable ASCII characters other than '='"),
                Arguments.of("volume mount without a name", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          volumeMounts: [{mountPath: /data}]
                        """), INVALID + "[spec.containers[0].volumeMounts[0].name: Required value, "
                        + "spec.containers[0].volumeMounts[0].name: Not found: \"\"]"),
                Arguments.of("volume file mode past 0777", pod("""
                        containers:
                        - {name: a, image: portway/echo}
                        volumes:
                        - name: c
                          configMap: {name: c, defaultMode: 4095}
                        - name: d
                          downwardAPI:
                            defaultMode: -1
                            items: [{path: n, fieldRef: {fieldPath: metadata.name}, mode: 512}]
                        """), INVALID + "[spec.volumes[0].configMap.defaultMode: Invalid value: 4095: must be a number between 0 and 0777 "
                        + "(octal), both inclusive, spec.volumes[1].downwardAPI.defaultMode: Invalid value: -1: must be a number between 0 "
                        + "and 0777 (octal), both inclusive, spec.volumes[1].downwardAPI.items[0].mode: Invalid value: 512: must be a number "
                        + "between 0 and 0777 (octal), both inclusive]"),
                Arguments.of("hostPath without a path, with '..', of an unknown type", pod("""
                        containers:
                        - {name: a, image: portway/echo}
                        volumes:
                        - {name: a, hostPath: {path: ""}}
                        - {name: b, hostPath: {path: /srv/../etc}}
                        - {name: c, hostPath: {path: /srv, type: Folder}}
                        """), INVALID + "[spec.volumes[0].hostPath.path: Required value, spec.volumes[1].hostPath.path: Invalid value: "
                        + "\"/srv/../etc\": must not contain '..', spec.volumes[2].hostPath.type: Unsupported value: \"Folder\": supported "
                        + "values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", "
                        + "\"FileOrCreate\", \"Socket\"]"),
                Arguments.of("readiness probe with terminationGracePeriodSeconds", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          readinessProbe:
                            tcpSocket: {port: 80}
                            terminationGracePeriodSeconds: 10
                        """), INVALID + "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: "
                        + "must not be set for readinessProbes"),
                // validateTopologySpreadConstraints: a typo in whenUnsatisfiable spread nothing, silently
                Arguments.of("topology spread constraints that spread nothing", pod("""
                        topologySpreadConstraints:
                        - {maxSkew: 0, topologyKey: "", whenUnsatisfiable: DoNotSchedul}
                        - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 0, nodeTaintsPolicy: honor}
                        - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, matchLabelKeys: [pod-template-hash]}
                        - maxSkew: 2
                          topologyKey: kubernetes.io/hostname
                          whenUnsatisfiable: DoNotSchedule
                          labelSelector: {matchExpressions: [{key: app, operator: In}]}
                          matchLabelKeys: ["bad key"]
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero, "
                        + "spec.topologySpreadConstraints[0].topologyKey: Required value: can not be empty, "
                        + "spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"DoNotSchedul\": supported values: "
                        + "\"DoNotSchedule\", \"ScheduleAnyway\", "
                        + "spec.topologySpreadConstraints[1].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, ScheduleAnyway}\", "
                        + "spec.topologySpreadConstraints[1].minDomains: Invalid value: 0: must be greater than zero, "
                        + "spec.topologySpreadConstraints[1].minDomains: Invalid value: 0: can only use minDomains if "
                        + "whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway, "
                        + "spec.topologySpreadConstraints[1].nodeTaintsPolicy: Unsupported value: \"honor\": supported values: \"Honor\", \"Ignore\", "
                        + "spec.topologySpreadConstraints[2].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set, "
                        + "spec.topologySpreadConstraints[3].matchLabelKeys[0]: Invalid value: \"bad key\": name part must consist of alphanumeric "
                        + "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
                        + "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), "
                        + "spec.topologySpreadConstraints[3].labelSelector.matchExpressions[0].values: Required value: "
                        + "must be specified when `operator` is 'In' or 'NotIn']"),
                // validateAffinity: an operator that is none, or In without values, placed the pod nowhere, silently
                Arguments.of("node and pod affinity that match nothing", pod("""
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchExpressions:
                                - {key: disktype, operator: Equals, values: [ssd]}
                                - {key: zone, operator: In}
                                - {key: tier, operator: In, values: ["not a value"]}
                                matchFields:
                                - {key: metadata.uid, operator: In, values: [a]}
                            preferredDuringSchedulingIgnoredDuringExecution:
                            - weight: 0
                              preference:
                                matchExpressions: [{key: tier, operator: In, values: ["any string at all"]}]
                          podAntiAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                            - labelSelector: {matchLabels: {app: web}}
                              namespaces: [Bad_NS]
                              matchLabelKeys: [version]
                              mismatchLabelKeys: [version]
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[" + NODE_TERM + "matchExpressions[0].operator: Invalid value: \"Equals\": not a valid selector operator, "
                        + NODE_TERM + "matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn', "
                        + NODE_TERM + "matchExpressions[2].values[0]: Invalid value: \"not a value\": a valid label must be an empty string or "
                        + "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                        + "'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?'), "
                        + NODE_TERM + "matchFields[0].key: Invalid value: \"metadata.uid\": not a valid field selector key, "
                        + "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: "
                        + "must be in the range 1-100, "
                        + ANTI + "namespace: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
                        + "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
                        + "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'), "
                        + ANTI + "matchLabelKeys[0]: Invalid value: \"version\": exists in both matchLabelKeys and mismatchLabelKeys, "
                        + ANTI + "topologyKey: Required value: can not be empty, "
                        + ANTI + "topologyKey: Invalid value: \"\": name part must be non-empty, "
                        + ANTI + "topologyKey: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                        + "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                        + "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"),
                // validateLifecycle: a hook without a handler, with two, a sleep past the grace period, and one on an init container
                Arguments.of("lifecycle hooks that cannot run", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          lifecycle:
                            postStart: {}
                            preStop:
                              exec: {command: [sh]}
                              sleep: {seconds: 5}
                        - name: b
                          image: portway/echo
                          lifecycle:
                            preStop: {sleep: {seconds: 60}}
                        initContainers:
                        - name: i
                          image: portway/echo
                          lifecycle:
                            preStop: {exec: {command: [sh]}}
                        """), INVALID + "[spec.containers[0].lifecycle.postStart: Required value: must specify a handler type, "
                        + "spec.containers[0].lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type, "
                        + "spec.containers[1].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than "
                        + "terminationGracePeriodSeconds (30), "
                        + "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always]"),
                Arguments.of("grpc probe port 0", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          livenessProbe:
                            grpc: {port: 0}
                        """), INVALID + "spec.containers[0].livenessProbe.grpc.port: Invalid value: 0: must be between 1 and 65535, inclusive"),
                Arguments.of("bad HTTP header name", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          livenessProbe:
                            httpGet: {port: 80, httpHeaders: [{name: "X Bad", value: v}]}
                        """), INVALID + "spec.containers[0].livenessProbe.httpGet.httpHeaders: Invalid value: \"X Bad\": a valid HTTP header "
                        + "must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"),
                // validateSysctls, ValidateHostSysctl, ValidateAppArmorProfileField and the two policies: taken as they came
                Arguments.of("sysctls unnamed, malformed, twice, of the host's namespaces; unknown policies; a Localhost AppArmor profile "
                        + "without its name", pod("""
                        hostNetwork: true
                        hostIPC: true
                        securityContext:
                          sysctls:
                          - {name: "", value: "1"}
                          - {name: Net.IPv4.ip_forward, value: "1"}
                          - {name: kernel.shm_rmid_forced, value: "1"}
                          - {name: kernel.shm_rmid_forced, value: "0"}
                          - {name: net/ipv4/ip_forward, value: "1"}
                          appArmorProfile: {type: Localhost}
                          supplementalGroupsPolicy: Loose
                          seLinuxChangePolicy: Sometimes
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "[spec.securityContext.sysctls[0].name: Required value, "
                        + "spec.securityContext.sysctls[1].name: Invalid value: \"Net.IPv4.ip_forward\": must have at most 253 characters and "
                        + "match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$, "
                        + "spec.securityContext.sysctls[2].name: Invalid value: \"kernel.shm_rmid_forced\": may not be specified when 'hostIPC' "
                        + "is true, "
                        + "spec.securityContext.sysctls[3].name: Duplicate value: \"kernel.shm_rmid_forced\", "
                        + "spec.securityContext.sysctls[3].name: Invalid value: \"kernel.shm_rmid_forced\": may not be specified when 'hostIPC' "
                        + "is true, "
                        + "spec.securityContext.sysctls[4].name: Invalid value: \"net/ipv4/ip_forward\": may not be specified when "
                        + "'hostNetwork' is true, "
                        + "spec.securityContext.appArmorProfile.localhostProfile: Required value: must be set when AppArmor type is Localhost, "
                        + "spec.securityContext.supplementalGroupsPolicy: Unsupported value: \"Loose\": supported values: \"Merge\", \"Strict\", "
                        + "spec.securityContext.seLinuxChangePolicy: Unsupported value: \"Sometimes\": supported values: \"MountOption\", "
                        + "\"Recursive\"]"),
                // ValidateSecurityContext's contradictions, with the internal struct marshalled as the value
                Arguments.of("no privilege escalation for a privileged container with CAP_SYS_ADMIN; a seccomp file for another type",
                        pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {allowPrivilegeEscalation: false, privileged: true, capabilities: {add: [CAP_SYS_ADMIN]}}
                        - name: b
                          image: portway/echo
                          securityContext: {seccompProfile: {type: RuntimeDefault, localhostProfile: x.json}}
                        """), INVALID + "[spec.containers[0].securityContext: Invalid value: " + PRIVILEGED_NO_ESCALATION
                        + ": cannot set `allowPrivilegeEscalation` to false and `privileged` to true, "
                        + "spec.containers[0].securityContext: Invalid value: " + PRIVILEGED_NO_ESCALATION
                        + ": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN, "
                        + "spec.containers[1].securityContext.seccompProfile.localhostProfile: Invalid value: "
                        + "{\"Type\":\"RuntimeDefault\",\"LocalhostProfile\":\"x.json\"}: can only be set when seccomp type is Localhost]"),
                // validateOS, validateLinux and validateWindows: a typo in the OS was taken, and each OS's options on the other
                Arguments.of("an operating system Kubernetes does not know (names are lower case)", pod("""
                        os: {name: Linux}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.os: Unsupported value: \"Linux\": supported values: \"linux\", \"windows\""),
                Arguments.of("an operating system without its name", pod("""
                        os: {name: ""}
                        containers: [{name: a, image: portway/echo}]
                        """), INVALID + "spec.os.name: Required value: cannot be empty"),
                Arguments.of("Windows options for a Linux pod", pod("""
                        os: {name: linux}
                        securityContext: {windowsOptions: {hostProcess: false}}
                        initContainers: [{name: i, image: portway/echo, securityContext: {windowsOptions: {hostProcess: false}}}]
                        containers: [{name: a, image: portway/echo, securityContext: {windowsOptions: {hostProcess: false}}}]
                        """), INVALID + "[spec.securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod, "
                        + "spec.initContainers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod, "
                        + "spec.containers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod]"),
                Arguments.of("Linux options for a Windows pod", pod("""
                        os: {name: windows}
                        shareProcessNamespace: false
                        securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}, supplementalGroups: [5]}
                        containers: [{name: a, image: portway/echo, securityContext: {privileged: false, runAsGroup: 1}}]
                        """), INVALID + "[spec.securityContext.seccompProfile: Forbidden: cannot be set for a windows pod, "
                        + "spec.shareProcessNamespace: Forbidden: cannot be set for a windows pod, "
                        + "spec.securityContext.runAsUser: Forbidden: cannot be set for a windows pod, "
                        + "spec.securityContext.supplementalGroups: Forbidden: cannot be set for a windows pod, "
                        + "spec.containers[0].securityContext.privileged: Forbidden: cannot be set for a windows pod, "
                        + "spec.containers[0].securityContext.runAsGroup: Forbidden: cannot be set for a windows pod]"),
                // validateWindowsSecurityContextOptions and validateWindowsHostProcessPod
                Arguments.of("Windows user names with two backslashes, a bad domain and character, only dots; a gMSA spec's bad name, "
                        + "an empty spec", pod("""
                        securityContext:
                          windowsOptions: {gmsaCredentialSpecName: Bad_Name, gmsaCredentialSpec: "", runAsUserName: "a\\\\b\\\\c"}
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {windowsOptions: {runAsUserName: "bad|domain\\\\us:er"}}
                        - name: b
                          image: portway/echo
                          securityContext: {windowsOptions: {runAsUserName: "...."}}
                        """), INVALID + "[spec.containers[0].securityContext.windowsOptions.runAsUserName: Invalid value: "
                        + "\"bad|domain\\\\us:er\": runAsUserName's Domain doesn't match the NetBios nor the DNS format, "
                        + "spec.containers[0].securityContext.windowsOptions.runAsUserName: Invalid value: \"bad|domain\\\\us:er\": "
                        + "runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[], "
                        + "spec.containers[1].securityContext.windowsOptions.runAsUserName: Invalid value: \"....\": runAsUserName's User "
                        + "cannot contain only periods or spaces, "
                        + "spec.securityContext.windowsOptions.gmsaCredentialSpecName: Invalid value: \"Bad_Name\": " + SUBDOMAIN + ", "
                        + "spec.securityContext.windowsOptions.gmsaCredentialSpec: Invalid value: \"\": gmsaCredentialSpec cannot be an "
                        + "empty string, "
                        + "spec.securityContext.windowsOptions.runAsUserName: Invalid value: \"a\\\\b\\\\c\": runAsUserName cannot contain "
                        + "more than one backslash]"),
                Arguments.of("a HostProcess pod with a container that says otherwise, off the host's network", pod("""
                        securityContext: {windowsOptions: {hostProcess: true}}
                        containers:
                        - {name: a, image: portway/echo, securityContext: {windowsOptions: {hostProcess: false}}}
                        - {name: b, image: portway/echo}
                        """), INVALID + "[spec.containers[0].securityContext.windowsOptions.hostProcess: Invalid value: false: pod "
                        + "hostProcess value must be identical if both are specified, was true, "
                        + "spec: Invalid value: \"\": If pod contains any hostProcess containers then all containers must be HostProcess "
                        + "containers, "
                        + "spec.hostNetwork: Invalid value: false: hostNetwork must be true if pod contains any hostProcess containers]"),
                Arguments.of("container AppArmor profiles: a name with another type, an unknown type, a padded name, no type", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {appArmorProfile: {type: RuntimeDefault, localhostProfile: x}}
                        - name: b
                          image: portway/echo
                          securityContext: {appArmorProfile: {type: Strict}}
                        - name: c
                          image: portway/echo
                          securityContext: {appArmorProfile: {type: Localhost, localhostProfile: " x "}}
                        - name: d
                          image: portway/echo
                          securityContext: {appArmorProfile: {localhostProfile: x}}
                        """), INVALID + "[spec.containers[0].securityContext.appArmorProfile.localhostProfile: Invalid value: \"x\": can only "
                        + "be set when AppArmor type is Localhost, "
                        + "spec.containers[1].securityContext.appArmorProfile.type: Unsupported value: \"Strict\": supported values: "
                        + "\"Localhost\", \"RuntimeDefault\", \"Unconfined\", "
                        + "spec.containers[2].securityContext.appArmorProfile.localhostProfile: Invalid value: \" x \": must not be padded with "
                        + "whitespace, "
                        + "spec.containers[3].securityContext.appArmorProfile.type: Required value: type is required when appArmorProfile is "
                        + "set]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidPodsGetTheApiServersMessage(String name, String yaml, String expected) {
        assertThat(new TestApi().applyError(yaml)).isEqualTo(expected);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("a Linux pod with Linux options", pod("""
                        os: {name: linux}
                        securityContext: {runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
                        containers: [{name: a, image: portway/echo, securityContext: {privileged: false}}]
                        """)),
                Arguments.of("a Windows pod with its own options only", pod("""
                        os: {name: windows}
                        securityContext: {windowsOptions: {runAsUserName: ContainerUser}}
                        containers: [{name: a, image: portway/echo, securityContext: {windowsOptions: {runAsUserName: ContainerUser}}}]
                        """)),
                Arguments.of("sysctls of the pod's own namespaces, in dotted and slashed form; AppArmor profiles; the policies", pod("""
                        securityContext:
                          sysctls:
                          - {name: net.ipv4.ip_local_port_range, value: "1024 65535"}
                          - {name: kernel.shm_rmid_forced, value: "1"}
                          - {name: net/ipv4/conf/eno2.100/rp_filter, value: "1"}
                          appArmorProfile: {type: RuntimeDefault}
                          supplementalGroupsPolicy: Strict
                          seLinuxChangePolicy: MountOption
                        containers:
                        - name: a
                          image: portway/echo
                          securityContext: {appArmorProfile: {type: Localhost, localhostProfile: k8s-apparmor-example}}
                        """)),
                Arguments.of("an annotation key with upper-case letters in a fieldRef (judged in lower case)", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          env: [{name: K, valueFrom: {fieldRef: {fieldPath: "metadata.annotations['Example.com/Key']"}}}]
                        """)),
                Arguments.of("a volume of a type local mode cannot mount (its start fails, as a kubelet's would)", pod("""
                        volumes: [{name: repo, gitRepo: {repository: "https://example.com/r.git"}}]
                        containers: [{name: a, image: portway/echo}]
                        """)),
                Arguments.of("an image with a trailing space, on create", pod("""
                        containers: [{name: a, image: "portway/echo "}]
                        """)),
                Arguments.of("init containers may reuse a hostPort, one at a time", pod("""
                        initContainers:
                        - {name: i1, image: portway/echo, ports: [{containerPort: 80, hostPort: 8080}]}
                        - {name: i2, image: portway/echo, ports: [{containerPort: 80, hostPort: 8080}]}
                        containers:
                        - {name: a, image: portway/echo, ports: [{containerPort: 80, hostPort: 8080}]}
                        """)),
                Arguments.of("same hostPort, different protocols", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          ports:
                          - {containerPort: 53, hostPort: 5353, protocol: TCP}
                          - {containerPort: 53, hostPort: 5353, protocol: UDP}
                        """)),
                Arguments.of("relaxed env names (GA in 1.34)", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          env: [{name: 1PORT, value: "80"}, {name: "my var", value: x}]
                        """)),
                Arguments.of("topology spread constraints as the documentation writes them", pod("""
                        topologySpreadConstraints:
                        - maxSkew: 1
                          topologyKey: topology.kubernetes.io/zone
                          whenUnsatisfiable: DoNotSchedule
                          minDomains: 2
                          nodeAffinityPolicy: Honor
                          nodeTaintsPolicy: Ignore
                          labelSelector: {matchLabels: {app: web}}
                          matchLabelKeys: [pod-template-hash]
                        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}
                        containers: [{name: a, image: portway/echo}]
                        """)),
                Arguments.of("affinity as the documentation writes it", pod("""
                        affinity:
                          nodeAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                              nodeSelectorTerms:
                              - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [antarctica-east1, antarctica-west1]}]
                              - matchFields: [{key: metadata.name, operator: NotIn, values: [node1]}]
                            preferredDuringSchedulingIgnoredDuringExecution:
                            - weight: 1
                              preference:
                                matchExpressions: [{key: cpus, operator: Gt, values: ["4"]}]
                          podAffinity:
                            requiredDuringSchedulingIgnoredDuringExecution:
                            - labelSelector: {matchExpressions: [{key: security, operator: In, values: [S1]}]}
                              topologyKey: topology.kubernetes.io/zone
                          podAntiAffinity:
                            preferredDuringSchedulingIgnoredDuringExecution:
                            - weight: 100
                              podAffinityTerm:
                                labelSelector: {matchLabels: {app: web}}
                                namespaces: [default]
                                matchLabelKeys: [pod-template-hash]
                                topologyKey: kubernetes.io/hostname
                        containers: [{name: a, image: portway/echo}]
                        """)),
                Arguments.of("lifecycle hooks: an httpGet defaulted as a probe's, a zero sleep, a sidecar's preStop", pod("""
                        terminationGracePeriodSeconds: 10
                        containers:
                        - name: a
                          image: portway/echo
                          lifecycle:
                            postStart: {httpGet: {port: 8080}}
                            preStop: {sleep: {seconds: 0}}
                        initContainers:
                        - name: log
                          image: portway/echo
                          restartPolicy: Always
                          lifecycle:
                            preStop: {sleep: {seconds: 10}}
                        """)),
                Arguments.of("requests equal to limits", pod("""
                        containers:
                        - name: a
                          image: portway/echo
                          resources:
                            requests: {cpu: 500m, memory: 1Gi, example.com/gpu: "1"}
                            limits: {cpu: "0.5", memory: 1024Mi, example.com/gpu: "1"}
                        """)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validPodsAreAccepted(String name, String yaml) {
        assertThat(new TestApi().apply(yaml)).hasSize(1);
    }

    /**
     * A key both in a selector and in {@code matchLabelKeys}: a new pod's own value is merged into
     * the selector first, so the key is named twice and refused (at the term's path and the key's
     * index, as kube-apiserver words it); a template's selector is judged as written, and a label
     * the pod does not have merges nothing.
     */
    @Test
    void aKeyInBothTheSelectorAndMatchLabelKeysIsRefusedOnceThePodsLabelsAreMerged() {
        String spec = """
                  affinity:
                    podAffinity:
                      preferredDuringSchedulingIgnoredDuringExecution:
                      - weight: 1
                        podAffinityTerm:
                          labelSelector: {matchExpressions: [{key: version, operator: Exists}]}
                          matchLabelKeys: [version]
                          topologyKey: kubernetes.io/hostname
                    podAntiAffinity:
                      requiredDuringSchedulingIgnoredDuringExecution:
                      - labelSelector: {matchLabels: {version: v1}}
                        matchLabelKeys: [app, version]
                        topologyKey: kubernetes.io/hostname
                  topologySpreadConstraints:
                  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {version: v1}}, matchLabelKeys: [version]}
                  containers: [{name: a, image: portway/echo}]
                """;
        String pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web, version: v1}\nspec:\n" + spec;
        String exists = ": Invalid value: \"version\": exists in both matchLabelKeys and labelSelector";
        assertThat(new TestApi().applyError(pod)).isEqualTo(INVALID + "["
                + "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm[0]" + exists + ", "
                + "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0][1]" + exists + ", "
                + "spec.topologySpreadConstraints[0][0]" + exists + "]");
        assertThat(new TestApi().apply(pod.replace("version: v1}\nspec", "tier: x}\nspec"))).as("no version label: nothing merged").hasSize(1);
        String deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web, version: v1}}
                    spec:
                """ + spec.indent(4);
        assertThat(new TestApi().apply(deployment)).as("a template's selectors are not merged").hasSize(1);
    }

    @Test
    void aQuantityThatDoesNotParseIsTheDecodersError() {
        Manifests.Loaded loaded = Manifests.loadText("pod.yaml", pod("""
                containers:
                - name: a
                  image: portway/echo
                  resources:
                    limits: {cpu: lots}
                """));
        assertThat(loaded.objects()).isEmpty();
        assertThat(loaded.problems()).singleElement().satisfies(p -> assertThat(p.toString()).contains(
                "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
                        + "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    }
}
