package dev.portway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.portway.api.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real browser for the tests: Debian's Chromium, headless, driven through the Chrome DevTools
 * Protocol over a WebSocket (the JDK's client). It reaches nothing but loopback: every host name
 * but 127.0.0.1 resolves to nothing ({@code --host-resolver-rules}), and its background networking
 * (updates, safe browsing, metrics) is off.
 */
public final class Browser implements AutoCloseable {

    private static final List<String> EXECUTABLES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://127\\.0\\.0\\.1:(\\d+)/\\S+)");

    private final Process process;
    private final Path profile;
    private final int port;
    private final StringBuffer output = new StringBuffer();
    private final HttpClient http = HttpClient.newHttpClient();

    /** The installed Chromium, or null. */
    public static Path executable() {
        return EXECUTABLES.stream().map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Starts a headless Chromium with a profile of its own, and waits for its DevTools endpoint. */
    public static Browser start() throws IOException, InterruptedException {
        Path exe = executable();
        if (exe == null) {
            throw new IllegalStateException("no Chromium installed (apt-get install chromium)");
        }
        return new Browser(exe);
    }

    private Browser(Path exe) throws IOException, InterruptedException {
        profile = Files.createTempDirectory("portway-browser");
        List<String> command = new java.util.ArrayList<>(List.of(exe.toString(), "--headless", "--disable-gpu",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile,
                "--ignore-certificate-errors", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-first-run",
                "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability", "--metrics-recording-only",
                "--disable-client-side-phishing-detection", "--disable-dev-shm-usage", "about:blank"));
        if ("root".equals(System.getProperty("user.name"))) {
            command.add(1, "--no-sandbox"); // Chromium refuses to run as root with its sandbox
        }
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    output.append(line).append('\n');
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        listening.complete(Integer.parseInt(m.group(2)));
                    }
                }
            } catch (IOException e) {
                listening.completeExceptionally(e);
            }
            listening.completeExceptionally(new IOException("Chromium exited: " + output));
        });
        try {
            port = listening.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            close();
            throw new IOException("Chromium did not start: " + output, e);
        }
    }

    /** Opens a new tab (a browsing context of its own: its own sessionStorage) and goes to {@code url}. */
    public Page open(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/new?about:blank"))
                .PUT(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("cannot open a tab: " + r.statusCode() + " " + r.body());
        }
        String ws = Json.readTree(r.body().getBytes(StandardCharsets.UTF_8)).path("webSocketDebuggerUrl").asText();
        Page page = new Page(http, URI.create(ws));
        ObjectNode params = Json.mapper().createObjectNode().put("url", url);
        page.call("Page.navigate", params);
        return page;
    }

    /** One tab, driven through its DevTools WebSocket. */
    public static final class Page implements AutoCloseable {
        private final WebSocket socket;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonNode>> waiting = new ConcurrentHashMap<>();

        private Page(HttpClient http, URI ws) {
            StringBuilder message = new StringBuilder();
            socket = http.newWebSocketBuilder().buildAsync(ws, new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    message.append(data);
                    if (last) {
                        JsonNode reply = Json.readTree(message.toString().getBytes(StandardCharsets.UTF_8));
                        message.setLength(0);
                        CompletableFuture<JsonNode> f = reply.has("id") ? waiting.remove(reply.get("id").asInt()) : null;
                        if (f != null) {
                            f.complete(reply);
                        }
                    }
                    w.request(1);
                    return null;
                }
            }).join();
        }

        /** Calls a DevTools method and returns its result. */
        JsonNode call(String method, ObjectNode params) {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> reply = new CompletableFuture<>();
            waiting.put(id, reply);
            ObjectNode call = Json.mapper().createObjectNode();
            call.put("id", id);
            call.put("method", method);
            call.set("params", params);
            socket.sendText(call.toString(), true).join();
            JsonNode r = reply.orTimeout(20, TimeUnit.SECONDS).join();
            if (r.has("error")) {
                throw new IllegalStateException(method + ": " + r);
            }
            return r.path("result");
        }

        /** Evaluates {@code expression} in the page (a promise is awaited) and returns its value as JSON. */
        public JsonNode evaluate(String expression) {
            JsonNode r = call("Runtime.evaluate", Json.mapper().createObjectNode().put("expression", expression)
                    .put("returnByValue", true).put("awaitPromise", true));
            if (r.has("exceptionDetails")) {
                throw new IllegalStateException("evaluating " + expression + ": " + r);
            }
            return r.path("result").path("value");
        }

        /** The page's visible text: none while a navigation has no body yet (its head's scripts still loading). */
        public String text() {
            return evaluate("document.body ? document.body.innerText : ''").asText();
        }

        @Override
        public void close() {
            socket.abort();
        }
    }

    @Override
    public void close() {
        // its renderer and helper processes are ours too: taken now, before they lose their parent
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        helpers.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        try (var files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary profile left behind
        }
    }
}
