package dev.portway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portway.api.Json;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code portway ui}: the link to the live topology page, signed in with a read-only token of its own. */
@Command(name = "ui", mixinStandardHelpOptions = true, description = {
        "Print the link to the live topology page, signed in with a read-only token minted for it.",
        "The page shows what each Service's addresses (LoadBalancer, NodePort, ClusterIP) send to, node and endpoint "
                + "health and open connections, read from the API server every two seconds. The link's token may only read "
                + "(not Secrets), and new requests with it are taken for 12 hours, until the server stops, or until --revoke; it rides in the link's fragment, which the "
                + "browser never sends to a server, and the page takes it off the address at once. The API server's "
                + "certificate is Portway's own: trust STATE_DIR/pki/ca.crt, or accept it once in the browser."})
final class UiCommand implements Callable<Integer> {

    /** Where a Portway API server mints the page's tokens (a Kubernetes API server has no such path). */
    static final String VIEWER_TOKENS = "/apis/portway.dev/v1/viewertokens";

    @Spec
    CommandSpec spec;

    @Mixin
    ServerOptions server;

    @Option(names = "--revoke", description = "Mint no link: end every link minted so far (a leaked one reads no more).")
    boolean revoke;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (AdminClient client = server.client()) {
            if (revoke) {
                return revoke(client, out);
            }
            AdminClient.Response r = client.post(VIEWER_TOKENS, "{}".getBytes(StandardCharsets.UTF_8));
            if (r.status() == 404) {
                throw new Main.CliException(client.server() + " mints no viewer token: not a Portway API server (the topology "
                        + "page is portway up's), or one started by a Portway from before portway ui");
            }
            JsonNode minted = answer(r, "cannot mint a viewer token at " + client.server());
            if (minted == null || minted.path("token").asText("").isEmpty()) {
                throw new Main.CliException(client.server() + " answered " + r.status() + " with no viewer token");
            }
            String base = client.server().toString().replaceAll("/+$", "") + "/ui/";
            out.println(base + "#token=" + URLEncoder.encode(minted.path("token").asText(), StandardCharsets.UTF_8));
            spec.commandLine().getErr().println("The link reads the cluster (not its Secrets) until "
                    + minted.path("expirationTimestamp").asText() + ".");
            return 0;
        }
    }

    private static int revoke(AdminClient client, PrintWriter out) {
        AdminClient.Response r = client.delete(VIEWER_TOKENS);
        if (r.status() == 404 || r.status() == 405) {
            throw new Main.CliException(client.server() + " revokes no viewer links: not a Portway API server, or one started by a"
                    + " Portway from before portway ui --revoke");
        }
        JsonNode answer = answer(r, "cannot revoke the viewer links at " + client.server());
        if (answer == null || !answer.path("revoked").isInt()) {
            throw new Main.CliException(client.server() + " answered " + r.status() + " with no count of links revoked");
        }
        int n = answer.path("revoked").asInt();
        out.println(n == 1 ? "1 viewer link revoked" : n + " viewer links revoked");
        return 0;
    }

    /** The answer's JSON (null if it is none: a proxy's error page), or, for an error status, a failure saying {@code failing}. */
    private static JsonNode answer(AdminClient.Response r, String failing) {
        JsonNode answer;
        try {
            answer = Json.readTree(r.body());
        } catch (RuntimeException e) {
            answer = null; // not JSON: told by its status
        }
        if (!r.ok()) {
            String why = answer != null ? answer.path("message").asText("") : "";
            throw new Main.CliException(failing + ": " + r.status() + (why.isEmpty() ? "" : " " + why));
        }
        return answer;
    }
}
