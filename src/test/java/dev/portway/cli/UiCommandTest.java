package dev.portway.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.testing.StandInCluster;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portway ui}: the topology page's link, signed in with a read-only token minted for it, in the link's fragment. */
class UiCommandTest {

    @TempDir
    Path dir;

    @Test
    void theLinkCarriesAReadOnlyTokenOfItsOwnInItsFragment() throws Exception {
        try (StandInCluster cluster = new StandInCluster(dir.resolve("state"))) {
            Path kubeconfig = dir.resolve("kubeconfig");
            Kubeconfig.write(kubeconfig, cluster.url(), cluster.credentials(), true);
            Cli.Result r = new Cli(Clock.systemUTC(), kubeconfig.toString()).run("ui");
            assertThat(r.exitCode()).as(r.err()).isZero();
            String link = r.out().strip();
            assertThat(link).startsWith(cluster.url() + "/ui/#token=");
            String token = link.substring(link.indexOf("#token=") + 7);
            assertThat(token).isNotEqualTo(cluster.credentials().token());
            assertThat(r.err()).contains("The link reads the cluster (not its Secrets) until ");

            var http = java.net.http.HttpClient.newBuilder()
                    .sslContext(dev.portway.testing.AdminHttp.trusting(cluster.credentials().ca().cert())).build();
            var read = http.send(HttpRequest.newBuilder(URI.create(cluster.url() + "/api/v1/nodes")).header("Authorization", "Bearer " + token)
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(read.statusCode()).isEqualTo(200);
            var write = http.send(HttpRequest.newBuilder(URI.create(cluster.url() + "/api/v1/namespaces"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"metadata\":{\"name\":\"x\"}}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(write.statusCode()).isEqualTo(403);
        }
    }

    /** {@code portway ui --revoke}: every link minted so far reads no more; a viewer cannot revoke, and a new link works. */
    @Test
    void revokeEndsEveryLink() throws Exception {
        try (StandInCluster cluster = new StandInCluster(dir.resolve("state"))) {
            Path kubeconfig = dir.resolve("kubeconfig");
            Kubeconfig.write(kubeconfig, cluster.url(), cluster.credentials(), true);
            Cli cli = new Cli(Clock.systemUTC(), kubeconfig.toString());
            String first = token(cli.run("ui"));
            String second = token(cli.run("ui"));
            var http = java.net.http.HttpClient.newBuilder()
                    .sslContext(dev.portway.testing.AdminHttp.trusting(cluster.credentials().ca().cert())).build();
            assertThat(status(http, cluster.url(), "GET", first)).isEqualTo(200);
            assertThat(status(http, cluster.url(), "DELETE", first)).as("a viewer revokes nothing").isEqualTo(403);
            assertThat(status(http, cluster.url(), "GET", first)).isEqualTo(200);

            Cli.Result r = cli.run("ui", "--revoke");
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out().strip()).isEqualTo("2 viewer links revoked");
            assertThat(status(http, cluster.url(), "GET", first)).isEqualTo(401);
            assertThat(status(http, cluster.url(), "GET", second)).isEqualTo(401);
            assertThat(status(http, cluster.url(), "GET", token(cli.run("ui")))).isEqualTo(200);
            assertThat(cli.run("ui", "--revoke").out().strip()).isEqualTo("1 viewer link revoked");
        }
    }

    private static String token(Cli.Result r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
        String link = r.out().strip();
        return link.substring(link.indexOf("#token=") + 7);
    }

    /** GET nodes, or DELETE the viewer tokens, with {@code token}. */
    private static int status(java.net.http.HttpClient http, String url, String method, String token) throws Exception {
        String path = method.equals("GET") ? "/api/v1/nodes" : UiCommand.VIEWER_TOKENS;
        return http.send(HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token)
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
