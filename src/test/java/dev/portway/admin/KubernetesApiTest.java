package dev.portway.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.admin.auth.AdminCredentials;
import dev.portway.api.Json;
import dev.portway.api.ResourceKind;
import dev.portway.control.ClusterConfig;
import dev.portway.control.ControlPlane;
import dev.portway.net.Transport;
import dev.portway.store.Store;
import dev.portway.testing.TestApi;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verbs and representations of the Kubernetes API that a client library uses, checked on
 * the wire: discovery, OpenAPI, tables, watches (from the history, with selectors, bookmarks and
 * 410 Expired), dry runs, field validation, patches, selectors and collection deletes. The store
 * keeps a short history (20 changes) so a too-old version is easy to reach.
 */
class KubernetesApiTest {

    @TempDir
    Path dir;

    private ControlPlane control;
    private EventLoopGroup group;
    private AdminServer server;
    private HttpClient http;
    private String base;
    private String token;
    private AdminCredentials credentials;

    @BeforeEach
    void start() throws Exception {
        credentials = AdminCredentials.loadOrCreate(dir.resolve("state"), List.of("127.0.0.1"), Clock.systemUTC());
        token = credentials.token();
        control = new ControlPlane(new Store(20), ClusterConfig.local(), new Random(1));
        control.call(() -> control.api().apply(TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: default
                """), "default", false));
        group = Transport.NIO.newGroup(1, "api-test");
        server = new AdminServer(control, Transport.NIO, group, AdminServer.Options.defaults(credentials));
        InetSocketAddress a = server.start(new InetSocketAddress("127.0.0.1", 0));
        base = "https://127.0.0.1:" + a.getPort();
        SSLContext tls = dev.portway.testing.AdminHttp.trusting(credentials.ca().cert());
        http = HttpClient.newBuilder().sslContext(tls).build();
    }

    @AfterEach
    void stop() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        control.close();
    }

    private HttpRequest.Builder req(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(20));
    }

    private HttpResponse<String> send(HttpRequest r) throws Exception {
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(String path, String accept) throws Exception {
        HttpResponse<String> r = send(req(path).header("Accept", accept).GET().build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.readTree(r.body().getBytes());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return send(req(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private HttpResponse<String> patch(String path, String type, String body) throws Exception {
        return send(req(path).header("Content-Type", type).method("PATCH", HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private static String cm(String name, String labels) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\",\"labels\":" + labels
                + "},\"data\":{\"k\":\"v\"}}";
    }

    @Test
    void aggregatedDiscoveryListsKindsWithVerbsShortNamesCategoriesAndSubresources() throws Exception {
        HttpResponse<String> r = send(req("/apis").header("Accept",
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json").GET().build());
        assertThat(r.headers().firstValue("Content-Type")).contains(Discovery.AGGREGATED_V2);
        JsonNode apps = Stream.of(Json.readTree(r.body().getBytes()).path("items")).flatMap(n -> n.valueStream())
                .filter(g -> g.at("/metadata/name").asText().equals("apps")).findFirst().orElseThrow();
        JsonNode deployments = apps.at("/versions/0/resources").valueStream()
                .filter(x -> x.path("resource").asText().equals("deployments")).findFirst().orElseThrow();
        assertThat(deployments.path("shortNames").get(0).asText()).isEqualTo("deploy");
        assertThat(deployments.path("categories").get(0).asText()).isEqualTo("all");
        assertThat(deployments.path("scope").asText()).isEqualTo("Namespaced");
        assertThat(deployments.path("subresources").findValuesAsText("subresource")).containsExactly("status", "scale");
        JsonNode core = get("/api", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
        List<String> resources = core.at("/items/0/versions/0/resources").findValuesAsText("resource");
        assertThat(resources).isSorted().contains("pods", "services", "nodes", "events");
        assertThat(get("/api", "application/json").path("versions").get(0).asText()).isEqualTo("v1");
    }

    /** pods/NAME/eviction (kubectl drain's): a Status of Success (201) and the pod deleted; a name other than the URL's is 400. */
    @Test
    void anEvictionDeletesThePod() throws Exception {
        assertThat(post("/api/v1/namespaces/default/pods", """
                {"apiVersion":"v1","kind":"Pod","metadata":{"name":"evicted"},"spec":{"containers":[{"name":"a","image":"portway/echo"}]}}
                """).statusCode()).isEqualTo(201);
        HttpResponse<String> wrong = post("/api/v1/namespaces/default/pods/evicted/eviction",
                "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"other\"}}");
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(Json.readTree(wrong.body().getBytes()).path("message").asText()).isEqualTo("name in URL does not match name in Eviction object");
        HttpResponse<String> evicted = post("/api/v1/namespaces/default/pods/evicted/eviction",
                "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"evicted\"},\"deleteOptions\":{\"gracePeriodSeconds\":0}}");
        assertThat(evicted.statusCode()).as(evicted.body()).isEqualTo(201);
        assertThat(Json.readTree(evicted.body().getBytes()).path("status").asText()).isEqualTo("Success");
        assertThat(send(req("/api/v1/namespaces/default/pods/evicted").GET().build()).statusCode()).isEqualTo(404);
        assertThat(send(req("/api/v1/namespaces/default/pods/evicted/eviction").GET().build()).statusCode()).isEqualTo(405);
    }

    @Test
    void openApiV3NamesEachKindAndItsPatchParameters() throws Exception {
        JsonNode index = get("/openapi/v3", "application/json");
        String url = index.at("/paths/api~1v1/serverRelativeURL").asText();
        assertThat(url).startsWith("/openapi/v3/api/v1?hash=");
        JsonNode doc = get(url, "application/json");
        JsonNode service = doc.at("/components/schemas/io.k8s.api.core.v1.Service");
        assertThat(service.at("/x-kubernetes-group-version-kind/0/kind").asText()).isEqualTo("Service");
        JsonNode patchOp = doc.at("/paths/~1api~1v1~1namespaces~1{namespace}~1services~1{name}/patch");
        assertThat(patchOp.path("parameters").findValuesAsText("name")).contains("fieldValidation", "dryRun", "fieldManager");
        assertThat(patchOp.at("/x-kubernetes-group-version-kind/kind").asText()).isEqualTo("Service");
        JsonNode containers = doc.at("/components/schemas/io.k8s.api.core.v1.PodSpec/properties/containers");
        assertThat(containers.path("x-kubernetes-patch-merge-key").asText()).isEqualTo("name");
        assertThat(containers.path("x-kubernetes-patch-strategy").asText()).isEqualTo("merge");
        JsonNode ports = doc.at("/components/schemas/io.k8s.api.core.v1.ServiceSpec/properties/ports");
        assertThat(ports.path("x-kubernetes-list-map-keys").get(0).asText()).isEqualTo("port");
        assertThat(ports.path("x-kubernetes-list-map-keys").get(1).asText()).isEqualTo("protocol");
    }

    @Test
    void accessPoliciesAreServedAsPortwaysCustomResource() throws Exception {
        JsonNode group = Stream.of(get("/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList").path("items"))
                .flatMap(n -> n.valueStream()).filter(g -> g.at("/metadata/name").asText().equals("policy.portway.dev"))
                .findFirst().orElseThrow();
        assertThat(group.at("/versions/0/version").asText()).isEqualTo("v1alpha1");
        JsonNode policies = group.at("/versions/0/resources/0");
        assertThat(policies.path("resource").asText()).isEqualTo("accesspolicies");
        assertThat(policies.path("shortNames").get(0).asText()).isEqualTo("apol");
        assertThat(policies.path("categories").get(0).asText()).isEqualTo("portway");
        assertThat(policies.path("subresources").findValuesAsText("subresource")).containsExactly("status");
        // kubectl explain reads the kind's schema, described by its sources' comments
        JsonNode doc = get("/openapi/v3/apis/policy.portway.dev/v1alpha1", "application/json");
        JsonNode schema = doc.at("/components/schemas/dev.portway.policy.v1alpha1.AccessPolicy");
        assertThat(schema.at("/x-kubernetes-group-version-kind/0/kind").asText()).isEqualTo("AccessPolicy");
        assertThat(schema.path("description").asText()).startsWith("AccessPolicy guards HTTPRoutes and Ingresses of its namespace");
        assertThat(doc.at("/components/schemas/dev.portway.policy.v1alpha1.RateLimit/properties/burst/description").asText())
                .isEqualTo("How many requests a client may make at once after being idle (default: requests).");
        String path = "/apis/policy.portway.dev/v1alpha1/namespaces/default/accesspolicies";
        HttpResponse<String> created = post(path, "{\"apiVersion\":\"policy.portway.dev/v1alpha1\",\"kind\":\"AccessPolicy\","
                + "\"metadata\":{\"name\":\"p\"},\"spec\":{\"targetRefs\":[{\"group\":\"networking.k8s.io\",\"kind\":\"Ingress\","
                + "\"name\":\"shop\"}],\"allowedMethods\":[\"GET\"]}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        HttpResponse<String> strategic = patch(path + "/p", "application/strategic-merge-patch+json", "{\"spec\":{}}");
        assertThat(strategic.statusCode()).as("a custom resource takes no strategic merge patch").isEqualTo(415);
        HttpResponse<String> merged = patch(path + "/p", "application/merge-patch+json", "{\"spec\":{\"allowedMethods\":[\"get\"]}}");
        assertThat(merged.statusCode()).isEqualTo(422);
        assertThat(merged.body()).contains("spec.allowedMethods[0]: Invalid value: \\\"get\\\"");
        // the Gateway API kinds are CRDs on a real cluster too
        String routes = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes";
        HttpResponse<String> route = post(routes, "{\"apiVersion\":\"gateway.networking.k8s.io/v1\",\"kind\":\"HTTPRoute\","
                + "\"metadata\":{\"name\":\"r\"},\"spec\":{}}");
        assertThat(route.statusCode()).as(route.body()).isEqualTo(201);
        assertThat(patch(routes + "/r", "application/strategic-merge-patch+json", "{\"spec\":{}}").statusCode()).isEqualTo(415);
        assertThat(patch(routes + "/r", "application/merge-patch+json", "{\"spec\":{\"hostnames\":[\"a.test\"]}}").statusCode())
                .isEqualTo(200);
    }

    private static String grant(String version, String name) {
        return "{\"apiVersion\":\"gateway.networking.k8s.io/" + version + "\",\"kind\":\"ReferenceGrant\",\"metadata\":{\"name\":\""
                + name + "\"},\"spec\":{\"from\":[{\"group\":\"gateway.networking.k8s.io\",\"kind\":\"HTTPRoute\","
                + "\"namespace\":\"apps\"}],\"to\":[{\"group\":\"\",\"kind\":\"Service\"}]}}";
    }

    private static String apiVersion(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
        return Json.readTree(r.body().getBytes()).path("apiVersion").asText();
    }

    @Test
    void aReferenceGrantIsServedAtV1AndV1beta1AndAnsweredAtThePathsVersion() throws Exception {
        String group = "gateway.networking.k8s.io";
        String v1 = "/apis/" + group + "/v1/namespaces/default/referencegrants";
        String v1beta1 = "/apis/" + group + "/v1beta1/namespaces/default/referencegrants";
        List<JsonNode> events = watch(v1 + "?watch=true");
        assertThat(apiVersion(post(v1, grant("v1", "g")))).isEqualTo(group + "/v1");
        assertThat(control.store().get(ResourceKind.REFERENCE_GRANT, "default", "g").orElseThrow().getApiVersion())
                .as("stored at the storage version").isEqualTo(group + "/v1beta1");
        assertThat(get(v1 + "/g", "application/json").path("apiVersion").asText()).isEqualTo(group + "/v1");
        assertThat(get(v1beta1 + "/g", "application/json").path("apiVersion").asText()).isEqualTo(group + "/v1beta1");
        assertThat(send(req(v1 + "/g").header("Accept", "application/yaml").GET().build()).body())
                .startsWith("apiVersion: " + group + "/v1\n");
        JsonNode list = get(v1, "application/json");
        assertThat(list.path("apiVersion").asText()).isEqualTo(group + "/v1");
        assertThat(list.path("kind").asText()).isEqualTo("ReferenceGrantList");
        assertThat(list.at("/items/0/apiVersion").asText()).isEqualTo(group + "/v1");
        JsonNode table = get(v1beta1 + "?includeObject=Object", "application/json;as=Table;v=v1;g=meta.k8s.io");
        assertThat(table.at("/rows/0/object/apiVersion").asText()).isEqualTo(group + "/v1beta1");
        // a body at another served version is taken, as a CRD's request scope takes any of its versions
        HttpResponse<String> put = send(req(v1beta1 + "/g").header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(grant("v1", "g"))).build());
        assertThat(apiVersion(put)).isEqualTo(group + "/v1beta1");
        assertThat(apiVersion(patch(v1 + "/g", "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}")))
                .isEqualTo(group + "/v1");
        assertThat(patch(v1 + "/g", "application/json-patch+json",
                "[{\"op\":\"test\",\"path\":\"/apiVersion\",\"value\":\"" + group + "/v1\"}]").statusCode())
                .as("a JSON patch sees the object at the path's version").isEqualTo(200);
        // server-side apply: the applied configuration names the path's version, and its managed fields record it
        String applied = grant("v1", "g").replace("\"Service\"}", "\"Service\",\"name\":\"web\"}");
        HttpResponse<String> ssa = patch(v1 + "/g?fieldManager=me", "application/apply-patch+yaml", applied);
        assertThat(apiVersion(ssa)).isEqualTo(group + "/v1");
        assertThat(Json.readTree(ssa.body().getBytes()).path("metadata").path("managedFields").findValues("manager"))
                .extracting(JsonNode::asText).contains("me");
        assertThat(Json.readTree(ssa.body().getBytes()).at("/metadata/managedFields").valueStream()
                .filter(f -> f.path("manager").asText().equals("me")).findFirst().orElseThrow().path("apiVersion").asText())
                .isEqualTo(group + "/v1");
        assertThat(patch(v1beta1 + "/g?fieldManager=me", "application/apply-patch+yaml", applied).statusCode()).isEqualTo(400);
        assertThat(send(req("/apis/" + group + "/v1alpha2/namespaces/default/referencegrants").GET().build()).statusCode())
                .isEqualTo(404);
        // every event of the watch is at its path's version; so is its bookmark
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e.at("/object/spec/to/0/name").asText().equals("web")));
        assertThat(events).extracting(e -> e.path("type").asText()).startsWith("ADDED").contains("MODIFIED");
        assertThat(events).extracting(e -> e.at("/object/apiVersion").asText()).containsOnly(group + "/v1");
        HttpResponse<String> bookmark = send(req(v1beta1 + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion="
                + control.store().revision()).GET().build());
        assertThat(Json.readTree(bookmark.body().strip().getBytes()).at("/object/apiVersion").asText()).isEqualTo(group + "/v1beta1");
        // deletes answer at the path's version too
        int seen = events.size();
        assertThat(apiVersion(post(v1beta1, grant("v1beta1", "h")))).isEqualTo(group + "/v1beta1");
        assertThat(apiVersion(send(req(v1 + "/g").DELETE().build()))).isEqualTo(group + "/v1");
        JsonNode deleted = Json.readTree(send(req(v1beta1).DELETE().build()).body().getBytes());
        assertThat(deleted.path("apiVersion").asText()).isEqualTo(group + "/v1beta1");
        assertThat(deleted.at("/items/0/apiVersion").asText()).isEqualTo(group + "/v1beta1");
        assertThat(deleted.at("/items/0/metadata/name").asText()).isEqualTo("h");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == seen + 3);
        assertThat(events.subList(seen, seen + 3)).extracting(e -> e.path("type").asText() + " " + e.at("/object/apiVersion").asText())
                .containsExactly("ADDED " + group + "/v1", "DELETED " + group + "/v1", "DELETED " + group + "/v1");
    }

    @Test
    void aTableHasTheApiServersColumnsAndRows() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("one", "{\"a\":\"1\"}"));
        JsonNode table = get("/api/v1/namespaces/default/configmaps",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json");
        assertThat(table.path("kind").asText()).isEqualTo("Table");
        assertThat(table.path("apiVersion").asText()).isEqualTo("meta.k8s.io/v1");
        assertThat(table.path("columnDefinitions").findValuesAsText("name")).containsExactly("Name", "Data", "Age");
        assertThat(table.at("/rows/0/cells/0").asText()).isEqualTo("one");
        assertThat(table.at("/rows/0/cells/1").isIntegralNumber()).isTrue();
        assertThat(table.at("/rows/0/object/kind").asText()).isEqualTo("PartialObjectMetadata");
        assertThat(table.at("/rows/0/object/metadata/labels/a").asText()).isEqualTo("1");
    }

    @Test
    void dryRunCreatesNothingAndFieldValidationWarnsOrIgnores() throws Exception {
        HttpResponse<String> dry = post("/api/v1/namespaces/default/configmaps?dryRun=All", cm("dry", "{}"));
        assertThat(dry.statusCode()).isEqualTo(201);
        assertThat(control.store().get(ResourceKind.CONFIG_MAP, "default", "dry")).isEmpty();
        String unknown = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w\"},\"colour\":\"red\"}";
        HttpResponse<String> warned = post("/api/v1/namespaces/default/configmaps?fieldValidation=Warn", unknown);
        assertThat(warned.headers().allValues("Warning")).containsExactly("299 - \"unknown field \\\"colour\\\"\"");
        HttpResponse<String> ignored = post("/api/v1/namespaces/default/configmaps?fieldValidation=Ignore",
                unknown.replace("\"w\"", "\"i\""));
        assertThat(ignored.statusCode()).isEqualTo(201);
        assertThat(ignored.headers().allValues("Warning")).isEmpty();
        HttpResponse<String> strict = post("/api/v1/namespaces/default/configmaps?fieldValidation=Strict", unknown.replace("\"w\"", "\"s\""));
        assertThat(strict.statusCode()).isEqualTo(400);
        assertThat(Json.readTree(strict.body().getBytes()).path("message").asText())
                .isEqualTo("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"colour\"");
        HttpResponse<String> badMode = post("/api/v1/namespaces/default/configmaps?fieldValidation=Loose", cm("b", "{}"));
        assertThat(badMode.statusCode()).isEqualTo(400);
    }

    /**
     * A key given twice in a JSON body: kube-apiserver's strict error or warning, in its decoder's
     * words and field paths ({@code sigs.k8s.io/json}), and the value its decoder keeps (a second
     * object decoded into the first). Before, the last value was kept without a word.
     */
    @Test
    void aKeyGivenTwiceIsRefusedOrWarnedAboutAsTheApiServerDoes() throws Exception {
        String twice = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"NAME\",\"labels\":{\"a\":\"1\"},"
                + "\"labels\":{\"b\":\"2\"}},\"data\":{\"k\":\"first\",\"k\":\"second\"},\"colour\":\"red\"}";
        HttpResponse<String> strict = post("/api/v1/namespaces/default/configmaps?fieldValidation=Strict", twice.replace("NAME", "s"));
        assertThat(strict.statusCode()).isEqualTo(400);
        assertThat(Json.readTree(strict.body().getBytes()).path("message").asText())
                .isEqualTo("ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
                        + "duplicate field \"metadata.labels\", duplicate field \"data.k\", unknown field \"colour\"");
        assertThat(control.store().get(ResourceKind.CONFIG_MAP, "default", "s")).isEmpty();

        HttpResponse<String> warned = post("/api/v1/namespaces/default/configmaps", twice.replace("NAME", "w"));
        assertThat(warned.statusCode()).as(warned.body()).isEqualTo(201);
        assertThat(warned.headers().allValues("Warning")).containsExactly("299 - \"duplicate field \\\"metadata.labels\\\"\"",
                "299 - \"duplicate field \\\"data.k\\\"\"", "299 - \"unknown field \\\"colour\\\"\"");
        ConfigMap stored = (ConfigMap) control.store().get(ResourceKind.CONFIG_MAP, "default", "w").orElseThrow();
        assertThat(stored.getMetadata().getLabels()).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
        assertThat(stored.getData()).containsExactly(Map.entry("k", "second"));

        HttpResponse<String> ignored = post("/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", twice.replace("NAME", "i"));
        assertThat(ignored.statusCode()).isEqualTo(201);
        assertThat(ignored.headers().allValues("Warning")).isEmpty();

        // patches are read untyped: the last value is kept whole
        HttpResponse<String> merge = patch("/api/v1/namespaces/default/configmaps/w?fieldValidation=Strict",
                "application/merge-patch+json", "{\"data\":{\"x\":\"1\",\"x\":\"2\"}}");
        assertThat(merge.statusCode()).isEqualTo(400);
        assertThat(merge.body()).contains("strict decoding error: duplicate field \\\"data.x\\\"");
        HttpResponse<String> mergeWarned = patch("/api/v1/namespaces/default/configmaps/w", "application/merge-patch+json",
                "{\"metadata\":{\"labels\":{\"c\":\"3\"},\"labels\":{\"d\":\"4\"}}}");
        assertThat(mergeWarned.statusCode()).as(mergeWarned.body()).isEqualTo(200);
        assertThat(mergeWarned.headers().allValues("Warning")).containsExactly("299 - \"duplicate field \\\"metadata.labels\\\"\"");
        assertThat(Json.readTree(mergeWarned.body().getBytes()).path("metadata").path("labels"))
                .isEqualTo(Json.readTree("{\"a\":\"1\",\"b\":\"2\",\"d\":\"4\"}".getBytes()));
        HttpResponse<String> jsonPatch = patch("/api/v1/namespaces/default/configmaps/w", "application/json-patch+json",
                "[{\"op\":\"add\",\"path\":\"/data/y\",\"path\":\"/data/z\",\"value\":\"v\"}]");
        assertThat(jsonPatch.statusCode()).as(jsonPatch.body()).isEqualTo(200);
        assertThat(jsonPatch.headers().allValues("Warning")).containsExactly("299 - \"json patch duplicate field \\\"[0].path\\\"\"");
        assertThat(Json.readTree(jsonPatch.body().getBytes()).path("data").has("z")).isTrue();
    }

    /**
     * Sizes as kube-apiserver counts them: an object etcd would not store (1.5 MiB; labels have no
     * limit of their own) is refused with etcd's words, and annotations are counted in UTF-8 bytes.
     */
    @Test
    void anObjectTooLargeToStoreAndAnnotationsCountedInBytesAreRefused() throws Exception {
        StringBuilder labels = new StringBuilder("{");
        for (int i = 0; i < 30_000; i++) {
            labels.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"").append("v".repeat(50)).append('"');
        }
        HttpResponse<String> huge = post("/api/v1/namespaces/default/configmaps", cm("huge", labels.append('}').toString()));
        assertThat(huge.statusCode()).isEqualTo(500);
        assertThat(Json.readTree(huge.body().getBytes()).path("message").asText()).isEqualTo("etcdserver: request is too large");
        assertThat(control.store().get(ResourceKind.CONFIG_MAP, "default", "huge")).isEmpty();

        String accented = "\u00e9".repeat(140_000); // 140,000 characters, 280,000 bytes
        HttpResponse<String> annotated = post("/api/v1/namespaces/default/configmaps",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"accents\",\"annotations\":{\"a\":\""
                        + accented + "\"}}}");
        assertThat(annotated.statusCode()).isEqualTo(422);
        assertThat(annotated.body()).contains("metadata.annotations: Too long: may not be more than 262144 bytes");
    }

    @Test
    void jsonPatchAndMergePatchChangeTheStoredObject() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("p", "{\"a\":\"1\"}"));
        HttpResponse<String> json = patch("/api/v1/namespaces/default/configmaps/p", "application/json-patch+json",
                "[{\"op\":\"add\",\"path\":\"/data/x\",\"value\":\"y\"},{\"op\":\"remove\",\"path\":\"/metadata/labels/a\"}]");
        assertThat(json.statusCode()).as(json.body()).isEqualTo(200);
        HttpResponse<String> merge = patch("/api/v1/namespaces/default/configmaps/p", "application/merge-patch+json",
                "{\"data\":{\"k\":null,\"z\":\"1\"}}");
        assertThat(Json.readTree(merge.body().getBytes()).path("data")).isEqualTo(Json.readTree("{\"x\":\"y\",\"z\":\"1\"}".getBytes()));
        HttpResponse<String> failedTest = patch("/api/v1/namespaces/default/configmaps/p", "application/json-patch+json",
                "[{\"op\":\"test\",\"path\":\"/data/x\",\"value\":\"nope\"}]");
        assertThat(failedTest.statusCode()).isEqualTo(422);
        HttpResponse<String> stale = patch("/api/v1/namespaces/default/configmaps/p", "application/merge-patch+json",
                "{\"metadata\":{\"resourceVersion\":\"1\"},\"data\":{\"q\":\"1\"}}");
        assertThat(stale.statusCode()).isEqualTo(409);
        HttpResponse<String> missing = patch("/api/v1/namespaces/default/configmaps/nope", "application/merge-patch+json", "{}");
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    /** kube-apiserver's limits on JSON patches, and a path of the wrong kind is the request's fault (422), not a 500. */
    @Test
    void aJsonPatchIsLimitedAsKubeApiserverLimitsIt() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("limits", "{\"a\":\"1\"}"));
        String path = "/api/v1/namespaces/default/configmaps/limits";
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i <= 10_000; i++) {
            many.append(i == 0 ? "" : ",").append("{\"op\":\"test\",\"path\":\"/data/k\",\"value\":\"v\"}");
        }
        HttpResponse<String> tooMany = patch(path, "application/json-patch+json", many.append("]").toString());
        assertThat(tooMany.statusCode()).isEqualTo(413);
        assertThat(Json.readTree(tooMany.body().getBytes()).path("message").asText())
                .isEqualTo("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");

        // each copy doubles /data/x: 30 of them (2 KB) would make a terabyte
        StringBuilder doubling = new StringBuilder("[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"x\":\"")
                .append("a".repeat(1000)).append("\"}}");
        for (int i = 0; i < 30; i++) {
            doubling.append(",{\"op\":\"copy\",\"from\":\"/metadata/annotations\",\"path\":\"/metadata/annotations/c").append(i)
                    .append("\"}");
        }
        HttpResponse<String> bomb = patch(path, "application/json-patch+json", doubling.append("]").toString());
        assertThat(bomb.statusCode()).as(bomb.body()).isEqualTo(422);
        assertThat(Json.readTree(bomb.body().getBytes()).path("message").asText())
                .contains("Unable to complete the copy, the accumulated size increase of copy is").endsWith("exceeding the limit 3145728");

        // the operation names are RFC 6902's, as spelled there: "COPY" would have passed the copy guard
        HttpResponse<String> upper = patch(path, "application/json-patch+json", "[{\"op\":\"COPY\",\"from\":\"/data\",\"path\":\"/data/c\"}]");
        assertThat(upper.statusCode()).as(upper.body()).isEqualTo(422);
        assertThat(Json.readTree(upper.body().getBytes()).path("message").asText()).endsWith("Unexpected kind: COPY");

        // a copy that adds little is applied
        HttpResponse<String> copy = patch(path, "application/json-patch+json", "[{\"op\":\"copy\",\"from\":\"/data/k\",\"path\":\"/data/k2\"}]");
        assertThat(copy.statusCode()).as(copy.body()).isEqualTo(200);
        assertThat(Json.readTree(copy.body().getBytes()).path("data").path("k2").asText()).isEqualTo("v");

        HttpResponse<String> wrongKind = patch(path, "application/json-patch+json", "[{\"op\":\"add\",\"path\":\"/metadata/labels/0/x\",\"value\":\"y\"},"
                + "{\"op\":\"add\",\"path\":\"/metadata/managedFields/x\",\"value\":\"y\"}]");
        assertThat(wrongKind.statusCode()).as(wrongKind.body()).isIn(422);
    }

    @Test
    void aPatchCannotMoveAnObjectToAnotherNamespace() throws Exception {
        control.call(() -> control.api().apply(TestApi.decode("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: other
                """), "default", false));
        String applied = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: xns\n  namespace: other\ndata: {a: b}\n";
        HttpResponse<String> ssa = patch("/api/v1/namespaces/default/configmaps/xns?fieldManager=me", "application/apply-patch+yaml", applied);
        assertThat(ssa.statusCode()).isEqualTo(400);
        assertThat(control.store().get(ResourceKind.CONFIG_MAP, "other", "xns")).isEmpty();
        post("/api/v1/namespaces/default/configmaps", cm("stay", "{}"));
        HttpResponse<String> moved = patch("/api/v1/namespaces/default/configmaps/stay", "application/merge-patch+json",
                "{\"metadata\":{\"namespace\":\"other\"}}");
        assertThat(moved.statusCode()).isEqualTo(400);
    }

    @Test
    void serverSideApplyToleratesManagedFieldsSomeoneElseWroteBadly() throws Exception {
        String applied = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata: {a: b}\n";
        assertThat(patch("/api/v1/namespaces/default/configmaps/ssa?fieldManager=me", "application/apply-patch+yaml", applied)
                .statusCode()).isEqualTo(201);
        assertThat(patch("/api/v1/namespaces/default/configmaps/ssa", "application/merge-patch+json",
                "{\"metadata\":{\"managedFields\":[{\"manager\":\"me\",\"operation\":\"Apply\",\"fieldsType\":\"FieldsV1\","
                        + "\"fieldsV1\":{\"f:data\":\"oops\"}}]}}").statusCode()).isEqualTo(200);
        HttpResponse<String> again = patch("/api/v1/namespaces/default/configmaps/ssa?fieldManager=me", "application/apply-patch+yaml",
                applied.replace("a: b", "c: d"));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(Json.readTree(again.body().getBytes()).path("data").path("c").asText()).isEqualTo("d");
    }

    /**
     * A status write names the object's uid, or none: one naming another uid is for an object
     * deleted and made again since (a controller's patch that names the one it judged), and
     * kube-apiserver refuses it (its status strategies validate the object meta's update).
     */
    @Test
    void aStatusWriteForAnotherUidIsRefused() throws Exception {
        HttpResponse<String> created = post("/apis/apps/v1/namespaces/default/deployments", """
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":0,
                 "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"c","image":"portway/echo"}]}}}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String uid = Json.readTree(created.body().getBytes()).path("metadata").path("uid").asText();
        HttpResponse<String> other = patch("/apis/apps/v1/namespaces/default/deployments/web/status", "application/merge-patch+json",
                "{\"metadata\":{\"uid\":\"6f1c2e0a-0000-4000-8000-000000000001\"},\"status\":{\"observedGeneration\":7}}");
        assertThat(other.statusCode()).as(other.body()).isEqualTo(422);
        assertThat(Json.readTree(other.body().getBytes()).path("message").asText()).isEqualTo("Deployment.apps \"web\" is invalid:"
                + " metadata.uid: Invalid value: \"6f1c2e0a-0000-4000-8000-000000000001\": field is immutable");
        HttpResponse<String> same = patch("/apis/apps/v1/namespaces/default/deployments/web/status", "application/merge-patch+json",
                "{\"metadata\":{\"uid\":\"" + uid + "\"},\"status\":{\"observedGeneration\":7}}");
        assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
    }

    /**
     * A PUT names the uid of the object it means: kube-apiserver makes it a precondition (a
     * Conflict, worded by its storage, checked before the resourceVersion), where Portway used to
     * store the PUT over whichever object had the name. A patch that changes the uid is Invalid (no
     * precondition: the uid is immutable), and a DELETE's precondition is worded by
     * {@code rest.BeforeDelete}, naming the kind.
     */
    @Test
    void aWriteNamingAnotherUidConflictsAsKubeApiserverSaysIt() throws Exception {
        HttpResponse<String> created = post("/api/v1/namespaces/default/services", """
                {"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode service = Json.readTree(created.body().getBytes());
        String uid = service.path("metadata").path("uid").asText();
        String other = "6f1c2e0a-0000-4000-8000-000000000002";
        ((com.fasterxml.jackson.databind.node.ObjectNode) service.path("metadata")).put("uid", other);
        ((com.fasterxml.jackson.databind.node.ObjectNode) service.path("metadata")).put("resourceVersion", "1"); // stale too
        for (String path : List.of("/api/v1/namespaces/default/services/web", "/api/v1/namespaces/default/services/web/status")) {
            HttpResponse<String> put = send(req(path).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(Json.write(service))).build());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(409);
            JsonNode status = Json.readTree(put.body().getBytes());
            assertThat(status.path("reason").asText()).isEqualTo("Conflict");
            assertThat(status.path("message").asText()).isEqualTo("Operation cannot be fulfilled on services \"web\": StorageError: "
                    + "invalid object, Code: 4, Key: /registry/services/specs/default/web, ResourceVersion: 0, AdditionalErrorMsg: "
                    + "Precondition failed: UID in precondition: " + other + ", UID in object meta: " + uid);
        }

        HttpResponse<String> patched = patch("/api/v1/namespaces/default/services/web", "application/merge-patch+json",
                "{\"metadata\":{\"uid\":\"" + other + "\"}}");
        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(422);
        assertThat(Json.readTree(patched.body().getBytes()).path("message").asText()).isEqualTo("Service \"web\" is invalid:"
                + " metadata.uid: Invalid value: \"" + other + "\": field is immutable");

        HttpResponse<String> deleted = send(req("/api/v1/namespaces/default/services/web").header("Content-Type", "application/json")
                .method("DELETE", HttpRequest.BodyPublishers.ofString("{\"preconditions\":{\"uid\":\"" + other + "\"}}")).build());
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(409);
        JsonNode refused = Json.readTree(deleted.body().getBytes());
        assertThat(refused.path("message").asText()).isEqualTo("Operation cannot be fulfilled on Service \"web\": the UID in the"
                + " precondition (" + other + ") does not match the UID in record (" + uid + "). The object might have been deleted and"
                + " then recreated");
        assertThat(refused.path("details").path("kind").asText()).isEqualTo("Service");
        assertThat(send(req("/api/v1/namespaces/default/services/web").GET().build()).statusCode()).isEqualTo(200);
    }

    @Test
    void selectorsFilterListsAndDeleteCollection() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("red1", "{\"colour\":\"red\"}"));
        post("/api/v1/namespaces/default/configmaps", cm("red2", "{\"colour\":\"red\"}"));
        post("/api/v1/namespaces/default/configmaps", cm("blue", "{\"colour\":\"blue\"}"));
        assertThat(get("/api/v1/namespaces/default/configmaps?labelSelector=colour%20in%20(red,green)", "application/json")
                .path("items").findValuesAsText("name")).containsExactly("red1", "red2");
        assertThat(get("/api/v1/namespaces/default/configmaps?labelSelector=colour!%3Dred", "application/json")
                .path("items").findValuesAsText("name")).containsExactly("blue");
        assertThat(get("/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dblue", "application/json")
                .path("items")).hasSize(1);
        HttpResponse<String> deleted = send(req("/api/v1/namespaces/default/configmaps?labelSelector=colour%3Dred").DELETE().build());
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(control.store().list(ResourceKind.CONFIG_MAP, "default")).extracting(o -> o.getMetadata().getName())
                .containsExactly("blue");
    }

    @Test
    void methodsAPathDoesNotRouteAreRefusedAndDeleteNothing() throws Exception {
        post("/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team\"}}");
        post("/api/v1/namespaces/default/configmaps", cm("here", "{}"));
        post("/api/v1/namespaces/team/configmaps", cm("there", "{}"));
        HttpResponse<String> created = post("/apis/apps/v1/namespaces/default/deployments", """
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":0,
                 "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
                 "spec":{"containers":[{"name":"c","image":"portway/echo"}]}}}}""");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        // kube-apiserver routes list and watch only across namespaces, no collection delete of namespaces, and no
        // delete of a subresource: each of these deleted or wrote everything it named
        for (HttpRequest r : List.of(
                req("/api/v1/configmaps").DELETE().build(),
                req("/api/v1/configmaps").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(cm("new", "{}"))).build(),
                req("/api/v1/namespaces").DELETE().build(),
                req("/apis/apps/v1/namespaces/default/deployments/web/scale").DELETE().build(),
                req("/apis/apps/v1/namespaces/default/deployments/web/status").DELETE().build())) {
            HttpResponse<String> refused = send(r);
            assertThat(refused.statusCode()).as(r.method() + " " + r.uri() + ": " + refused.body()).isEqualTo(405);
            JsonNode status = Json.readTree(refused.body().getBytes());
            assertThat(status.path("reason").asText()).isEqualTo("MethodNotAllowed");
            assertThat(status.path("message").asText()).isEqualTo("the server does not allow this method on the requested resource");
        }
        // NamespaceLifecycle: the cluster's own namespaces are never deleted
        HttpResponse<String> immortal = send(req("/api/v1/namespaces/default").DELETE().build());
        assertThat(immortal.statusCode()).isEqualTo(403);
        assertThat(Json.readTree(immortal.body().getBytes()).path("message").asText())
                .isEqualTo("namespaces \"default\" is forbidden: this namespace may not be deleted");
        assertThat(control.store().list(ResourceKind.CONFIG_MAP, null)).extracting(o -> o.getMetadata().getName())
                .containsExactlyInAnyOrder("here", "there");
        assertThat(control.store().get(ResourceKind.DEPLOYMENT, "default", "web")).isPresent();
        assertThat(control.store().get(ResourceKind.NAMESPACE, null, "default")).isPresent();
        assertThat(send(req("/api/v1/namespaces/team").DELETE().build()).statusCode()).isEqualTo(200);
    }

    @Test
    void anAnswerThatCannotBeWrittenAsAskedWritesNothing() throws Exception {
        HttpResponse<String> refused = send(req("/api/v1/namespaces/default/configmaps").header("Content-Type", "application/json")
                .header("Accept", "text/html").POST(HttpRequest.BodyPublishers.ofString(cm("shown", "{}"))).build());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(406);
        assertThat(control.store().get(ResourceKind.CONFIG_MAP, "default", "shown")).as("negotiated before the write").isEmpty();
        assertThat(post("/api/v1/namespaces/default/configmaps", cm("shown", "{}")).statusCode()).isEqualTo(201);
        HttpResponse<String> patched = send(req("/api/v1/namespaces/default/configmaps/shown").header("Accept", "text/html")
                .header("Content-Type", "application/merge-patch+json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"data\":{\"k\":\"changed\"}}")).build());
        assertThat(patched.statusCode()).isEqualTo(406);
        assertThat(get("/api/v1/namespaces/default/configmaps/shown", "application/json").path("data").path("k").asText())
                .isEqualTo("v");
    }

    /** Reads a watch's lines as they come, in the background. */
    private List<JsonNode> watch(String path) {
        return watch(path, "application/json");
    }

    private List<JsonNode> watch(String path, String accept) {
        List<JsonNode> events = new CopyOnWriteArrayList<>();
        // read on a thread of its own: a watch outlives the test, and must not hold one of the common pool's threads,
        // nor the client's own (a plain thenAccept may run on its selector thread, and stop all its I/O)
        http.sendAsync(req(path).header("Accept", accept).GET().build(), HttpResponse.BodyHandlers.ofLines())
                .thenAcceptAsync(r -> r.body().forEach(line -> events.add(Json.readTree(line.getBytes()))),
                        task -> Thread.ofVirtual().start(task));
        return events;
    }

    @Test
    void aWatchResumesFromAVersionAndFollowsSelectorsInAndOut() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("before", "{\"w\":\"1\"}"));
        String rv = get("/api/v1/namespaces/default/configmaps", "application/json").at("/metadata/resourceVersion").asText();
        post("/api/v1/namespaces/default/configmaps", cm("after", "{\"w\":\"1\"}"));
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=true&labelSelector=w%3D1&resourceVersion=" + rv);
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);
        assertThat(events.getFirst().path("type").asText()).isEqualTo("ADDED");
        assertThat(events.getFirst().at("/object/metadata/name").asText()).isEqualTo("after");
        patch("/api/v1/namespaces/default/configmaps/after", "application/merge-patch+json", "{\"metadata\":{\"labels\":{\"w\":\"2\"}}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        assertThat(events.get(1).path("type").asText()).as("it left the selection").isEqualTo("DELETED");
        patch("/api/v1/namespaces/default/configmaps/before", "application/merge-patch+json", "{\"data\":{\"k\":\"2\"}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 3);
        assertThat(events.get(2).path("type").asText()).isEqualTo("MODIFIED");
    }

    @Test
    void aWatchWithoutAVersionStartsWithEveryObject() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("a", "{}"));
        post("/api/v1/namespaces/default/configmaps", cm("b", "{}"));
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=1");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        assertThat(events).extracting(e -> e.path("type").asText()).containsExactly("ADDED", "ADDED");
    }

    @Test
    void aTooOldVersionGetsAn410ExpiredEventAsFromTheWatchCache() throws Exception {
        for (int i = 0; i < 25; i++) {
            post("/api/v1/namespaces/default/configmaps", cm("churn" + i, "{}"));
        }
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);
        JsonNode error = events.getFirst();
        assertThat(error.path("type").asText()).isEqualTo("ERROR");
        assertThat(error.at("/object/kind").asText()).isEqualTo("Status");
        assertThat(error.at("/object/code").asInt()).isEqualTo(410);
        assertThat(error.at("/object/reason").asText()).isEqualTo("Expired");
        assertThat(error.at("/object/message").asText()).startsWith("too old resource version: 2 (");
    }

    @Test
    void aWatchThatTimesOutEndsWithABookmark() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = send(req("/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1"
                + "&resourceVersion=" + control.store().revision()).GET().build());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
        JsonNode bookmark = Json.readTree(r.body().strip().getBytes());
        assertThat(bookmark.path("type").asText()).isEqualTo("BOOKMARK");
        assertThat(bookmark.at("/object/kind").asText()).isEqualTo("ConfigMap");
        assertThat(bookmark.at("/object/metadata/resourceVersion").asText()).isEqualTo(Long.toString(control.store().revision()));
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        int port = URI.create(base).getPort();
        String body = cm("piped", "{}");
        String post = "POST /api/v1/namespaces/default/configmaps?dryRun=All HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
        String version = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n";
        try (var socket = (javax.net.ssl.SSLSocket) dev.portway.testing.AdminHttp.trusting(credentials.ca().cert()).getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write((post + version).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String answers = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answers.indexOf("HTTP/1.1 201 Created")).as(answers).isZero();
            assertThat(answers.indexOf("HTTP/1.1 200 OK")).isPositive();
            assertThat(answers.indexOf("\"gitVersion\"")).isGreaterThan(answers.indexOf("HTTP/1.1 200 OK"));
        }
    }

    /** An HTTP/1.0 client reads no chunks: its watch comes unchunked and ends with the connection. */
    @Test
    void aWatchForAnHttp10ClientEndsWithTheConnection() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("seen", "{}"));
        int port = URI.create(base).getPort();
        try (var socket = (javax.net.ssl.SSLSocket) dev.portway.testing.AdminHttp.trusting(credentials.ca().cert())
                .getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1 HTTP/1.0\r\nHost: 127.0.0.1:"
                    + port + "\r\nAuthorization: Bearer " + token + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String all = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(all.toLowerCase(java.util.Locale.ROOT)).startsWith("http/1.1 200").doesNotContain("transfer-encoding")
                    .contains("connection: close");
            assertThat(all).contains("{\"type\":\"ADDED\"").contains("\"name\":\"seen\"");
        }
    }

    /**
     * A watch asked for over WebSocket, as fabric8's client asks by default and kube-apiserver
     * serves it: each event one text message, a ping answered, and the watch's end a normal close.
     */
    @Test
    void aWatchOverWebSocketSendsEachEventAsAMessageAndClosesAtItsEnd() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("before", "{}"));
        java.util.concurrent.BlockingQueue<String> messages = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<String> pong = new java.util.concurrent.CompletableFuture<>();
        StringBuilder part = new StringBuilder();
        java.net.http.WebSocket socket = http.newWebSocketBuilder()
                .header("Authorization", "Bearer " + token)
                .header("Origin", base) // fabric8 sends the API server's own origin
                .buildAsync(URI.create(base.replace("https:", "wss:") + "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2"),
                        new java.net.http.WebSocket.Listener() {
                            @Override
                            public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket ws, CharSequence data, boolean last) {
                                part.append(data);
                                if (last) {
                                    messages.add(part.toString());
                                    part.setLength(0);
                                }
                                ws.request(1);
                                return null;
                            }

                            @Override
                            public java.util.concurrent.CompletionStage<?> onPong(java.net.http.WebSocket ws, java.nio.ByteBuffer message) {
                                pong.complete(java.nio.charset.StandardCharsets.UTF_8.decode(message).toString());
                                ws.request(1);
                                return null;
                            }

                            @Override
                            public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket ws, int status, String reason) {
                                closed.complete(status);
                                return null;
                            }
                        }).get(10, TimeUnit.SECONDS);
        String first = messages.poll(10, TimeUnit.SECONDS);
        assertThat(first).startsWith("{\"type\":\"ADDED\"").contains("\"name\":\"before\"").endsWith("\n");
        post("/api/v1/namespaces/default/configmaps", cm("after", "{}"));
        String second = messages.poll(10, TimeUnit.SECONDS);
        assertThat(Json.readTree(second.getBytes()).path("object").path("metadata").path("name").asText()).isEqualTo("after");
        socket.sendPing(java.nio.ByteBuffer.wrap("hi".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(pong.get(10, TimeUnit.SECONDS)).isEqualTo("hi");
        assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(1000);
        assertThat(messages).isEmpty();
    }

    /** An upgrade the handshake cannot take is refused as a bad request, and the connection stays HTTP, with its gate. */
    @Test
    void aWebSocketWatchOfAnotherVersionIsRefusedAndTheConnectionStaysHttp() throws Exception {
        int port = URI.create(base).getPort();
        try (var socket = (javax.net.ssl.SSLSocket) dev.portway.testing.AdminHttp.trusting(credentials.ca().cert())
                .getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            var out = socket.getOutputStream();
            out.write(("GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nAuthorization: Bearer " + token + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                    + "GET /version HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String all = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(all).startsWith("HTTP/1.1 400 Bad Request").contains("unsupported WebSocket version (expected Sec-WebSocket-Version: 13)");
            assertThat(all.indexOf("HTTP/1.1 200 OK")).as("the next request is answered, as HTTP").isGreaterThan(0);
            assertThat(all).contains("\"gitVersion\"");
        }
    }

    @Test
    void aWatcherThatStopsReadingIsCutOffAndLeavesNothingBehind() throws Exception {
        int port = URI.create(base).getPort();
        int before = control.store().watcherCount();
        try (var socket = (javax.net.ssl.SSLSocket) dev.portway.testing.AdminHttp.trusting(credentials.ca().cert())
                .getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nAuthorization: Bearer " + token + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(10)).until(() -> control.store().watcherCount() == before + 1);
            String big = "x".repeat(200_000);
            for (int i = 0; i < 200 && control.store().watcherCount() > before; i++) {
                io.fabric8.kubernetes.api.model.ConfigMap cm = new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                        .withNewMetadata().withName("big" + i).withNamespace("default").endMetadata().addToData("k", big).build();
                control.call(() -> control.api().create(cm, "default"));
            }
            // the client never read a byte: its watch ended, and its watcher went with it
            await().atMost(Duration.ofSeconds(10)).until(() -> control.store().watcherCount() == before);
        }
    }

    @Test
    void aWatchFromAFutureVersionIsRefused() throws Exception {
        HttpResponse<String> r = send(req("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=99999999").GET().build());
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(Json.readTree(r.body().getBytes()).path("message").asText()).startsWith("Too large resource version: 99999999");
    }

    @Test
    void aMetadataWatchSendsMetadataOnly() throws Exception {
        // as client-go's metadata client asks (metadata informers, controller-runtime's OnlyMetadata)
        post("/api/v1/namespaces/default/configmaps", cm("m1", "{\"app\":\"web\"}"));
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true",
                "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"
                        + "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json");
        await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
        JsonNode object = events.get(0).path("object");
        assertThat(object.path("kind").asText()).isEqualTo("PartialObjectMetadata");
        assertThat(object.path("apiVersion").asText()).isEqualTo("meta.k8s.io/v1");
        assertThat(object.at("/metadata/labels/app").asText()).isEqualTo("web");
        assertThat(object.has("data")).isFalse();
        // YAML has no stream form in kube-apiserver
        HttpResponse<String> yaml = send(req("/api/v1/namespaces/default/configmaps?watch=true").header("Accept", "application/yaml")
                .GET().build());
        assertThat(yaml.statusCode()).isEqualTo(406);
    }

    @Test
    void aWatchListSendsTheStateThenABookmarkThatEndsIt() throws Exception {
        // as client-go's watch-list reflector asks (KEP-3157): it waits for the marked bookmark
        post("/api/v1/namespaces/default/configmaps", cm("w1", "{}"));
        post("/api/v1/namespaces/default/configmaps", cm("w2", "{}"));
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true"
                + "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 3);
        assertThat(events.subList(0, 2)).extracting(e -> e.path("type").asText() + " " + e.at("/object/metadata/name").asText())
                .containsExactlyInAnyOrder("ADDED w1", "ADDED w2");
        JsonNode end = events.get(2);
        assertThat(end.path("type").asText()).isEqualTo("BOOKMARK");
        assertThat(end.at("/object/metadata/annotations/k8s.io~1initial-events-end").asText()).isEqualTo("true");
        assertThat(end.at("/object/metadata/resourceVersion").asText()).isEqualTo(Long.toString(control.store().revision()));
        post("/api/v1/namespaces/default/configmaps", cm("w3", "{}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() >= 4);
        assertThat(events.get(3).at("/object/metadata/name").asText()).isEqualTo("w3");

        // sendInitialEvents=false: the changes from now on, nothing that is there already
        List<JsonNode> later = watch("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=false"
                + "&resourceVersionMatch=NotOlderThan");
        // new objects until the watch (started in the background) sees one: it sends none of those there before
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
            post("/api/v1/namespaces/default/configmaps", cm("late-" + made.incrementAndGet(), "{}"));
            return !later.isEmpty();
        });
        assertThat(later).extracting(e -> e.at("/object/metadata/name").asText()).allMatch(n -> n.startsWith("late-"));
    }

    @Test
    void logOptionsAreCheckedAsTheApiServerChecksThem() throws Exception {
        String log = "/api/v1/namespaces/default/pods/web/log?";
        HttpResponse<String> zero = send(req(log + "sinceSeconds=0").GET().build());
        assertThat(zero.statusCode()).isEqualTo(422);
        assertThat(Json.readTree(zero.body().getBytes()).path("message").asText())
                .isEqualTo("PodLogOptions \"web\" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0");
        HttpResponse<String> both = send(req(log + "sinceSeconds=5&sinceTime=2026-12-01T10:00:00Z").GET().build());
        assertThat(Json.readTree(both.body().getBytes()).path("message").asText()).isEqualTo(
                "PodLogOptions \"web\" is invalid: sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified");
        assertThat(send(req(log + "sinceTime=yesterday").GET().build()).statusCode()).isEqualTo(400);
    }

    @Test
    void listOptionsAreCheckedAsTheApiServerChecksThem() throws Exception {
        String base = "/api/v1/namespaces/default/configmaps?";
        Map<String, String> refused = new java.util.LinkedHashMap<>();
        refused.put("watch=true&sendInitialEvents=true",
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
        refused.put("watch=true&resourceVersionMatch=NotOlderThan",
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
        refused.put("sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list");
        refused.put("resourceVersionMatch=Exact",
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided");
        refused.put("resourceVersionMatch=Exact&resourceVersion=0",
                "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
        for (var e : refused.entrySet()) {
            HttpResponse<String> r = send(req(base + e.getKey()).GET().build());
            assertThat(r.statusCode()).as(e.getKey() + ": " + r.body()).isEqualTo(422);
            JsonNode status = Json.readTree(r.body().getBytes());
            assertThat(status.path("message").asText()).as(e.getKey())
                    .isEqualTo("ListOptions.meta.k8s.io \"\" is invalid: " + e.getValue());
            assertThat(status.at("/details/kind").asText()).isEqualTo("ListOptions");
        }
        // a list as of a past revision cannot be made: the store keeps none
        post("/api/v1/namespaces/default/configmaps", cm("x1", "{}"));
        long past = control.store().revision();
        post("/api/v1/namespaces/default/configmaps", cm("x2", "{}"));
        assertThat(send(req(base + "resourceVersionMatch=Exact&resourceVersion=" + past).GET().build()).statusCode()).isEqualTo(410);
        assertThat(get(base + "resourceVersionMatch=NotOlderThan&resourceVersion=" + past, "application/json")
                .path("items").findValuesAsText("name")).contains("x1", "x2");
    }

    @Test
    void aTableWatchSendsTheColumnsOnce() throws Exception {
        post("/api/v1/namespaces/default/configmaps", cm("t1", "{}"));
        List<JsonNode> events = watch("/api/v1/namespaces/default/configmaps?watch=true", "application/json;as=Table;v=v1;g=meta.k8s.io");
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 1);
        post("/api/v1/namespaces/default/configmaps", cm("t2", "{}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
        assertThat(events.get(0).at("/object/kind").asText()).isEqualTo("Table");
        assertThat(events.get(0).at("/object/columnDefinitions")).hasSize(3);
        assertThat(events.get(1).at("/object/columnDefinitions")).isEmpty();
        assertThat(events.get(1).at("/object/rows/0/cells/0").asText()).isEqualTo("t2");
    }

    /**
     * {@code limit} and {@code continue} as kube-apiserver serves them: pages in key order, each
     * read at the first page's revision (what was written between two pages is not in them), the
     * next page's token and what is left in the list metadata, the same in the Table kubectl asks for.
     */
    @Test
    void aListInPagesAddsUpToTheListAsItWasAtItsFirstPage() throws Exception {
        for (String name : List.of("e", "c", "a", "d", "b")) {
            assertThat(post("/api/v1/namespaces/default/configmaps", cm(name, "{\"page\":\"yes\"}")).statusCode()).isEqualTo(201);
        }
        String path = "/api/v1/namespaces/default/configmaps?limit=2";
        JsonNode first = get(path, "application/json");
        assertThat(first.at("/items").findValuesAsText("name")).containsExactly("a", "b");
        String revision = first.at("/metadata/resourceVersion").asText();
        assertThat(first.at("/metadata/remainingItemCount").asLong()).isEqualTo(3);
        String token = first.at("/metadata/continue").asText();
        assertThat(token).isNotEmpty();
        // written after the first page: not in the list the pages make up
        assertThat(post("/api/v1/namespaces/default/configmaps", cm("bb", "{\"page\":\"yes\"}")).statusCode()).isEqualTo(201);
        JsonNode second = get(path + "&continue=" + token, "application/json");
        assertThat(second.at("/items").findValuesAsText("name")).containsExactly("c", "d");
        assertThat(second.at("/metadata/resourceVersion").asText()).isEqualTo(revision);
        assertThat(second.at("/metadata/remainingItemCount").asLong()).isEqualTo(1);
        JsonNode last = get(path + "&continue=" + second.at("/metadata/continue").asText(), "application/json");
        assertThat(last.at("/items").findValuesAsText("name")).containsExactly("e");
        assertThat(last.at("/metadata").has("continue")).isFalse();
        assertThat(last.at("/metadata").has("remainingItemCount")).isFalse();
        // kubectl's Table, with a selector: the token, and no count (kube-apiserver does not count past a filter)
        JsonNode table = get("/api/v1/namespaces/default/configmaps?limit=4&labelSelector=page%3Dyes",
                "application/json;as=Table;v=v1;g=meta.k8s.io");
        assertThat(table.at("/rows")).hasSize(4);
        assertThat(table.at("/metadata/continue").asText()).isNotEmpty();
        assertThat(table.at("/metadata").has("remainingItemCount")).isFalse();
        // no limit, or one past the end: the whole list, no token
        assertThat(get("/api/v1/namespaces/default/configmaps?limit=10", "application/json").at("/metadata").has("continue")).isFalse();
    }

    @Test
    void aContinueTokenWhoseListIsGoneIsExpiredWithATokenForTheRest() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            post("/api/v1/namespaces/default/configmaps", cm(name, "{}"));
        }
        // a token of a revision whose state is kept nowhere, as after etcd compacted it
        String old = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"v\":\"meta.k8s.io/v1\",\"rv\":1,\"start\":\"a\\u0000\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> expired = send(req("/api/v1/namespaces/default/configmaps?limit=1&continue=" + old).GET().build());
        assertThat(expired.statusCode()).isEqualTo(410);
        JsonNode status = Json.readTree(expired.body().getBytes());
        assertThat(status.at("/reason").asText()).isEqualTo("Expired");
        assertThat(status.at("/message").asText()).startsWith("The provided continue parameter is too old to display a consistent "
                + "list result. You can start a new list without the continue parameter, or use the continue token in this response");
        // its token goes on from the same key, at the current state
        JsonNode rest = get("/api/v1/namespaces/default/configmaps?limit=1&continue=" + status.at("/metadata/continue").asText(),
                "application/json");
        assertThat(rest.at("/items").findValuesAsText("name")).containsExactly("b");
        assertThat(get("/api/v1/namespaces/default/configmaps?limit=1&continue=" + rest.at("/metadata/continue").asText(),
                "application/json").at("/items").findValuesAsText("name")).containsExactly("c");

        HttpResponse<String> garbage = send(req("/api/v1/namespaces/default/configmaps?continue=%21%21").GET().build());
        assertThat(garbage.statusCode()).isEqualTo(400);
        assertThat(garbage.body()).contains("invalid continue token: continue key is not valid");
        String token = get("/api/v1/namespaces/default/configmaps?limit=1", "application/json").at("/metadata/continue").asText();
        HttpResponse<String> withVersion = send(req("/api/v1/namespaces/default/configmaps?resourceVersion=5&continue=" + token).GET().build());
        assertThat(withVersion.statusCode()).isEqualTo(400);
        assertThat(withVersion.body()).contains("specifying resource version is not allowed when using continue");
    }
}
