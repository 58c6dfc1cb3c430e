package dev.portway.admin;

import dev.portway.api.ApiException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The live topology page, {@code /ui/}: what each Service's addresses (LoadBalancer, NodePort,
 * ClusterIP) send to, node and endpoint health, open connections, Gateways and their routes.
 *
 * <p>Its three files come from the jar and hold no data: they are served to anyone, as
 * {@code /healthz} is. The page reads the cluster through the API with the token it is given,
 * from this origin only: {@code portway ui} mints a read-only one ({@link
 * dev.portway.admin.auth.ViewerTokens}: no write, no Secret, 12 hours) and prints a link that
 * carries it in the URL's fragment, which no server sees. The content security policy lets the page
 * load nothing and send nothing elsewhere, run no inline script, and be framed by no page; it
 * builds what it shows as text, never as HTML; and the gate lets a browser only read, whatever
 * token a script on the page might hold.
 */
public final class TopologyPage implements Endpoint {

    /** The page's paths; the gate lets anonymous GETs of these through. */
    static final Set<String> PATHS = Set.of("/ui", "/ui/", "/ui/topology.js", "/ui/topology.css");

    /** What a browser may do with the page's files (the API's answers are never rendered). */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
            // the page builds text nodes only: a string put into the DOM as HTML would be refused, not run
            + "require-trusted-types-for 'script'; trusted-types 'none'";

    private final String contentType;
    private final byte[] body;

    private TopologyPage(String resource, String contentType) {
        this.contentType = contentType;
        try (InputStream in = TopologyPage.class.getResourceAsStream("/ui/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("/ui/" + resource + " is missing from the jar");
            }
            this.body = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The page's endpoints, by path, for {@link AdminServer#endpoint}. */
    public static Map<String, Endpoint> endpoints() {
        TopologyPage index = new TopologyPage("index.html", "text/html; charset=utf-8");
        Map<String, Endpoint> all = new LinkedHashMap<>();
        all.put("/ui", index);
        all.put("/ui/", index);
        all.put("/ui/topology.js", new TopologyPage("topology.js", "text/javascript; charset=utf-8"));
        all.put("/ui/topology.css", new TopologyPage("topology.css", "text/css; charset=utf-8"));
        return all;
    }

    @Override
    public CompletableFuture<HttpResponses.Response> handle(FullHttpRequest request, QueryStringDecoder query) {
        if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            throw ApiException.methodNotAllowed(request.method() + " is not supported on " + query.path());
        }
        return CompletableFuture.completedFuture(HttpResponses.of(HttpResponseStatus.OK, contentType, body));
    }
}
