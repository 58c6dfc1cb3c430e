package dev.portway.runtime.echo;

import dev.portway.api.GoDuration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The echo-basic handler answers as the Gateway API's echo-basic does, byte for byte where a client could tell. */
class EchoBasicHandlerTest {

    private final List<String> log = new CopyOnWriteArrayList<>();
    private final EchoBasicHandler.State state = new EchoBasicHandler.State(
            new EchoBasic.Context("gateway-conformance-infra", null, null, "infra-backend-v1-abc-xyz"), 3000, log::add);

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new EchoBasicHandler(state));
    }

    private static FullHttpRequest get(String uri, String... headers) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.EMPTY_BUFFER);
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void echoesTheRequestAsEchoBasicsJson() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/foo/bar?x=1&y=<2>", "Host", "example.com", "user-agent", "Go-http-client/1.1",
                "x-multi", "a", "X-MULTI", "b", "Accept-Encoding", "gzip"));
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.status().code()).isEqualTo(200);
        assertThat(response.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(response.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
        // json.MarshalIndent(v, "", " "): one space a level, map keys sorted, <, > and & escaped
        assertThat(body(response)).isEqualTo("""
                {
                 "path": "/foo/bar?x=1&y=<2>",
                 "host": "example.com",
                 "method": "GET",
                 "proto": "HTTP/1.1",
                 "headers": {
                  "Accept-Encoding": [
                   "gzip"
                  ],
                  "User-Agent": [
                   "Go-http-client/1.1"
                  ],
                  "X-Multi": [
                   "a",
                   "b"
                  ]
                 },
                 "httpPort": "3000",
                 "namespace": "gateway-conformance-infra",
                 "ingress": "",
                 "service": "",
                 "pod": "infra-backend-v1-abc-xyz"
                }""".replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"));
        assertThat(log).containsExactly("Echoing back request made to /foo/bar?x=1&y=<2> to client (embedded)\n");
        ch.finishAndReleaseAll();
    }

    @Test
    void noHeadersIsAnEmptyObject() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/", "Host", "h"));
        assertThat(body(ch.readOutbound())).contains("\"headers\": {},");
        ch.finishAndReleaseAll();
    }

    @Test
    void echoSetHeaderSetsResponseHeadersAsNamedAndJoinsRepeats() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/", "Host", "h", "X-Echo-Set-Header", "X-Header-Set: set-overwrites-values, x-Multi:one,X-Multi: two,"));
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.headers().get("X-Header-Set")).isEqualTo("set-overwrites-values");
        // two names that differ in case are two header lines, as echo-basic's Go map makes them
        assertThat(response.headers().getAll("X-Multi")).containsExactly("one", "two");
        assertThat(response.headers().names()).contains("X-Header-Set", "x-Multi", "X-Multi");
        body(response);
        ch.finishAndReleaseAll();
    }

    @Test
    void emptyEchoSetHeaderSetsNothing() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/", "Host", "h", "X-Echo-Set-Header", ""));
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.headers().names()).containsExactlyInAnyOrder("date", "content-length", "content-type", "X-Content-Type-Options");
        body(response);
        ch.finishAndReleaseAll();
    }

    @Test
    void statusHealthAndSubtreeRedirect() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/status/503", "Host", "h"));
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(503);
        assertThat(body(r)).isEmpty();
        ch.writeInbound(get("/status/abc", "Host", "h"));
        r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(400);
        body(r);
        ch.writeInbound(get("/health", "Host", "h"));
        r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(body(r)).isEqualTo("OK");
        ch.writeInbound(get("/status?x=1", "Host", "h"));
        r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(301);
        assertThat(r.headers().get("Location")).isEqualTo("/status/?x=1");
        body(r);
        // the link in the HTML body is escaped, as Go's http.Redirect escapes it
        ch.writeInbound(get("/status?a=%22%3E%3Cscript%3E&b='\"<x>", "Host", "h"));
        r = ch.readOutbound();
        assertThat(body(r)).doesNotContain("<x>").doesNotContain("'\"<").contains("&#39;&#34;&lt;x&gt;");
        assertThat(log).isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void delayAnswersLate() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/?delay=1500ms", "Host", "h"));
        assertThat(ch.<Object>readOutbound()).isNull();
        ch.advanceTimeBy(1400, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(ch.<Object>readOutbound()).isNull();
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(body(r)).contains("\"path\": \"/?delay=1500ms\"");
        ch.finishAndReleaseAll();
    }

    @Test
    void badDelayIsEchoBasicsError() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/?delay=soon", "Host", "h"));
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(500);
        assertThat(body(r)).isEqualTo("{\"message\":\"time: invalid duration \\\"soon\\\"\"}");
        ch.finishAndReleaseAll();
    }

    @Test
    void retryFailsThenEchoes() {
        EmbeddedChannel ch = channel();
        for (int i = 0; i < 2; i++) {
            ch.writeInbound(get("/retry/?uuid=u1&succeedAfter=2&responseCode=503", "Host", "h"));
            FullHttpResponse r = ch.readOutbound();
            assertThat(r.status().code()).isEqualTo(503);
            body(r);
        }
        ch.writeInbound(get("/retry/?uuid=u1&succeedAfter=2&responseCode=503", "Host", "h"));
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(body(r)).contains("\"path\": \"/retry/?uuid=u1");
        ch.writeInbound(get("/retry/?succeedAfter=2", "Host", "h"));
        r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(400);
        assertThat(body(r)).isEqualTo("uuid is required");
        ch.finishAndReleaseAll();
    }

    @Test
    void retryWithoutResponseCodeClosesTheConnection() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(get("/retry/?uuid=u2&succeedAfter=1", "Host", "h"));
        assertThat(ch.<Object>readOutbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void canonicalHeaderKeysAsGo() {
        assertThat(EchoBasicHandler.canonicalKey("x-forwarded-for")).isEqualTo("X-Forwarded-For");
        assertThat(EchoBasicHandler.canonicalKey("CONTENT-type")).isEqualTo("Content-Type");
        assertThat(EchoBasicHandler.canonicalKey("my header")).isEqualTo("my header");
    }

    @Test
    void goDurations() {
        assertThat(GoDuration.parse("1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(GoDuration.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(GoDuration.parse("2h45m")).isEqualTo(Duration.ofMinutes(165));
        assertThat(GoDuration.parse("300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(GoDuration.parse("-1us")).isEqualTo(Duration.ofNanos(-1000));
        assertThatThrownBy(() -> GoDuration.parse("")).hasMessage("time: invalid duration \"\"");
        assertThatThrownBy(() -> GoDuration.parse("1")).hasMessage("time: missing unit in duration \"1\"");
        assertThatThrownBy(() -> GoDuration.parse("1d")).hasMessage("time: unknown unit \"d\" in duration \"1d\"");
    }

    @Test
    void imagesAndModes() {
        assertThat(EchoBasic.isEchoBasicImage("registry.k8s.io/gateway-api/echo-basic:v1.5.1")).isTrue();
        assertThat(EchoBasic.isEchoBasicImage("gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd")).isTrue();
        assertThat(EchoBasic.isEchoBasicImage("registry.k8s.io/gateway-api/echo-basic@sha256:abcd")).isTrue();
        assertThat(EchoBasic.isEchoBasicImage("registry.k8s.io/gateway-api/echo-advanced:v1.5.1")).isFalse();
        assertThat(EchoBasic.isEchoBasicImage("portway/echo")).isFalse();
        assertThat(EchoBasic.httpPort(Map.of())).isEqualTo(3000);
        assertThat(EchoBasic.httpPort(Map.of("HTTP_PORT", "8080"))).isEqualTo(8080);
        assertThatThrownBy(() -> EchoBasic.httpPort(Map.of("HTTP_PORT", "x"))).hasMessage("HTTP_PORT: x (expected: a port number)");
        assertThat(EchoBasic.unsupported(Map.of("POD_NAME", "p"))).isNull();
        assertThat(EchoBasic.unsupported(Map.of("TCP_ECHO_SERVER", "1"))).contains("TCP_ECHO_SERVER");
    }
}
