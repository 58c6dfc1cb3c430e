package dev.portway.proxy;

import static dev.portway.proxy.GatewayFixture.host;
import static dev.portway.proxy.GatewayFixture.prefix;
import static dev.portway.proxy.GatewayFixture.rule;
import static dev.portway.proxy.GatewayFixture.to;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portway.plan.Plan;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bodies stream through the gateway: 200 MB each way with the gateway's buffers staying a small
 * fraction of it (its pooled memory is sampled while the bytes flow); a backend's redirect under a
 * rewritten prefix comes back under the public one; a backend that does not answer gets 504 when
 * the route's timeout ends.
 */
class GatewayStreamingTest {

    private static final long SIZE = 200L * 1024 * 1024;
    private static GatewayFixture gw;
    private static InetSocketAddress listener;
    private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        gw = new GatewayFixture();
        TestBackend backend = gw.own(new TestBackend(new InetSocketAddress(GatewayFixture.endpointIp(20), GatewayFixture.PORT)));
        gw.cluster("files", backend.address());
        Plan.HttpRule slow = new Plan.HttpRule("default/slow", 0, GatewayFixture.prefix("/slow"), List.of(), List.of(), null, List.of(),
                List.of(to("files")), Duration.ofMillis(500), null, null);
        listener = gw.listen(20, host(null,
                slow,
                rule("default/public", prefix("/public"), List.of(new Plan.UrlRewrite(null, null, "/internal")), to("files")),
                rule("default/files", prefix("/"), to("files"))));
    }

    @AfterAll
    static void stop() throws Exception {
        gw.close();
    }

    private static URI uri(String path) {
        return URI.create("http://" + listener.getAddress().getHostAddress() + ":" + listener.getPort() + path);
    }

    /** The memory Netty's default allocator (the data plane's; the clients and the backend here are not Netty) holds now. */
    private static long allocated() {
        var m = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return m.usedDirectMemory() + m.usedHeapMemory();
    }

    /** Samples the gateway's pooled buffer memory until stopped; returns the largest seen. */
    private static final class BufferWatch implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        private final AtomicLong max = new AtomicLong();

        BufferWatch() {
            timer.scheduleAtFixedRate(() -> max.accumulateAndGet(allocated(), Math::max), 0, 5, TimeUnit.MILLISECONDS);
        }

        long max() {
            return max.get();
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    @Test
    void a200MegabyteUploadStreamsThroughWithoutBeingBuffered() throws Exception {
        long baseline = allocated();
        byte[] chunk = new byte[64 * 1024];
        HttpRequest request = HttpRequest.newBuilder(uri("/upload"))
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
                    long left = SIZE;

                    @Override
                    public int read() {
                        return left-- > 0 ? 0 : -1;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) {
                        if (left <= 0) {
                            return -1;
                        }
                        int n = (int) Math.min(Math.min(len, chunk.length), left);
                        left -= n;
                        return n;
                    }
                }), SIZE)).build();
        try (BufferWatch watch = new BufferWatch()) {
            HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(Long.toString(SIZE));
            assertThat(watch.max()).as("sampled").isPositive();
            assertThat(watch.max() - baseline).as("the gateway's buffers while 200 MB went up").isLessThan(SIZE / 20);
        }
    }

    @Test
    void a200MegabyteDownloadStreamsThroughWithoutBeingBuffered() throws Exception {
        long baseline = allocated();
        try (BufferWatch watch = new BufferWatch()) {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri("/download?bytes=" + SIZE)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            long n = 0;
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = r.body()) {
                int got;
                while ((got = in.read(buf)) >= 0) {
                    n += got;
                }
            }
            assertThat(n).isEqualTo(SIZE);
            assertThat(watch.max() - baseline).as("the gateway's buffers while 200 MB came down").isLessThan(SIZE / 20);
        }
    }

    @Test
    void aRedirectFromUnderARewrittenPrefixStaysUnderThePublicPrefix() throws Exception {
        HttpClient noFollow = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        HttpResponse<String> relative = noFollow.send(HttpRequest.newBuilder(uri("/public/redirect")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(relative.statusCode()).isEqualTo(302);
        assertThat(relative.headers().firstValue("location")).hasValue("/public/login?next=1");
        HttpResponse<String> absolute = noFollow.send(HttpRequest.newBuilder(uri("/public/redirect?absolute")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(absolute.headers().firstValue("location"))
                .hasValue("http://" + listener.getAddress().getHostAddress() + ":" + listener.getPort() + "/public/login?next=1");
    }

    @Test
    void aBackendThatDoesNotAnswerGets504WhenTheRouteTimeoutEnds() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/slow/hang")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).contains("did not answer in time");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(450), Duration.ofSeconds(5));
    }
}
